//go:build linux && (amd64 || arm64)

package kpropd

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// residentBytes returns how much of the file at path is in the page cache.
func residentBytes(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	page := int64(os.Getpagesize())
	vec := make([]byte, (st.Size()+page-1)/page)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	var n int64
	for _, v := range vec {
		n += int64(v & 1)
	}
	return n * page
}

// A received dump goes to the disk through a few writeback units of page
// cache, and arrives whole.
func TestDumpFileDropsWrittenData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "from_master.temp")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fsys syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &fsys); err != nil {
		t.Fatal(err)
	}
	const tmpfsMagic = 0x01021994
	if fsys.Type == tmpfsMagic {
		t.Skip("the test directory is on tmpfs, whose pages are the file: nothing can be dropped")
	}
	d := &dumpFile{f: f}
	const size = 12 * writebackUnit
	piece := make([]byte, 256<<10+17) // records do not fall on page boundaries
	var want bytes.Buffer
	for i := 0; want.Len() < size; i++ {
		for j := range piece {
			piece[j] = byte(i + j)
		}
		if err := d.Write(piece); err != nil {
			t.Fatal(err)
		}
		want.Write(piece)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	// Three units may be in the page cache at the end: one not yet
	// started, one being written back, one kept behind it.
	if got := residentBytes(t, path); got > 3*writebackUnit+int64(len(piece)) {
		t.Errorf("%d of %d bytes written are in the page cache, want at most %d", got, want.Len(), 3*writebackUnit+len(piece))
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the file holds %d bytes, not the %d written", len(got), want.Len())
	}
}
