// Package filelock takes the whole-file locks MIT krb5 takes
// (krb5_lock_file): open-file-description fcntl locks, which conflict with
// MIT's own locks on the same file, falling back to flock where the kernel
// lacks them.
package filelock

import (
	"errors"
	"os"
	"syscall"
)

// ErrLocked reports that a non-blocking lock request found a conflicting
// lock held.
var ErrLocked = errors.New("file is locked")

// Linux open-file-description lock commands (fcntl(2)); the syscall
// package does not name them.
const (
	fOFDSetLK  = 37
	fOFDSetLKW = 38
)

// Mode is the kind of lock.
type Mode int

const (
	// Shared lets other shared holders in (readers).
	Shared Mode = iota
	// Exclusive excludes every other holder (writers).
	Exclusive
	// Unlock releases the lock.
	Unlock
)

// Lock applies mode to the whole of f. With wait false a conflicting lock
// fails at once with ErrLocked, as MIT's KRB5_LOCKMODE_DONTBLOCK.
func Lock(f *os.File, mode Mode, wait bool) error {
	lk := syscall.Flock_t{Whence: 0, Start: 0, Len: 0}
	how := 0
	switch mode {
	case Shared:
		lk.Type = syscall.F_RDLCK
		how = syscall.LOCK_SH
	case Exclusive:
		lk.Type = syscall.F_WRLCK
		how = syscall.LOCK_EX
	default:
		lk.Type = syscall.F_UNLCK
		how = syscall.LOCK_UN
	}
	cmd := fOFDSetLKW
	if !wait {
		cmd = fOFDSetLK
		how |= syscall.LOCK_NB
	}
	err := syscall.FcntlFlock(f.Fd(), cmd, &lk)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EACCES):
		return ErrLocked
	case !errors.Is(err, syscall.EINVAL):
		return &os.PathError{Op: "lock", Path: f.Name(), Err: err}
	}
	// No OFD locks: fall back to flock, as MIT does.
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return ErrLocked
		}
		return &os.PathError{Op: "lock", Path: f.Name(), Err: err}
	}
	return nil
}
