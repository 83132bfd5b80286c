package iproptest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// A Scenario is a primary with incremental propagation and a replica that
// MIT kpropd brought up to date with one -t cycle, with what the tests
// compare captured before and after the cycle.
type Scenario struct {
	Primary, Replica           *mitrealm.Host
	PrimaryIprop, ReplicaIprop *mitrealm.Iprop

	// ReplicaULogBefore and ReplicaDumpBefore are the replica's update
	// log and "kdb5_util dump" after "load -i" of the primary's iprop
	// dump and Options.Prepare, before kpropd ran.
	ReplicaULogBefore []byte
	ReplicaDumpBefore string
	// ReplicaULogAfter and ReplicaDumpAfter are the same after kpropd -t
	// applied the primary's later updates.
	ReplicaULogAfter []byte
	ReplicaDumpAfter string
	// KpropdOutput is what kpropd -t -d printed.
	KpropdOutput string
}

// Options configure a Scenario.
type Options struct {
	// Before are kadmin.local requests made on the primary before the
	// replica is created from its iprop dump; After are made afterwards
	// and reach the replica through kpropd.
	Before, After []string
	// PrimaryULogSize and ReplicaULogSize are the update logs' slot
	// counts; zero means MIT's default.
	PrimaryULogSize, ReplicaULogSize int
	// Prepare, if set, runs on the replica after its load and before the
	// "before" snapshot, for example to give it lockout state of its own.
	Prepare func(t testing.TB, replica *mitrealm.Host)
}

// Run builds the scenario: a primary realm with iprop, Before, an iprop
// dump loaded into a new replica with "kdb5_util load -i", Prepare, After,
// then MIT kadmind on the primary and one MIT kpropd -t cycle on the
// replica.
func Run(t testing.TB, opts Options) *Scenario {
	t.Helper()
	mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kadmind", "kpropd", "kproplog")
	s := &Scenario{}
	p := mitrealm.NewPrimary(t, mitrealm.Options{})
	s.Primary = p
	p.StartKDC(t)
	s.PrimaryIprop = p.EnableIprop(t, mitrealm.IpropConfig{ULogSize: opts.PrimaryULogSize})
	if len(opts.Before) > 0 {
		p.Kadmin(t, opts.Before...)
	}

	r := p.NewReplica(t)
	s.Replica = r
	s.ReplicaIprop = r.EnableIprop(t, mitrealm.IpropConfig{Port: s.PrimaryIprop.Port, ULogSize: opts.ReplicaULogSize})
	p.SetupIprop(t, r)
	dump := filepath.Join(p.Dir, "iprop.dump")
	p.DumpIprop(t, dump)
	r.Load(t, dump, "-i")
	if opts.Prepare != nil {
		opts.Prepare(t, r)
	}
	s.ReplicaULogBefore = readFile(t, s.ReplicaIprop.LogFile)
	s.ReplicaDumpBefore = DumpNoIprop(t, r)

	if len(opts.After) > 0 {
		p.Kadmin(t, opts.After...)
	}
	p.StartKadmind(t, s.PrimaryIprop)
	s.KpropdOutput = r.RunKpropdOnce(t, p)
	s.ReplicaULogAfter = readFile(t, s.ReplicaIprop.LogFile)
	s.ReplicaDumpAfter = DumpNoIprop(t, r)
	return s
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// DumpNoIprop dumps h's database without touching its update log.
func DumpNoIprop(t testing.TB, h *mitrealm.Host) string {
	t.Helper()
	path := filepath.Join(h.Dir, "dump-"+strings.ReplaceAll(t.Name(), "/", "_"))
	os.Remove(path)
	cmd := h.Command("kdb5_util", "-r", h.Realm, "dump", path)
	cmd.Env = h.NoIpropEnv(t)
	if _, _, err := mitrealm.Exec(cmd, ""); err != nil {
		t.Fatal(err)
	}
	return string(readFile(t, path))
}
