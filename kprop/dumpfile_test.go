package kprop

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/filelock"
)

func writeDump(t *testing.T, dir string, dumpAge, okAge time.Duration) string {
	t.Helper()
	path := filepath.Join(dir, "replica_datatrans")
	if err := os.WriteFile(path, []byte("kdb5_util load_dump version 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".dump_ok", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	os.Chtimes(path, now.Add(-dumpAge), now.Add(-dumpAge))
	os.Chtimes(path+".dump_ok", now.Add(-okAge), now.Add(-okAge))
	return path
}

func TestOpenDump(t *testing.T) {
	dir := t.TempDir()
	path := writeDump(t, dir, time.Hour, time.Minute)
	d, err := OpenDump(path)
	if err != nil {
		t.Fatalf("OpenDump: %v", err)
	}
	if d.Size != 30 {
		t.Errorf("Size = %d", d.Size)
	}
	// A writer cannot take the exclusive lock while we send.
	w, _ := os.OpenFile(path, os.O_RDWR, 0)
	defer w.Close()
	if err := filelock.Lock(w, filelock.Exclusive, false); !errors.Is(err, filelock.ErrLocked) {
		t.Errorf("exclusive lock while sending: %v", err)
	}
	d.Close()
	if err := filelock.Lock(w, filelock.Exclusive, false); err != nil {
		t.Errorf("exclusive lock after Close: %v", err)
	}
	// And while the writer holds it, kprop refuses.
	if _, err := OpenDump(path); !errors.Is(err, ErrDatabaseLocked) {
		t.Errorf("OpenDump under exclusive lock: %v", err)
	}
}

func TestOpenDumpStale(t *testing.T) {
	path := writeDump(t, t.TempDir(), time.Minute, time.Hour)
	_, err := OpenDump(path)
	var se *StaleDumpError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want StaleDumpError", err)
	}
	want := "'" + path + "' more recent than '" + path + ".dump_ok'."
	if err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}

func TestOpenDumpMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenDump(filepath.Join(dir, "nope")); err == nil || err.Error() != "no such file or directory while trying to open "+filepath.Join(dir, "nope") {
		t.Errorf("missing dump: %v", err)
	}
	path := writeDump(t, dir, time.Hour, time.Minute)
	os.Remove(path + ".dump_ok")
	if _, err := OpenDump(path); err == nil {
		t.Error("missing .dump_ok accepted")
	}
}

func TestWriteLastProp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "replica_datatrans")
	if err := WriteLastProp(path, "kdc2.example.com"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path + ".kdc2.example.com.last_prop")
	if err != nil || len(b) != 1 || b[0] != 0 {
		t.Fatalf("last_prop = %q, %v", b, err)
	}
}
