package kpropd_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

const realm = "GOKPROP.TEST"

var (
	primary = krb5.HostPrincipal("host", "primary.test", realm)
	replica = krb5.HostPrincipal("host", "replica.test", realm)
)

// fixture is a Go kpropd serving on loopback and what a Go kprop needs to
// reach it.
type fixture struct {
	srv    *kpropd.Server
	addr   string
	dir    string
	kt     *keytab.Keytab
	loaded chan []byte
	done   chan struct{} // one value per connection the server has finished
}

// finished waits for the server to finish n more connections.
func (f *fixture) finished(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-f.done:
		case <-time.After(15 * time.Second):
			t.Fatal("server did not finish the connection")
		}
	}
}

func newFixture(t *testing.T, enctype krb5.Enctype, mutate func(*kpropd.Server)) *fixture {
	t.Helper()
	kt, err := krbtest.Keytab(krbtest.Key{Principal: replica, KVNO: 3, Enctype: enctype, Password: "replica key"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: t.TempDir(), kt: kt, loaded: make(chan []byte, 4), done: make(chan struct{}, 64)}
	f.srv = &kpropd.Server{
		Auth: &krbauth.ServerConfig{
			GetKeytab: func() (*keytab.Keytab, error) { return kt, nil },
			Principal: replica,
		},
		Authorizer: kpropd.AuthorizerFunc(func(ctx context.Context, p *kpropd.Peer) error {
			if !p.Client.Equal(primary) {
				return kpropd.ErrNotAuthorized
			}
			return nil
		}),
		File: filepath.Join(f.dir, "from_master"),
		Loader: kpropd.LoaderFunc(func(ctx context.Context, path string) error {
			b, err := os.ReadFile(path)
			f.loaded <- b
			return err
		}),
		Timeout:          20 * time.Second,
		HandshakeTimeout: 5 * time.Second,
		ConnState: func(_ net.Conn, st kpropd.ConnState) {
			if st == kpropd.StateClosed {
				select {
				case f.done <- struct{}{}:
				default: // nobody is counting: do not block the server
				}
			}
		},
	}
	if mutate != nil {
		mutate(f.srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, kpropd.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return f
}

func (f *fixture) creds(t *testing.T, enctype krb5.Enctype) *krbauth.Credentials {
	t.Helper()
	c, err := krbtest.Credentials[krbauth.Credentials](f.kt, primary, replica, enctype, 3, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// push runs a Go kprop against the fixture through an optional
// connection wrapper.
func (f *fixture) push(t *testing.T, enctype krb5.Enctype, dump []byte, wrap func(net.Conn) net.Conn) (*kprop.Result, error) {
	t.Helper()
	return f.pushWire(t, enctype, dump, wrap, false)
}

// pushWire is push with kprop's MITWire setting.
func (f *fixture) pushWire(t *testing.T, enctype krb5.Enctype, dump []byte, wrap func(net.Conn) net.Conn, mitWire bool) (*kprop.Result, error) {
	t.Helper()
	conn, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if wrap != nil {
		conn = wrap(conn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return kprop.Propagate(ctx, conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: f.creds(t, enctype)}, MITWire: mitWire}, bytes.NewReader(dump), int64(len(dump)))
}

func randomDump(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPropagateGoToGo propagates between our kprop and kpropd for every
// enctype, in the fast data phase (negotiated by default, never with
// des3) and with MITWire set on kprop's or kpropd's side (MIT's 32 KiB
// KRB-PRIV chunks).
func TestPropagateGoToGo(t *testing.T) {
	for _, e := range []krb5.Enctype{17, 18, 19, 20, 16, 23} {
		for _, w := range []struct {
			name          string
			kprop, kpropd bool
		}{{"fast", false, false}, {"kprop-mit-wire", true, false}, {"kpropd-mit-wire", false, true}} {
			t.Run(krb5.Enctype(e).String()+"/"+w.name, func(t *testing.T) { propagateGoToGo(t, e, w.kprop, w.kpropd) })
		}
	}
}

func propagateGoToGo(t *testing.T, e krb5.Enctype, kpropMIT, kpropdMIT bool) {
	f := newFixture(t, e, func(s *kpropd.Server) { s.MITWire = kpropdMIT })
	dump := randomDump(t, 5*32768+1234)
	res, err := f.pushWire(t, e, dump, nil, kpropMIT)
	if err != nil {
		t.Fatalf("Propagate: %v", err)
	}
	fast := !kpropMIT && !kpropdMIT && e != krb5.EnctypeDES3CBCSHA1
	chunks := 6
	if fast {
		chunks = 1
	}
	if res.Size != int64(len(dump)) || res.Chunks != chunks || res.Enctype != e || res.FastData != fast {
		t.Errorf("result %+v, want %d chunks, fast data %v", res, chunks, fast)
	}
	if got := <-f.loaded; !bytes.Equal(got, dump) {
		t.Fatal("loaded dump differs from the one sent")
	}
	if got, _ := os.ReadFile(f.srv.File); !bytes.Equal(got, dump) {
		t.Fatal("installed file differs from the dump sent")
	}
	if _, err := os.Stat(f.srv.File + ".temp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

func TestUnauthorizedClientIsToldAndNothingInstalled(t *testing.T) {
	f := newFixture(t, 18, func(s *kpropd.Server) {
		s.Authorizer = kpropd.AuthorizerFunc(func(context.Context, *kpropd.Peer) error {
			return kpropd.ErrNotAuthorized
		})
	})
	_, err := f.push(t, 18, randomDump(t, 100000), nil)
	var re *krbauth.RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Text, "unauthorized principal") {
		t.Fatalf("err = %v, want remote unauthorized error", err)
	}
	f.finished(t, 1)
	assertUntouched(t, f)
}

func TestLoadFailureIsReported(t *testing.T) {
	f := newFixture(t, 18, func(s *kpropd.Server) {
		s.Loader = kpropd.LoaderFunc(func(context.Context, string) error {
			// The loader's words name local files: they are logged, not sent.
			return &kpropd.LoadError{Msg: "/usr/sbin/kdb5_util returned a bad exit status (1): /var/lib/krb5kdc/from_master: bad line 3"}
		})
	})
	_, err := f.push(t, 18, randomDump(t, 1000), nil)
	var re *krbauth.RemoteError
	if !errors.As(err, &re) || re.Code != krb5.ErrGeneric || re.Text != "Load failed while loading the database" {
		t.Fatalf("err = %v, want remote load error", err)
	}
}

func TestVerifyRejectsBeforeInstall(t *testing.T) {
	f := newFixture(t, 18, func(s *kpropd.Server) {
		s.Verifier = kpropd.VerifierFunc(func(ctx context.Context, path string) error { return errors.New("not a dump") })
	})
	if err := os.WriteFile(f.srv.File, []byte("previous"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := f.push(t, 18, randomDump(t, 1000), nil)
	// The verifier's words are logged; the client learns the step.
	var re *krbauth.RemoteError
	if !errors.As(err, &re) || re.Text != "Invalid database dump while verifying the received database" {
		t.Fatalf("err = %v", err)
	}
	f.finished(t, 1)
	if got, _ := os.ReadFile(f.srv.File); string(got) != "previous" {
		t.Fatalf("installed file replaced: %q", got)
	}
	assertNoTemp(t, f)
}

// flipper corrupts one byte of the client's stream at a given offset.
type flipper struct {
	net.Conn
	mu  sync.Mutex
	off int64
	at  int64
}

func (c *flipper) Write(p []byte) (int, error) {
	c.mu.Lock()
	q := append([]byte(nil), p...)
	if c.at >= c.off && c.at < c.off+int64(len(q)) {
		q[c.at-c.off] ^= 0x01
	}
	c.off += int64(len(q))
	c.mu.Unlock()
	return c.Conn.Write(q)
}

func TestTamperedChunkIsRejected(t *testing.T) {
	f := newFixture(t, 18, nil)
	dump := randomDump(t, 4*32768)
	// Past the handshake and the size message: inside the second chunk.
	_, err := f.push(t, 18, dump, func(c net.Conn) net.Conn { return &flipper{Conn: c, at: 45000} })
	var re *krbauth.RemoteError
	if !errors.As(err, &re) || re.Code != krb5.ErrBadIntegrity {
		t.Fatalf("err = %v, want remote integrity error", err)
	}
	if !strings.Contains(re.Text, "while decoding database block starting at offset") {
		t.Errorf("e-text %q", re.Text)
	}
	f.finished(t, 1)
	assertUntouched(t, f)
	// The daemon is still serving.
	if _, err := f.push(t, 18, dump, nil); err != nil {
		t.Fatalf("next propagation: %v", err)
	}
}

// cutter closes the connection after n bytes of the client's stream.
type cutter struct {
	net.Conn
	left int
}

func (c *cutter) Write(p []byte) (int, error) {
	if len(p) >= c.left {
		c.Conn.Write(p[:c.left])
		c.Conn.Close()
		return 0, io.ErrClosedPipe
	}
	c.left -= len(p)
	return c.Conn.Write(p)
}

func TestCutConnectionLeavesNothing(t *testing.T) {
	f := newFixture(t, 20, nil)
	dump := randomDump(t, 10*32768)
	for _, at := range []int{10, 40, 700, 900, 40000, 200000} {
		if _, err := f.push(t, 20, dump, func(c net.Conn) net.Conn { return &cutter{Conn: c, left: at} }); err == nil {
			t.Fatalf("cut at %d: propagation succeeded", at)
		}
	}
	f.finished(t, 6)
	assertUntouched(t, f)
	if _, err := f.push(t, 20, dump, nil); err != nil {
		t.Fatalf("propagation after cuts: %v", err)
	}
}

func TestPrematureEOFIsReported(t *testing.T) {
	f := newFixture(t, 17, nil)
	conn, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Announce more than the reader yields.
	_, err = kprop.Propagate(ctx, conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: f.creds(t, 17)}}, bytes.NewReader(make([]byte, 1000)), 5000)
	if !errors.Is(err, kprop.ErrPrematureEOF) {
		t.Fatalf("err = %v, want premature EOF", err)
	}
	f.finished(t, 1)
	assertUntouched(t, f)
}

func TestSilentClientTimesOut(t *testing.T) {
	f := newFixture(t, 18, func(s *kpropd.Server) { s.HandshakeTimeout = 200 * time.Millisecond })
	conn, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = conn.Read(make([]byte, 1))
	if err == nil || time.Since(start) > 4*time.Second {
		t.Fatalf("server did not drop a silent client: %v after %v", err, time.Since(start))
	}
}

// A second sender that authenticates while a transfer is in progress
// waits for its turn and is then served, as MIT kpropd serves one
// connection after the other; the replica ends with the later dump.
func TestConcurrentTransfersTakeTurns(t *testing.T) {
	loading := make(chan struct{}, 2)
	release := make(chan struct{})
	var loaded [][]byte
	waiting := make(chan struct{}, 1)
	f := newFixture(t, 18, func(s *kpropd.Server) {
		s.Logger = slog.New(recordHook{"waiting for turn", waiting})
		s.Loader = kpropd.LoaderFunc(func(ctx context.Context, path string) error {
			b, err := os.ReadFile(path)
			loaded = append(loaded, b) // one load at a time: no lock needed
			loading <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return err
		})
	})
	first, second := randomDump(t, 1000), randomDump(t, 2000)
	results := make(chan error, 2)
	go func() { _, err := f.push(t, 18, first, nil); results <- err }()
	<-loading // the first transfer holds the turn while it loads
	go func() { _, err := f.push(t, 18, second, nil); results <- err }()
	select {
	case <-waiting:
	case err := <-results:
		t.Fatalf("the second transfer did not wait for its turn: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("the second transfer did not wait for its turn")
	}
	release <- struct{}{}
	if err := <-results; err != nil {
		t.Fatalf("first transfer: %v", err)
	}
	<-loading
	release <- struct{}{}
	if err := <-results; err != nil {
		t.Fatalf("second transfer: %v", err)
	}
	if len(loaded) != 2 || !bytes.Equal(loaded[0], first) || !bytes.Equal(loaded[1], second) {
		t.Fatalf("loads: %d, in order: %v", len(loaded), len(loaded) == 2 && bytes.Equal(loaded[1], second))
	}
	if got, _ := os.ReadFile(f.srv.File); !bytes.Equal(got, second) {
		t.Error("the installed dump is not the later one")
	}
}

// A transfer that waits for its turn longer than its Timeout is refused
// with a busy KRB-ERROR. (The transfer holding the turn has a Loader that
// ignores its context, so it outlives its own Timeout.)
func TestWaitingTransferIsRefusedBusy(t *testing.T) {
	loading := make(chan struct{})
	release := make(chan struct{})
	f := newFixture(t, 18, func(s *kpropd.Server) {
		s.Timeout = 2 * time.Second
		s.Loader = kpropd.LoaderFunc(func(ctx context.Context, path string) error {
			close(loading)
			<-release
			return nil
		})
	})
	dump := randomDump(t, 1000)
	first := make(chan error, 1)
	go func() { _, err := f.push(t, 18, dump, nil); first <- err }()
	<-loading
	_, err := f.push(t, 18, dump, nil)
	close(release)
	var re *krbauth.RemoteError
	if !errors.As(err, &re) || re.Code != krb5.ErrGeneric || !strings.HasPrefix(re.Text, "Busy: another propagation is in progress") {
		t.Errorf("second transfer: %v, want a busy refusal", err)
	}
	if strings.Contains(re.Text, f.dir) {
		t.Errorf("the e-text names a local path: %q", re.Text)
	}
	<-first // cut off by its own Timeout, or just in time: not the point here
}

// recordHook is a slog.Handler that signals when a record with a given
// message is logged.
type recordHook struct {
	msg string
	hit chan struct{}
}

func (h recordHook) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHook) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.hit <- struct{}{}:
		default:
		}
	}
	return nil
}
func (h recordHook) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHook) WithGroup(string) slog.Handler      { return h }

// onceListener hands out one connection, then fails, as kpropd -t's does.
type onceListener struct {
	net.Listener
	done bool
}

var errOnce = errors.New("served once")

func (l *onceListener) Accept() (net.Conn, error) {
	if l.done {
		return nil, errOnce
	}
	l.done = true
	return l.Listener.Accept()
}

// A Shutdown right after Serve has returned waits for the connection
// Serve accepted last (kpropd -t serves one connection, then shuts down):
// the connection is registered before its goroutine starts.
func TestShutdownAfterServeWaitsForAcceptedConnection(t *testing.T) {
	kt, err := krbtest.Keytab(krbtest.Key{Principal: replica, KVNO: 3, Enctype: 18, Password: "replica key"})
	if err != nil {
		t.Fatal(err)
	}
	dump := randomDump(t, 1000)
	for i := range 50 {
		var closed atomic.Bool
		srv := &kpropd.Server{
			Auth:       &krbauth.ServerConfig{GetKeytab: func() (*keytab.Keytab, error) { return kt, nil }, Principal: replica},
			Authorizer: kpropd.AuthorizerFunc(func(context.Context, *kpropd.Peer) error { return nil }),
			File:       filepath.Join(t.TempDir(), "from_master"),
			ConnState: func(_ net.Conn, st kpropd.ConnState) {
				if st == kpropd.StateClosed {
					closed.Store(true)
				}
			},
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pushed := make(chan error, 1)
		go func() {
			conn, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				pushed <- err
				return
			}
			defer conn.Close()
			creds, err := krbtest.Credentials[krbauth.Credentials](kt, primary, replica, 18, 3, time.Now(), time.Hour)
			if err != nil {
				pushed <- err
				return
			}
			_, err = kprop.Propagate(context.Background(), conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}}, bytes.NewReader(dump), int64(len(dump)))
			pushed <- err
		}()
		if err := srv.Serve(&onceListener{Listener: l}); !errors.Is(err, errOnce) {
			t.Fatalf("Serve: %v", err)
		}
		l.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if !closed.Load() {
			t.Fatalf("run %d: Shutdown returned while the accepted connection was still being served", i+1)
		}
		if err := <-pushed; err != nil {
			t.Fatalf("run %d: propagation: %v", i+1, err)
		}
	}
}

func assertNoTemp(t *testing.T, f *fixture) {
	t.Helper()
	if _, err := os.Stat(f.srv.File + ".temp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

func assertUntouched(t *testing.T, f *fixture) {
	t.Helper()
	if _, err := os.Stat(f.srv.File); !os.IsNotExist(err) {
		t.Errorf("installed file exists after a failed transfer: %v", err)
	}
	assertNoTemp(t, f)
	select {
	case <-f.loaded:
		t.Error("loader ran for a failed transfer")
	default:
	}
}

// A primary may start its next propagation as soon as it has the
// acknowledgement: the server's locks are released before it is sent.
func TestBackToBackPropagations(t *testing.T) {
	f := newFixture(t, 17, func(s *kpropd.Server) { s.Loader = nil })
	dump := randomDump(t, 40000)
	for i := range 100 {
		if _, err := f.push(t, 17, dump, nil); err != nil {
			t.Fatalf("propagation %d: %v", i+1, err)
		}
	}
}

// A transfer waiting for its turn when the server is closed ends with the
// close, as a cancelled transfer.
func TestWaitingTransferEndsWithClose(t *testing.T) {
	loading := make(chan struct{})
	waiting := make(chan struct{}, 1)
	errs := make(chan error, 4)
	f := newFixture(t, 18, func(s *kpropd.Server) {
		s.Logger = slog.New(recordHook{"waiting for turn", waiting})
		s.Loader = kpropd.LoaderFunc(func(ctx context.Context, path string) error {
			close(loading)
			<-ctx.Done()
			return ctx.Err()
		})
	})
	dump := randomDump(t, 1000)
	go func() { _, err := f.push(t, 18, dump, nil); errs <- err }()
	<-loading
	go func() { _, err := f.push(t, 18, dump, nil); errs <- err }()
	select {
	case <-waiting:
	case <-time.After(15 * time.Second):
		t.Fatal("the second transfer did not wait")
	}
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-errs:
			if err == nil {
				t.Error("a transfer succeeded across Close")
			}
		case <-time.After(15 * time.Second):
			t.Fatal("Close left a transfer running")
		}
	}
}
