package oncrpc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/oncrpc"
	"github.com/gokprop/gokprop/oncrpc/xdr"
)

const mitrpcProgram = 0x20001994

// startMITRPC builds testdata/mitrpc.c against MIT's libgssrpc and starts
// it. Without a C compiler or the library the test is skipped, or fails
// when CI is set.
func startMITRPC(t *testing.T) int {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format+"; CI is set, so this is a failure", args...)
		}
		t.Skipf(format, args...)
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		missing("no C compiler")
	}
	bin := filepath.Join(t.TempDir(), "mitrpc")
	out, err := exec.Command(cc, "-o", bin, "testdata/mitrpc.c", "-l:libgssrpc.so.4").CombinedOutput()
	if err != nil {
		missing("cannot build against MIT's libgssrpc (Debian package libgssrpc4): %v\n%s", err, out)
	}
	port := mitrealm.ReservePort(t)
	mitrealm.StartDaemon(t, exec.Command(bin, strconv.Itoa(port)), "ready")
	return port
}

// recordingConn keeps the bytes read from the connection.
type recordingConn struct {
	net.Conn
	mu   sync.Mutex
	read []byte
}

func (c *recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.read = append(c.read, b[:n]...)
	c.mu.Unlock()
	return n, err
}

// fragments returns the fragment sizes of the first record in b.
func fragments(b []byte) []int {
	var out []int
	for len(b) >= 4 {
		h := binary.BigEndian.Uint32(b)
		n := int(h & 0x7fffffff)
		out = append(out, n)
		if h&0x80000000 != 0 || len(b) < 4+n {
			return out
		}
		b = b[4+n:]
	}
	return out
}

// TestMITRPCLibrary talks to a server built on MIT's own RPC library:
// replies MIT splits into 4000-byte fragments, calls we split into tiny
// ones, and the accept errors MIT's svcerr_* functions send.
func TestMITRPCLibrary(t *testing.T) {
	port := startMITRPC(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	dial := func(cfg oncrpc.Config) (*oncrpc.Client, *recordingConn) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		rc := &recordingConn{Conn: c}
		cl := oncrpc.NewClient(rc, cfg)
		t.Cleanup(func() { cl.Close() })
		return cl, rc
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cl, rc := dial(oncrpc.Config{Program: mitrpcProgram, Version: 1})
	payload := make([]byte, 100000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	res, err := cl.Call(ctx, 1, nil, xdr.AppendOpaque(nil, payload))
	if err != nil {
		t.Fatal(err)
	}
	d := xdr.NewDecoder(res)
	if got := d.Opaque(1 << 20); d.End() != nil || !bytes.Equal(got, payload) {
		t.Fatalf("echo of %d bytes came back wrong (%v)", len(payload), d.Err())
	}
	frags := fragments(rc.read)
	if len(frags) < 20 {
		t.Fatalf("MIT sent the reply in %d fragments: %v", len(frags), frags)
	}
	for _, n := range frags[:len(frags)-1] {
		if n != 3996 {
			t.Fatalf("fragments %v, want MIT's 3996-byte ones", frags)
		}
	}

	// MIT reassembles calls sent in 3-byte fragments.
	small, _ := dial(oncrpc.Config{Program: mitrpcProgram, Version: 1, FragmentSize: 3})
	res, err = small.Call(ctx, 1, nil, xdr.AppendOpaque(nil, []byte("fragmented")))
	if err != nil || !bytes.Equal(res, xdr.AppendOpaque(nil, []byte("fragmented"))) {
		t.Fatalf("fragmented call: %v % x", err, res)
	}

	other, _ := dial(oncrpc.Config{Program: mitrpcProgram + 1, Version: 1})
	v2, _ := dial(oncrpc.Config{Program: mitrpcProgram, Version: 2})
	for _, c := range []struct {
		name string
		cl   *oncrpc.Client
		proc uint32
		args []byte
		want error
	}{
		{"NULL", cl, 0, nil, nil},
		{"SYSTEM_ERR", cl, 2, nil, oncrpc.ErrSystemErr},
		{"PROC_UNAVAIL", cl, 9, nil, oncrpc.ErrProcUnavail},
		{"GARBAGE_ARGS", cl, 1, []byte{0, 0, 0, 200}, oncrpc.ErrGarbageArgs},
		{"PROG_UNAVAIL", other, 0, nil, oncrpc.ErrProgUnavail},
		{"PROG_MISMATCH", v2, 0, nil, oncrpc.ErrProgMismatch},
	} {
		_, err := c.cl.Call(ctx, c.proc, nil, c.args)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		var ae *oncrpc.AcceptError
		if c.want == oncrpc.ErrProgMismatch && errors.As(err, &ae) && (ae.Low != 1 || ae.High != 1) {
			t.Errorf("%s: versions %d..%d", c.name, ae.Low, ae.High)
		}
	}

	// Concurrent calls share the connection.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			msg := bytes.Repeat([]byte{byte(i)}, 5000+i)
			res, err := cl.Call(ctx, 1, nil, xdr.AppendOpaque(nil, msg))
			if err != nil || !bytes.Equal(res, xdr.AppendOpaque(nil, msg)) {
				t.Errorf("call %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
}
