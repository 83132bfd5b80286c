package interop

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gokprop/gokprop/dumpfmt/dumptest"
	"github.com/gokprop/gokprop/internal/mitrealm"
)

// The propagation benchmarks are what "make bench" and "make bench-large"
// run (scripts/bench.sh). They are benchmarks, not tests: "go test" never
// runs them, and "go test -bench" runs them only when named.
//
// Each generates a dump the way MIT's kdb5_util would write it (principal
// names in btree order, so our kpropd's default verification runs in flat
// memory), then propagates it in one run, alternating MIT kprop → MIT kpropd,
// our kprop → our kpropd, our kprop → MIT kpropd and MIT kprop → our kpropd
// three times. Both kpropds run with their defaults (ours
// verifies the dump as it arrives) and /bin/true as the loader, so nothing
// loads the dump. Every program runs under /usr/bin/time -v, which gives
// CPU seconds and peak RSS. The throughput of a run is the dump size over
// kprop's wall time, from its start (tickets included) to its exit after
// the replica's acknowledgement.

// BenchmarkPropagation propagates a dump of GOKPROP_BENCH_PRINCIPALS
// principals (default 1,000,000, about 450 MB). Run it with -benchtime 1x.
func BenchmarkPropagation(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("GOKPROP_BENCH_PRINCIPALS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("GOKPROP_BENCH_PRINCIPALS: %v", err)
		}
	}
	benchPropagation(b, n, 0)
}

// BenchmarkPropagationLarge propagates a dump over 4 GiB (MIT's 12-byte
// size encoding) of 10,000,000 principals. It needs about 14 GB of free
// disk and runs only when GOKPROP_BENCH_LARGE is set (scripts/bench.sh
// checks the space first).
func BenchmarkPropagationLarge(b *testing.B) {
	if os.Getenv("GOKPROP_BENCH_LARGE") == "" {
		b.Skip("set GOKPROP_BENCH_LARGE=1 (make bench-large) to run: it writes about 14 GB")
	}
	benchPropagation(b, 10_000_000, 4<<30)
}

// benchProgram is one end of a benchmarked propagation.
type benchProgram struct {
	name string // "MIT" or "ours"
	path string
}

// benchRun is the outcome of one propagation.
type benchRun struct {
	from, to       string
	wall           time.Duration
	sender, recver rusage
}

// rusage is what /usr/bin/time -v reports.
type rusage struct {
	user, sys float64 // seconds
	maxRSS    int64   // KiB
}

func (r rusage) cpu() float64 { return r.user + r.sys }

// benchAlternations is how many times each pair of programs runs: every
// ratio is a median of as many, each between two runs of one alternation.
const benchAlternations = 3

func benchPropagation(b *testing.B, principals int, minSize int64) {
	if b.N > 1 {
		b.Skip("run with -benchtime 1x: one run alternates all pairs")
	}
	bins := mitrealm.Require(b, "kprop", "kpropd", "krb5kdc", "kdb5_util", "kadmin.local")
	const timeBin = "/usr/bin/time"
	if _, err := os.Stat(timeBin); err != nil {
		b.Fatalf("%s is needed (Debian package time): %v", timeBin, err)
	}
	mit := [2]benchProgram{{"MIT", bins["kprop"]}, {"MIT", bins["kpropd"]}}
	ours := [2]benchProgram{
		{"ours", goProgram(b, "github.com/gokprop/gokprop/cmd/kprop")},
		{"ours", goProgram(b, "github.com/gokprop/gokprop/cmd/kpropd")},
	}

	primary := mitrealm.NewPrimary(b, mitrealm.Options{})
	primary.AddKpropPrincipals(b, mitrealm.AES256SHA1)
	replica := primary.NewReplica(b)
	primary.SetupKprop(b, replica)
	primary.StartKDC(b)

	dump := filepath.Join(primary.Dir, "bench.dump")
	start := time.Now()
	size := writeBenchDump(b, dump, primary.Realm, principals)
	fmt.Printf("dump: %d principals, %d bytes (%.1f MB), generated in %.1fs\n",
		principals, size, float64(size)/1e6, time.Since(start).Seconds())
	if size <= minSize {
		b.Fatalf("dump of %d bytes is not over %d", size, minSize)
	}
	b.Cleanup(func() { os.Remove(dump) })

	pairs := [][2]benchProgram{}
	for range benchAlternations {
		pairs = append(pairs, [2]benchProgram{mit[0], mit[1]}, [2]benchProgram{ours[0], ours[1]},
			[2]benchProgram{ours[0], mit[1]}, [2]benchProgram{mit[0], ours[1]})
	}

	// Start from clean caches: the dump in the page cache, nothing dirty
	// waiting to be written back (MIT kpropd does not sync its file, which
	// would slow down whatever runs next), and one unmeasured run of each
	// pair of programs.
	syscall.Sync()
	benchOne(b, primary, replica, dump, size, mit[0], mit[1])
	syscall.Sync()
	benchOne(b, primary, replica, dump, size, ours[0], ours[1])
	syscall.Sync()

	fmt.Printf("%-12s %7s %8s %15s %9s %15s %10s %11s\n", "run", "wall s", "MB/s",
		"kprop usr+sys", "CPU s/GB", "kpropd usr+sys", "kprop RSS", "kpropd RSS")
	var runs []benchRun
	for _, p := range pairs {
		r := benchOne(b, primary, replica, dump, size, p[0], p[1])
		runs = append(runs, r)
		syscall.Sync()
		fmt.Printf("%-12s %7.2f %8.1f %6.2f+%-5.2fs %9.2f %6.2f+%-5.2fs %7.1f MiB %7.1f MiB\n",
			r.from+"→"+r.to, r.wall.Seconds(), float64(size)/1e6/r.wall.Seconds(),
			r.sender.user, r.sender.sys, r.sender.cpu()/(float64(size)/1e9),
			r.recver.user, r.recver.sys,
			float64(r.sender.maxRSS)/1024, float64(r.recver.maxRSS)/1024)
	}
	reportBench(b, runs, size)
}

// writeBenchDump generates the dump and its .dump_ok marker and returns
// the dump's size.
func writeBenchDump(b *testing.B, path, realm string, principals int) int64 {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	cfg := dumptest.Config{Realm: realm, Principals: principals, Policies: 20, KeyVersions: 1, Seed: 1}
	if err := dumptest.Generate(w, cfg); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path+".dump_ok", nil, 0o600); err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// benchOne propagates dump from primary to replica with sender and
// receiver, each under /usr/bin/time -v.
func benchOne(b *testing.B, primary, replica *mitrealm.Host, dump string, size int64, sender, receiver benchProgram) benchRun {
	b.Helper()
	dir := b.TempDir()
	recvTime := filepath.Join(dir, "kpropd.time")
	sendTime := filepath.Join(dir, "kprop.time")
	// A wrapper that StartKpropdBinary can run with kpropd's arguments,
	// and /bin/true as the loader (the last -p wins).
	wrapper := filepath.Join(dir, "kpropd")
	runs++
	recvPerf, sendPerf := perfPrefix(b, runs, receiver, "kpropd"), perfPrefix(b, runs, sender, "kprop")
	script := fmt.Sprintf("#!/bin/sh\nexec /usr/bin/time -v -o %s %s%s \"$@\" -p /bin/true\n", recvTime, recvPerf, receiver.path)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		b.Fatal(err)
	}
	os.Remove(replica.KpropdFile)
	kpropd := replica.StartKpropdBinary(b, wrapper)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	args := []string{"-v", "-o", sendTime}
	args = append(args, strings.Fields(sendPerf)...)
	args = append(append(args, sender.path), primary.KpropArgs(dump, kpropd.Port)...)
	cmd := exec.CommandContext(ctx, "/usr/bin/time", args...)
	cmd.Dir = primary.Dir
	cmd.Env = primary.Env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(t0)
	if err != nil || !strings.Contains(string(out), mitrealm.KpropSucceeded) {
		b.Fatalf("%s kprop → %s kpropd: %v\n%s\nkpropd:\n%s", sender.name, receiver.name, err, out, kpropd.Output())
	}
	// Stop kpropd itself (not time, which then writes its report).
	stopChild(b, kpropd.Pid())
	for deadline := time.Now().Add(time.Minute); !kpropd.Exited(); {
		if time.Now().After(deadline) {
			b.Fatalf("%s kpropd did not exit after SIGTERM:\n%s", receiver.name, kpropd.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, err := os.Stat(replica.KpropdFile)
	if err != nil || st.Size() != size {
		b.Fatalf("%s kpropd installed %v (%v), want %d bytes", receiver.name, st, err, size)
	}
	os.Remove(replica.KpropdFile)
	return benchRun{from: sender.name, to: receiver.name, wall: wall,
		sender: parseTimeV(b, sendTime), recver: parseTimeV(b, recvTime)}
}

// runs counts the propagations of the test binary, for profile names.
var runs int

// perfPrefix returns the command prefix that profiles a program with
// Linux perf when GOKPROP_BENCH_PERF names a directory: perf record into
// DIR/RUN-FROM-PROG.data. The CPU times and RSS of such a run include
// perf's own: profile and measure in separate runs.
func perfPrefix(b *testing.B, run int, p benchProgram, prog string) string {
	dir := os.Getenv("GOKPROP_BENCH_PERF")
	if dir == "" {
		return ""
	}
	out := filepath.Join(dir, fmt.Sprintf("%02d-%s-%s.data", run, p.name, prog))
	return fmt.Sprintf("perf record -q -F 999 -g -o %s -- ", out)
}

// stopChild sends SIGTERM to the kpropd under process pid: the first
// process down the chain of children that is neither time nor perf (MIT
// kpropd may still have the child that served the connection).
func stopChild(b *testing.B, pid int) {
	p := pid
	for {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		if err != nil {
			b.Fatal(err)
		}
		if c := strings.TrimSpace(string(comm)); p != pid && c != "time" && c != "perf" {
			break
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", p, p))
		if err != nil {
			b.Fatal(err)
		}
		f := strings.Fields(string(data))
		if len(f) != 1 {
			b.Fatalf("process %d has children %q, want one", p, f)
		}
		if p, err = strconv.Atoi(f[0]); err != nil {
			b.Fatal(err)
		}
	}
	if err := syscall.Kill(p, syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
}

// parseTimeV reads the report of /usr/bin/time -v.
func parseTimeV(b *testing.B, path string) rusage {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var r rusage
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		switch k {
		case "User time (seconds)":
			r.user, _ = strconv.ParseFloat(v, 64)
		case "System time (seconds)":
			r.sys, _ = strconv.ParseFloat(v, 64)
		case "Maximum resident set size (kbytes)":
			r.maxRSS, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return r
}

// reportBench prints the ratios against the targets of the streaming
// work. runs holds benchAlternations alternations of the four pairs, each
// starting with MIT → MIT: a pair's throughput ratio in an alternation is
// that alternation's MIT → MIT time over the pair's.
func reportBench(b *testing.B, runs []benchRun, size int64) {
	ratios := map[string][]float64{} // per pair, per alternation
	var mitCPU, ourCPU []float64
	var ourRSS int64
	var mitWall float64
	for _, r := range runs {
		pair := r.from + "→" + r.to
		switch pair {
		case "MIT→MIT":
			mitWall = r.wall.Seconds()
			mitCPU = append(mitCPU, r.sender.cpu())
		case "ours→ours":
			ourCPU = append(ourCPU, r.sender.cpu())
		}
		ratios[pair] = append(ratios[pair], mitWall/r.wall.Seconds())
		if r.from == "ours" {
			ourRSS = max(ourRSS, r.sender.maxRSS)
		}
		if r.to == "ours" {
			ourRSS = max(ourRSS, r.recver.maxRSS)
		}
	}
	for _, c := range []struct{ pair, target string }{{"ours→ours", "5"}, {"ours→MIT", "1"}, {"MIT→ours", "1"}} {
		var each []string
		for _, v := range ratios[c.pair] {
			each = append(each, fmt.Sprintf("%.2f", v))
		}
		fmt.Printf("%s / MIT→MIT throughput, per alternation: %s; median %.2f× (target ≥ %s×)\n",
			c.pair, strings.Join(each, " "), median(ratios[c.pair]), c.target)
	}
	gb := float64(size) / 1e9
	fmt.Printf("kprop CPU s/GB (user+sys), median: ours %.2f, MIT %.2f, ratio %.3f (target ≤ 0.2)\n",
		median(ourCPU)/gb, median(mitCPU)/gb, median(ourCPU)/median(mitCPU))
	fmt.Printf("peak RSS of our kprop and kpropd: %.1f MiB (target ≤ 16 MiB)\n", float64(ourRSS)/1024)
	b.ReportMetric(median(ratios["ours→ours"]), "ours/MIT")
	b.ReportMetric(median(ratios["ours→MIT"]), "ours→MIT/MIT")
	b.ReportMetric(median(ratios["MIT→ours"]), "MIT→ours/MIT")
	b.ReportMetric(float64(ourRSS)/1024, "MiB-RSS")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
