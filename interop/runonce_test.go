package interop

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// TestKpropdRunOnce: "kpropd -t" (serve one propagation, then exit, as
// MIT's test scripts run it) serves the connection it accepts and exits 0
// once done, run after run, with MIT kprop and with ours as the sender.
func TestKpropdRunOnce(t *testing.T) {
	w := newParityWorld(t)
	kpropd := goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd")
	for _, sender := range []struct{ name, path string }{{"MIT", w.mitKprop}, {"Go", w.goKprop}} {
		t.Run(sender.name, func(t *testing.T) {
			for i := range 30 {
				port := freePort(t)
				cmd := w.replica.Command(kpropd, append(w.replica.KpropdArgs(t, port), "-d", "-t")...)
				d := mitrealm.StartDaemon(t, cmd, "ready")
				o := w.kprop(t, sender.path, nil, w.args(port, mitrealm.ReplicaHost)...)
				if o.status != 0 || !strings.Contains(o.stdout, mitrealm.KpropSucceeded) {
					t.Fatalf("run %d: %s kprop to kpropd -t: %+v\nkpropd:\n%s", i+1, sender.name, o, d.Output())
				}
				deadline := time.Now().Add(20 * time.Second)
				for !d.Exited() {
					if time.Now().After(deadline) {
						t.Fatalf("run %d: kpropd -t still running after its propagation", i+1)
					}
					time.Sleep(10 * time.Millisecond)
				}
				if err := d.Stop(); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) || ee.ExitCode() != 0 {
						t.Fatalf("run %d: kpropd -t exit: %v\n%s", i+1, err, d.Output())
					}
				}
			}
		})
	}
}
