package rpcsecgss

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gokprop/gokprop/oncrpc"
	"github.com/gokprop/gokprop/oncrpc/xdr"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCallsPerService(t *testing.T) {
	for _, svc := range []Service{ServicePrivacy, ServiceIntegrity, ServiceNone} {
		t.Run(svc.String(), func(t *testing.T) {
			ctx := testCtx(t)
			s, cl, mech := newFakeServer(t)
			s.handle = func(proc uint32, args []byte) []byte { return append([]byte(fmt.Sprintf("proc%d:", proc)), args...) }
			a, err := Create(ctx, cl, mech, &Config{Service: svc})
			if err != nil {
				t.Fatal(err)
			}
			if a.Window() != 32 || string(a.Handle()) != "xxxx" || a.Service() != svc {
				t.Fatalf("window %d handle %q service %v", a.Window(), a.Handle(), a.Service())
			}
			for i := 1; i <= 3; i++ {
				args := xdr.AppendUint32(nil, uint32(i))
				res, err := cl.Call(ctx, 1, a, args)
				if err != nil {
					t.Fatal(err)
				}
				if want := append([]byte("proc1:"), args...); !bytes.Equal(res, want) {
					t.Fatalf("call %d: %q", i, res)
				}
			}
			if got := fmt.Sprint(s.seen()); got != "[1 2 3]" {
				t.Errorf("sequence numbers %s", got)
			}
			// The INIT credential: version 1, INIT, seq 0, the service, no handle.
			s.mu.Lock()
			init, data := s.creds[0], s.creds[1]
			s.mu.Unlock()
			want := appendCred(nil, procInit, 0, svc, nil)
			if !bytes.Equal(init, want) {
				t.Errorf("INIT credential %x, want %x", init, want)
			}
			if want := appendCred(nil, procData, 1, svc, []byte("xxxx")); !bytes.Equal(data, want) {
				t.Errorf("DATA credential %x, want %x", data, want)
			}
			if err := a.Destroy(ctx); err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			destroyed := s.destroyed
			s.mu.Unlock()
			if !destroyed {
				t.Error("server saw no DESTROY")
			}
			if _, err := cl.Call(ctx, 1, a, nil); !errors.Is(err, ErrDestroyed) || !NeedsNewContext(err) {
				t.Errorf("call after Destroy: %v", err)
			}
		})
	}
}

// TestTamperedReplies: a reply whose verifier or body was changed, or
// that answers another sequence number, is refused.
func TestTamperedReplies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(verf, body []byte) ([]byte, []byte)
	}{
		{"verifier", func(v, b []byte) ([]byte, []byte) { v = bytes.Clone(v); v[0] ^= 1; return v, b }},
		{"body", func(v, b []byte) ([]byte, []byte) { b = bytes.Clone(b); b[len(b)-20] ^= 1; return v, b }},
		{"unsealed body", func(v, b []byte) ([]byte, []byte) {
			msg, _, _ := (&fakeMech{key: []byte("shared fake key"), initiator: true}).Unwrap(xdr.NewDecoder(b).Opaque(len(b)))
			re, _ := (&fakeMech{key: []byte("shared fake key")}).Wrap(msg, false)
			return v, xdr.AppendOpaque(nil, re)
		}},
		{"sequence", func(v, b []byte) ([]byte, []byte) {
			msg, _, _ := (&fakeMech{key: []byte("shared fake key"), initiator: true}).Unwrap(xdr.NewDecoder(b).Opaque(len(b)))
			msg[3]++
			re, _ := (&fakeMech{key: []byte("shared fake key")}).Wrap(msg, true)
			return v, xdr.AppendOpaque(nil, re)
		}},
		{"trailing bytes", func(v, b []byte) ([]byte, []byte) { return v, append(bytes.Clone(b), 0, 0, 0, 0) }},
		{"short", func(v, b []byte) ([]byte, []byte) { return v, b[:3] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			s, cl, mech := newFakeServer(t)
			a, err := Create(ctx, cl, mech, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.tamper = tc.tamper
			_, err = cl.Call(ctx, 1, a, []byte{0, 0, 0, 1})
			var he *oncrpc.AuthHookError
			if !errors.Is(err, ErrBadReply) || !errors.As(err, &he) || !NeedsNewContext(err) {
				t.Errorf("%v", err)
			}
		})
	}
}

func TestInitFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(s *fakeServer)
		check func(error) bool
	}{
		{"GSS failure", func(s *fakeServer) { s.initMajor = 0x90000 }, func(err error) bool {
			var ie *InitError
			return errors.As(err, &ie) && ie.Major == 0x90000
		}},
		{"window verifier", func(s *fakeServer) {
			s.tamper = func(v, b []byte) ([]byte, []byte) { v = bytes.Clone(v); v[1] ^= 1; return v, b }
		}, func(err error) bool { return errors.Is(err, ErrBadReply) }},
		{"window 0", func(s *fakeServer) { s.window = 0 }, func(err error) bool { return errors.Is(err, ErrBadReply) }},
		{"undecodable", func(s *fakeServer) {
			s.tamper = func(v, b []byte) ([]byte, []byte) { return v, b[:len(b)-1] }
		}, func(err error) bool { return errors.Is(err, xdr.ErrShort) }},
		{"long handle", func(s *fakeServer) {
			s.tamper = func(v, b []byte) ([]byte, []byte) {
				return v, append(xdr.AppendOpaque(nil, make([]byte, MaxHandle+1)), b[8:]...)
			}
		}, func(err error) bool { return errors.Is(err, xdr.ErrTooLong) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, cl, mech := newFakeServer(t)
			tc.setup(s)
			if _, err := Create(testCtx(t), cl, mech, nil); !tc.check(err) {
				t.Errorf("%v", err)
			}
		})
	}
}

// TestDenied: the server's refusals of a data call come back typed, and
// the context problems say a new context is needed.
func TestDenied(t *testing.T) {
	for _, st := range []oncrpc.AuthStat{oncrpc.RPCSECGSSCredProblem, oncrpc.RPCSECGSSCtxProblem} {
		ctx := testCtx(t)
		s, cl, mech := newFakeServer(t)
		a, err := Create(ctx, cl, mech, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.deny = st
		_, err = cl.Call(ctx, 1, a, nil)
		if !errors.Is(err, &oncrpc.AuthError{Stat: st}) || !NeedsNewContext(err) {
			t.Errorf("%v: %v", st, err)
		}
		// The same context goes on working with the server's next answer.
		if _, err := cl.Call(ctx, 1, a, nil); err != nil {
			t.Errorf("after %v: %v", st, err)
		}
	}
	if NeedsNewContext(oncrpc.ErrProcUnavail) {
		t.Error("PROC_UNAVAIL needs no new context")
	}
}

func TestSequenceExhausted(t *testing.T) {
	ctx := testCtx(t)
	_, cl, mech := newFakeServer(t)
	a, err := Create(ctx, cl, mech, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.seq = MaxSeq - 1
	if _, err := cl.Call(ctx, 1, a, nil); err != nil {
		t.Fatalf("call with MaxSeq: %v", err)
	}
	if _, err := cl.Call(ctx, 1, a, nil); !errors.Is(err, ErrSequenceExhausted) {
		t.Errorf("call after MaxSeq: %v", err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	ctx := testCtx(t)
	s, cl, mech := newFakeServer(t)
	a, err := Create(ctx, cl, mech, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			for j := 0; j < 10; j++ {
				if _, err := cl.Call(ctx, 1, a, []byte{1, 2, 3, 4}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.seen()); n != 80 {
		t.Errorf("%d calls", n)
	}
}
