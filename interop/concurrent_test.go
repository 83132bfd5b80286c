package interop

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// slowLoader writes a kdb5_util wrapper into h.Dir that sleeps before it
// loads, so that a transfer holds the replica for a while, and returns its
// path (for kpropd's -p).
func slowLoader(t *testing.T, h *mitrealm.Host, delay string) string {
	t.Helper()
	kdb5util := mitrealm.Require(t, "kdb5_util")["kdb5_util"]
	p := filepath.Join(h.Dir, "slow_kdb5_util")
	script := "#!/bin/sh\nsleep " + delay + "\nexec " + kdb5util + " \"$@\"\n"
	if err := os.WriteFile(p, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// kpropRun is one finished kprop process.
type kpropRun struct {
	outcome
	dump string
	end  time.Time
}

// concurrentKprops starts one MIT kprop per dump at once against port and
// returns their runs, in the order they finished.
func concurrentKprops(t *testing.T, w *parityWorld, port int, dumps ...string) []kpropRun {
	t.Helper()
	var mu sync.Mutex
	var runs []kpropRun
	var wg sync.WaitGroup
	for _, d := range dumps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(w.mitKprop, "-r", w.primary.Realm, "-f", d, "-P", strconv.Itoa(port), "-s", w.primary.Keytab, mitrealm.ReplicaHost)
			cmd.Env = w.primary.Env()
			stdout, stderr, err := mitrealm.Exec(cmd, "")
			r := kpropRun{outcome: outcome{stdout: stdout, stderr: stderr}, dump: d, end: time.Now()}
			if err != nil {
				r.status = 1
			}
			mu.Lock()
			runs = append(runs, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return runs
}

// TestKpropdConcurrentSenders: two MIT kprops started at once both
// succeed, as they do against MIT kpropd, which serves one connection
// after the other; the replica holds the dump of the one that finished
// last. The replica's loader is slowed down so that the transfers overlap.
func TestKpropdConcurrentSenders(t *testing.T) {
	w := newParityWorld(t)
	first := filepath.Join(w.primary.Dir, "first.dump")
	w.primary.Dump(t, first)
	w.primary.AddPrincipal(t, "second", "second password")
	second := filepath.Join(w.primary.Dir, "second.dump")
	w.primary.Dump(t, second)
	d := w.replica.StartKpropdBinary(t, goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), "-d", "-p", slowLoader(t, w.replica, "3"))
	runs := concurrentKprops(t, w, d.Port, first, second)
	for _, r := range runs {
		if r.status != 0 || !strings.Contains(r.stdout, mitrealm.KpropSucceeded) {
			t.Fatalf("kprop of %s: %+v\nkpropd:\n%s", filepath.Base(r.dump), r.outcome, d.Output())
		}
	}
	// The replica's log shows that they overlapped.
	d.WaitFor(t, "waiting for the propagation in progress to finish", time.Second)
	last := runs[len(runs)-1].dump
	if got := w.replica.DumpString(t); !bytes.Equal([]byte(got), readFile(t, last)) {
		t.Errorf("the replica does not hold %s, the dump of the kprop that finished last", filepath.Base(last))
	}
}
