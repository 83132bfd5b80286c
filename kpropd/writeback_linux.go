//go:build linux && (amd64 || arm64)

package kpropd

import (
	"os"
	"syscall"
)

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writing back the
// range's dirty pages, without waiting for them.
const syncFileRangeWrite = 2

// startWriteback starts writing n bytes of f at off to stable storage, so
// that the fsync at the end of a transfer finds little left to do.
// Errors are ignored: the fsync reports what matters.
func startWriteback(f *os.File, off, n int64) {
	_, _, _ = syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, f.Fd(), uintptr(off), uintptr(n), syncFileRangeWrite, 0, 0)
}
