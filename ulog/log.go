package ulog

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/gokprop/gokprop/internal/filelock"
	"github.com/gokprop/gokprop/iprop"
)

// Errors of this package.
var (
	// ErrCorrupt reports a file whose header magic is neither MIT's nor
	// zero (MIT's KRB5_LOG_CORRUPT), or entries that contradict the
	// header.
	ErrCorrupt = errors.New("ulog: update log is corrupt")
	// ErrTooLarge reports an update that does not fit any block MIT can
	// make: the block size would pass 65535 bytes or the log MaxLogLen
	// (MIT's KRB5_LOG_ERROR; the check of CVE-2025-24528).
	ErrTooLarge = errors.New("ulog: update too large for the update log")
	// ErrReadOnly reports a write to a log opened with Options.ReadOnly.
	ErrReadOnly = errors.New("ulog: log opened read-only")
)

// Options configure Open.
type Options struct {
	// Slots is the number of entry slots, kdc.conf's iprop_ulogsize; zero
	// means DefaultSlots. Every program sharing a log must use the same
	// value: it decides which slot holds which serial number.
	Slots uint32

	// ReadOnly opens an existing log without creating, checking,
	// resetting or extending it, as kproplog reads one; only the header
	// magic is checked. Writes fail with ErrReadOnly.
	ReadOnly bool

	// Now is the clock whose time a reset records; nil means time.Now.
	Now func() time.Time
}

// A Log is an open update log. Every operation takes MIT's lock on the
// file for its duration (an open-file-description fcntl lock, shared for
// reads and exclusive for writes, as krb5_lock_file takes it), so MIT's
// kadmind, kpropd, kdb5_util and kproplog can share the file; the header
// is read afresh each time. A Log is safe for concurrent use.
type Log struct {
	mu       sync.Mutex
	f        *os.File
	entries  uint32
	readOnly bool
	now      func() time.Time
	// syncHook, when set (by tests), runs before every sync.
	syncHook func()
}

// Open opens the update log at path as MIT's ulog_map does: it creates a
// missing file (mode 0600, sized for Slots slots of BlockSize bytes),
// fails with ErrCorrupt on a header that is neither MIT's nor all zeros,
// initializes a zeroed header (a reset), resets the log when it holds
// more entries than Slots or its first or last entry is not in the slot
// its serial number maps to (Slots changed), and grows a short file to
// Slots slots of the log's block size.
func Open(path string, opts Options) (*Log, error) {
	l := &Log{entries: opts.Slots, readOnly: opts.ReadOnly, now: opts.Now}
	if l.entries == 0 {
		l.entries = DefaultSlots
	}
	if l.now == nil {
		l.now = time.Now
	}
	if opts.ReadOnly {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		l.f = f
		h, err := l.Header()
		if err == nil && h.Magic != HeaderMagic {
			err = fmt.Errorf("%w: %s: header magic %#x", ErrCorrupt, path, h.Magic)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return l, nil
	}

	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	created := false
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		created = true
	}
	if err != nil {
		return nil, err
	}
	l.f = f
	if err := l.mapLog(created); err != nil {
		f.Close()
		return nil, fmt.Errorf("ulog: %s: %w", path, err)
	}
	return l, nil
}

// mapLog is the part of ulog_map that runs on an open file.
func (l *Log) mapLog(created bool) error {
	if created {
		if err := l.extend(HeaderSize + uint64(l.entries)*BlockSize); err != nil {
			return err
		}
	}
	if err := filelock.Lock(l.f, filelock.Exclusive, true); err != nil {
		return err
	}
	defer filelock.Lock(l.f, filelock.Unlock, true)
	h, err := l.readHeader()
	if err != nil {
		return err
	}
	if h.magic() != HeaderMagic {
		if h.magic() != 0 {
			return fmt.Errorf("%w: header magic %#x", ErrCorrupt, h.magic())
		}
		if h, err = l.reset(); err != nil {
			return err
		}
	}
	if h.num() != 0 {
		okFirst, err := l.checkSno(&h, h.firstSno(), h.firstTime())
		if err != nil {
			return err
		}
		okLast, err := l.checkSno(&h, h.lastSno(), h.lastTime())
		if err != nil {
			return err
		}
		if h.num() > l.entries || !okFirst || !okLast {
			if h, err = l.reset(); err != nil {
				return err
			}
		}
	}
	if h.num() != l.entries {
		return l.extend(HeaderSize + uint64(l.entries)*uint64(h.block()))
	}
	return nil
}

// Close closes the file. It does not flush anything: every write has
// been synced when the operation that made it returned.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// Slots returns the number of entry slots the log was opened with.
func (l *Log) Slots() uint32 { return l.entries }

// lock takes the in-process mutex and MIT's file lock.
func (l *Log) lock(mode filelock.Mode) (unlock func(), err error) {
	if mode == filelock.Exclusive && l.readOnly {
		return nil, ErrReadOnly
	}
	l.mu.Lock()
	if err := filelock.Lock(l.f, mode, true); err != nil {
		l.mu.Unlock()
		return nil, err
	}
	return func() {
		filelock.Lock(l.f, filelock.Unlock, true)
		l.mu.Unlock()
	}, nil
}

// readAt fills b from offset off; bytes past the end of the file read as
// zeros, as they would in MIT's mapping of a freshly extended file.
func (l *Log) readAt(b []byte, off uint64) error {
	if off > math.MaxInt64 {
		clear(b)
		return nil
	}
	n, err := l.f.ReadAt(b, int64(off))
	if err == io.EOF {
		clear(b[n:])
		err = nil
	}
	return err
}

func (l *Log) readHeader() (rawHeader, error) {
	var h rawHeader
	err := l.readAt(h[:], 0)
	return h, err
}

func (l *Log) writeHeader(h *rawHeader) error {
	_, err := l.f.WriteAt(h[:], 0)
	return err
}

// slot returns the file offset of the slot of serial number sno, as MIT's
// INDEX((sno - 1) % entries) computes it, with unsigned 32-bit wrap.
func (l *Log) slot(h *rawHeader, sno uint32) uint64 {
	return HeaderSize + uint64((sno-1)%l.entries)*uint64(h.block())
}

// checkSno reports whether the slot of sno holds sno with time t
// (check_sno).
func (l *Log) checkSno(h *rawHeader, sno uint32, t iprop.Time) (bool, error) {
	var b [EntryHeaderSize]byte
	if err := l.readAt(b[:], l.slot(h, sno)); err != nil {
		return false, err
	}
	e := decodeEntryHeader(b[:])
	return e.Sno == sno && e.Time == t, nil
}

// sync makes the writes so far durable: MIT's msync of the changed pages.
func (l *Log) sync() error {
	if l.syncHook != nil {
		l.syncHook()
	}
	return l.f.Sync()
}

// extend grows the file with zeros to size bytes (extend_file_to); it
// never shrinks it.
func (l *Log) extend(size uint64) error {
	if size > math.MaxInt32 {
		return fmt.Errorf("ulog: log of %d bytes is too large", size)
	}
	st, err := l.f.Stat()
	if err != nil {
		return err
	}
	cur := uint64(st.Size())
	zero := make([]byte, 64<<10)
	for cur < size {
		n := min(uint64(len(zero)), size-cur)
		if _, err := l.f.WriteAt(zero[:n], int64(cur)); err != nil {
			return err
		}
		cur += n
	}
	return nil
}

func (l *Log) stamp() iprop.Time {
	t := l.now()
	return iprop.Time{Seconds: uint32(t.Unix()), Useconds: uint32(t.Nanosecond() / 1000)}
}

// reset reinitializes the header with a dummy entry of serial number 1
// and the current time (reset_ulog) and returns the new header.
func (l *Log) reset() (rawHeader, error) {
	var h rawHeader
	h.init(BlockSize)
	if err := l.writeHeader(&h); err != nil {
		return h, err
	}
	t := l.stamp()
	if err := l.setDummy(&h, 1, t); err != nil {
		return h, err
	}
	h.setState(Stable)
	if err := l.writeHeader(&h); err != nil {
		return h, err
	}
	return h, l.sync()
}

// setDummy writes a dummy entry for sno and t into its slot, syncs it,
// and makes it the header's only entry (set_dummy). The header is not
// written.
func (l *Log) setDummy(h *rawHeader, sno uint32, t iprop.Time) error {
	var b [EntryHeaderSize]byte
	putEntryHeader(b[:], sno, t, false, 0)
	if _, err := l.f.WriteAt(b[:], int64(l.slot(h, sno))); err != nil {
		return err
	}
	if err := l.sync(); err != nil {
		return err
	}
	h.setNum(1)
	h.setFirstSno(sno)
	h.setLastSno(sno)
	h.setFirstTime(t)
	h.setLastTime(t)
	return nil
}

// Header returns the log's header.
func (l *Log) Header() (Header, error) {
	unlock, err := l.lock(filelock.Shared)
	if err != nil {
		return Header{}, err
	}
	defer unlock()
	h, err := l.readHeader()
	return h.decode(), err
}

// Last returns the serial number and time of the log's last entry, what
// MIT's kpropd sends its primary (ulog_get_last).
func (l *Log) Last() (iprop.Last, error) {
	h, err := l.Header()
	return h.Last(), err
}

// Reset reinitializes the log: serial number 1, the current time, one
// dummy entry (ulog_init_header, what "kproplog -R" does). A primary
// answers the next poll of a replica whose log was reset with
// UpdateFullResyncNeeded, so a replica resets its log after any failure.
func (l *Log) Reset() error {
	unlock, err := l.lock(filelock.Exclusive)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = l.reset()
	return err
}

// SetLast makes the log hold a single dummy entry for last: what
// "kdb5_util load -i" does (after a Reset) with the serial number and
// time of the iprop dump it loaded (ulog_set_last). The header's state and
// block size are left as they are.
func (l *Log) SetLast(last iprop.Last) error {
	unlock, err := l.lock(filelock.Exclusive)
	if err != nil {
		return err
	}
	defer unlock()
	h, err := l.readHeader()
	if err != nil {
		return err
	}
	if err := l.setDummy(&h, last.Sno, last.Time); err != nil {
		return err
	}
	if err := l.writeHeader(&h); err != nil {
		return err
	}
	return l.sync()
}

// Append records an update a replica has applied to its database, as
// MIT's ulog_replay does after each update: if the log is not empty and
// u.Sno does not follow the last serial number, the log is reset first;
// then u is stored (store_update). u is stored as given, with its serial
// number and time; MIT's replica skips updates whose Commit is false
// before they reach the log.
//
// Storing an update larger than the block size grows the blocks to the
// next multiple of BlockSize above it and, as MIT 1.20 does, reinitializes
// the log around the new entry: replicas of this log then need a full
// resync. On any error the caller should Reset the log, as MIT does, so
// that the next poll asks for a full resync.
func (l *Log) Append(u *iprop.Update) error {
	unlock, err := l.lock(filelock.Exclusive)
	if err != nil {
		return err
	}
	defer unlock()
	h, err := l.readHeader()
	if err != nil {
		return err
	}
	if h.num() != 0 && u.Sno != h.lastSno()+1 {
		if h, err = l.reset(); err != nil {
			return err
		}
	}
	return l.store(&h, u)
}

// store writes u into its slot and updates the header, syncing both in
// MIT's order (store_update): the header is marked unstable, the entry
// written and synced, then the header updated, marked stable and synced.
func (l *Log) store(h *rawHeader, u *iprop.Update) error {
	data := u.AppendXDR(nil)
	recsize := uint64(EntryHeaderSize) + uint64(len(data))
	if recsize > uint64(h.block()) {
		if err := l.resize(h, recsize); err != nil {
			return err
		}
	}
	h.setState(Unstable)
	if err := l.writeHeader(h); err != nil {
		return err
	}
	block := make([]byte, h.block())
	putEntryHeader(block, u.Sno, u.Time, true, uint32(len(data)))
	copy(block[entryDataOffset:], data)
	if _, err := l.f.WriteAt(block, int64(l.slot(h, u.Sno))); err != nil {
		return err
	}
	if err := l.sync(); err != nil {
		return err
	}

	h.setLastSno(u.Sno)
	h.setLastTime(u.Time)
	switch n := h.num(); {
	case n == 0:
		// Only after a resize, or in logs older than MIT 1.12.
		h.setNum(1)
		h.setFirstSno(u.Sno)
		h.setFirstTime(u.Time)
	case n < l.entries:
		h.setNum(n + 1)
	default:
		// The log is full and wraps: the oldest entry is the one in the
		// slot after the new one.
		var b [EntryHeaderSize]byte
		if err := l.readAt(b[:], l.slot(h, u.Sno+1)); err != nil {
			return err
		}
		next := decodeEntryHeader(b[:])
		h.setFirstSno(next.Sno)
		h.setFirstTime(next.Time)
	}
	h.setState(Stable)
	if err := l.writeHeader(h); err != nil {
		return err
	}
	return l.sync()
}

// resize reinitializes the header with blocks large enough for a record
// of recsize bytes and grows the file to match (resize). Old entries stay
// in the file but the header no longer counts them.
func (l *Log) resize(h *rawHeader, recsize uint64) error {
	newBlock := (recsize/BlockSize + 1) * BlockSize
	newSize := HeaderSize + uint64(l.entries)*newBlock
	if newBlock > math.MaxUint16 || newSize > MaxLogLen {
		return fmt.Errorf("%w: an entry of %d bytes needs %d-byte blocks", ErrTooLarge, recsize, newBlock)
	}
	h.init(uint16(newBlock))
	h.setState(Stable)
	if err := l.writeHeader(h); err != nil {
		return err
	}
	if err := l.sync(); err != nil {
		return err
	}
	return l.extend(newSize)
}

// Status answers a replica at position last as MIT's kadmind does
// (get_sno_status): UpdateNil if last is the log's last entry, even in
// an empty log; UpdateFullResyncNeeded if the log is empty, last is
// outside it, or its entry for last.Sno has another time; else UpdateOK.
func (l *Log) Status(last iprop.Last) (iprop.Status, error) {
	unlock, err := l.lock(filelock.Shared)
	if err != nil {
		return iprop.UpdateError, err
	}
	defer unlock()
	h, err := l.readHeader()
	if err != nil {
		return iprop.UpdateError, err
	}
	if last.Sno == h.lastSno() && last.Time == h.lastTime() {
		return iprop.UpdateNil, nil
	}
	if h.num() == 0 || last.Sno > h.lastSno() || last.Sno < h.firstSno() {
		return iprop.UpdateFullResyncNeeded, nil
	}
	ok, err := l.checkSno(&h, last.Sno, last.Time)
	if err != nil {
		return iprop.UpdateError, err
	}
	if !ok {
		return iprop.UpdateFullResyncNeeded, nil
	}
	return iprop.UpdateOK, nil
}

// Entries returns the log's entries from the first serial number to the
// last, as kproplog lists them, dummy entries included. A slot without
// an entry's magic, or whose size does not fit its block, is reported as
// ErrCorrupt.
func (l *Log) Entries() ([]Entry, error) {
	unlock, err := l.lock(filelock.Shared)
	if err != nil {
		return nil, err
	}
	defer unlock()
	h, err := l.readHeader()
	if err != nil {
		return nil, err
	}
	if h.num() == 0 {
		return nil, nil
	}
	first, last := h.firstSno(), h.lastSno()
	if n := uint64(last) - uint64(first-1); first == 0 || first > last || n > uint64(l.entries) {
		return nil, fmt.Errorf("%w: serial numbers %d to %d in %d slots", ErrCorrupt, first, last, l.entries)
	}
	block := int(h.block())
	if block < EntryHeaderSize {
		return nil, fmt.Errorf("%w: block size %d", ErrCorrupt, block)
	}
	out := make([]Entry, 0, last-first+1)
	buf := make([]byte, block)
	for sno := first; ; sno++ {
		if err := l.readAt(buf, l.slot(&h, sno)); err != nil {
			return out, err
		}
		e := decodeEntryHeader(buf)
		if e.Magic != EntryMagic {
			return out, fmt.Errorf("%w: slot for serial number %d has magic %#x", ErrCorrupt, sno, e.Magic)
		}
		if uint64(e.Size)+EntryHeaderSize > uint64(block) {
			return out, fmt.Errorf("%w: entry %d of %d bytes in %d-byte blocks", ErrCorrupt, e.Sno, e.Size, block)
		}
		if e.Size > 0 {
			e.Data = append([]byte(nil), buf[entryDataOffset:entryDataOffset+int(e.Size)]...)
		}
		out = append(out, e)
		if sno == last {
			return out, nil
		}
	}
}
