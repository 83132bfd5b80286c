//go:build linux && (amd64 || arm64)

package kpropd

import (
	"os"
	"syscall"
)

// The flags of sync_file_range(2) and the advice of posix_fadvise(2).
const (
	syncFileRangeWaitBefore = 1
	syncFileRangeWrite      = 2
	syncFileRangeWaitAfter  = 4
	fadvDontNeed            = 4
)

// startWriteback starts writing n bytes of f at off to stable storage,
// without waiting. Errors are ignored: nothing is waited for, so the
// wait that comes later (dropWritten or the fsync) reports them.
func startWriteback(f *os.File, off, n int64) {
	_, _, _ = syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, f.Fd(), uintptr(off), uintptr(n), syncFileRangeWrite, 0, 0)
}

// dropWritten writes n bytes of f at off to the disk, waits for them and
// drops them from the page cache. It returns the writeback's error.
func dropWritten(f *os.File, off, n int64) error {
	fd := f.Fd()
	const all = syncFileRangeWaitBefore | syncFileRangeWrite | syncFileRangeWaitAfter
	if _, _, e := syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, fd, uintptr(off), uintptr(n), all, 0, 0); e != 0 {
		return &os.PathError{Op: "sync_file_range", Path: f.Name(), Err: e}
	}
	// Advice: the data is safe whether it is taken or not.
	_, _, _ = syscall.Syscall6(syscall.SYS_FADVISE64, fd, uintptr(off), uintptr(n), fadvDontNeed, 0, 0)
	return nil
}
