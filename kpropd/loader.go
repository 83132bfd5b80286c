package kpropd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Loader installs a received dump into the replica's database. It runs
// after the dump has been received completely, checked and renamed into
// place, and before the acknowledgement is sent: the primary learns of
// success only once Load has returned nil.
type Loader interface {
	Load(ctx context.Context, path string) error
}

// LoaderFunc adapts a function to the Loader interface.
type LoaderFunc func(ctx context.Context, path string) error

// Load calls f.
func (f LoaderFunc) Load(ctx context.Context, path string) error { return f(ctx, path) }

// Verifier checks a received dump, complete and on stable storage at
// path, before it replaces the installed one; an error rejects the
// transfer.
type Verifier interface {
	Verify(ctx context.Context, path string) error
}

// VerifierFunc adapts a function to the Verifier interface.
type VerifierFunc func(ctx context.Context, path string) error

// Verify calls f.
func (f VerifierFunc) Verify(ctx context.Context, path string) error { return f(ctx, path) }

// DefaultKDB5Util is where Debian's krb5-kdc package installs kdb5_util.
const DefaultKDB5Util = "/usr/sbin/kdb5_util"

// KDB5Util is the Loader of MIT kpropd (what cmd/kpropd uses): it runs
// "kdb5_util [-r REALM] load [-d DATABASE] [-i] FILE".
type KDB5Util struct {
	// Path of kdb5_util; empty means DefaultKDB5Util.
	Path string
	// Realm, if set, is passed as -r.
	Realm string
	// Database, if set, is passed to load as -d.
	Database string
	// Iprop loads an incremental-propagation dump ("load -i", what MIT
	// kpropd runs when iprop_enable is set): the dump's serial number
	// becomes the update log's position. kdb5_util refuses other dumps
	// with -i, so a replica in iprop mode takes only full resyncs.
	Iprop bool
	// Env, if non-nil, is the environment of kdb5_util (else ours).
	Env []string
	// Output, if set, receives kdb5_util's standard output and error as
	// well; they are also kept for the error message.
	Output io.Writer
	// Started, if set, is called with the process ID once kdb5_util runs.
	Started func(pid int)
}

// Args returns the command line Load runs for path, program first.
func (k *KDB5Util) Args(path string) []string {
	prog := k.Path
	if prog == "" {
		prog = DefaultKDB5Util
	}
	args := []string{prog}
	if k.Realm != "" {
		args = append(args, "-r", k.Realm)
	}
	args = append(args, "load")
	if k.Database != "" {
		args = append(args, "-d", k.Database)
	}
	if k.Iprop {
		args = append(args, "-i")
	}
	return append(args, path)
}

// Load runs kdb5_util and reports a non-zero exit with its last output
// line.
func (k *KDB5Util) Load(ctx context.Context, path string) error {
	args := k.Args(path)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = k.Env
	var out bytes.Buffer
	var w io.Writer = &out
	if k.Output != nil {
		w = io.MultiWriter(&out, k.Output)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w while trying to exec %s", err, args[0])
	}
	if k.Started != nil {
		k.Started(cmd.Process.Pid)
	}
	err := cmd.Wait()
	if err == nil {
		return nil
	}
	last := strings.TrimSpace(out.String())
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.Exited() {
		msg := fmt.Sprintf("%s returned a bad exit status (%d)", args[0], ee.ExitCode())
		if last != "" {
			msg += ": " + last
		}
		return &LoadError{Msg: msg, Err: err}
	}
	return &LoadError{Msg: fmt.Sprintf("%s load terminated: %v", args[0], err), Err: err}
}

// LoadError reports a loader that failed: Msg is MIT kpropd's words for
// it, Err the error it came from (for KDB5Util, the *exec.ExitError).
type LoadError struct {
	Msg string
	Err error
}

// Error returns Msg.
func (e *LoadError) Error() string { return e.Msg }

// Unwrap returns Err.
func (e *LoadError) Unwrap() error { return e.Err }
