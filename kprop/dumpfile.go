package kprop

import (
	"errors"
	"fmt"
	"os"

	"github.com/gokprop/gokprop/internal/filelock"
)

// ErrDatabaseLocked is returned by OpenDump when another process holds an
// exclusive lock on the dump (kdb5_util is still writing it).
var ErrDatabaseLocked = errors.New("database locked")

// StaleDumpError is returned by OpenDump when the dump is newer than its
// ".dump_ok" marker, i.e. kdb5_util dump did not finish writing it.
type StaleDumpError struct {
	Dump, DumpOK string
}

func (e *StaleDumpError) Error() string {
	return fmt.Sprintf("'%s' more recent than '%s'.", e.Dump, e.DumpOK)
}

// Dump is a kdb5_util dump opened for propagation, as MIT kprop opens it:
// read-only, under a shared lock that keeps kdb5_util from rewriting it
// while it is sent.
type Dump struct {
	*os.File
	// Size is the dump's size in bytes when it was opened.
	Size int64
}

// OpenDump opens path for propagation. Like MIT kprop it takes a shared,
// non-blocking lock (ErrDatabaseLocked if kdb5_util holds it) and refuses
// a dump more recent than path+".dump_ok" (*StaleDumpError), the marker
// kdb5_util dump writes once the dump is complete. Errors are worded like
// MIT's ("while trying to open FILE").
func OpenDump(path string) (*Dump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w while trying to open %s", unwrapPath(err), path)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	if err := filelock.Lock(f, filelock.Shared, false); err != nil {
		if errors.Is(err, filelock.ErrLocked) {
			return nil, ErrDatabaseLocked
		}
		return nil, fmt.Errorf("%w while trying to lock '%s'", unwrapPath(err), path)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w while trying to stat %s", unwrapPath(err), path)
	}
	okPath := path + ".dump_ok"
	okSt, err := os.Stat(okPath)
	if err != nil {
		return nil, fmt.Errorf("%w while trying to stat %s", unwrapPath(err), okPath)
	}
	// MIT compares whole seconds.
	if st.ModTime().Unix() > okSt.ModTime().Unix() {
		return nil, &StaleDumpError{Dump: path, DumpOK: okPath}
	}
	ok = true
	return &Dump{File: f, Size: st.Size()}, nil
}

// Close releases the lock and closes the file.
func (d *Dump) Close() error {
	_ = filelock.Lock(d.File, filelock.Unlock, false)
	return d.File.Close()
}

// WriteLastProp records a successful propagation of dumpPath to host the
// way MIT kprop does, creating (or truncating) "DUMP.HOST.last_prop" with
// a single NUL byte. Monitoring scripts read its modification time.
func WriteLastProp(dumpPath, host string) error {
	name := dumpPath + "." + host + ".last_prop"
	if err := os.WriteFile(name, []byte{0}, 0o600); err != nil {
		return fmt.Errorf("%w while creating 'last_prop' file, '%s'", unwrapPath(err), name)
	}
	return nil
}

// unwrapPath drops os.PathError's own wording so messages read like MIT's
// "No such file or directory while trying to open FILE".
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
