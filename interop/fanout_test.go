package interop

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// A fanWorld is a primary and several replicas, each with a kpropd (MIT's
// or ours) on its own loopback port, for our kprop to propagate to at once.
type fanWorld struct {
	primary  *mitrealm.Host
	replicas []*mitrealm.Host
	kpropds  []*mitrealm.Kpropd
	dump     string
	goKprop  string
	goKpropd string
	mitKprop string
}

// kpropdKind says which kpropd a replica of a fanWorld runs.
type kpropdKind string

const (
	mitKpropd kpropdKind = "MIT"
	goKpropd  kpropdKind = "Go"
)

// newFanWorld makes a primary with a user and a replica per kind, each
// running its kpropd with extra arguments, and dumps the primary.
func newFanWorld(t *testing.T, kinds []kpropdKind, extra ...string) *fanWorld {
	t.Helper()
	bins := mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kprop", "kpropd")
	w := &fanWorld{
		goKprop:  goProgram(t, "github.com/gokprop/gokprop/cmd/kprop"),
		goKpropd: goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"),
		mitKprop: bins["kprop"],
	}
	w.primary = mitrealm.NewPrimary(t, mitrealm.Options{})
	w.primary.AddKpropPrincipals(t)
	w.primary.AddPrincipal(t, "alice", "alice password")
	for _, k := range kinds {
		r := w.primary.NewReplica(t)
		w.primary.SetupKprop(t, r)
		var d *mitrealm.Kpropd
		if k == mitKpropd {
			d = r.StartKpropd(t)
		} else {
			d = r.StartKpropdBinary(t, w.goKpropd, extra...)
		}
		w.replicas = append(w.replicas, r)
		w.kpropds = append(w.kpropds, d)
	}
	w.primary.StartKDC(t)
	w.dump = filepath.Join(w.primary.Dir, "replica_datatrans")
	w.primary.Dump(t, w.dump)
	return w
}

// operand names replica i for kprop: localhost:PORT.
func (w *fanWorld) operand(i int) string {
	return mitrealm.ReplicaHost + ":" + strconv.Itoa(w.kpropds[i].Port)
}

// run runs the program at path on the primary with args and returns what
// it printed (the program's path replaced by "kprop") and its exit status.
func (w *fanWorld) run(t *testing.T, path string, args ...string) outcome {
	t.Helper()
	cmd := w.primary.Command(path, args...)
	stdout, stderr, err := mitrealm.Exec(cmd, "")
	o := outcome{stdout: strings.ReplaceAll(stdout, path, "kprop"), stderr: strings.ReplaceAll(stderr, path, "kprop")}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		o.status = ee.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", path, err)
	}
	return o
}

// kpropArgs is a kprop command line for w.dump and the operands.
func (w *fanWorld) kpropArgs(extra []string, operands ...string) []string {
	a := append([]string{"-r", w.primary.Realm, "-f", w.dump, "-s", w.primary.Keytab}, extra...)
	return append(a, operands...)
}

// requireLoaded fails unless replica i's database dumps as the primary's.
func (w *fanWorld) requireLoaded(t *testing.T, i int, primaryDump string) {
	t.Helper()
	if got := w.replicas[i].DumpString(t); got != primaryDump {
		t.Errorf("replica %d (%s): its database differs from the primary's", i, w.operand(i))
	}
}

// Our kprop sends one dump to MIT's kpropd and two of ours at once: each
// loads it, each gets MIT's line and its .last_prop file, and a summary
// follows.
func TestFanoutMixedReplicas(t *testing.T) {
	w := newFanWorld(t, []kpropdKind{mitKpropd, goKpropd, goKpropd})
	ops := []string{w.operand(0), w.operand(1), w.operand(2)}
	o := w.run(t, w.goKprop, w.kpropArgs(nil, ops...)...)
	if o.status != 0 || o.stderr != "" {
		t.Fatalf("exit %d, stderr %q, stdout %q", o.status, o.stderr, o.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n")
	var want []string
	for _, op := range ops {
		want = append(want, "Database propagation to "+op+": SUCCEEDED")
	}
	if len(lines) != 4 || lines[3] != "Database propagation to 3 replicas: 3 SUCCEEDED" {
		t.Fatalf("stdout %q", o.stdout)
	}
	got := slices.Clone(lines[:3])
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("replica lines %q, want %q in any order", got, want)
	}
	primaryDump := w.primary.DumpString(t)
	for i, op := range ops {
		w.requireLoaded(t, i, primaryDump)
		if _, err := os.Stat(w.dump + "." + op + ".last_prop"); err != nil {
			t.Errorf("no .last_prop for %s: %v", op, err)
		}
	}
}

// One replica down and one refusing us: the others still succeed, the
// exit status is 1, and each failed replica's lines are exactly what MIT
// kprop prints for that replica alone, prefixed with its name.
func TestFanoutFailingReplicas(t *testing.T) {
	w := newFanWorld(t, []kpropdKind{mitKpropd, goKpropd, goKpropd})
	w.replicas[2].WriteKpropdACL(t, "host/someone.else@"+w.primary.Realm)
	down := mitrealm.ReservePort(t)
	downOp := mitrealm.ReplicaHost + ":" + strconv.Itoa(down)
	ops := []string{w.operand(0), downOp, w.operand(1), w.operand(2)}

	alone := func(port int) outcome {
		return w.run(t, w.mitKprop, w.kpropArgs([]string{"-P", strconv.Itoa(port)}, mitrealm.ReplicaHost)...)
	}
	mitDown, mitRefused := alone(down), alone(w.kpropds[2].Port)
	if mitDown.status != 1 || mitRefused.status != 1 || mitDown.stderr == "" || mitRefused.stderr == "" {
		t.Fatalf("MIT kprop alone: %+v, %+v", mitDown, mitRefused)
	}

	for _, format := range []string{"", "json"} {
		t.Run("log format "+orDefault(format, "MIT"), func(t *testing.T) {
			var extra []string
			if format != "" {
				extra = []string{"--log-format", format}
			}
			o := w.run(t, w.goKprop, w.kpropArgs(extra, ops...)...)
			if o.status != 1 {
				t.Errorf("exit status %d, want 1", o.status)
			}
			out := strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n")
			slices.Sort(out[:len(out)-1])
			wantOut := []string{
				"Database propagation to " + w.operand(0) + ": SUCCEEDED",
				"Database propagation to " + w.operand(1) + ": SUCCEEDED",
				fmt.Sprintf("Database propagation to 4 replicas: 2 SUCCEEDED, 2 FAILED (%s, %s)", downOp, w.operand(2)),
			}
			slices.Sort(wantOut[:2])
			if !slices.Equal(out, wantOut) {
				t.Errorf("stdout %q, want %q", out, wantOut)
			}
			if format == "" {
				// The lines of different replicas may come in either
				// order, each replica's together.
				a := prefixLines(downOp+": ", mitDown.stderr) + prefixLines(w.operand(2)+": ", mitRefused.stderr)
				b := prefixLines(w.operand(2)+": ", mitRefused.stderr) + prefixLines(downOp+": ", mitDown.stderr)
				if o.stderr != a && o.stderr != b {
					t.Errorf("stderr %q, want MIT's lines for each failed replica alone, prefixed:\n%q", o.stderr, a)
				}
				return
			}
			recs := parseJSONLines(t, o.stderr)
			failed := map[string]string{}
			succeeded := 0
			for _, r := range recs {
				switch r["msg"] {
				case "propagation failed":
					failed[fmt.Sprint(r["replica"])] = fmt.Sprint(r["err"])
				case "propagation succeeded":
					succeeded++
					if r["bytes"] == nil || r["enctype"] == nil {
						t.Errorf("success record without bytes or enctype: %v", r)
					}
				}
			}
			wantFailed := map[string]string{
				downOp:       strings.TrimSpace(mitDown.stderr),
				w.operand(2): strings.TrimSpace(mitRefused.stderr),
			}
			if succeeded != 2 || len(failed) != 2 || failed[downOp] != wantFailed[downOp] || failed[w.operand(2)] != wantFailed[w.operand(2)] {
				t.Errorf("records: %d succeeded, failed %q; want 2 and %q\n%s", succeeded, failed, wantFailed, o.stderr)
			}
		})
	}
	primaryDump := w.primary.DumpString(t)
	w.requireLoaded(t, 0, primaryDump)
	w.requireLoaded(t, 1, primaryDump)
}

func orDefault(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// prefixLines puts prefix before every non-empty line of s.
func prefixLines(prefix, s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" && line != "\n" {
			b.WriteString(prefix)
		}
		b.WriteString(line)
	}
	return b.String()
}

// parseJSONLines parses each line of s as a JSON object, failing the test
// for one that is not.
func parseJSONLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not a JSON record: %q: %v", line, err)
		}
		if r["time"] == nil || r["level"] == nil || r["msg"] == nil {
			t.Errorf("record without time, level or msg: %q", line)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		t.Fatal("no records")
	}
	return out
}

// kprop --dump makes a new dump with MIT's kdb5_util (a principal added
// after the last dump arrives), checks it and sends it to MIT's kpropd and
// ours; when kdb5_util fails, its message and ours are printed and
// nothing is sent.
func TestKpropDump(t *testing.T) {
	w := newFanWorld(t, []kpropdKind{mitKpropd, goKpropd})
	w.primary.AddPrincipal(t, "bob", "bob password")
	file := filepath.Join(w.primary.Dir, "fresh_dump")
	args := []string{"--dump", "-r", w.primary.Realm, "-f", file, "-s", w.primary.Keytab, w.operand(0), w.operand(1)}
	o := w.run(t, w.goKprop, args...)
	if o.status != 0 || o.stderr != "" || !strings.HasSuffix(o.stdout, "Database propagation to 2 replicas: 2 SUCCEEDED\n") {
		t.Fatalf("kprop --dump: %+v", o)
	}
	for _, f := range []string{file, file + ".dump_ok"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("kdb5_util did not write %s: %v", f, err)
		}
	}
	primaryDump := w.primary.DumpString(t)
	if !strings.Contains(primaryDump, "bob@"+w.primary.Realm) {
		t.Fatal("the primary's dump lacks bob")
	}
	w.requireLoaded(t, 0, primaryDump)
	w.requireLoaded(t, 1, primaryDump)

	// kdb5_util cannot write the dump: its words, then ours, the summary,
	// exit 1, and the replicas are not sent anything.
	var before []os.FileInfo
	for _, d := range w.kpropds {
		st, err := os.Stat(d.File)
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, st)
	}
	args[4] = filepath.Join(w.primary.Dir, "no", "such", "dir", "dump")
	o = w.run(t, w.goKprop, args...)
	wantTail := "kprop: /usr/sbin/kdb5_util dump returned a bad exit status (1)\n"
	wantOut := fmt.Sprintf("Database propagation to 2 replicas: 0 SUCCEEDED, 2 FAILED (%s, %s)\n", w.operand(0), w.operand(1))
	if o.status != 1 || o.stdout != wantOut || !strings.HasSuffix(o.stderr, wantTail) || !strings.HasPrefix(o.stderr, "kdb5_util: ") {
		t.Errorf("kprop --dump with kdb5_util failing: %+v", o)
	}
	for i, d := range w.kpropds {
		if st, err := os.Stat(d.File); err != nil || !st.ModTime().Equal(before[i].ModTime()) {
			t.Errorf("replica %d received something: %v", i, err)
		}
	}
}
