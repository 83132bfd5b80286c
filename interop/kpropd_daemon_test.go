package interop

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
	"github.com/gokprop/gokprop/krbconf"
	"github.com/gokprop/gokprop/krbkdc"
)

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestKpropdDaemonizes starts our kpropd without -D or -d, as Debian's
// init script does: it must detach, write its pid file, serve MIT kprop,
// reload on SIGHUP, and stop on SIGTERM.
func TestKpropdDaemonizes(t *testing.T) {
	w := newParityWorld(t)
	port := freePort(t)
	pidFile := filepath.Join(w.replica.Dir, "kpropd.pid")
	args := w.replica.KpropdArgs(t, port)[1:] // without -D
	cmd := w.replica.Command(goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), append(args, "--pid-file="+pidFile)...)
	stdout, stderr, err := mitrealm.Exec(cmd, "")
	if err != nil {
		t.Fatalf("kpropd: %v\n%s%s", err, stdout, stderr)
	}
	if stdout != "" || stderr != "" {
		t.Errorf("the daemonizing parent printed %q %q", stdout, stderr)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	proc, _ := os.FindProcess(pid)
	t.Cleanup(func() { proc.Signal(syscall.SIGKILL) })
	if stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		// Field 6 is the session ID (after "pid (comm) state ppid pgrp").
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 4 || f[3] != strconv.Itoa(pid) {
			t.Errorf("daemon %d is not a session leader: %q", pid, f)
		}
	}

	push := func() outcome { return w.kprop(t, w.mitKprop, nil, w.args(port, mitrealm.ReplicaHost)...) }
	if o := push(); o.status != 0 {
		t.Fatalf("propagation to the daemon: %+v", o)
	}
	// SIGHUP reloads (MIT's kpropd dies of it); the new ACL applies.
	w.replica.WriteKpropdACL(t, "host/nobody@"+w.primary.Realm)
	if err := proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if o := push(); o.status != 1 || !strings.Contains(o.stderr, "unauthorized principal") {
		t.Errorf("after SIGHUP and an ACL change: %+v", o)
	}
	w.replica.WriteKpropdACL(t, w.primary.KpropPrincipal())
	if o := push(); o.status != 0 {
		t.Fatalf("propagation after SIGHUP: %+v", o)
	}
	if err := proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for proc.Signal(syscall.Signal(0)) == nil {
		if time.Now().After(deadline) {
			t.Fatal("daemon still running 10s after SIGTERM")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A second daemon on a port in use fails visibly.
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd = w.replica.Command(goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), args...)
	_, stderr, err = mitrealm.Exec(cmd, "")
	if err == nil || !strings.Contains(stderr, "Address already in use while binding listener socket") {
		t.Errorf("daemon on a busy port: err %v, stderr %q", err, stderr)
	}
}

// TestKpropdInetd runs our kpropd as inetd would: the accepted connection
// on its standard input.
func TestKpropdInetd(t *testing.T) {
	w := newParityWorld(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	done := make(chan outcome, 1)
	go func() { done <- w.kprop(t, w.mitKprop, nil, w.args(port, mitrealm.ReplicaHost)...) }()
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	f, err := conn.(*net.TCPConn).File()
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	args := w.replica.KpropdArgs(t, 0)[3:] // no -D -P
	cmd := w.replica.Command(goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), args...)
	cmd.Stdin = f
	out, err := cmd.CombinedOutput()
	f.Close()
	if err != nil {
		t.Fatalf("inetd kpropd: %v\n%s", err, out)
	}
	if o := <-done; o.status != 0 || !strings.Contains(o.stdout, mitrealm.KpropSucceeded) {
		t.Fatalf("MIT kprop to inetd kpropd: %+v", o)
	}
	if got, want := readFile(t, w.replica.KpropdFile), readFile(t, w.dump); string(got) != string(want) {
		t.Error("inetd kpropd wrote a different dump")
	}
}

// stallingReader yields n bytes of a dump and then blocks until released.
type stallingReader struct {
	r       io.Reader
	n       int
	release chan struct{}
	stalled chan struct{}
}

func (s *stallingReader) Read(p []byte) (int, error) {
	if s.n <= 0 {
		close(s.stalled)
		<-s.release
		return 0, io.ErrUnexpectedEOF
	}
	if len(p) > s.n {
		p = p[:s.n]
	}
	k, err := s.r.Read(p)
	s.n -= k
	return k, err
}

// TestKpropdSIGTERMMidTransfer stops our kpropd while a transfer is half
// done: it must exit cleanly, with neither a partial dump nor a temporary
// file left behind.
func TestKpropdSIGTERMMidTransfer(t *testing.T) {
	w := newParityWorld(t)
	d := w.replica.StartKpropdBinary(t, goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), "-d")
	os.Remove(d.File)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	creds := goCredentials(t, w)
	dump, err := os.Open(w.dump)
	if err != nil {
		t.Fatal(err)
	}
	defer dump.Close()
	st, _ := dump.Stat()
	sr := &stallingReader{r: dump, n: int(st.Size() / 2), release: make(chan struct{}), stalled: make(chan struct{})}
	defer close(sr.release)
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(d.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	result := make(chan error, 1)
	go func() {
		_, err := kprop.Propagate(ctx, conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}}, sr, st.Size())
		result <- err
	}()
	select {
	case <-sr.stalled:
	case err := <-result:
		t.Fatalf("propagation ended early: %v", err)
	}
	for wait := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(d.File + ".temp"); err == nil {
			break
		} else if time.Now().After(wait) {
			t.Fatalf("no transfer in progress: %v", err)
		}
	}
	if err := syscall.Kill(d.Pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !d.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("kpropd still running 20s after SIGTERM")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := d.Stop(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 0 {
			t.Errorf("kpropd exit: %v", err)
		}
	}
	for _, p := range []string{d.File, d.File + ".temp"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind after SIGTERM (%v)", p, err)
		}
	}
}

// startGoKpropd starts our kpropd on the replica with MIT's arguments, -d,
// and the given environment.
func startGoKpropd(t *testing.T, w *parityWorld, env []string) *mitrealm.Kpropd {
	t.Helper()
	port := freePort(t)
	cmd := w.replica.Command(goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), append(w.replica.KpropdArgs(t, port), "-d")...)
	cmd.Env = env
	d := mitrealm.StartDaemon(t, cmd, "ready")
	return &mitrealm.Kpropd{Daemon: d, Port: port, File: w.replica.KpropdFile}
}

// TestKpropdTransferTimeout: kdc.conf's iprop_resync_timeout bounds a
// whole transfer, as MIT's alarm does; a client that stalls is cut off,
// nothing is installed, and the daemon goes on serving.
func TestKpropdTransferTimeout(t *testing.T) {
	w := newParityWorld(t)
	d := startGoKpropd(t, w, kdcConfEnv(t, w.replica, "iprop_resync_timeout = 2s"))
	os.Remove(d.File)
	creds := goCredentials(t, w)
	dump, err := os.Open(w.dump)
	if err != nil {
		t.Fatal(err)
	}
	defer dump.Close()
	st, _ := dump.Stat()
	sr := &stallingReader{r: dump, n: int(st.Size() / 2), release: make(chan struct{}), stalled: make(chan struct{})}
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(d.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go kprop.Propagate(ctx, conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}}, sr, st.Size())
	<-sr.stalled
	start := time.Now()
	// The replica hangs up on the stalled client.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	d.WaitFor(t, "while reading database block starting at offset", 20*time.Second)
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("stalled transfer cut off after %v, want about 2s", el)
	}
	close(sr.release)
	for _, p := range []string{d.File, d.File + ".temp"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after a timed-out transfer (%v)", p, err)
		}
	}
	if o := w.kprop(t, w.mitKprop, nil, w.args(d.Port, mitrealm.ReplicaHost)...); o.status != 0 {
		t.Fatalf("propagation after a timeout: %+v", o)
	}
}

// TestKpropdIpropEnabled: with iprop_enable in kdc.conf our kpropd is in
// incremental-propagation mode. Without an admin server to poll it says
// so and exits. With one, it polls (here a port nothing listens on: it
// retries with backoff, as MIT's does) beside its listener, which loads
// with "kdb5_util load -i", as MIT's does: a plain kprop push of a
// normal dump is refused with kdb5_util's "dump header bad". The
// scenarios against MIT kadmind are in interop/incremental.
func TestKpropdIpropEnabled(t *testing.T) {
	w := newParityWorld(t)
	env := ipropEnv(t, w.replica)
	cmd := w.replica.Command(goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), append(w.replica.KpropdArgs(t, freePort(t)), "-d")...)
	cmd.Env = env
	_, stderr, err := mitrealm.Exec(cmd, "")
	if err == nil || !strings.Contains(stderr, "no admin_server for the realm") {
		t.Fatalf("without an admin server: %v\n%s", err, stderr)
	}

	port := freePort(t)
	cmd = w.replica.Command(goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), append(w.replica.KpropdArgs(t, port), "-d", "-A", "127.0.0.1")...)
	cmd.Env = env
	d := mitrealm.StartDaemon(t, cmd, "ready")
	d.WaitFor(t, "Sleeping 4 seconds to re-initialize kadm5", 30*time.Second)
	o := w.kprop(t, w.mitKprop, nil, w.args(port, mitrealm.ReplicaHost)...)
	if o.status == 0 {
		t.Fatalf("a plain dump was loaded in iprop mode: %+v", o)
	}
	d.WaitFor(t, "dump header bad", 30*time.Second)
}

// goCredentials gets kprop's ticket for the replica with our library.
func goCredentials(t *testing.T, w *parityWorld) *krbauth.Credentials {
	t.Helper()
	cfg, err := krbconf.LoadConfigFiles(w.primary.KRB5Conf)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := krbconf.LoadKeytab(w.primary.Keytab)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := krb5.ParsePrincipal(w.primary.KpropPrincipal(), "")
	server, _ := krb5.ParsePrincipal(w.primary.ReplicaPrincipal(), "")
	client.Name.NameType, server.Name.NameType = 3, 3
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	creds, err := (&krbkdc.KDCClient{Config: cfg}).GetInitialCredentials(ctx, kt, client, server)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}
