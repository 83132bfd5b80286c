package dumpfmt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// DefaultMaxLineSize is the longest line a Reader accepts unless told
// otherwise. MIT's own limits allow lines of several gigabytes (32767
// tl-data of 65535 bytes each); real principals stay far below a megabyte.
const DefaultMaxLineSize = 64 << 20

// Reader reads a kdb5_util dump one record at a time, in memory bounded by
// the longest line. It accepts exactly what MIT's kdb5_util dump writes
// (canonical decimal numbers, lower-case hex, MIT's separators), so that a
// Writer reproduces every accepted dump byte for byte; anything else is
// reported as a *ParseError.
//
// Reader checks each record on its own. File-wide properties (the K/M
// principal, duplicates) are checked by Validate and Checker.
type Reader struct {
	// FileName names the input in errors; "-" if empty.
	FileName string
	// ReuseRecord makes Next return the same *Principal or *Policy each
	// time, with byte slices that are overwritten by the next call, saving
	// allocations. Use Clone to keep a record.
	ReuseRecord bool
	// MaxLineSize bounds the length of one line (DefaultMaxLineSize if 0).
	MaxLineSize int

	br      *bufio.Reader
	line    int
	offset  int64
	hdr     Header
	hdrDone bool
	hdrErr  error
	err     error
	long    []byte

	// noDecode makes the parser check hex without decoding it and leave
	// Principal.Name empty (the name is in rawName); Validate uses it.
	noDecode bool
	rawName  []byte

	princ Principal
	pol   Policy
	arena []byte
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Reader{br: br}
}

// Header reads the header line, if not read yet, and returns it.
func (r *Reader) Header() (Header, error) {
	if !r.hdrDone {
		r.readHeader()
	}
	return r.hdr, r.hdrErr
}

// Line returns the number of the last line read (the header is line 1).
func (r *Reader) Line() int { return r.line }

// Offset returns the number of bytes consumed so far.
func (r *Reader) Offset() int64 { return r.offset }

func (r *Reader) readHeader() {
	r.hdrDone = true
	line, err := r.readLine()
	if err != nil {
		if err == io.EOF {
			err = r.errorf(0, "", fmt.Errorf("%w: empty input, no header", ErrTruncated))
		}
		r.err, r.hdrErr = err, err
		return
	}
	h, field, err := parseHeader(line)
	if err != nil {
		r.err = r.errorf(r.line, field, err)
		r.hdrErr = r.err
		return
	}
	r.hdr = h
}

// Next returns the next record, a *Principal or a *Policy, or io.EOF after
// the last one. After an error other than io.EOF, Next keeps returning that
// error.
func (r *Reader) Next() (Record, error) {
	if !r.hdrDone {
		r.readHeader()
	}
	if r.err != nil {
		return nil, r.err
	}
	line, err := r.readLine()
	if err != nil {
		r.err = err
		return nil, err
	}
	rec, err := r.parseRecord(line)
	if err != nil {
		r.err = err
		return nil, err
	}
	return rec, nil
}

// readLine returns the next line without its newline. The slice is valid
// until the next call.
func (r *Reader) readLine() ([]byte, error) {
	max := r.MaxLineSize
	if max <= 0 {
		max = DefaultMaxLineSize
	}
	b, err := r.br.ReadSlice('\n')
	if err == nil {
		r.line++
		r.offset += int64(len(b))
		if len(b)-1 > max {
			return nil, r.tooLong(max)
		}
		return b[:len(b)-1], nil
	}
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], b...)
		for {
			if len(r.long) > max {
				r.line++
				return nil, r.tooLong(max)
			}
			b, err = r.br.ReadSlice('\n')
			r.long = append(r.long, b...)
			if err == nil {
				r.line++
				r.offset += int64(len(r.long))
				if len(r.long)-1 > max {
					return nil, r.tooLong(max)
				}
				line := r.long[:len(r.long)-1]
				if cap(r.long) > 4<<20 {
					// Do not keep a huge buffer for the rest of the file.
					r.long = nil
				}
				return line, nil
			}
			if err != bufio.ErrBufferFull {
				b = r.long
				break
			}
		}
	}
	if err == io.EOF {
		if len(b) == 0 {
			return nil, io.EOF
		}
		r.line++
		r.offset += int64(len(b))
		if len(b) > max {
			return nil, r.tooLong(max)
		}
		return nil, r.errorf(r.line, "", fmt.Errorf("%w: last line has no newline (%d bytes)", ErrTruncated, len(b)))
	}
	return nil, err
}

// tooLong reports that line r.line is longer than max. The message does
// not depend on how far past max the line was read, so that it does not
// depend on buffer sizes, and the Validator, which stops reading a line at
// max whatever the size of the writes, says the same.
func (r *Reader) tooLong(max int) error {
	return r.errorf(r.line, "", fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, max))
}

func (r *Reader) errorf(line int, field string, err error) error {
	return &ParseError{File: r.FileName, Line: line, Field: field, Err: err}
}

// fieldName names a field for an error without formatting on the hot path.
type fieldName struct {
	base string
	i, j int // indexes; -1 when absent
	sub  string
}

func (f fieldName) String() string {
	s := f.base
	if f.i >= 0 {
		s += "[" + strconv.Itoa(f.i) + "]"
	}
	if f.sub != "" {
		s += "." + f.sub
	}
	if f.j >= 0 {
		s += "[" + strconv.Itoa(f.j) + "]"
	}
	return s
}

func fld(name string) fieldName { return fieldName{base: name, i: -1, j: -1} }

func (r *Reader) fieldErr(f fieldName, err error) error {
	return r.errorf(r.line, f.String(), err)
}

func (r *Reader) parseRecord(line []byte) (Record, error) {
	switch {
	case bytes.HasPrefix(line, []byte("princ\t")):
		p := &r.princ
		if !r.ReuseRecord {
			p = new(Principal)
		}
		if err := r.parsePrincipal(line[len("princ\t"):], p); err != nil {
			return nil, err
		}
		return p, nil
	case bytes.HasPrefix(line, []byte("policy\t")):
		p := &r.pol
		if !r.ReuseRecord {
			p = new(Policy)
		}
		if err := r.parsePolicy(line[len("policy\t"):], p); err != nil {
			return nil, err
		}
		return p, nil
	}
	typ := line
	if i := bytes.IndexAny(line, "\t "); i >= 0 {
		typ = line[:i]
	}
	return nil, r.fieldErr(fld("record-type"), fmt.Errorf("%w: unknown record type %q", ErrSyntax, truncateForError(typ)))
}

// num reads the next field as a signed number in [min, max].
func (r *Reader) num(s *fieldScanner, f fieldName, min, max int64) (int64, error) {
	if v, ok := s.fastInt(min, max); ok {
		return v, nil
	}
	return r.numSlow(s, f, min, max)
}

// numSlow parses what fastInt refused, to explain what is wrong.
func (r *Reader) numSlow(s *fieldScanner, f fieldName, min, max int64) (int64, error) {
	b, err := s.next()
	if err != nil {
		return 0, r.fieldErr(f, fmt.Errorf("%w: line ends before this field", ErrCount))
	}
	v, err := parseInt(b, min, max)
	if err != nil {
		return 0, r.fieldErr(f, err)
	}
	return v, nil
}

// hexLen is the width of a contents field of the given length.
func hexLen(length int64) int {
	if length == 0 {
		return 2 // "-1"
	}
	return 2 * int(length)
}

// arenaFor prepares the buffer decoded contents are carved from; n bounds
// the decoded size of the line.
func (r *Reader) arenaFor(n int) []byte {
	if r.noDecode {
		return nil
	}
	if r.ReuseRecord {
		if cap(r.arena) < n {
			r.arena = make([]byte, 0, n)
		}
		return r.arena[:0]
	}
	return make([]byte, 0, n)
}

// octets reads a hex field of the given declared length ("-1" when zero),
// carving decoded bytes from *arena. Returns nil contents for length 0 and
// in validation mode.
func (r *Reader) octets(tok []byte, length int, f fieldName, arena *[]byte) ([]byte, error) {
	if length == 0 {
		if len(tok) != 2 || tok[0] != '-' || tok[1] != '1' {
			return nil, r.fieldErr(f, fmt.Errorf("%w: length 0 must be written -1, found %q", ErrLength, truncateForError(tok)))
		}
		return nil, nil
	}
	if len(tok) != 2*length {
		if len(tok) == 2 && tok[0] == '-' && tok[1] == '1' {
			return nil, r.fieldErr(f, fmt.Errorf("%w: length %d but contents absent (-1)", ErrLength, length))
		}
		return nil, r.fieldErr(f, fmt.Errorf("%w: length %d but %d hex digits", ErrLength, length, len(tok)))
	}
	var dst []byte
	a := *arena
	start := len(a)
	if !r.noDecode {
		a = a[:start+length]
		dst = a[start:]
	}
	if err := checkHex(tok, dst); err != nil {
		// The scanner took the declared width without looking for tabs;
		// a tab inside means the contents are shorter than declared.
		if i := bytes.IndexByte(tok, '\t'); i >= 0 {
			if i == 2 && tok[0] == '-' && tok[1] == '1' {
				return nil, r.fieldErr(f, fmt.Errorf("%w: length %d but contents absent (-1)", ErrLength, length))
			}
			return nil, r.fieldErr(f, fmt.Errorf("%w: length %d but %d hex digits", ErrLength, length, i))
		}
		return nil, r.fieldErr(f, err)
	}
	if r.noDecode {
		return nil, nil
	}
	*arena = a
	return a[start : start+length : start+length], nil
}

func (r *Reader) parsePrincipal(line []byte, p *Principal) error {
	s := fieldScanner{b: line}
	baseLen, err := r.num(&s, fld("len"), 0, 1<<15-1)
	if err != nil {
		return err
	}
	nameLen, err := r.num(&s, fld("name-length"), 0, 1<<31-1)
	if err != nil {
		return err
	}
	nTL, err := r.num(&s, fld("n_tl_data"), 0, 1<<15-1)
	if err != nil {
		return err
	}
	nKey, err := r.num(&s, fld("n_key_data"), 0, 1<<15-1)
	if err != nil {
		return err
	}
	eLen, err := r.num(&s, fld("e_length"), 0, 1<<15-1)
	if err != nil {
		return err
	}
	// The name is exactly name-length bytes followed by a tab.
	rest := s.rest()
	if int64(len(rest)) <= nameLen || rest[nameLen] != '\t' {
		actual := rest
		if i := bytes.IndexByte(rest, '\t'); i >= 0 {
			actual = rest[:i]
		}
		return r.fieldErr(fld("name"), fmt.Errorf("%w: name-length %d disagrees with name %q (%d bytes)", ErrName, nameLen, truncateForError(actual), len(actual)))
	}
	name := rest[:nameLen]
	if err := checkName(name); err != nil {
		return r.fieldErr(fld("name"), err)
	}
	s.i += int(nameLen) + 1
	// Count check before parsing: after the name come 8 fixed fields, 3
	// per tl-data, the tab closing the tl-data, and per key 2 + 3 per
	// (type, contents) pair, which is 1 or 2 pairs.
	tabs := int64(bytes.Count(s.rest(), []byte{'\t'}))
	if lo, hi := 8+3*nTL+5*nKey, 8+3*nTL+8*nKey; tabs < lo || tabs > hi {
		return r.fieldErr(fld("n_tl_data"), fmt.Errorf("%w: n_tl_data=%d and n_key_data=%d need %d to %d fields after the name, line has %d",
			ErrCount, nTL, nKey, lo, hi, tabs))
	}

	var v [8]int64
	for i, f := range &principalFixed {
		if v[i], err = r.num(&s, fld(f.name), f.min, f.max); err != nil {
			return err
		}
	}

	arena := r.arenaFor(len(line) / 2)
	tl := p.TLData[:0]
	if !r.ReuseRecord {
		tl = make([]TLData, 0, min(int(nTL), len(line)/6+1))
	}
	for i := 0; i < int(nTL); i++ {
		t, err := r.tlData(&s, i, &arena, nTL)
		if err != nil {
			return err
		}
		tl = append(tl, t)
	}
	keys := p.KeyData[:0]
	if !r.ReuseRecord {
		keys = make([]KeyData, 0, min(int(nKey), len(line)/10+1))
	}
	for i := 0; i < int(nKey); i++ {
		k, err := r.keyData(&s, i, &arena, nKey)
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	// What is left is the e_data, ';' and nothing else.
	last, err := s.next()
	if err != nil {
		return r.fieldErr(fld("e_data"), fmt.Errorf("%w: line ends before e_data", ErrCount))
	}
	if !s.done() {
		return r.fieldErr(fld("e_data"), fmt.Errorf("%w: more fields than n_tl_data=%d and n_key_data=%d account for", ErrCount, nTL, nKey))
	}
	semi := bytes.IndexByte(last, ';')
	if semi < 0 {
		return r.fieldErr(fld("e_data"), fmt.Errorf("%w: record does not end with ';'", ErrSyntax))
	}
	if semi != len(last)-1 {
		return r.fieldErr(fld("e_data"), fmt.Errorf("%w: %q after ';'", ErrTrailing, truncateForError(last[semi+1:])))
	}
	edata, err := r.octets(last[:semi], int(eLen), fld("e_data"), &arena)
	if err != nil {
		return err
	}

	if r.noDecode {
		r.rawName = name
	} else if p.Name == "" || p.Name != string(name) {
		p.Name = string(name)
	}
	p.BaseLength = int16(baseLen)
	p.Attributes = int32(v[0])
	p.MaxLife = int32(v[1])
	p.MaxRenewableLife = int32(v[2])
	p.Expiration = uint32(v[3])
	p.PasswordExpiration = uint32(v[4])
	p.LastSuccess = uint32(v[5])
	p.LastFailed = uint32(v[6])
	p.FailAuthCount = int32(v[7])
	p.TLData = tl
	p.KeyData = keys
	p.EData = edata
	if r.ReuseRecord {
		r.arena = arena
	}
	return nil
}

// principalFixed lists the fixed numeric fields of a principal after its
// name, with the ranges kdb5_util prints them in.
var principalFixed = [8]struct {
	name     string
	min, max int64
}{
	{"attributes", -1 << 31, 1<<31 - 1},
	{"max_life", -1 << 31, 1<<31 - 1},
	{"max_renewable_life", -1 << 31, 1<<31 - 1},
	{"expiration", 0, 1<<32 - 1},
	{"pw_expiration", 0, 1<<32 - 1},
	{"last_success", 0, 1<<32 - 1},
	{"last_failed", 0, 1<<32 - 1},
	{"fail_auth_count", -1 << 31, 1<<31 - 1},
}

func (r *Reader) tlData(s *fieldScanner, i int, arena *[]byte, n int64) (TLData, error) {
	f := fieldName{base: "tl-data", i: i, j: -1}
	f.sub = "type"
	typ, err := r.num(s, f, -1<<15, 1<<15-1)
	if err != nil {
		return TLData{}, err
	}
	f.sub = "length"
	length, err := r.num(s, f, 0, 1<<16-1)
	if err != nil {
		return TLData{}, err
	}
	f.sub = "contents"
	cb, err := s.nextN(hexLen(length))
	if err != nil {
		return TLData{}, r.fieldErr(f, fmt.Errorf("%w: n_tl_data is %d but the line ends", ErrCount, n))
	}
	c, err := r.octets(cb, int(length), f, arena)
	if err != nil {
		return TLData{}, err
	}
	return TLData{Type: int16(typ), Contents: c}, nil
}

func (r *Reader) keyData(s *fieldScanner, i int, arena *[]byte, n int64) (KeyData, error) {
	var k KeyData
	f := fieldName{base: "key-data", i: i, j: -1, sub: "version"}
	vb, err := s.next()
	if err != nil {
		return k, r.fieldErr(f, fmt.Errorf("%w: n_key_data is %d but the line ends", ErrCount, n))
	}
	ver, err := parseInt(vb, 1, 2)
	if err != nil {
		if errors.Is(err, ErrRange) {
			err = fmt.Errorf("%w: key data version %s, MIT writes 1 or 2", ErrRange, vb)
		}
		return k, r.fieldErr(f, err)
	}
	f.sub = "kvno"
	kvno, err := r.num(s, f, 0, 1<<16-1)
	if err != nil {
		return k, err
	}
	k.Version, k.Kvno = int16(ver), uint16(kvno)
	for j := 0; j < int(ver); j++ {
		f.j = j
		f.sub = "type"
		typ, err := r.num(s, f, -1<<15, 1<<15-1)
		if err != nil {
			return k, err
		}
		f.sub = "length"
		length, err := r.num(s, f, 0, 1<<16-1)
		if err != nil {
			return k, err
		}
		f.sub = "contents"
		cb, err := s.nextN(hexLen(length))
		if err != nil {
			return k, r.fieldErr(f, fmt.Errorf("%w: line ends before key contents", ErrCount))
		}
		c, err := r.octets(cb, int(length), f, arena)
		if err != nil {
			return k, err
		}
		if j == 0 {
			k.Enctype, k.Key = int16(typ), c
		} else {
			k.SaltType, k.Salt = int16(typ), c
		}
	}
	return k, nil
}

func (r *Reader) parsePolicy(line []byte, p *Policy) error {
	s := fieldScanner{b: line}
	name, _ := s.next()
	if err := checkPolicyName(name); err != nil {
		return r.fieldErr(fld("name"), err)
	}
	_, acc1, acc2 := r.hdr.policyForms()
	nfields := bytes.Count(line, []byte{'\t'}) // numbers after the name
	form := acc1
	switch {
	case acc1 == PolicyFormB7:
		if nfields != 6 {
			return r.fieldErr(fld("policy"), fmt.Errorf("%w: %d numbers after the name, this format has 6", ErrCount, nfields))
		}
	case acc1 == PolicyFormR18:
		if nfields != 9 {
			return r.fieldErr(fld("policy"), fmt.Errorf("%w: %d numbers after the name, this format has 9", ErrCount, nfields))
		}
	default:
		if nfields == 9 && acc2 == PolicyFormR18 {
			form = PolicyFormR18
		} else if nfields < 14 {
			return r.fieldErr(fld("policy"), fmt.Errorf("%w: %d fields after the name, this format has 9 or at least 14", ErrCount, nfields))
		}
	}
	names := [...]string{"pw_min_life", "pw_max_life", "pw_min_length", "pw_min_classes", "pw_history_num", "policy_refcnt", "pw_max_fail", "pw_failcnt_interval", "pw_lockout_duration", "attributes", "max_life", "max_renewable_life"}
	nnum := 6
	switch form {
	case PolicyFormR18:
		nnum = 9
	case PolicyFormR111:
		nnum = 12
	}
	var v [12]int64
	for i := 0; i < nnum; i++ {
		var err error
		if v[i], err = r.num(&s, fld(names[i]), -1<<31, 1<<31-1); err != nil {
			return err
		}
	}
	keysalts := ""
	var tl []TLData
	if !r.ReuseRecord {
		tl = nil
	} else {
		tl = p.TLData[:0]
	}
	if form == PolicyFormR111 {
		ks, _ := s.next()
		if err := checkKeysalts(ks); err != nil {
			return r.fieldErr(fld("allowed_keysalts"), err)
		}
		if string(ks) != "-" {
			keysalts = string(ks)
		}
		nTL, err := r.num(&s, fld("n_tl_data"), 0, 1<<15-1)
		if err != nil {
			return err
		}
		if want := 14 + 3*int(nTL); nfields != want {
			return r.fieldErr(fld("n_tl_data"), fmt.Errorf("%w: n_tl_data is %d but the line has %d tl-data fields", ErrCount, nTL, nfields-14))
		}
		arena := r.arenaFor(len(line) / 2)
		for i := 0; i < int(nTL); i++ {
			t, err := r.tlData(&s, i, &arena, nTL)
			if err != nil {
				return err
			}
			tl = append(tl, t)
		}
		if r.ReuseRecord {
			r.arena = arena
		}
	}
	if !s.done() {
		return r.fieldErr(fld("policy"), fmt.Errorf("%w: %q", ErrTrailing, truncateForError(s.rest())))
	}
	if p.Name != string(name) {
		p.Name = string(name)
	}
	p.PwMinLife, p.PwMaxLife, p.PwMinLength = int32(v[0]), int32(v[1]), int32(v[2])
	p.PwMinClasses, p.PwHistoryNum, p.PolicyRefcnt = int32(v[3]), int32(v[4]), int32(v[5])
	p.PwMaxFail, p.PwFailcntInterval, p.PwLockoutDuration = int32(v[6]), int32(v[7]), int32(v[8])
	p.Attributes, p.MaxLife, p.MaxRenewableLife = int32(v[9]), int32(v[10]), int32(v[11])
	p.AllowedKeysalts = keysalts
	p.TLData = tl
	p.Form = form
	return nil
}

// maxPolicyName and maxKeysalts are the field widths MIT's loader reads
// (1023 and KRB5_KDB_MAX_ALLOWED_KS_LEN).
const (
	maxPolicyName = 1023
	maxKeysalts   = 512
)

// isSpace reports the bytes C's isspace accepts in the "C" locale, which
// end a word read by scanf's %s.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func checkWord(b []byte, max int, kind error, what string) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty %s", kind, what)
	}
	if len(b) > max {
		return fmt.Errorf("%w: %s of %d bytes, MIT reads at most %d", kind, what, len(b), max)
	}
	for _, c := range b {
		if isSpace(c) || c == 0 {
			return fmt.Errorf("%w: %s %q contains white space or NUL", kind, what, truncateForError(b))
		}
	}
	return nil
}

func checkPolicyName(b []byte) error { return checkWord(b, maxPolicyName, ErrName, "policy name") }

func checkKeysalts(b []byte) error {
	return checkWord(b, maxKeysalts, ErrSyntax, "allowed key/salt list")
}
