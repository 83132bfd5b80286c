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

	// Sorted selects DuplicatesSorted: see there. Set it before the
	// first record.
	Sorted bool

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

	// The sorted mode's state, per kind of record (principals, policies):
	// the previous name and its line, and the line where names stopped
	// increasing (0 while they increase).
	order [2]nameOrder
}

// nameOrder follows names in the sorted mode.
type nameOrder struct {
	prev     []byte
	prevLine int
	broken   int
}

// next checks name, given in canonical form, against its predecessor in
// the sorted mode. It reports whether the name needs the duplicate set
// (the order broke here or earlier), or the line of the predecessor when
// the name repeats it.
func (o *nameOrder) next(name []byte, line int) (useSet bool, dupOf int) {
	if o.broken != 0 {
		return true, 0
	}
	if o.prevLine != 0 {
		switch c := bytes.Compare(name, o.prev); {
		case c == 0:
			return false, o.prevLine
		case c < 0:
			o.broken = line
			o.prev = nil
			return true, 0
		}
	}
	o.prev = append(o.prev[:0], name...)
	o.prevLine = line
	return false, 0
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
	switch specialName(comps, realm) {
	case masterPrincipal:
		c.master = append(c.master, string(realm))
	case tgsPrincipal:
		c.tgs = append(c.tgs, string(realm))
	}
	if c.Sorted {
		useSet, dupOf := c.order[0].next(canon, line)
		if dupOf != 0 {
			if err := c.flush(); err != nil {
				return err
			}
			return &ParseError{File: c.FileName, Line: line, Field: "name",
				Err: fmt.Errorf("%w: principal %q already on line %d", ErrDuplicate, name, dupOf)}
		}
		if !useSet {
			return nil
		}
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
	if c.Sorted {
		useSet, dupOf := c.order[1].next([]byte(name), line)
		if dupOf != 0 {
			return &ParseError{File: c.FileName, Line: line, Field: "name",
				Err: fmt.Errorf("%w: policy %q already on line %d", ErrDuplicate, name, dupOf)}
		}
		if !useSet {
			return nil
		}
	}
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

// Unsorted returns, in the sorted mode, the first line whose principal
// (or policy) name does not come after the one before it in MIT's order,
// or 0 when the names so far are in order.
func (c *Checker) Unsorted() int {
	switch a, b := c.order[0].broken, c.order[1].broken; {
	case a == 0:
		return b
	case b == 0:
		return a
	default:
		return min(a, b)
	}
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
	// Duplicates chooses how duplicate names are found; the zero value
	// is DuplicatesExact.
	Duplicates DuplicateCheck
}

// DuplicateCheck chooses how validation finds a principal or policy that
// appears twice.
type DuplicateCheck int

const (
	// DuplicatesExact finds every duplicate, whatever the order of the
	// records, with a set of 64-bit hashes of the names seen: 16 to 32
	// bytes per record (see Checker), the only memory of validation that
	// grows with the dump.
	DuplicatesExact DuplicateCheck = iota
	// DuplicatesSorted relies on the order of MIT's dumps to need no
	// memory per record. kdb5_util dump walks MIT's db2 database, a btree
	// keyed by the principal's unparsed name (as the dump writes it), in
	// key order: byte by byte, unsigned, a name before its extensions; so
	// "HTTP/x@R" < "K/M@R" < "host/x@R" < "jörg@R" (UTF-8) <
	// "krbtgt/R@R", and the policies, from a btree of their own, follow
	// in the same order. While every name comes after the one before it
	// no name can repeat an earlier one and nothing is stored; a name
	// equal to the one before it is a duplicate (ErrDuplicate). Once a
	// name comes before its predecessor (a dump MIT's db2 backend did not
	// write: another backend's, or one edited by hand), the hash set of
	// DuplicatesExact takes over for the rest of the dump, at its cost
	// per record from there on; a later name that repeats one from
	// before that point is not found, which leaves the outcome MIT's own
	// loader gives every duplicate: the later record replaces the
	// earlier. Summary.Unsorted gives the line where the order broke.
	DuplicatesSorted
)

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
	// Unsorted is, with DuplicatesSorted, the first line whose name is
	// not after the one before it (see there), or 0.
	Unsorted int
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
