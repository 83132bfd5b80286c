package iproptest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/ulog"
)

// ReplicaLastBefore returns the replica's position before the kpropd
// cycle: the last serial number and time of ReplicaULogBefore.
func (s *Scenario) ReplicaLastBefore(t testing.TB) iprop.Last {
	t.Helper()
	path := filepath.Join(t.TempDir(), "replica-before.ulog")
	if err := os.WriteFile(path, s.ReplicaULogBefore, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := ulog.Open(path, ulog.Options{Slots: uint32(s.ReplicaIprop.ULogSize), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	last, err := l.Last()
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// PrimaryEntries returns the entries of the primary's update log.
func (s *Scenario) PrimaryEntries(t testing.TB) []ulog.Entry {
	t.Helper()
	l, err := ulog.Open(s.PrimaryIprop.LogFile, ulog.Options{Slots: uint32(s.PrimaryIprop.ULogSize), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	es, err := l.Entries()
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// Updates returns the updates kadmind sent the replica in the kpropd
// cycle: the primary's entries after ReplicaLastBefore, each with its
// committed flag taken from the entry header, as ulog_get_entries does.
func (s *Scenario) Updates(t testing.TB) []iprop.Update {
	t.Helper()
	last := s.ReplicaLastBefore(t)
	var out []iprop.Update
	for _, e := range s.PrimaryEntries(t) {
		if e.Sno <= last.Sno {
			continue
		}
		u, err := e.Update()
		if err != nil {
			t.Fatalf("primary entry %d: %v", e.Sno, err)
		}
		u.Commit = e.Commit
		out = append(out, *u)
	}
	if len(out) == 0 {
		t.Fatal("the primary has no updates after the replica's position")
	}
	return out
}
