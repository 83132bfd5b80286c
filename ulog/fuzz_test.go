package ulog

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLog opens arbitrary file contents as an update log, read-only and
// then for writing, reads every entry and appends one; nothing may panic,
// and after the append the header must name it as the last entry. (The
// entries may still contradict the header: in a full log, MIT takes the
// new first serial number from whatever the next slot holds.)
func FuzzLog(f *testing.F) {
	seed := func(setup func(l *Log)) []byte {
		path := filepath.Join(f.TempDir(), "seed")
		l, err := Open(path, Options{Slots: 4, Now: fixedNow})
		if err != nil {
			f.Fatal(err)
		}
		setup(l)
		l.Close()
		b, _ := os.ReadFile(path)
		return b
	}
	f.Add(seed(func(*Log) {}))
	f.Add(seed(func(l *Log) {
		for sno := uint32(2); sno <= 6; sno++ {
			l.Append(update(sno, "p@R", 0))
		}
	}))
	f.Add(seed(func(l *Log) { l.Append(update(2, "big@R", 3000)) })[:HeaderSize+100])
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "ulog")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if r, err := Open(path, Options{Slots: 4, ReadOnly: true}); err == nil {
			es, _ := r.Entries()
			for _, e := range es {
				e.Update()
			}
			r.Close()
		}
		l, err := Open(path, Options{Slots: 4, Now: fixedNow})
		if err != nil {
			return
		}
		defer l.Close()
		h, err := l.Header()
		if err != nil {
			t.Fatal(err)
		}
		u := update(h.LastSno+1, "new@R", 0)
		if err := l.Append(u); err != nil {
			return
		}
		l.Entries()
		if h, err := l.Header(); err != nil || h.LastSno != u.Sno || h.State != Stable {
			t.Fatalf("after Append: %+v, %v", h, err)
		}
	})
}
