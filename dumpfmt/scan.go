package dumpfmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// errShort is returned by the field scanner when the line has no more
// fields; callers turn it into a count or syntax error for the field.
var errShort = errors.New("line ends early")

// fieldScanner walks the tab-separated fields of one line.
type fieldScanner struct {
	b []byte
	i int
}

// next returns the bytes up to the next tab (or the end of the line) and
// moves past the tab.
func (s *fieldScanner) next() ([]byte, error) {
	if s.i > len(s.b) {
		return nil, errShort
	}
	rest := s.b[s.i:]
	if j := bytes.IndexByte(rest, '\t'); j >= 0 {
		s.i += j + 1
		return rest[:j], nil
	}
	s.i = len(s.b) + 1
	return rest, nil
}

// nextN returns the next field when it is exactly n bytes long and
// followed by a tab or the end of the line, without scanning for the tab;
// otherwise it behaves like next.
func (s *fieldScanner) nextN(n int) ([]byte, error) {
	end := s.i + n
	if end < len(s.b) && s.b[end] == '\t' {
		tok := s.b[s.i:end]
		s.i = end + 1
		return tok, nil
	}
	return s.next()
}

// fastInt parses the next field as a canonical decimal in [min, max] and
// moves past it, in one pass. It reports false, consuming nothing, for
// anything unusual; the caller then takes the slow path, which explains.
func (s *fieldScanner) fastInt(min, max int64) (int64, bool) {
	if s.i >= len(s.b) {
		return 0, false
	}
	b := s.b[s.i:]
	neg := b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) > 18 {
		d = d[:18]
	}
	n := 0
	var v int64
	for n < len(d) {
		c := d[n] - '0'
		if c > 9 {
			break
		}
		v = v*10 + int64(c)
		n++
	}
	if n == 0 || n == 18 || (n > 1 && d[0] == '0') || (neg && v == 0) {
		return 0, false
	}
	if neg {
		v, n = -v, n+1
	}
	if v < min || v > max {
		return 0, false
	}
	switch {
	case n == len(b):
		s.i = len(s.b) + 1
	case b[n] == '\t':
		s.i += n + 1
	default:
		return 0, false
	}
	return v, true
}

// done reports whether all fields have been consumed.
func (s *fieldScanner) done() bool { return s.i > len(s.b) }

// rest returns what has not been consumed.
func (s *fieldScanner) rest() []byte {
	if s.i > len(s.b) {
		return nil
	}
	return s.b[s.i:]
}

// parseUint parses a canonical unsigned decimal (no sign, no leading
// zeros) no larger than max.
func parseUint(b []byte, max uint64) (uint64, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("%w: empty number", ErrSyntax)
	}
	if len(b) > 1 && b[0] == '0' {
		return 0, fmt.Errorf("%w: %q has a leading zero", ErrSyntax, truncateForError(b))
	}
	if len(b) > 20 {
		return 0, fmt.Errorf("%w: %q too long", ErrRange, truncateForError(b))
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q is not a decimal number", ErrSyntax, truncateForError(b))
		}
		d := uint64(c - '0')
		if v > max/10 || (v == max/10 && d > max%10) {
			return 0, fmt.Errorf("%w: %s exceeds %d", ErrRange, b, max)
		}
		v = v*10 + d
	}
	return v, nil
}

// parseInt parses a canonical signed decimal within [min, max].
func parseInt(b []byte, min, max int64) (int64, error) {
	if len(b) > 0 && b[0] == '-' {
		if min >= 0 {
			return 0, fmt.Errorf("%w: %q is negative", ErrSyntax, truncateForError(b))
		}
		if len(b) == 2 && b[1] == '0' {
			return 0, fmt.Errorf("%w: \"-0\"", ErrSyntax)
		}
		u, err := parseUint(b[1:], uint64(-min))
		if err != nil {
			if errors.Is(err, ErrRange) {
				return 0, fmt.Errorf("%w: %s below %d", ErrRange, b, min)
			}
			return 0, fmt.Errorf("%w: %q is not a decimal number", ErrSyntax, truncateForError(b))
		}
		return -int64(u), nil
	}
	u, err := parseUint(b, uint64(max))
	if err != nil {
		return 0, err
	}
	if int64(u) < min {
		return 0, fmt.Errorf("%w: %s below %d", ErrRange, b, min)
	}
	return int64(u), nil
}

const hexDigits = "0123456789abcdef"

// hexVal maps a byte to its value as a lower-case hex digit, or 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < 16; i++ {
		t[hexDigits[i]] = byte(i)
	}
	return t
}()

// checkHex verifies that b is lower-case hex and, when dst is not nil,
// decodes it into dst (len(dst) == len(b)/2).
func checkHex(b, dst []byte) error {
	if !isHex(b) {
		return badHex(b)
	}
	if dst == nil {
		return nil
	}
	// Eight digits at a time: a digit's value is its low nibble, plus 9
	// for the letters (bit 6 set); then pair the nibbles and pack the
	// even bytes together.
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		n := x&0x0f0f0f0f0f0f0f0f + 9*(x>>6&0x0101010101010101)
		t := (n<<4 | n>>8) & 0x00ff00ff00ff00ff
		t = (t | t>>8) & 0x0000ffff0000ffff
		t = t | t>>16
		binary.LittleEndian.PutUint32(dst, uint32(t))
		b, dst = b[8:], dst[4:]
	}
	for i := 0; i+1 < len(b); i += 2 {
		hi, lo := hexVal[b[i]], hexVal[b[i+1]]
		if (hi|lo)&0xf0 != 0 {
			return badHex(b)
		}
		dst[i/2] = hi<<4 | lo
	}
	return nil
}

// isHex reports whether b is all lower-case hex digits, eight bytes at a
// time (hexWord) and without a branch per word: the words' verdicts are
// ANDed and tested once at the end. When the length is not a multiple of
// eight, the last word overlaps the one before it.
func isHex(b []byte) bool {
	if len(b) < 8 {
		var acc byte
		for _, c := range b {
			acc |= hexVal[c]
		}
		return acc&0xf0 == 0
	}
	ok := hexWord(binary.LittleEndian.Uint64(b[len(b)-8:]))
	for len(b) > 8 {
		ok &= hexWord(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	return ok&hexHigh == hexHigh
}

const hexHigh = 0x8080808080808080

// hexWord returns a word whose byte i has its top bit set when byte i of x
// is a lower-case hex digit (the other bits are noise). For a byte below
// 0x80, adding 0x80-k sets its top bit exactly when the byte is at least
// k, without carrying into the next byte. The four tests below are
// nested (at least '0', ':', 'a', 'g'), so a digit passes exactly one and
// a letter exactly three: their XOR is the answer. A byte of 0x80 or more
// is refused by the final &^ x; its carry may spoil a later byte's
// verdict, but the word fails anyway.
func hexWord(x uint64) uint64 {
	const ones = 0x0101010101010101
	ge := func(k uint64) uint64 { return x + (0x80-k)*ones }
	return (ge('0') ^ ge('9'+1) ^ ge('a') ^ ge('f'+1)) &^ x
}

func badHex(b []byte) error {
	for i, c := range b {
		if hexVal[c] == 0xff {
			return fmt.Errorf("%w: byte %q at hex offset %d", ErrHex, c, i)
		}
	}
	return ErrHex
}

// appendHex appends the lower-case hex form of b, or "-1" when b is empty,
// as MIT's dump_octets_or_minus1 does.
func appendHex(dst, b []byte) []byte {
	if len(b) == 0 {
		return append(dst, '-', '1')
	}
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

func appendInt(dst []byte, v int64) []byte   { return strconv.AppendInt(dst, v, 10) }
func appendUint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }
