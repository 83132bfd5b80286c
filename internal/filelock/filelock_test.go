package filelock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLockConflicts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dump")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b, c := open(), open(), open()
	if err := Lock(a, Shared, false); err != nil {
		t.Fatal(err)
	}
	if err := Lock(b, Shared, false); err != nil {
		t.Fatalf("second shared lock: %v", err)
	}
	if err := Lock(c, Exclusive, false); !errors.Is(err, ErrLocked) {
		t.Fatalf("exclusive lock over shared ones: %v, want ErrLocked", err)
	}
	if err := Lock(a, Unlock, false); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := Lock(c, Exclusive, false); err != nil {
		t.Fatalf("exclusive lock after release: %v", err)
	}
	if err := Lock(a, Shared, false); !errors.Is(err, ErrLocked) {
		t.Fatalf("shared lock over exclusive: %v, want ErrLocked", err)
	}
}
