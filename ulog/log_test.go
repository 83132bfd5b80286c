package ulog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/filelock"
	"github.com/gokprop/gokprop/iprop"
)

var t0 = time.Unix(1796115206, 797456000)

func fixedNow() time.Time { return t0 }

var stamp0 = iprop.Time{Seconds: 1796115206, Useconds: 797456}

func openNew(t *testing.T, entries uint32) (*Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "principal.ulog")
	l, err := Open(path, Options{Slots: entries, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func update(sno uint32, name string, extra int) *iprop.Update {
	u := &iprop.Update{
		Principal: name, Sno: sno, Time: iprop.Time{Seconds: 1796115300 + sno, Useconds: sno * 7},
		Attrs:  []iprop.Attr{{Type: iprop.AttrMaxLife, Uint32: 3600}},
		Commit: true,
	}
	if extra > 0 {
		u.Attrs = append(u.Attrs, iprop.Attr{Type: iprop.AttrTLData, TLData: []iprop.TLData{{Type: 11, Data: bytes.Repeat([]byte{'x'}, extra)}}})
	}
	return u
}

func TestNewLogBytes(t *testing.T) {
	_, path := openNew(t, 2)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, HeaderSize+2*BlockSize)
	ne := binary.NativeEndian
	ne.PutUint32(want[0:], 0x06662323)
	ne.PutUint16(want[4:], 1)
	ne.PutUint32(want[8:], 1) // one (dummy) entry
	ne.PutUint32(want[12:], stamp0.Seconds)
	ne.PutUint32(want[16:], stamp0.Useconds)
	ne.PutUint32(want[20:], stamp0.Seconds)
	ne.PutUint32(want[24:], stamp0.Useconds)
	ne.PutUint32(want[28:], 1)
	ne.PutUint32(want[32:], 1)
	ne.PutUint16(want[36:], 1) // stable
	ne.PutUint16(want[38:], 2048)
	ne.PutUint32(want[40:], 0x06661212)
	ne.PutUint32(want[44:], 1)
	ne.PutUint32(want[48:], stamp0.Seconds)
	ne.PutUint32(want[52:], stamp0.Useconds)
	if !bytes.Equal(got, want) {
		t.Fatalf("new log differs at byte %d", firstDiff(got, want))
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestAppendAndWrap(t *testing.T) {
	l, _ := openNew(t, 4)
	if err := l.SetLast(iprop.Last{Sno: 10, Time: iprop.Time{Seconds: 5}}); err != nil {
		t.Fatal(err)
	}
	h, _ := l.Header()
	if h.Num != 1 || h.FirstSno != 10 || h.LastSno != 10 || h.LastTime.Seconds != 5 || h.State != Stable {
		t.Fatalf("after SetLast: %+v", h)
	}
	for sno := uint32(11); sno <= 16; sno++ {
		if err := l.Append(update(sno, "p@R", 0)); err != nil {
			t.Fatal(err)
		}
	}
	h, _ = l.Header()
	if h.Num != 4 || h.FirstSno != 13 || h.LastSno != 16 || h.FirstTime != update(13, "", 0).Time {
		t.Fatalf("after wrapping: %+v", h)
	}
	es, err := l.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		u, err := e.Update()
		if err != nil || e.Sno != uint32(13+i) || !e.Commit || !reflect.DeepEqual(u, update(e.Sno, "p@R", 0)) {
			t.Fatalf("entry %d: %+v %v", i, e, err)
		}
	}
	if s, _ := l.Status(iprop.Last{Sno: 16, Time: update(16, "", 0).Time}); s != iprop.UpdateNil {
		t.Errorf("status at the end: %v", s)
	}
	if s, _ := l.Status(iprop.Last{Sno: 14, Time: update(14, "", 0).Time}); s != iprop.UpdateOK {
		t.Errorf("status in the log: %v", s)
	}
	if s, _ := l.Status(iprop.Last{Sno: 14, Time: iprop.Time{}}); s != iprop.UpdateFullResyncNeeded {
		t.Errorf("status with another time: %v", s)
	}
	if s, _ := l.Status(iprop.Last{Sno: 12, Time: update(12, "", 0).Time}); s != iprop.UpdateFullResyncNeeded {
		t.Errorf("status before the first entry: %v", s)
	}

	// An update that does not follow resets the log first.
	if err := l.Append(update(30, "q@R", 0)); err != nil {
		t.Fatal(err)
	}
	h, _ = l.Header()
	if h.Num != 2 || h.FirstSno != 1 || h.LastSno != 30 || h.FirstTime != stamp0 {
		t.Fatalf("after a gap: %+v", h)
	}
}

func TestResize(t *testing.T) {
	l, path := openNew(t, 3)
	for sno := uint32(2); sno <= 3; sno++ {
		if err := l.Append(update(sno, "p@R", 0)); err != nil {
			t.Fatal(err)
		}
	}
	big := update(4, "big@R", 2100)
	if err := l.Append(big); err != nil {
		t.Fatal(err)
	}
	h, _ := l.Header()
	if h.Block != 4096 || h.Num != 1 || h.FirstSno != 4 || h.LastSno != 4 || h.State != Stable {
		t.Fatalf("after resize: %+v", h)
	}
	st, _ := os.Stat(path)
	if st.Size() != HeaderSize+3*4096 {
		t.Errorf("size %d", st.Size())
	}
	// The block is the next multiple above the record, even when the
	// record fills a multiple exactly.
	var exact *iprop.Update
	for extra := 7000; exact == nil; extra++ {
		if u := update(5, "big@R", extra); len(u.AppendXDR(nil))+EntryHeaderSize == 8192 {
			exact = u
		}
	}
	if err := l.Append(exact); err != nil {
		t.Fatal(err)
	}
	if h, _ = l.Header(); h.Block != 5*2048 {
		t.Errorf("block %d for an 8192-byte record, want 10240 as MIT computes", h.Block)
	}
	es, err := l.Entries()
	if err != nil || len(es) != 1 || es[0].Sno != 5 {
		t.Fatalf("%v %+v", err, es)
	}
	// 65536-byte blocks do not fit the header's 16 bits.
	if err := l.Append(update(6, "huge@R", 63470)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("huge update: %v", err)
	}
}

func TestReopen(t *testing.T) {
	l, path := openNew(t, 8)
	for sno := uint32(2); sno <= 6; sno++ {
		if err := l.Append(update(sno, "p@R", 0)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	// Same size: kept.
	l, err := Open(path, Options{Slots: 8, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := l.Header(); h.Num != 6 || h.LastSno != 6 {
		t.Fatalf("reopened: %+v", h)
	}
	l.Close()
	// More slots: entries still in their slots, file grows.
	l, err = Open(path, Options{Slots: 16, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := l.Header(); h.Num != 6 {
		t.Fatalf("grown: %+v", h)
	}
	l.Close()
	if st, _ := os.Stat(path); st.Size() != HeaderSize+16*BlockSize {
		t.Errorf("size %d", st.Size())
	}
	// Fewer slots than entries: reset.
	later := func() time.Time { return t0.Add(time.Hour) }
	l, err = Open(path, Options{Slots: 4, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := l.Header(); h.Num != 1 || h.LastSno != 1 || h.LastTime.Seconds != stamp0.Seconds+3600 {
		t.Fatalf("shrunk: %+v", h)
	}
	l.Close()
	// The file never shrinks.
	if st, _ := os.Stat(path); st.Size() != HeaderSize+16*BlockSize {
		t.Errorf("size %d", st.Size())
	}
}

func TestCorruptHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ulog")
	if err := os.WriteFile(path, bytes.Repeat([]byte{0xab}, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v", err)
	}
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open read-only: %v", err)
	}
	// A zeroed header is initialized, and a short file grown.
	if err := os.WriteFile(path, make([]byte, 10), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, Options{Slots: 2, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if h, _ := l.Header(); h.Magic != HeaderMagic || h.LastSno != 1 {
		t.Fatalf("%+v", h)
	}
}

func TestReadOnly(t *testing.T) {
	l, path := openNew(t, 2)
	if err := l.Append(update(2, "p@R", 0)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	r, err := Open(path, Options{Slots: 2, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Append(update(3, "p@R", 0)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Append: %v", err)
	}
	if err := r.Reset(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Reset: %v", err)
	}
	es, err := r.Entries()
	if err != nil || len(es) != 2 || !es[0].Dummy() || es[1].Sno != 2 {
		t.Fatalf("%v %+v", err, es)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("read-only use changed the file")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing"), Options{ReadOnly: true}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCorruptEntries(t *testing.T) {
	l, path := openNew(t, 4)
	for sno := uint32(2); sno <= 3; sno++ {
		if err := l.Append(update(sno, "p@R", 0)); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{0, 0, 0, 0}, HeaderSize+2*BlockSize) // magic of entry 3
	f.Close()
	es, err := l.Entries()
	if !errors.Is(err, ErrCorrupt) || len(es) != 2 {
		t.Fatalf("%v, %d entries", err, len(es))
	}
	f, _ = os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt(binary.NativeEndian.AppendUint32(nil, EntryMagic), HeaderSize+2*BlockSize)
	f.WriteAt(binary.NativeEndian.AppendUint32(nil, BlockSize), HeaderSize+2*BlockSize+20) // size
	f.Close()
	if _, err := l.Entries(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "2048 bytes") {
		t.Fatalf("oversized entry: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	l, path := openNew(t, 16)
	// A second Log on the same file (another file description) excludes
	// the first through the file lock.
	l2, err := Open(path, Options{Slots: 16, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex // orders serial numbers across the two writers
	next := uint32(2)
	for _, lg := range []*Log{l, l2, l} {
		wg.Add(1)
		go func(lg *Log) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				mu.Lock()
				sno := next
				next++
				err := lg.Append(update(sno, "p@R", 0))
				mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := lg.Entries(); err != nil {
					t.Error(err)
					return
				}
			}
		}(lg)
	}
	wg.Wait()
	h, _ := l2.Header()
	if h.LastSno != 31 || h.Num != 16 || h.FirstSno != 16 {
		t.Fatalf("%+v", h)
	}
}

// TestWaitsForForeignLock holds MIT's kind of lock on the log through
// another file description, as kadmind or kproplog would, and checks that
// a write and a read of a Log wait for it.
func TestWaitsForForeignLock(t *testing.T) {
	l, path := openNew(t, 4)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	for _, op := range []struct {
		name string
		run  func() error
	}{
		{"Append", func() error { return l.Append(update(2, "p@R", 0)) }},
		{"Header", func() error { _, err := l.Header(); return err }},
	} {
		if err := filelock.Lock(f, filelock.Exclusive, true); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- op.run() }()
		if !waitForBlockedLock(t, st.Sys().(*syscall.Stat_t).Ino, done) {
			t.Fatalf("%s did not wait for the lock", op.name)
		}
		filelock.Lock(f, filelock.Unlock, true)
		if err := <-done; err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
	}
	if h, _ := l.Header(); h.LastSno != 2 {
		t.Fatalf("%+v", h)
	}
}

// waitForBlockedLock waits until /proc/locks shows a lock request blocked
// on inode ino, or done receives.
func waitForBlockedLock(t *testing.T, ino uint64, done chan error) bool {
	t.Helper()
	want := fmt.Sprintf(":%d ", ino)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Skipf("no /proc/locks: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "->") && strings.Contains(line+" ", want) {
				return true
			}
		}
		select {
		case err := <-done:
			t.Errorf("returned early: %v", err)
			return false
		case <-time.After(2 * time.Millisecond):
		}
	}
	return false
}

// TestSyncOrder records the file at every sync and checks MIT's order:
// the entry reaches the disk before the header that counts it, while the
// header says unstable; a resize syncs the reinitialized header first; a
// reset or SetLast syncs its dummy entry before the header.
func TestSyncOrder(t *testing.T) {
	l, path := openNew(t, 4)
	var snaps [][]byte
	l.syncHook = func() {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, b)
	}
	hdr := func(b []byte) Header { var r rawHeader; copy(r[:], b); return r.decode() }
	entry := func(b []byte, slot int, block int) Entry { return decodeEntryHeader(b[HeaderSize+slot*block:]) }

	if err := l.Append(update(2, "p@R", 0)); err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 {
		t.Fatalf("%d syncs for an append", len(snaps))
	}
	if h, e := hdr(snaps[0]), entry(snaps[0], 1, BlockSize); h.State != Unstable || h.LastSno != 1 || e.Sno != 2 || !e.Commit {
		t.Errorf("first sync: header %+v, entry %+v", h, e)
	}
	if h := hdr(snaps[1]); h.State != Stable || h.LastSno != 2 || h.Num != 2 {
		t.Errorf("second sync: header %+v", h)
	}

	snaps = nil
	if err := l.Append(update(3, "big@R", 3000)); err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 3 {
		t.Fatalf("%d syncs for a resizing append", len(snaps))
	}
	if h := hdr(snaps[0]); h.Block != 2*BlockSize || h.Num != 0 || h.State != Stable || len(snaps[0]) != HeaderSize+4*BlockSize {
		t.Errorf("resize sync: header %+v, file %d bytes (not yet extended)", h, len(snaps[0]))
	}
	if h, e := hdr(snaps[1]), entry(snaps[1], 2, 2*BlockSize); h.State != Unstable || e.Sno != 3 {
		t.Errorf("entry sync: header %+v, entry %+v", h, e)
	}
	if h := hdr(snaps[2]); h.State != Stable || h.Num != 1 || h.FirstSno != 3 || h.LastSno != 3 {
		t.Errorf("header sync: %+v", h)
	}

	snaps = nil
	if err := l.Reset(); err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 {
		t.Fatalf("%d syncs for a reset", len(snaps))
	}
	if h, e := hdr(snaps[0]), entry(snaps[0], 0, BlockSize); h.Num != 0 || h.State != 0 || h.Block != BlockSize || e.Sno != 1 || e.Size != 0 {
		t.Errorf("reset, first sync: header %+v, dummy %+v", h, e)
	}
	if h := hdr(snaps[1]); h.Num != 1 || h.State != Stable || h.LastSno != 1 {
		t.Errorf("reset, second sync: %+v", h)
	}

	snaps = nil
	if err := l.SetLast(iprop.Last{Sno: 7, Time: stamp0}); err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 {
		t.Fatalf("%d syncs for SetLast", len(snaps))
	}
	if h, e := hdr(snaps[0]), entry(snaps[0], 2, BlockSize); h.LastSno != 1 || e.Sno != 7 {
		t.Errorf("SetLast, first sync: header %+v, dummy %+v", h, e)
	}
	if h := hdr(snaps[1]); h.Num != 1 || h.FirstSno != 7 || h.LastSno != 7 {
		t.Errorf("SetLast, second sync: %+v", h)
	}
}
