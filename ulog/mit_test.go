package ulog_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/filelock"
	"github.com/gokprop/gokprop/internal/iproptest"
	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/ulog"
)

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "principal.ulog")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func diffAt(a, b []byte) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("first difference at byte %d (the header is bytes 0-39)", i)
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}

// slotTime returns the time in the entry header of the first slot of a
// log image, where a reset leaves its dummy entry.
func slotTime(b []byte) time.Time {
	e := b[ulog.HeaderSize:]
	sec, usec := binary.NativeEndian.Uint32(e[8:]), binary.NativeEndian.Uint32(e[12:])
	return time.Unix(int64(sec), int64(usec)*1000)
}

// TestMITReplicaLog stores the updates MIT kadmind sent in the shared
// scenario into a copy of the replica's log from before the kpropd cycle
// and requires the file to be byte-identical to the one MIT kpropd wrote.
// The scenario wraps the replica's 8-slot log and resizes it.
func TestMITReplicaLog(t *testing.T) {
	s := iproptest.Run(t, iproptest.Default())
	path := writeTemp(t, s.ReplicaULogBefore)
	l, err := ulog.Open(path, ulog.Options{Slots: iproptest.ReplicaULogSize})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, u := range s.Updates(t) {
		if err := l.Append(&u); err != nil {
			t.Fatalf("update %d: %v", u.Sno, err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, s.ReplicaULogAfter) {
		t.Fatalf("our replica log differs from MIT kpropd's: %s", diffAt(got, s.ReplicaULogAfter))
	}
	h, _ := l.Header()
	if h.Block != 2*ulog.BlockSize || h.Num != iproptest.ReplicaULogSize {
		t.Errorf("the scenario should resize and wrap the replica's log: %+v", h)
	}

	// What the replica stores is what it received: the primary's body
	// with the committed flag set.
	prim := map[uint32][]byte{}
	for _, e := range s.PrimaryEntries(t) {
		prim[e.Sno] = e.Data
	}
	es, err := l.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		u, err := e.Update()
		if err != nil {
			t.Fatal(err)
		}
		if !u.Commit {
			t.Errorf("replica entry %d stored uncommitted", e.Sno)
		}
		u.Commit = false
		if !bytes.Equal(u.AppendXDR(nil), prim[e.Sno]) {
			t.Errorf("replica entry %d is not the primary's with the commit flag set", e.Sno)
		}
	}
}

// TestMITKproplog compares kproplog's output on both of the scenario's
// logs with the same report built from this package's reader.
func TestMITKproplog(t *testing.T) {
	s := iproptest.Run(t, iproptest.Default())
	for _, c := range []struct {
		host *mitrealm.Host
		ip   *mitrealm.Iprop
	}{{s.Primary, s.PrimaryIprop}, {s.Replica, s.ReplicaIprop}} {
		l, err := ulog.Open(c.ip.LogFile, ulog.Options{Slots: uint32(c.ip.ULogSize), ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		for v, args := range [][]string{nil, {"-v"}, {"-v", "-v"}} {
			want := c.host.Kproplog(t, args...)
			if got := kproplog(t, c.ip.LogFile, l, v); got != want {
				t.Errorf("%s: kproplog %v differs:\n%s", c.host.Name, args, lineDiff(got, want))
			}
		}
		l.Close()
	}
}

func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: ours %q, kproplog's %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("ours has %d lines, kproplog's %d", len(g), len(w))
}

// TestMITLoadIprop checks Open, Reset and SetLast against what "kdb5_util
// load -i" does to a replica's log (ulog_map, two ulog_init_header calls,
// ulog_set_last), on a new log and on the scenario's wrapped, resized one.
func TestMITLoadIprop(t *testing.T) {
	s := iproptest.Run(t, iproptest.Default())
	last := s.ReplicaLastBefore(t)
	check := func(name string, start []byte, mit []byte) {
		t.Helper()
		// The reset's time survives in the first slot's dummy entry unless
		// set_last wrote over it.
		now := slotTime(mit)
		path := filepath.Join(t.TempDir(), "ulog")
		if start != nil {
			path = writeTemp(t, start)
		}
		l, err := ulog.Open(path, ulog.Options{Slots: iproptest.ReplicaULogSize, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for _, step := range []func() error{l.Reset, l.Reset, func() error { return l.SetLast(last) }} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, mit) {
			t.Errorf("%s: our log differs from load -i's: %s", name, diffAt(got, mit))
		}
	}
	check("new log", nil, s.ReplicaULogBefore)

	// Load the same dump again over the log kpropd left.
	dump := filepath.Join(s.Primary.Dir, "iprop.dump")
	s.Replica.Load(t, dump, "-i")
	after, err := os.ReadFile(s.ReplicaIprop.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != ulog.HeaderSize+iproptest.ReplicaULogSize*2*ulog.BlockSize {
		t.Fatalf("load -i left a log of %d bytes", len(after))
	}
	check("resized log", s.ReplicaULogAfter, after)
}

// TestMITLocking holds this package's lock on a log while MIT's
// "kproplog -R" tries to reset it: kproplog must wait for the lock
// (visible in /proc/locks), then reset the log exactly as Reset does.
func TestMITLocking(t *testing.T) {
	s := iproptest.Run(t, iproptest.Options{After: []string{"addprinc -randkey one", "addprinc -randkey two"}})
	path := s.ReplicaIprop.LogFile
	before, _ := os.ReadFile(path)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := filelock.Lock(f, filelock.Exclusive, true); err != nil {
		t.Fatal(err)
	}
	cmd := s.Replica.Command(mitrealm.Require(t, "kproplog")["kproplog"], "-R")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	st, _ := f.Stat()
	if !waitBlocked(t, st, done) {
		t.Fatalf("kproplog -R did not wait for our lock; output:\n%s", out.String())
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatal("kproplog -R changed the log while we held the lock")
	}
	filelock.Lock(f, filelock.Unlock, true)
	if err := <-done; err != nil {
		t.Fatalf("kproplog -R: %v\n%s", err, out.String())
	}
	mit, _ := os.ReadFile(path)

	// Our Reset of the same log, at kproplog's time.
	now := slotTime(mit)
	ours := writeTemp(t, before)
	l, err := ulog.Open(ours, ulog.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Reset(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(ours)
	if !bytes.Equal(got, mit) {
		t.Errorf("our Reset differs from kproplog -R: %s", diffAt(got, mit))
	}
	if h, _ := l.Header(); h.LastSno != 1 || h.Num != 1 {
		t.Errorf("after reset: %+v", h)
	}
}

// waitBlocked waits until /proc/locks shows a process blocked on a lock
// of the file st, or the process ends.
func waitBlocked(t *testing.T, st os.FileInfo, done chan error) bool {
	t.Helper()
	ino := fmt.Sprintf(":%d ", st.Sys().(*syscall.Stat_t).Ino)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Skipf("no /proc/locks: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "->") && strings.Contains(line+" ", ino) {
				return true
			}
		}
		select {
		case err := <-done:
			done <- err
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return false
}
