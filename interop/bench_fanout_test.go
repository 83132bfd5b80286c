package interop

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// BenchmarkFanout compares one run of our kprop to three replicas with
// three runs of MIT's kprop, one per replica, in sequence, as a cron line
// does today. The replicas are three of our kpropd on their own ports,
// each with a "kdb5_util" that sleeps 2 s instead of loading, standing in
// for the load on a separate machine (three real loads at once would
// compete for this machine's cores). The primary is the populated
// snapshot realm (10,000 principals). It reports the wall time of each
// (fanout-s, mit-seq-s) and their ratio (mit/fanout); scripts/bench-fanout.sh
// checks that ratio against the target of 2.5.
func BenchmarkFanout(b *testing.B) {
	mitrealm.Require(b, "kdb5_util", "kadmin.local", "krb5kdc", "kprop")
	goKprop := goProgram(b, "github.com/gokprop/gokprop/cmd/kprop")
	goKpropd := goProgram(b, "github.com/gokprop/gokprop/cmd/kpropd")
	mitKprop, err := mitrealm.LookPath("kprop")
	if err != nil {
		b.Fatal(err)
	}
	sleeper := filepath.Join(b.TempDir(), "sleeping-kdb5_util")
	if err := os.WriteFile(sleeper, []byte("#!/bin/sh\nsleep 2\n"), 0o755); err != nil {
		b.Fatal(err)
	}
	primary := snap.NewPrimary(b)
	var ports []int
	for range 3 {
		r := primary.NewReplica(b)
		primary.SetupKprop(b, r)
		ports = append(ports, r.StartKpropdBinary(b, goKpropd, "-p", sleeper).Port)
	}
	primary.StartKDC(b)
	dump := filepath.Join(primary.Dir, "replica_datatrans")
	primary.Dump(b, dump)
	st, err := os.Stat(dump)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("dump: %d bytes", st.Size())
	common := []string{"-r", primary.Realm, "-f", dump, "-s", primary.Keytab}

	run := func(path string, args ...string) {
		out, stderr, err := mitrealm.Exec(primary.Command(path, args...), "")
		if err != nil || !strings.Contains(out, "SUCCEEDED") {
			b.Fatalf("%s %v: %v\n%s%s", path, args, err, out, stderr)
		}
	}
	var fan, seq time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		args := append([]string(nil), common...)
		for _, p := range ports {
			args = append(args, mitrealm.ReplicaHost+":"+strconv.Itoa(p))
		}
		run(goKprop, args...)
		fan += time.Since(start)

		start = time.Now()
		for _, p := range ports {
			run(mitKprop, append(append([]string(nil), common...), "-P", strconv.Itoa(p), mitrealm.ReplicaHost)...)
		}
		seq += time.Since(start)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(fan.Seconds()/n, "fanout-s")
	b.ReportMetric(seq.Seconds()/n, "mit-seq-s")
	b.ReportMetric(seq.Seconds()/fan.Seconds(), "mit/fanout")
}
