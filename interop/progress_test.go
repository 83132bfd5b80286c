//go:build linux

package interop

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// openPTY opens a pseudo-terminal pair with /dev/ptmx, as posix_openpt,
// unlockpt and ptsname do, and gives the terminal a size.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 120}); err != nil {
		t.Fatal(err)
	}
	return m, s
}

// On a terminal our kprop shows a progress bar per replica while it sends
// and while the replica loads, then leaves MIT's lines; with standard error
// not a terminal (as under cron) it prints exactly MIT's output, TERM or
// not.
func TestKpropProgressBar(t *testing.T) {
	// Each replica's load takes a second, so that the bars are drawn.
	slowLoad := filepath.Join(t.TempDir(), "slow-kdb5_util")
	kdb5util := mitrealm.Require(t, "kdb5_util")["kdb5_util"]
	script := "#!/bin/sh\nsleep 1\nexec " + kdb5util + " \"$@\"\n"
	if err := os.WriteFile(slowLoad, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	w := newFanWorld(t, []kpropdKind{goKpropd, goKpropd}, "-p", slowLoad)
	ops := []string{w.operand(0), w.operand(1)}

	cmd := w.primary.Command(w.goKprop, w.kpropArgs(nil, ops...)...)
	cmd.Env = mitrealm.SetEnv(cmd.Env, "TERM=xterm")
	master, slave := openPTY(t)
	defer master.Close()
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	screen := make(chan []byte, 1)
	go func() {
		// Reading the master ends with EIO once kprop, the last holder of
		// the terminal, has exited.
		b, _ := io.ReadAll(master)
		screen <- b
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("kprop on a terminal: %v\nstdout %q", err, stdout.String())
		}
	case <-time.After(mitrealm.CommandTimeout):
		cmd.Process.Kill()
		t.Fatal("kprop on a terminal did not finish")
	}
	term := string(<-screen)
	t.Logf("terminal output: %q", term)
	for _, want := range []string{ops[0], ops[1], "loading", "%", "\x1b["} {
		if !strings.Contains(term, want) {
			t.Errorf("no %q on the terminal", want)
		}
	}
	wantOut := "Database propagation to 2 replicas: 2 SUCCEEDED\n"
	if !strings.HasSuffix(stdout.String(), wantOut) || strings.Count(stdout.String(), ": SUCCEEDED\n") != 2 {
		t.Errorf("stdout %q", stdout.String())
	}

	// Standard error a pipe: no bar, nothing on standard error.
	cmd = w.primary.Command(w.goKprop, w.kpropArgs(nil, ops...)...)
	cmd.Env = mitrealm.SetEnv(cmd.Env, "TERM=xterm")
	out, errOut, err := mitrealm.Exec(cmd, "")
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if err != nil || errOut != "" || !strings.HasSuffix(out, wantOut) {
		t.Errorf("without a terminal: %v, stdout %q, stderr %q", err, out, errOut)
	}

	// One replica, no terminal: exactly MIT's line.
	cmd = w.primary.Command(w.goKprop, w.kpropArgs([]string{"-P", strconv.Itoa(w.kpropds[0].Port)}, mitrealm.ReplicaHost)...)
	cmd.Env = mitrealm.SetEnv(cmd.Env, "TERM=xterm")
	out, errOut, err = mitrealm.Exec(cmd, "")
	if err != nil || errOut != "" || out != mitrealm.KpropSucceeded+"\n" {
		t.Errorf("one replica without a terminal: %v, stdout %q, stderr %q", err, out, errOut)
	}
}
