package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// TestBrokenReceiverFails is the negative control of the harness: a
// receiver built from Go source that takes kpropd's arguments and prints
// "ready" but hangs up after the version strings must make MIT kprop fail,
// and the replica must stay without a database.
func TestBrokenReceiverFails(t *testing.T) {
	s := mitSender(t)
	r := receiver{name: "fake", path: goProgram(t, "github.com/gokprop/gokprop/interop/testdata/fakekpropd")}
	primary := mitrealm.NewPrimary(t, mitrealm.Options{})
	primary.AddKpropPrincipals(t, mitrealm.AES256SHA1)
	replica := primary.NewReplica(t)
	primary.SetupKprop(t, replica)
	primary.StartKDC(t)
	kpropd := replica.StartKpropdBinary(t, r.path, "-d")
	dump := filepath.Join(primary.Dir, "dump")
	primary.Dump(t, dump)

	stdout, stderr, err := mitrealm.Exec(primary.Command(s.path, primary.KpropArgs(dump, kpropd.Port)...), "")
	if err == nil || strings.Contains(stdout, "SUCCEEDED") {
		t.Fatalf("kprop to a broken receiver succeeded: %v\n%s", err, stdout)
	}
	t.Logf("kprop failed as it should: %s", strings.TrimSpace(stderr))
	kpropd.WaitFor(t, "Connection from", 5*time.Second)
	if _, err := os.Stat(replica.DatabaseName); !os.IsNotExist(err) {
		t.Errorf("replica database exists: %v", err)
	}
}
