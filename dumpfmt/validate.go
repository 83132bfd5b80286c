package dumpfmt

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
)

// Checker checks the properties of a dump that span records: no principal
// or policy twice, and (unless Partial) a K/M master-key principal and the
// krbtgt/REALM@REALM ticket-granting principal of its realm. Feed it every
// record in order, then call Finish.
//
// Duplicates are found with a set of 64-bit hashes of the names (in their
// canonical, unescaped-then-re-escaped form, so two spellings of one name
// collide as they should). The set costs 16 to 32 bytes per record (an
// 8-byte hash and a 4-byte line number per slot of an open-addressing
// table kept between three eighths and three quarters full; measured by
// TestMemoryFlat), independent of name length. It is the only part of
// validation whose memory grows with the dump: finding duplicates in one
// pass over unsorted records needs a trace of every record. Two distinct
// names collide with probability about n²/2⁶⁵ for n records, around
// 3·10⁻⁸ for a million principals; the error names both lines so a
// reported duplicate can be confirmed by eye.
type Checker struct {
	// FileName names the dump in errors.
	FileName string
	// Partial accepts a dump of selected principals (kdb5_util dump FILE
	// NAME...), which need not contain K/M or krbtgt.
	Partial bool

	seed       maphash.Seed
	princs     nameSet
	pols       nameSet
	canon      []byte
	master     []string // realms of K/M principals seen
	tgs        []string // realms R with krbtgt/R@R seen
	principals int
	policies   int
}

// NewChecker returns an empty Checker.
func NewChecker(fileName string, partial bool) *Checker {
	return &Checker{FileName: fileName, Partial: partial, seed: maphash.MakeSeed()}
}

// Add checks one record read from the given line.
func (c *Checker) Add(rec Record, line int) error {
	switch r := rec.(type) {
	case *Principal:
		return c.principal([]byte(r.Name), line)
	case *Policy:
		return c.policy(r.Name, line)
	}
	return fmt.Errorf("dumpfmt: unknown record type %T", rec)
}

func (c *Checker) principal(name []byte, line int) error {
	c.principals++
	c.canon = appendCanonical(c.canon[:0], name)
	if first, dup := c.princs.add(maphash.Bytes(c.seed, c.canon), int32(line)); dup {
		return &ParseError{File: c.FileName, Line: line, Field: "name",
			Err: fmt.Errorf("%w: principal %q already on line %d", ErrDuplicate, name, first)}
	}
	comps, realm := realmOf(c.canon)
	switch {
	case string(comps) == "K/M":
		c.master = append(c.master, string(realm))
	case bytes.HasPrefix(comps, []byte("krbtgt/")) && bytes.Equal(comps[len("krbtgt/"):], realm):
		c.tgs = append(c.tgs, string(realm))
	}
	return nil
}

func (c *Checker) policy(name string, line int) error {
	c.policies++
	if first, dup := c.pols.add(maphash.String(c.seed, name), int32(line)); dup {
		return &ParseError{File: c.FileName, Line: line, Field: "name",
			Err: fmt.Errorf("%w: policy %q already on line %d", ErrDuplicate, name, first)}
	}
	return nil
}

// Finish reports what is missing once all records were added.
func (c *Checker) Finish() error {
	if c.Partial {
		return nil
	}
	if len(c.master) == 0 {
		return &ParseError{File: c.FileName, Err: fmt.Errorf("%w: no K/M master key principal", ErrNoMaster)}
	}
	for _, realm := range c.master {
		found := false
		for _, t := range c.tgs {
			found = found || t == realm
		}
		if !found {
			return &ParseError{File: c.FileName, Err: fmt.Errorf("%w: no krbtgt/%s@%s for the master key's realm", ErrNoMaster, realm, realm)}
		}
	}
	return nil
}

// MasterRealm returns the realm of the first K/M principal seen, or "".
func (c *Checker) MasterRealm() string {
	if len(c.master) == 0 {
		return ""
	}
	return c.master[0]
}

// ValidateOptions adjusts Validate.
type ValidateOptions struct {
	// FileName names the dump in errors.
	FileName string
	// Partial accepts a dump of selected principals, without K/M and
	// krbtgt (see Checker).
	Partial bool
	// MaxLineSize bounds one line (DefaultMaxLineSize if 0).
	MaxLineSize int
}

// Summary describes a valid dump.
type Summary struct {
	Header     Header
	Principals int
	Policies   int
	Lines      int
	Bytes      int64
	// Realm is the realm of the K/M principal ("" for a partial dump
	// without one).
	Realm string
}

// Validate reads a whole dump and reports the first problem, as a
// *ParseError, or a Summary. It checks everything the Reader checks on
// each record (checking hex without decoding it) plus what Checker checks
// across records. Memory use is the longest line plus Checker's
// per-record set.
//
// A dump cut inside a line always fails (the last line lacks its newline).
// A dump cut exactly at a line boundary is a well-formed dump of fewer
// records: MIT's format has no trailer or record count, so such a cut is
// caught only when it removes K/M or krbtgt/REALM, and otherwise must be
// caught by the transport (kprop sends the length first).
func Validate(in io.Reader, opts ValidateOptions) (Summary, error) {
	r := NewReader(in)
	r.FileName = opts.FileName
	r.MaxLineSize = opts.MaxLineSize
	r.ReuseRecord = true
	r.noDecode = true
	var s Summary
	h, err := r.Header()
	if err != nil {
		return s, err
	}
	s.Header = h
	c := NewChecker(opts.FileName, opts.Partial)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, err
		}
		switch p := rec.(type) {
		case *Principal:
			err = c.principal(r.rawName, r.line)
			s.Principals++
		case *Policy:
			err = c.policy(p.Name, r.line)
			s.Policies++
		}
		if err != nil {
			return s, err
		}
	}
	s.Lines, s.Bytes, s.Realm = r.line, r.offset, c.MasterRealm()
	return s, c.Finish()
}
