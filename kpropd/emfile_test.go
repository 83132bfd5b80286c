//go:build linux

package kpropd_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gokprop/gokprop/kpropd"
)

const emfileChild = "KPROPD_TEST_EMFILE_CHILD"

// When the process runs out of file descriptors, Accept fails with EMFILE
// (a temporary error): Serve must back off and keep serving, as net/http
// does, not return and take the daemon down. The test re-runs itself in a
// child process with a low RLIMIT_NOFILE and every descriptor in use; the
// parent connects, the child sees Accept fail, frees descriptors and
// expects the connection to be served.
func TestServeBacksOffOnEMFILE(t *testing.T) {
	if os.Getenv(emfileChild) == "1" {
		emfileChildMain()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeBacksOffOnEMFILE$", "-test.v")
	cmd.Env = append(os.Environ(), emfileChild+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var report []string
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				err := cmd.Wait()
				if err != nil || !strings.Contains(strings.Join(report, "\n"), "child: served") {
					t.Fatalf("child: %v\n%s", err, strings.Join(report, "\n"))
				}
				return
			}
			report = append(report, line)
			if addr, ok := strings.CutPrefix(line, "child: listening on "); ok {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
			}
		case <-timeout:
			t.Fatalf("child did not finish:\n%s", strings.Join(report, "\n"))
		}
	}
}

// emfileListener counts the Accept calls that failed with EMFILE.
type emfileListener struct {
	net.Listener
	emfile atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if errors.Is(err, syscall.EMFILE) {
		l.emfile.Add(1)
	}
	return c, err
}

func emfileChildMain() {
	fail := func(format string, a ...any) {
		fmt.Printf("child: "+format+"\n", a...)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("%v", err)
	}
	l := &emfileListener{Listener: ln}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fail("%v", err)
	}
	lim.Cur = 64
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fail("%v", err)
	}
	// Take every descriptor left.
	var fillers []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if errors.Is(err, syscall.EMFILE) {
			break
		}
		if err != nil {
			fail("%v", err)
		}
		fillers = append(fillers, f)
	}
	accepted := make(chan struct{}, 1)
	srv := &kpropd.Server{
		ConnState: func(_ net.Conn, st kpropd.ConnState) {
			if st == kpropd.StateNew {
				select {
				case accepted <- struct{}{}:
				default:
				}
			}
		},
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Printf("child: listening on %s\n", ln.Addr())
	deadline := time.After(20 * time.Second)
	for l.emfile.Load() < 3 {
		select {
		case err := <-served:
			fail("Serve returned on EMFILE: %v", err)
		case <-deadline:
			fail("Accept never failed with EMFILE")
		case <-time.After(10 * time.Millisecond):
		}
	}
	for _, f := range fillers[:8] {
		f.Close()
	}
	select {
	case <-accepted:
	case err := <-served:
		fail("Serve returned: %v", err)
	case <-deadline:
		fail("the connection was not accepted once descriptors were free")
	}
	fmt.Printf("child: served after %d EMFILE failures\n", l.emfile.Load())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	os.Exit(0)
}
