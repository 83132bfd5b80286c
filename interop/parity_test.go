package interop

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/filelock"
	"github.com/gokprop/gokprop/internal/mitrealm"
)

// A parity world is a small primary and a replica with MIT kpropd and our
// kpropd both listening, where MIT kprop and our kprop can be run with the
// same command line and their outputs compared.
type parityWorld struct {
	primary, replica  *mitrealm.Host
	mitd, god         *mitrealm.Kpropd
	dump              string
	mitKprop, goKprop string
}

func newParityWorld(t *testing.T) *parityWorld {
	t.Helper()
	mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kprop", "kpropd")
	w := &parityWorld{
		mitKprop: mitrealm.Require(t, "kprop")["kprop"],
		goKprop:  goProgram(t, "github.com/gokprop/gokprop/cmd/kprop"),
	}
	w.primary = mitrealm.NewPrimary(t, mitrealm.Options{})
	w.primary.AddKpropPrincipals(t)
	w.primary.AddPrincipal(t, "alice", "alice password")
	w.replica = w.primary.NewReplica(t)
	w.primary.SetupKprop(t, w.replica)
	w.primary.StartKDC(t)
	w.mitd = w.replica.StartKpropd(t, "-d")
	w.god = w.replica.StartKpropdBinary(t, goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), "-d")
	w.dump = filepath.Join(w.primary.Dir, "replica_datatrans")
	w.primary.Dump(t, w.dump)
	return w
}

// outcome is what a kprop run shows an administrator.
type outcome struct {
	stdout, stderr string
	status         int
}

// kprop runs the program at path with args (the program name replaced in
// the output by "kprop") and returns its outcome.
func (w *parityWorld) kprop(t *testing.T, path string, env []string, args ...string) outcome {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = env
	if cmd.Env == nil {
		cmd.Env = w.primary.Env()
	}
	stdout, stderr, err := mitrealm.Exec(cmd, "")
	o := outcome{stdout: stdout, stderr: stderr}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		o.status = ee.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", path, err)
	}
	// MIT programs name themselves by argv[0], as ours do.
	o.stdout = strings.ReplaceAll(o.stdout, path, "kprop")
	o.stderr = strings.ReplaceAll(o.stderr, path, "kprop")
	return o
}

// args is MIT's command line for a propagation of w.dump to port.
func (w *parityWorld) args(port int, host string, extra ...string) []string {
	a := append([]string{"-r", w.primary.Realm, "-f", w.dump, "-P", strconv.Itoa(port), "-s", w.primary.Keytab}, extra...)
	return append(a, host)
}

func sameOutcome(t *testing.T, what string, mit, ours outcome) {
	t.Helper()
	if mit != ours {
		t.Errorf("%s: outputs differ\nMIT  (exit %d) stdout %q\n                stderr %q\nours (exit %d) stdout %q\n                stderr %q",
			what, mit.status, mit.stdout, mit.stderr, ours.status, ours.stdout, ours.stderr)
	}
}

// TestKpropParity runs MIT kprop and ours with MIT's command line against
// MIT kpropd in the situations an administrator meets, and requires the
// same standard output, standard error and exit status.
func TestKpropParity(t *testing.T) {
	w := newParityWorld(t)
	port := w.mitd.Port
	cases := []struct {
		name  string
		setup func(t *testing.T) (args []string, undo func())
	}{
		{"success", func(t *testing.T) ([]string, func()) {
			return w.args(port, mitrealm.ReplicaHost), nil
		}},
		{"unknown host", func(t *testing.T) ([]string, func()) {
			return w.args(port, "nosuchhost.invalid"), nil
		}},
		{"unresolvable host with a principal", func(t *testing.T) ([]string, func()) {
			w.primary.AddHostPrincipal(t, "unresolvable.invalid")
			return w.args(port, "unresolvable.invalid"), nil
		}},
		{"wrong realm", func(t *testing.T) ([]string, func()) {
			a := w.args(port, mitrealm.ReplicaHost)
			a[1] = "WRONG.REALM"
			return a, nil
		}},
		{"missing keytab", func(t *testing.T) ([]string, func()) {
			a := w.args(port, mitrealm.ReplicaHost)
			a[7] = filepath.Join(w.primary.Dir, "no.keytab")
			return a, nil
		}},
		{"missing dump", func(t *testing.T) ([]string, func()) {
			a := w.args(port, mitrealm.ReplicaHost)
			a[3] = filepath.Join(w.primary.Dir, "no.dump")
			return a, nil
		}},
		{"stale dump_ok", func(t *testing.T) ([]string, func()) {
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(w.dump+".dump_ok", old, old); err != nil {
				t.Fatal(err)
			}
			return w.args(port, mitrealm.ReplicaHost), func() {
				now := time.Now()
				os.Chtimes(w.dump+".dump_ok", now, now)
			}
		}},
		{"locked dump", func(t *testing.T) ([]string, func()) {
			f, err := os.OpenFile(w.dump, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := filelock.Lock(f, filelock.Exclusive, false); err != nil {
				t.Fatal(err)
			}
			return w.args(port, mitrealm.ReplicaHost), func() { f.Close() }
		}},
		{"connection refused", func(t *testing.T) ([]string, func()) {
			return w.args(1, mitrealm.ReplicaHost), nil
		}},
		{"remote error", func(t *testing.T) ([]string, func()) {
			// The replica's key is changed on the KDC but not in the
			// replica's keytab: kpropd cannot decrypt the ticket and
			// says so with a KRB-ERROR.
			w.primary.Kadmin(t, "cpw -randkey "+w.primary.ReplicaPrincipal())
			return w.args(port, mitrealm.ReplicaHost), func() {
				w.primary.Kadmin(t, "ktadd -k "+mitrealm.Quote("FILE:"+w.replica.Keytab)+" -norandkey "+w.primary.ReplicaPrincipal())
			}
		}},
		{"usage", func(t *testing.T) ([]string, func()) {
			return []string{"-z", "-r"}, nil
		}},
		{"no KDC answers", func(t *testing.T) ([]string, func()) {
			// Last: the primary's KDC stays down.
			w.primary.KDC().Stop()
			return w.args(port, mitrealm.ReplicaHost), nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args, undo := c.setup(t)
			mit := w.kprop(t, w.mitKprop, nil, args...)
			ours := w.kprop(t, w.goKprop, nil, args...)
			if undo != nil {
				undo()
			}
			t.Logf("MIT: exit %d, stdout %q, stderr %q", mit.status, mit.stdout, mit.stderr)
			sameOutcome(t, c.name, mit, ours)
		})
	}
}

// TestKpropdParity runs MIT kprop against MIT kpropd and against ours, in
// the same situations, and requires the same outcome, except where our
// kpropd deliberately tells the client more (a refused or failed transfer
// gets a KRB-ERROR naming the step and a short reason, never a replica
// path or a loader's output, where MIT's just closes the connection and
// the client reports a broken pipe or an aborted read).
func TestKpropdParity(t *testing.T) {
	w := newParityWorld(t)
	run := func(t *testing.T, d *mitrealm.Kpropd) outcome {
		return w.kprop(t, w.mitKprop, nil, w.args(d.Port, mitrealm.ReplicaHost)...)
	}
	t.Run("success", func(t *testing.T) {
		sameOutcome(t, "success", run(t, w.mitd), run(t, w.god))
	})
	t.Run("remote error", func(t *testing.T) {
		w.primary.Kadmin(t, "cpw -randkey "+w.primary.ReplicaPrincipal())
		defer w.primary.Kadmin(t, "ktadd -k "+mitrealm.Quote("FILE:"+w.replica.Keytab)+" -norandkey "+w.primary.ReplicaPrincipal())
		mit, ours := run(t, w.mitd), run(t, w.god)
		t.Logf("MIT: %+v", mit)
		sameOutcome(t, "remote error", mit, ours)
	})
	t.Run("ACL rejection", func(t *testing.T) {
		w.replica.WriteKpropdACL(t, "host/someone.else@"+w.primary.Realm)
		defer w.replica.WriteKpropdACL(t, w.primary.KpropPrincipal())
		mit, ours := run(t, w.mitd), run(t, w.god)
		t.Logf("MIT: %+v", mit)
		if mit.status != 1 || ours.status != 1 || ours.stdout != "" {
			t.Fatalf("exit status MIT %d, ours %d; our stdout %q", mit.status, ours.status, ours.stdout)
		}
		want := "Generic remote error: Rejected connection from unauthorized principal " + w.primary.KpropPrincipal() + "\n"
		if ours.stderr != want {
			t.Errorf("MIT kprop against our kpropd printed %q, want %q", ours.stderr, want)
		}
	})
	t.Run("load failure", func(t *testing.T) {
		// A dump kdb5_util load rejects.
		bad := filepath.Join(w.primary.Dir, "bad.dump")
		if err := os.WriteFile(bad, []byte("kdb5_util load_dump version 7\nprinc\tgarbage\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bad+".dump_ok", nil, 0o600); err != nil {
			t.Fatal(err)
		}
		args := func(port int) []string {
			a := w.args(port, mitrealm.ReplicaHost)
			a[3] = bad
			return a
		}
		// Our kpropd refuses the dump before loading it unless told not
		// to verify; then it is kdb5_util that fails.
		noVerify := w.replica.StartKpropdBinary(t, goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), "-d", "--no-verify")
		mit := w.kprop(t, w.mitKprop, nil, args(w.mitd.Port)...)
		ours := w.kprop(t, w.mitKprop, nil, args(noVerify.Port)...)
		t.Logf("MIT: %+v", mit)
		if mit.status != 1 || ours.status != 1 {
			t.Fatalf("exit status MIT %d, ours %d", mit.status, ours.status)
		}
		// The loader's message names replica files: it is logged, and
		// the client only learns that the load failed.
		if want := "Generic remote error: Load failed while loading the database\n"; ours.stderr != want {
			t.Errorf("MIT kprop against our kpropd --no-verify printed %q, want %q", ours.stderr, want)
		}
		verified := w.kprop(t, w.mitKprop, nil, args(w.god.Port)...)
		if want := "Generic remote error: " + filepath.Base(w.god.File) + ":2: field len: "; verified.status != 1 || !strings.HasPrefix(verified.stderr, want) {
			t.Errorf("MIT kprop against our kpropd printed %q, want a refusal starting %q", verified.stderr, want)
		}
		noVerify.WaitFor(t, "returned a bad exit status", 10*time.Second)
	})
}
