package mitrealm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ReadyTimeout bounds how long StartDaemon waits for a daemon's ready line.
const ReadyTimeout = 30 * time.Second

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// A Daemon is a long-running process started by StartDaemon: a KDC, a
// kpropd, or any program that prints a line when it is ready. Its standard
// output and standard error are collected together for the whole of its
// life.
type Daemon struct {
	// Name is the program's base name, for messages.
	Name string

	cmd      *exec.Cmd
	ready    string
	readyCh  chan struct{} // closed when the ready line has been read
	exited   chan struct{} // closed when the process has been reaped
	waitErr  error         // valid after exited is closed
	stopOnce sync.Once

	mu      sync.Mutex
	out     bytes.Buffer
	eof     bool
	changed chan struct{} // closed (and replaced) whenever out grows or eof is set
}

// StartDaemon starts cmd in its own process group and waits until it prints
// readyLine (on stdout or stderr) as a whole line, or as the rest of a line
// after a "progname: " prefix; for example "ready" for MIT kpropd -D and
// "starting..." for krb5kdc -n. The test fails if the process exits first
// or ReadyTimeout passes. The daemon's process group is killed in
// t.Cleanup, and its output is logged there if the test failed.
func StartDaemon(t testing.TB, cmd *exec.Cmd, readyLine string) *Daemon {
	t.Helper()
	d, err := startDaemon(cmd, readyLine, ReadyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	d.cleanupWith(t)
	return d
}

// cleanupWith registers d's stop with t.
func (d *Daemon) cleanupWith(t testing.TB) {
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("%s (pid %d) output:\n%s", d.Name, d.cmd.Process.Pid, d.Output())
		}
	})
}

// startDaemon is StartDaemon without a test: on error the process has been
// stopped and the error carries its output.
func startDaemon(cmd *exec.Cmd, readyLine string, timeout time.Duration) (*Daemon, error) {
	d := &Daemon{
		Name:    filepath.Base(cmd.Path),
		cmd:     cmd,
		ready:   readyLine,
		readyCh: make(chan struct{}),
		exited:  make(chan struct{}),
		changed: make(chan struct{}),
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = pw
	cmd.Stderr = pw
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("mitrealm: starting %s: %w", commandLine(cmd), err)
	}
	pw.Close()
	go d.read(pr)
	go func() {
		d.waitErr = cmd.Wait()
		close(d.exited)
		d.notify()
	}()

	select {
	case <-d.readyCh:
		return d, nil
	case <-d.exited:
		d.Stop()
		d.waitOutput(time.Second)
		return nil, &StartError{Cmd: commandLine(cmd), Err: d.waitErr, Output: d.Output()}
	case <-time.After(timeout):
		d.Stop()
		d.waitOutput(time.Second)
		return nil, &StartError{Cmd: commandLine(cmd), Err: fmt.Errorf("no %q line within %v", readyLine, timeout), Output: d.Output()}
	}
}

// StartError reports a daemon that exited or hung before printing its
// ready line.
type StartError struct {
	Cmd    string // the command line
	Err    error  // its exit status, or the timeout
	Output string // everything it printed
}

// Error reports the command, why it did not become ready, and its output.
func (e *StartError) Error() string {
	return fmt.Sprintf("mitrealm: %s did not become ready: %v; output:\n%s", e.Cmd, e.Err, e.Output)
}

// Unwrap returns the exit status or timeout error.
func (e *StartError) Unwrap() error { return e.Err }

// addrInUse reports whether a StartError was caused by a port already in use.
func addrInUse(err error) bool {
	var se *StartError
	return errors.As(err, &se) && strings.Contains(strings.ToLower(se.Output), "in use")
}

// read collects the daemon's output until every writer has closed the pipe.
func (d *Daemon) read(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReader(r)
	readySeen := false
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			d.mu.Lock()
			d.out.WriteString(line)
			d.mu.Unlock()
			if !readySeen && strings.HasSuffix(line, "\n") && isReadyLine(line, d.ready) {
				readySeen = true
				close(d.readyCh)
			}
			d.notify()
		}
		if err != nil {
			d.mu.Lock()
			d.eof = true
			d.mu.Unlock()
			d.notify()
			return
		}
	}
}

// isReadyLine reports whether line is ready, alone or after "progname: ".
func isReadyLine(line, ready string) bool {
	l := strings.TrimSpace(line)
	return l == ready || strings.HasSuffix(l, ": "+ready)
}

// notify wakes everything waiting in WaitFor.
func (d *Daemon) notify() {
	d.mu.Lock()
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
}

// waitOutput waits up to timeout for the output pipe to reach EOF.
func (d *Daemon) waitOutput(timeout time.Duration) {
	deadline := time.After(timeout)
	for {
		d.mu.Lock()
		eof, ch := d.eof, d.changed
		d.mu.Unlock()
		if eof {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			return
		}
	}
}

// Output returns everything the daemon has printed so far.
func (d *Daemon) Output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// Pid returns the daemon's process id, which is also its process group id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Exited reports whether the daemon's process has exited.
func (d *Daemon) Exited() bool {
	select {
	case <-d.exited:
		return true
	default:
		return false
	}
}

// WaitFor waits until the daemon's output contains substr and fails the
// test if it does not within timeout, or if the daemon exits and closes its
// output without printing it.
func (d *Daemon) WaitFor(t testing.TB, substr string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		d.mu.Lock()
		found := strings.Contains(d.out.String(), substr)
		eof, ch := d.eof, d.changed
		d.mu.Unlock()
		if found {
			return
		}
		if eof && d.Exited() {
			t.Fatalf("%s exited without printing %q; output:\n%s", d.Name, substr, d.Output())
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%s did not print %q within %v; output:\n%s", d.Name, substr, timeout, d.Output())
		}
	}
}

// Stop ends the daemon: SIGTERM to its process group, SIGKILL if it has not
// exited after a grace period, then SIGKILL to whatever is left of the group
// (children that outlived the leader). It is safe to call more than once and
// returns the daemon's exit status, which is usually "signal: terminated".
func (d *Daemon) Stop() error {
	d.stopOnce.Do(func() {
		pid := d.cmd.Process.Pid
		if !d.Exited() {
			signalGroup(pid, syscall.SIGTERM)
			select {
			case <-d.exited:
			case <-time.After(stopGrace):
				signalGroup(pid, syscall.SIGKILL)
				<-d.exited
			}
		}
		signalGroup(pid, syscall.SIGKILL)
	})
	<-d.exited
	return d.waitErr
}
