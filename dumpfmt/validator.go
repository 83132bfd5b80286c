package dumpfmt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Validator checks a dump written to it in pieces of any size, as it
// arrives from the network: a KRB-PRIV chunk that ends in the middle of a
// line is fine. It checks exactly what Validate checks (Validate is a
// Validator fed from a reader) and reports the same errors, whatever the
// pieces' boundaries.
//
// Complete lines are checked where they lie in the caller's buffer; only
// the unfinished last line of a Write is copied, to be completed by the
// next. Memory use is therefore one line (at most MaxLineSize) plus the
// Checker's duplicate set, and once the line buffer has grown to the
// longest line, Write allocates nothing except when the duplicate set
// doubles.
//
// A Validator is not safe for concurrent use.
type Validator struct {
	opts ValidateOptions
	max  int

	// r parses the lines the fast path is not sure about, and reports
	// their errors; it never reads (r.br is nil).
	r       Reader
	check   Checker
	hdrDone bool
	s       Summary

	carry  []byte // the unfinished line, without its '\n'
	rbuf   []byte // ReadFrom's and WriteString's buffer
	err    error
	closed bool
}

// errClosed is returned by Write after Close.
var errClosed = errors.New("dumpfmt: Write after Close")

// NewValidator returns a Validator checking a dump with the given options.
func NewValidator(opts ValidateOptions) *Validator {
	v := &Validator{opts: opts, max: opts.MaxLineSize}
	if v.max <= 0 {
		v.max = DefaultMaxLineSize
	}
	v.r.FileName = opts.FileName
	v.r.ReuseRecord = true
	v.r.noDecode = true
	v.check = *NewChecker(opts.FileName, opts.Partial)
	v.check.Sorted = opts.Duplicates == DuplicatesSorted
	return v
}

// Write checks the complete lines in p, keeping an unfinished last line
// for the next Write. It returns len(p) and nil, or 0 and the first
// problem in the dump, as a *ParseError. Once it has returned an error,
// every later Write and Close returns that error too.
func (v *Validator) Write(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.closed {
		return 0, errClosed
	}
	err := v.write(p)
	// Duplicate checks may be pending for lines before the one at fault
	// (see Checker.queuePrincipal), and p is the caller's: run them now.
	if ferr := v.check.flush(); ferr != nil {
		err = ferr
	}
	if err != nil {
		v.err = err
		return 0, err
	}
	return len(p), nil
}

func (v *Validator) write(p []byte) error {
	if len(v.carry) > 0 {
		nl := bytes.IndexByte(p, '\n')
		if nl < 0 {
			return v.keep(p)
		}
		if len(v.carry)+nl > v.max {
			return v.tooLong()
		}
		v.carry = append(v.carry, p[:nl+1]...)
		if _, err := v.next(v.carry); err != nil {
			return err
		}
		p = p[nl+1:]
	}
	// Lines that lie whole in p are checked in place.
	for len(p) > 0 {
		n, err := v.next(p)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		p = p[n:]
	}
	// Pending duplicate checks may refer to the line buffer, which keep
	// overwrites.
	if err := v.check.flush(); err != nil {
		return err
	}
	if cap(v.carry) > 4<<20 {
		// Do not keep a huge buffer for the rest of the dump.
		v.carry = nil
	}
	v.carry = v.carry[:0]
	return v.keep(p)
}

// next checks the line at the start of b and returns its length, newline
// included, or 0 if b holds no complete line. Principal lines go to the
// fast path, which finds their end itself, without a search for the
// newline; anything it is not sure about goes to line.
func (v *Validator) next(b []byte) (int, error) {
	if n, err := v.fastLine(b); n > 0 || err != nil {
		return n, err
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return 0, nil
	}
	return nl + 1, v.line(b[:nl+1])
}

// keep appends the start (or more) of an unfinished line to the line
// buffer.
func (v *Validator) keep(rest []byte) error {
	if len(v.carry)+len(rest) > v.max {
		return v.tooLong()
	}
	v.carry = append(v.carry, rest...)
	return nil
}

func (v *Validator) tooLong() error {
	return &ParseError{File: v.opts.FileName, Line: v.s.Lines + 1,
		Err: fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, v.max)}
}

// line checks one complete line, l, which ends with its '\n' and has no
// other, with the Reader's parser.
func (v *Validator) line(l []byte) error {
	if len(l)-1 > v.max {
		return v.tooLong()
	}
	v.s.Lines++
	v.s.Bytes += int64(len(l))
	if !v.hdrDone {
		v.hdrDone = true
		h, field, err := parseHeader(l[:len(l)-1])
		if err != nil {
			return &ParseError{File: v.opts.FileName, Line: 1, Field: field, Err: err}
		}
		v.r.hdr, v.s.Header = h, h
		return nil
	}
	// The slow path: the Reader's parser decides and explains.
	v.r.line = v.s.Lines
	rec, err := v.r.parseRecord(l[:len(l)-1])
	if err != nil {
		return err
	}
	switch p := rec.(type) {
	case *Principal:
		v.s.Principals++
		err = v.check.principal(v.r.rawName, v.s.Lines)
	case *Policy:
		v.s.Policies++
		err = v.check.policy(p.Name, v.s.Lines)
	}
	return err
}

// fastLine checks the line at the start of b with the fast path and
// returns its length, newline included, or 0 when the fast path is not
// sure about it (or it is the header, or longer than the limit).
func (v *Validator) fastLine(b []byte) (int, error) {
	const prefix = "princ\t"
	if !v.hdrDone || len(b) <= len(prefix) || string(b[:len(prefix)]) != prefix {
		return 0, nil
	}
	name, at, n, ok := fastPrincipal(b[len(prefix):])
	if n += len(prefix); !ok || n-1 > v.max {
		return 0, nil
	}
	v.s.Lines++
	v.s.Bytes += int64(n)
	v.s.Principals++
	return n, v.check.queuePrincipal(name, name, name[:at], name[at+1:], v.s.Lines)
}

// ReadFrom writes everything r yields to v, reading into a buffer of its
// own, and returns the number of bytes read. It stops at the first
// problem in the dump and returns it, or at the first error from r other
// than io.EOF, which it returns unchanged. io.Copy uses it.
func (v *Validator) ReadFrom(r io.Reader) (int64, error) {
	buf := v.buffer()
	var n int64
	for {
		m, err := r.Read(buf)
		n += int64(m)
		if m > 0 {
			if _, werr := v.Write(buf[:m]); werr != nil {
				return n, werr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// WriteString is Write for a string, copied through a buffer of the
// Validator's own a piece at a time (io.WriteString and strings.Reader
// use it).
func (v *Validator) WriteString(s string) (int, error) {
	if len(s) == 0 {
		return v.Write(nil)
	}
	buf := v.buffer()
	for done := 0; done < len(s); {
		n := copy(buf, s[done:])
		if _, err := v.Write(buf[:n]); err != nil {
			return 0, err
		}
		done += n
	}
	return len(s), nil
}

func (v *Validator) buffer() []byte {
	if v.rbuf == nil {
		v.rbuf = make([]byte, 64<<10)
	}
	return v.rbuf
}

// Close reports the verdict on everything written: the first problem, as
// a *ParseError, or the Summary of a valid dump. Beyond what Write checks
// it reports a dump that is empty or ends inside a line (ErrTruncated)
// and, unless Partial, one without K/M or krbtgt/REALM@REALM
// (ErrNoMaster). Calling Close again returns the same.
func (v *Validator) Close() (Summary, error) {
	if !v.closed && v.err == nil {
		switch {
		case len(v.carry) > 0:
			v.err = &ParseError{File: v.opts.FileName, Line: v.s.Lines + 1,
				Err: fmt.Errorf("%w: last line has no newline (%d bytes)", ErrTruncated, len(v.carry))}
		case !v.hdrDone:
			v.err = &ParseError{File: v.opts.FileName,
				Err: fmt.Errorf("%w: empty input, no header", ErrTruncated)}
		default:
			v.err = v.check.Finish()
		}
	}
	v.closed = true
	return v.summary(), v.err
}

// summary returns what is known so far.
func (v *Validator) summary() Summary {
	s := v.s
	s.Realm = v.check.MasterRealm()
	s.Unsorted = v.check.Unsorted()
	return s
}
