package xdr

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sentinel errors a *DecodeError unwraps to.
var (
	// ErrShort reports input that ends before the item being decoded.
	ErrShort = errors.New("xdr: input too short")
	// ErrTooLong reports a length or count above the caller's bound.
	ErrTooLong = errors.New("xdr: length above bound")
	// ErrPadding reports non-zero bytes in the padding of an opaque item.
	ErrPadding = errors.New("xdr: non-zero padding")
	// ErrBool reports a boolean that is neither 0 nor 1.
	ErrBool = errors.New("xdr: boolean not 0 or 1")
	// ErrRange reports an integer outside the range of its declared type
	// (a short that does not fit 16 bits).
	ErrRange = errors.New("xdr: integer out of range")
	// ErrTrailing reports bytes left after a complete item.
	ErrTrailing = errors.New("xdr: trailing bytes")
)

// A DecodeError says where in the input decoding failed and why.
type DecodeError struct {
	Offset int    // byte offset of the failing item in the input
	What   string // what was being decoded, e.g. "opaque length"
	Err    error  // one of the sentinels above, or an error set with Fail
}

// Error renders the offset, the item and the cause.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("xdr: %s at offset %d: %v", e.What, e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// Pad returns the number of zero bytes that follow n bytes of opaque data.
func Pad(n int) int { return (4 - n%4) % 4 }

// AppendUint32 appends v as an XDR unsigned int.
func AppendUint32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

// AppendInt32 appends v as an XDR int.
func AppendInt32(b []byte, v int32) []byte { return AppendUint32(b, uint32(v)) }

// AppendInt16 appends v as an XDR int: a short takes four bytes on the
// wire, sign-extended.
func AppendInt16(b []byte, v int16) []byte { return AppendInt32(b, int32(v)) }

// AppendBool appends v as an XDR bool (1 or 0).
func AppendBool(b []byte, v bool) []byte {
	if v {
		return AppendUint32(b, 1)
	}
	return AppendUint32(b, 0)
}

// AppendFixedOpaque appends p without a length, zero-padded to a multiple
// of four bytes.
func AppendFixedOpaque(b, p []byte) []byte {
	b = append(b, p...)
	return append(b, make([]byte, Pad(len(p)))...)
}

// AppendOpaque appends p as variable-length opaque data: its length, the
// bytes and zero padding. It panics if p is longer than 2^32-1 bytes,
// which XDR cannot express.
func AppendOpaque(b, p []byte) []byte {
	return AppendFixedOpaque(AppendUint32(b, count(len(p))), p)
}

// AppendCount appends the element count of a variable-length array. It
// panics if n does not fit in 32 bits.
func AppendCount(b []byte, n int) []byte { return AppendUint32(b, count(n)) }

func count(n int) uint32 {
	if n < 0 || uint64(n) > 0xffffffff {
		panic("xdr: length does not fit in 32 bits")
	}
	return uint32(n)
}

// A Decoder reads XDR items from a byte slice. The first failure is kept:
// later reads return zero values and Err reports the first error, so a
// caller can decode a whole structure and check once. Nothing is
// allocated from a length or count in the input before the input has
// been checked to hold that many bytes.
type Decoder struct {
	b   []byte
	off int
	err error
}

// NewDecoder returns a Decoder reading b. The Decoder does not modify b;
// Opaque and FixedOpaque return copies.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err returns the first decoding error, or nil.
func (d *Decoder) Err() error { return d.err }

// Offset returns the number of bytes consumed so far.
func (d *Decoder) Offset() int { return d.off }

// Len returns the number of bytes not yet consumed.
func (d *Decoder) Len() int { return len(d.b) - d.off }

// Fail records err (wrapped in a *DecodeError at the current offset) as
// the decoder's error unless one is already set. Type decoders use it to
// report semantic checks, such as an unknown discriminant.
func (d *Decoder) Fail(what string, err error) {
	if d.err == nil {
		d.err = &DecodeError{Offset: d.off, What: what, Err: err}
	}
}

func (d *Decoder) failAt(off int, what string, err error) {
	if d.err == nil {
		d.err = &DecodeError{Offset: off, What: what, Err: err}
	}
}

// End records ErrTrailing unless every byte has been consumed, and
// returns Err.
func (d *Decoder) End() error {
	if d.err == nil && d.Len() != 0 {
		d.Fail(fmt.Sprintf("%d bytes after the end", d.Len()), ErrTrailing)
	}
	return d.err
}

func (d *Decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || d.Len() < n {
		d.Fail(what, ErrShort)
		return nil
	}
	p := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return p
}

// Uint32 reads an unsigned int.
func (d *Decoder) Uint32() uint32 {
	p := d.take(4, "unsigned int")
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

// Int32 reads an int.
func (d *Decoder) Int32() int32 { return int32(d.Uint32()) }

// Int16 reads a short: four bytes holding a value in [-32768, 32767], as
// MIT's xdr_short requires.
func (d *Decoder) Int16() int16 {
	off := d.off
	v := d.Int32()
	if v < -32768 || v > 32767 {
		d.failAt(off, "short", ErrRange)
		return 0
	}
	return int16(v)
}

// Bool reads a bool. Only 0 and 1 are accepted: MIT's xdr_bool would read
// any other value as true, but no XDR encoder writes one, and refusing it
// keeps decoding and re-encoding byte-identical.
func (d *Decoder) Bool() bool {
	off := d.off
	switch d.Uint32() {
	case 0:
		return false
	case 1:
		return true
	}
	d.failAt(off, "bool", ErrBool)
	return false
}

// FixedOpaque reads n bytes of opaque data and their padding, and returns
// a copy of the data (nil for n = 0). Padding must be zero.
func (d *Decoder) FixedOpaque(n int) []byte {
	off := d.off
	p := d.take(n, "fixed opaque")
	if p == nil && d.err != nil {
		return nil
	}
	pad := d.take(Pad(n), "opaque padding")
	for _, c := range pad {
		if c != 0 {
			d.failAt(off+n, "opaque padding", ErrPadding)
			return nil
		}
	}
	if d.err != nil || n == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

// Opaque reads variable-length opaque data of at most max bytes and
// returns a copy (nil for length zero).
func (d *Decoder) Opaque(max int) []byte {
	off := d.off
	n := d.Uint32()
	if d.err != nil {
		return nil
	}
	if uint64(n) > uint64(max) {
		d.failAt(off, fmt.Sprintf("opaque length %d (bound %d)", n, max), ErrTooLong)
		return nil
	}
	if uint64(d.Len()) < uint64(n) {
		d.failAt(off, fmt.Sprintf("opaque of %d bytes", n), ErrShort)
		return nil
	}
	return d.FixedOpaque(int(n))
}

// Count reads the element count of a variable-length array with at most
// max elements, each taking at least minSize bytes on the wire (at least
// 4 for any XDR item). A count the remaining input cannot hold fails with
// ErrShort before the caller allocates anything for it.
func (d *Decoder) Count(max, minSize int) int {
	off := d.off
	n := d.Uint32()
	if d.err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		d.failAt(off, fmt.Sprintf("array count %d (bound %d)", n, max), ErrTooLong)
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if uint64(n)*uint64(minSize) > uint64(d.Len()) {
		d.failAt(off, fmt.Sprintf("array of %d items in %d bytes", n, d.Len()), ErrShort)
		return 0
	}
	return int(n)
}
