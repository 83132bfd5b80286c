package kprop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"

	"github.com/gokprop/gokprop/dumpfmt"
)

// DefaultKDB5Util is where Debian's krb5-kdc package installs kdb5_util.
const DefaultKDB5Util = "/usr/sbin/kdb5_util"

// KDB5Util makes the dump a propagation sends, as the cron line of MIT's
// instructions does before kprop: it runs "kdb5_util [-r REALM] dump
// FILE". kdb5_util writes the dump to a temporary file, renames it over
// FILE and then writes FILE.dump_ok, the marker OpenDump checks, so a dump
// it did not finish is never mistaken for a good one.
type KDB5Util struct {
	// Path of kdb5_util; empty means DefaultKDB5Util.
	Path string
	// Realm, if set, is passed as -r.
	Realm string
	// Env, if non-nil, is kdb5_util's environment (else ours: it finds
	// the database through KRB5_CONFIG and KRB5_KDC_PROFILE).
	Env []string
	// Output, if set, receives kdb5_util's standard output and error
	// (its own messages, in MIT's words).
	Output io.Writer
}

// Args returns the command line Dump runs for file, program first.
func (k *KDB5Util) Args(file string) []string {
	prog := k.Path
	if prog == "" {
		prog = DefaultKDB5Util
	}
	args := []string{prog}
	if k.Realm != "" {
		args = append(args, "-r", k.Realm)
	}
	return append(args, "dump", file)
}

// DumpError is a kdb5_util dump that failed: it could not be started, or
// it exited with a non-zero status (kdb5_util has then printed why to
// Output).
type DumpError struct {
	// Args is the command line.
	Args []string
	// Err is the error from os/exec (an *exec.ExitError for a bad exit
	// status).
	Err error
}

func (e *DumpError) Error() string {
	var ee *exec.ExitError
	if errors.As(e.Err, &ee) && ee.Exited() {
		return fmt.Sprintf("%s dump returned a bad exit status (%d)", e.Args[0], ee.ExitCode())
	}
	return fmt.Sprintf("%v while running %s dump", e.Err, e.Args[0])
}

// Unwrap returns Err.
func (e *DumpError) Unwrap() error { return e.Err }

// Dump runs kdb5_util dump into file and waits for it; ctx kills it.
// A nil error means kdb5_util exited 0, having written file and
// file.dump_ok. Open the result with OpenDump.
func (k *KDB5Util) Dump(ctx context.Context, file string) error {
	args := k.Args(file)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = k.Env
	if k.Output != nil {
		cmd.Stdout, cmd.Stderr = k.Output, k.Output
	}
	if err := cmd.Run(); err != nil {
		return &DumpError{Args: args, Err: err}
	}
	return nil
}

// ValidateDump checks, before it is sent, that d is a dump a replica can
// load: the whole of it, with dumpfmt.Validate (every record parsed, no
// duplicates, K/M and krbtgt present). It reads d from offset 0 without
// moving d's offset, so d can then be passed to Propagate or a Fanout
// (Fanout reads from offset 0; for Propagate, which reads d from its
// current offset, nothing moved). An invalid dump is a *dumpfmt.ParseError
// naming d.Name(), the line and the field.
func ValidateDump(d *Dump) (dumpfmt.Summary, error) {
	return dumpfmt.Validate(io.NewSectionReader(d.File, 0, d.Size), dumpfmt.ValidateOptions{FileName: d.Name()})
}
