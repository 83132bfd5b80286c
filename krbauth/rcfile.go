package krbauth

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"syscall"
	"time"

	"github.com/gokprop/gokprop/internal/filelock"
	"github.com/gokprop/gokprop/krb5"
)

// MIT's file2 layout (src/lib/krb5/rcache/rc_file2.c).
const (
	rcSeedLen      = 16
	rcTagLen       = 12
	rcRecordLen    = rcTagLen + 4
	rcFirstRecords = 1023
	rcMaxSize      = math.MaxInt32
)

// replayFileError is a failure to use a file replay cache: Op is what was
// being done ("open", "lock", "read", "write", "sync", "owner", "size"),
// Path the file, Err the cause (a syscall.Errno for system errors). It is
// reported to the peer as MIT reports it, by the errno's text alone.
type replayFileError struct {
	Op, Path string
	Err      error
}

// Error names the operation, the file and the cause.
func (e *replayFileError) Error() string {
	return "replay cache " + e.Op + " " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *replayFileError) Unwrap() error { return e.Err }

// storeFile2 checks and records tag in the file2 cache at path, as MIT's
// k5_rcfile2_store does. dfl adds the dfl type's safety: no symbolic link
// followed, and the file must belong to the effective user.
func storeFile2(path string, dfl bool, tag []byte, now time.Time, skew time.Duration) error {
	fail := func(op string, err error) error {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &replayFileError{Op: op, Path: path, Err: err}
	}
	flags := os.O_RDWR | os.O_CREATE
	if dfl {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return fail("open", err)
	}
	defer f.Close()
	if dfl {
		st, err := f.Stat()
		sys, ok := st.Sys().(*syscall.Stat_t)
		if err != nil || !ok || int(sys.Uid) != os.Geteuid() {
			// MIT: EIO, "Replay cache file %s is not owned by uid %lu".
			return fail("owner", fmt.Errorf("%w (uid %d): %w", errNotOwned, os.Geteuid(), syscall.EIO))
		}
	}
	var t [rcTagLen]byte
	copy(t[:], tag) // the first 12 bytes, or the tag zero-padded
	if err := filelock.Lock(f, filelock.Exclusive, true); err != nil {
		return fail("lock", err)
	}
	defer filelock.Lock(f, filelock.Unlock, false)
	st := uint32(now.Unix())
	sk := uint32(skew / time.Second)
	if err := rcStore(f, t, st, sk); err != nil {
		if errors.Is(err, krb5.ErrReplay) {
			return err
		}
		var rfe *replayFileError
		if errors.As(err, &rfe) {
			rfe.Path = path
			return rfe
		}
		return fail("write", err)
	}
	return nil
}

// rcFile is what rcStore needs of the cache file.
type rcFile interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
}

// rcStore is MIT's store() on an open, locked file: find tag in the chain
// of tables or the first free, expired or missing record on its way, and
// write tag there with time now.
func rcStore(f rcFile, tag [rcTagLen]byte, now, skew uint32) error {
	var seed [rcSeedLen]byte
	n, err := f.ReadAt(seed[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return &replayFileError{Op: "read", Err: errnoOf(err)}
	}
	if n < rcSeedLen {
		if _, err := rand.Read(seed[:]); err != nil {
			return &replayFileError{Op: "seed", Err: err}
		}
		if _, err := f.WriteAt(seed[:], 0); err != nil {
			return &replayFileError{Op: "write", Err: errnoOf(err)}
		}
	}
	var tableOff, nrecords int64 = -1, 0
	avail := int64(-1)
	for {
		if !rcNextTable(&tableOff, &nrecords) {
			return &replayFileError{Op: "size", Err: syscall.EOVERFLOW}
		}
		ind := int64(sipHash24(tag[:], seed) % uint64(nrecords))
		off := tableOff + ind*rcRecordLen
		var buf [2 * rcRecordLen]byte
		n, err := f.ReadAt(buf[:], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return &replayFileError{Op: "read", Err: errnoOf(err)}
		}
		nread := n / rcRecordLen
		r1tag, r2tag := buf[:rcTagLen], buf[rcRecordLen:rcRecordLen+rcTagLen]
		r1stamp := binary.BigEndian.Uint32(buf[rcTagLen:])
		r2stamp := binary.BigEndian.Uint32(buf[rcRecordLen+rcTagLen:])
		if (nread >= 1 && r1stamp != 0 && string(r1tag) == string(tag[:])) ||
			(nread == 2 && r2stamp != 0 && string(r2tag) == string(tag[:])) {
			return fmt.Errorf("authenticator already in the replay cache: %w", krb5.ErrReplay)
		}
		if avail == -1 {
			switch {
			case nread == 0 || r1stamp == 0 || rcExpired(r1stamp, now, skew):
				avail = off
			case nread == 1 || r2stamp == 0 || rcExpired(r2stamp, now, skew):
				avail = off + rcRecordLen
			}
		}
		if nread < 2 || r1stamp == 0 || r2stamp == 0 {
			var rec [rcRecordLen]byte
			copy(rec[:], tag[:])
			binary.BigEndian.PutUint32(rec[rcTagLen:], now)
			if _, err := f.WriteAt(rec[:], avail); err != nil {
				return &replayFileError{Op: "write", Err: errnoOf(err)}
			}
			// MIT does not sync; we do, so that an accepted
			// authenticator survives a power failure.
			if err := f.Sync(); err != nil {
				return &replayFileError{Op: "sync", Err: errnoOf(err)}
			}
			return nil
		}
		seed[0]++
	}
}

// rcNextTable advances to the next table, as MIT's next_table; false when
// it would not fit in the maximum file size.
func rcNextTable(off, nrecords *int64) bool {
	switch {
	case *off == -1:
		*off, *nrecords = rcSeedLen, rcFirstRecords
	case *off == rcSeedLen:
		*off += *nrecords * rcRecordLen
		*nrecords = (rcFirstRecords + 1) * 2
	default:
		*off += *nrecords * rcRecordLen
		*nrecords *= 2
	}
	return *nrecords <= rcMaxSize/rcRecordLen && *off <= rcMaxSize-*nrecords*rcRecordLen
}

// rcExpired is MIT's expired(): now is after stamp + skew, in MIT's
// wrapping 32-bit arithmetic.
func rcExpired(stamp, now, skew uint32) bool { return now > stamp+skew }

// errnoOf returns the errno inside err, or err.
func errnoOf(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// sipHash24 is SipHash-2-4 of data keyed by seed (two little-endian
// 64-bit words), as MIT's k5_siphash24.
func sipHash24(data []byte, seed [rcSeedLen]byte) uint64 {
	k0 := binary.LittleEndian.Uint64(seed[:8])
	k1 := binary.LittleEndian.Uint64(seed[8:])
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v2 += v3
		v1 = bits.RotateLeft64(v1, 13) ^ v0
		v3 = bits.RotateLeft64(v3, 16) ^ v2
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v1
		v0 += v3
		v1 = bits.RotateLeft64(v1, 17) ^ v2
		v3 = bits.RotateLeft64(v3, 21) ^ v0
		v2 = bits.RotateLeft64(v2, 32)
	}
	compress := func(m uint64) {
		v3 ^= m
		round()
		round()
		v0 ^= m
	}
	n := len(data)
	for len(data) >= 8 {
		compress(binary.LittleEndian.Uint64(data))
		data = data[8:]
	}
	var last [8]byte
	copy(last[:], data)
	last[7] = byte(n)
	compress(binary.LittleEndian.Uint64(last[:]))
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
