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
	pending    [32]pendingName
	npending   int
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

// principal adds a principal name as written (it passed checkName).
func (c *Checker) principal(name []byte, line int) error {
	if err := c.flush(); err != nil {
		return err
	}
	c.canon = appendCanonical(c.canon[:0], name)
	comps, realm := realmOf(c.canon)
	if err := c.queuePrincipal(name, c.canon, comps, realm, line); err != nil {
		return err
	}
	return c.flush()
}

// pendingName is a principal whose duplicate check queuePrincipal
// deferred.
type pendingName struct {
	hash uint64
	line int32
	name []byte // as written, for the error message
}

// queuePrincipal adds a principal given as written and in canonical form,
// the latter split at its '@', but may defer its duplicate check to the
// next flush. name must stay unchanged until then.
//
// The deferral is for speed. In a large dump the duplicate set is much
// larger than the cache and every check is a cache miss; one check per
// line, between the parsing of lines, makes the processor wait for each
// miss in turn, while a batch of checks in a row lets it fetch them all
// at once. The first duplicate found is still the first in the dump: the
// checks run in order, and everything that can report a later line
// flushes first.
func (c *Checker) queuePrincipal(name, canon, comps, realm []byte, line int) error {
	c.principals++
	switch {
	case string(comps) == "K/M":
		c.master = append(c.master, string(realm))
	case bytes.HasPrefix(comps, []byte("krbtgt/")) && bytes.Equal(comps[len("krbtgt/"):], realm):
		c.tgs = append(c.tgs, string(realm))
	}
	c.pending[c.npending] = pendingName{maphash.Bytes(c.seed, canon), int32(line), name}
	if c.npending++; c.npending == len(c.pending) {
		return c.flush()
	}
	return nil
}

// flush runs the deferred duplicate checks, in order, and reports the
// first duplicate.
func (c *Checker) flush() error {
	pend := c.pending[:c.npending]
	c.npending = 0
	for i := range pend {
		p := &pend[i]
		if first, dup := c.princs.add(p.hash, p.line); dup {
			return &ParseError{File: c.FileName, Line: int(p.line), Field: "name",
				Err: fmt.Errorf("%w: principal %q already on line %d", ErrDuplicate, p.name, first)}
		}
	}
	clear(pend) // drop the references to the caller's buffers
	return nil
}

func (c *Checker) policy(name string, line int) error {
	if err := c.flush(); err != nil {
		return err
	}
	c.policies++
	if first, dup := c.pols.add(maphash.String(c.seed, name), int32(line)); dup {
		return &ParseError{File: c.FileName, Line: line, Field: "name",
			Err: fmt.Errorf("%w: policy %q already on line %d", ErrDuplicate, name, first)}
	}
	return nil
}

// Finish reports what is missing once all records were added.
func (c *Checker) Finish() error {
	if err := c.flush(); err != nil {
		return err
	}
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
// per-record set. Validate is a Validator fed from in; an error reading in
// is returned as it is.
//
// A dump cut inside a line always fails (the last line lacks its newline).
// A dump cut exactly at a line boundary is a well-formed dump of fewer
// records: MIT's format has no trailer or record count, so such a cut is
// caught only when it removes K/M or krbtgt/REALM, and otherwise must be
// caught by the transport (kprop sends the length first).
func Validate(in io.Reader, opts ValidateOptions) (Summary, error) {
	v := NewValidator(opts)
	if _, err := io.Copy(v, in); err != nil {
		return v.summary(), err
	}
	return v.Close()
}
