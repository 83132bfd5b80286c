package oncrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// call is a call message as a test server decodes it.
type call struct {
	raw                   []byte // the reassembled record
	frags                 []int  // the fragment sizes it arrived in
	xid, prog, vers, proc uint32
	cred, verf            OpaqueAuth
	header                []byte // xid through the credential
	body                  []byte
}

// readCall reads and decodes one call record the way a server does.
func readCall(r io.Reader) (*call, error) {
	c := &call{}
	for {
		var h [4]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil, err
		}
		v := uint32(h[0])<<24 | uint32(h[1])<<16 | uint32(h[2])<<8 | uint32(h[3])
		n := int(v &^ lastFragment)
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		c.raw = append(c.raw, buf...)
		c.frags = append(c.frags, n)
		if v&lastFragment != 0 {
			break
		}
	}
	d := xdr.NewDecoder(c.raw)
	c.xid = d.Uint32()
	if m := d.Uint32(); m != msgCall {
		return nil, fmt.Errorf("message type %d", m)
	}
	if v := d.Uint32(); v != RPCVersion {
		return nil, fmt.Errorf("rpc version %d", v)
	}
	c.prog, c.vers, c.proc = d.Uint32(), d.Uint32(), d.Uint32()
	c.cred = decodeOpaqueAuth(d)
	c.header = c.raw[:d.Offset()]
	c.verf = decodeOpaqueAuth(d)
	if err := d.Err(); err != nil {
		return nil, err
	}
	c.body = c.raw[d.Offset():]
	return c, nil
}

// replyMsg builds reply messages for a test server.
func acceptedReply(xid uint32, verf OpaqueAuth, stat AcceptStat, rest []byte) []byte {
	b := xdr.AppendUint32(nil, xid)
	b = xdr.AppendUint32(b, msgReply)
	b = xdr.AppendUint32(b, replyAccepted)
	b, _ = appendOpaqueAuth(b, verf)
	b = xdr.AppendUint32(b, uint32(stat))
	return append(b, rest...)
}

func deniedReply(xid uint32, rest ...uint32) []byte {
	b := xdr.AppendUint32(nil, xid)
	b = xdr.AppendUint32(b, msgReply)
	b = xdr.AppendUint32(b, replyDenied)
	for _, v := range rest {
		b = xdr.AppendUint32(b, v)
	}
	return b
}

// serve runs handle for every call arriving on the server end of a
// loopback TCP connection and writes the bytes it returns. It returns
// the client end.
func serve(t *testing.T, handle func(c *call) []byte) net.Conn {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s, err := l.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		for {
			c, err := readCall(s)
			if err != nil {
				return
			}
			out := handle(c)
			if out == nil {
				continue
			}
			if _, err := s.Write(out); err != nil {
				return
			}
		}
	}()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	return conn
}

func record(msg []byte, frag int) []byte { return appendRecord(nil, msg, frag) }

func TestCallAuthNone(t *testing.T) {
	var got *call
	conn := serve(t, func(c *call) []byte {
		got = c
		return record(acceptedReply(c.xid, OpaqueAuth{}, Success, []byte{0, 0, 0, 42}), 0)
	})
	cl := NewClient(conn, Config{Program: 100423, Version: 1, FirstXID: 0x01020304})
	res, err := cl.Call(context.Background(), 1, nil, []byte{0, 0, 0, 7})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res, []byte{0, 0, 0, 42}) {
		t.Errorf("results % x", res)
	}
	want := []byte{
		1, 2, 3, 4, // xid
		0, 0, 0, 0, // CALL
		0, 0, 0, 2, // RPC version
		0, 1, 0x88, 0x47, // program 100423
		0, 0, 0, 1, // version
		0, 0, 0, 1, // procedure
		0, 0, 0, 0, 0, 0, 0, 0, // AUTH_NONE credential
		0, 0, 0, 0, 0, 0, 0, 0, // AUTH_NONE verifier
		0, 0, 0, 7,
	}
	if !bytes.Equal(got.raw, want) {
		t.Errorf("call\n% x\nwant\n% x", got.raw, want)
	}
	if len(got.frags) != 1 {
		t.Errorf("call sent in %d fragments, want 1", len(got.frags))
	}
	// The next call counts the xid up.
	if _, err := cl.Call(context.Background(), 0, AuthNone, nil); err != nil {
		t.Fatal(err)
	}
	if got.xid != 0x01020305 {
		t.Errorf("second xid %#x", got.xid)
	}
}

func TestServerErrors(t *testing.T) {
	cases := []struct {
		name  string
		reply func(xid uint32) []byte
		is    error
		check func(t *testing.T, err error)
	}{
		{"PROG_UNAVAIL", func(x uint32) []byte { return acceptedReply(x, OpaqueAuth{}, ProgUnavail, nil) }, ErrProgUnavail, nil},
		{"PROG_MISMATCH", func(x uint32) []byte {
			return acceptedReply(x, OpaqueAuth{}, ProgMismatch, []byte{0, 0, 0, 1, 0, 0, 0, 3})
		}, ErrProgMismatch, func(t *testing.T, err error) {
			var ae *AcceptError
			if !errors.As(err, &ae) || ae.Low != 1 || ae.High != 3 {
				t.Errorf("%#v, want versions 1 to 3", err)
			}
		}},
		{"PROC_UNAVAIL", func(x uint32) []byte { return acceptedReply(x, OpaqueAuth{}, ProcUnavail, nil) }, ErrProcUnavail, nil},
		{"GARBAGE_ARGS", func(x uint32) []byte { return acceptedReply(x, OpaqueAuth{}, GarbageArgs, nil) }, ErrGarbageArgs, nil},
		{"SYSTEM_ERR", func(x uint32) []byte { return acceptedReply(x, OpaqueAuth{}, SystemErr, nil) }, ErrSystemErr, nil},
		{"accept 9", func(x uint32) []byte { return acceptedReply(x, OpaqueAuth{}, 9, nil) }, &AcceptError{Stat: 9}, nil},
		{"RPC_MISMATCH", func(x uint32) []byte { return deniedReply(x, rejectRPCMismatch, 2, 2) }, nil, func(t *testing.T, err error) {
			var re *RPCMismatchError
			if !errors.As(err, &re) || re.Low != 2 || re.High != 2 {
				t.Errorf("%#v, want RPC_MISMATCH 2..2", err)
			}
		}},
		{"AUTH_TOOWEAK", func(x uint32) []byte { return deniedReply(x, rejectAuthError, uint32(AuthTooWeak)) }, ErrAuthTooWeak, nil},
		{"AUTH_BADCRED", func(x uint32) []byte { return deniedReply(x, rejectAuthError, uint32(AuthBadCred)) }, ErrAuthBadCred, nil},
		{"CREDPROBLEM", func(x uint32) []byte { return deniedReply(x, rejectAuthError, 13) }, ErrGSSCredProblem, nil},
		{"CTXPROBLEM", func(x uint32) []byte { return deniedReply(x, rejectAuthError, 14) }, ErrGSSCtxProblem, nil},
		{"reply cut short", func(x uint32) []byte { return deniedReply(x)[:8:8] }, nil, func(t *testing.T, err error) {
			var re *ReplyError
			if !errors.As(err, &re) || !errors.Is(err, xdr.ErrShort) {
				t.Errorf("%v, want a *ReplyError for a cut-short reply", err)
			}
		}},
		{"bad reply_stat", func(x uint32) []byte { return xdr.AppendUint32(deniedReply(x)[:8:8], 2) }, nil, func(t *testing.T, err error) {
			var re *ReplyError
			if !errors.As(err, &re) {
				t.Errorf("%v, want a *ReplyError", err)
			}
		}},
		{"reject_stat 7", func(x uint32) []byte { return deniedReply(x, 7) }, nil, func(t *testing.T, err error) {
			var re *ReplyError
			if !errors.As(err, &re) {
				t.Errorf("%v, want a *ReplyError", err)
			}
		}},
		{"verifier too long", func(x uint32) []byte {
			b := xdr.AppendUint32(nil, x)
			b = xdr.AppendUint32(b, msgReply)
			b = xdr.AppendUint32(b, replyAccepted)
			b = xdr.AppendUint32(b, 6)
			return xdr.AppendOpaque(b, make([]byte, MaxAuthBytes+1))
		}, xdr.ErrTooLong, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := 0
			conn := serve(t, func(call *call) []byte {
				n++
				if n == 1 {
					return record(c.reply(call.xid), 0)
				}
				return record(acceptedReply(call.xid, OpaqueAuth{}, Success, nil), 0)
			})
			cl := NewClient(conn, Config{Program: 1, Version: 1})
			_, err := cl.Call(context.Background(), 1, nil, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("err = %v, want %v", err, c.is)
			}
			if c.check != nil {
				c.check(t, err)
			}
			// The connection stays in step: the next call works.
			if _, err := cl.Call(context.Background(), 1, nil, nil); err != nil {
				t.Errorf("call after %s: %v", c.name, err)
			}
		})
	}
}

func TestFragmentedReplies(t *testing.T) {
	results := make([]byte, 10000)
	for i := range results {
		results[i] = byte(i)
	}
	for _, frag := range []int{4000, 1, 3, 9999} {
		t.Run(fmt.Sprint(frag), func(t *testing.T) {
			conn := serve(t, func(c *call) []byte {
				return record(acceptedReply(c.xid, OpaqueAuth{}, Success, results), frag)
			})
			cl := NewClient(conn, Config{Program: 1, Version: 1})
			res, err := cl.Call(context.Background(), 1, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(res, results) {
				t.Fatal("reassembled results differ")
			}
		})
	}
	// Empty fragments before the data are part of the record too.
	conn := serve(t, func(c *call) []byte {
		msg := acceptedReply(c.xid, OpaqueAuth{}, Success, []byte{9, 9, 9, 9})
		out := []byte{0, 0, 0, 0, 0, 0, 0, 0}
		return append(out, record(msg, 5)...)
	})
	res, err := NewClient(conn, Config{Program: 1, Version: 1}).Call(context.Background(), 1, nil, nil)
	if err != nil || !bytes.Equal(res, []byte{9, 9, 9, 9}) {
		t.Fatalf("%v % x", err, res)
	}
}

func TestCallFragments(t *testing.T) {
	var got *call
	conn := serve(t, func(c *call) []byte {
		got = c
		return record(acceptedReply(c.xid, OpaqueAuth{}, Success, nil), 0)
	})
	cl := NewClient(conn, Config{Program: 1, Version: 1, FragmentSize: 7})
	args := bytes.Repeat([]byte{1, 2, 3, 4}, 10)
	if _, err := cl.Call(context.Background(), 5, nil, args); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.body, args) || got.proc != 5 {
		t.Fatalf("server saw proc %d body % x", got.proc, got.body)
	}
	for i, n := range got.frags {
		if n > 7 || (n == 0 && i != len(got.frags)-1) {
			t.Fatalf("fragments %v", got.frags)
		}
	}
}

func TestSkipsOtherRecords(t *testing.T) {
	conn := serve(t, func(c *call) []byte {
		var out []byte
		out = append(out, record(acceptedReply(c.xid-1, OpaqueAuth{}, Success, []byte{1, 1, 1, 1}), 0)...)
		out = append(out, record(appendCallHeader(nil, c.xid, 1, 1, 1), 0)...) // a CALL with our xid
		out = append(out, record([]byte{1, 2}, 0)...)                          // too short for a header
		out = append(out, record(acceptedReply(c.xid, OpaqueAuth{}, Success, []byte{2, 2, 2, 2}), 0)...)
		return out
	})
	res, err := NewClient(conn, Config{Program: 1, Version: 1}).Call(context.Background(), 1, nil, nil)
	if err != nil || !bytes.Equal(res, []byte{2, 2, 2, 2}) {
		t.Fatalf("%v % x", err, res)
	}
}

func TestRecordTooLarge(t *testing.T) {
	cases := map[string][]byte{
		"one huge fragment": {0xff, 0xff, 0xff, 0xff, 1, 2, 3},
		"fragments add up": append(append([]byte{0, 0, 0x80, 0}, make([]byte, 0x8000)...),
			0, 0, 0x80, 0),
	}
	for name, out := range cases {
		t.Run(name, func(t *testing.T) {
			conn := serve(t, func(*call) []byte { return out })
			cl := NewClient(conn, Config{Program: 1, Version: 1, MaxRecordSize: 0xa000})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := cl.Call(context.Background(), 1, nil, nil)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrRecordTooLarge) {
				t.Fatalf("err = %v", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Errorf("allocated %d bytes for a refused record", grew)
			}
			if _, err := cl.Call(context.Background(), 1, nil, nil); !errors.Is(err, ErrUnusable) || !errors.Is(err, ErrRecordTooLarge) {
				t.Errorf("call after a refused record: %v", err)
			}
		})
	}
}

func TestRecordCutShort(t *testing.T) {
	conn := serve(t, func(*call) []byte { return []byte{0x80, 0, 0, 8, 0, 0, 0, 1} })
	cl := NewClient(conn, Config{Program: 1, Version: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// The server stops writing: the read ends with the context.
	if _, err := cl.Call(ctx, 1, nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if _, err := cl.Call(context.Background(), 1, nil, nil); !errors.Is(err, ErrUnusable) {
		t.Fatalf("second call: %v", err)
	}
}

func TestEOF(t *testing.T) {
	conn := serve(t, func(*call) []byte { return []byte{0, 0, 0, 8, 0} })
	cl := NewClient(conn, Config{Program: 1, Version: 1})
	// The server writes part of a record and then closes.
	conn2 := conn.(*net.TCPConn)
	go func() {
		time.Sleep(10 * time.Millisecond)
		conn2.CloseWrite()
	}()
	_, err := cl.Call(context.Background(), 1, nil, nil)
	if err == nil {
		t.Fatal("no error")
	}
}

func TestCancel(t *testing.T) {
	received := make(chan struct{})
	conn := serve(t, func(*call) []byte {
		close(received)
		return nil // never answer
	})
	cl := NewClient(conn, Config{Program: 1, Version: 1})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-received
		cancel()
	}()
	_, err := cl.Call(ctx, 1, nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if _, err := cl.Call(context.Background(), 1, nil, nil); !errors.Is(err, ErrUnusable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
	if _, err := cl.Call(ctx, 1, nil, nil); err == nil {
		t.Fatal("call with a done context succeeded")
	}
}

func TestClose(t *testing.T) {
	conn := serve(t, func(c *call) []byte { return record(acceptedReply(c.xid, OpaqueAuth{}, Success, nil), 0) })
	cl := NewClient(conn, Config{Program: 1, Version: 1})
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Call(context.Background(), 1, nil, nil); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// recAuth is an Auth that records what the Client gives it and marks what
// it returns.
type recAuth struct {
	header    []byte
	verf      OpaqueAuth
	body      []byte
	failAt    string
	validated bool
}

func (a *recAuth) Begin(uint32) (CallAuth, error) { return a, nil }
func (a *recAuth) fail(op string) error {
	if a.failAt == op {
		return errors.New(op + " refused")
	}
	return nil
}
func (a *recAuth) Credential() (OpaqueAuth, error) {
	return OpaqueAuth{Flavor: FlavorRPCSECGSS, Body: []byte{0, 0, 0, 1, 0, 0, 0, 0}}, a.fail("credential")
}
func (a *recAuth) Verifier(h []byte) (OpaqueAuth, error) {
	a.header = append([]byte(nil), h...)
	return OpaqueAuth{Flavor: FlavorRPCSECGSS, Body: []byte("mic!")}, a.fail("verifier")
}
func (a *recAuth) WrapArgs(args []byte) ([]byte, error) {
	return append([]byte("WRAP"), args...), a.fail("wrap")
}
func (a *recAuth) Validate(v OpaqueAuth) error {
	a.verf, a.validated = v, true
	return a.fail("validate")
}
func (a *recAuth) UnwrapResults(body []byte) ([]byte, error) {
	a.body = body
	return bytes.TrimPrefix(body, []byte("SEAL")), a.fail("unwrap")
}

func TestAuthHooks(t *testing.T) {
	var got *call
	conn := serve(t, func(c *call) []byte {
		got = c
		return record(acceptedReply(c.xid, OpaqueAuth{Flavor: FlavorRPCSECGSS, Body: []byte("rmic")}, Success, []byte("SEALres!")), 0)
	})
	cl := NewClient(conn, Config{Program: 1, Version: 1})
	a := &recAuth{}
	res, err := cl.Call(context.Background(), 2, a, []byte("args"))
	if err != nil {
		t.Fatal(err)
	}
	if string(res) != "res!" {
		t.Errorf("results %q", res)
	}
	if !bytes.Equal(a.header, got.header) {
		t.Errorf("Verifier saw header\n% x\nserver's header\n% x", a.header, got.header)
	}
	if got.cred.Flavor != FlavorRPCSECGSS || string(got.verf.Body) != "mic!" || string(got.body) != "WRAPargs" {
		t.Errorf("server saw cred %v verf %q body %q", got.cred, got.verf.Body, got.body)
	}
	if a.verf.Flavor != FlavorRPCSECGSS || string(a.verf.Body) != "rmic" || string(a.body) != "SEALres!" {
		t.Errorf("Validate saw %v, Unwrap saw %q", a.verf, a.body)
	}

	for _, op := range []string{"credential", "verifier", "wrap", "validate", "unwrap"} {
		a := &recAuth{failAt: op}
		_, err := cl.Call(context.Background(), 2, a, nil)
		var he *AuthHookError
		if !errors.As(err, &he) || he.Op != op {
			t.Errorf("failing %s: %v", op, err)
		}
	}
	// A failing Auth does not break the connection.
	if _, err := cl.Call(context.Background(), 2, &recAuth{}, nil); err != nil {
		t.Fatal(err)
	}

	// Error replies are returned without consulting Validate.
	conn = serve(t, func(c *call) []byte { return record(acceptedReply(c.xid, OpaqueAuth{}, ProcUnavail, nil), 0) })
	a = &recAuth{}
	if _, err := NewClient(conn, Config{}).Call(context.Background(), 2, a, nil); !errors.Is(err, ErrProcUnavail) || a.validated {
		t.Errorf("err %v, validated %v", err, a.validated)
	}
}

func TestOversizedCredential(t *testing.T) {
	sent := false
	conn := serve(t, func(c *call) []byte {
		sent = true
		return record(acceptedReply(c.xid, OpaqueAuth{}, Success, nil), 0)
	})
	cl := NewClient(conn, Config{})
	_, err := cl.Call(context.Background(), 0, bigAuth{}, nil)
	var he *AuthHookError
	if !errors.As(err, &he) || he.Op != "credential" {
		t.Fatalf("err = %v", err)
	}
	if _, err := cl.Call(context.Background(), 0, nil, nil); err != nil || !sent {
		t.Fatalf("next call: %v (sent %v)", err, sent)
	}
}

type bigAuth struct{ authNone }

func (bigAuth) Begin(uint32) (CallAuth, error) { return bigAuth{}, nil }
func (bigAuth) Credential() (OpaqueAuth, error) {
	return OpaqueAuth{Flavor: FlavorSys, Body: make([]byte, MaxAuthBytes+1)}, nil
}

func TestConcurrentCalls(t *testing.T) {
	conn := serve(t, func(c *call) []byte {
		return record(acceptedReply(c.xid, OpaqueAuth{}, Success, c.body), 3)
	})
	cl := NewClient(conn, Config{Program: 1, Version: 1})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				args := xdr.AppendUint32(nil, uint32(i<<16|j))
				res, err := cl.Call(context.Background(), 1, nil, args)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(res, args) {
					errs <- fmt.Errorf("call %d/%d got % x", i, j, res)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
