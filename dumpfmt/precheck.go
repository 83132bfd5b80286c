package dumpfmt

import "bytes"

// A Precheck is the part of a Validator's work on one piece of a dump that
// does not depend on the pieces before it: checking the principal lines
// that lie whole inside the piece with the fast path, and that their names
// increase. Successive pieces can therefore be prechecked concurrently,
// each on its own goroutine (kpropd does it as each record of the dump is
// decrypted), and then given in order, each with its Precheck, to
// Validator.WritePrechecked, which does the rest: the lines that cross
// the pieces' boundaries, the order of names from one piece to the next,
// and everything the fast path was not sure about.
//
// The outcome is exactly that of Validator.Write on the same pieces: the
// same Summary and the same errors. A Precheck only ever allows the
// Validator to skip lines it has already found valid; any piece it has
// doubts about (a policy, an escaped or special name, a line the fast
// path refuses) is simply checked again by Write.
//
// The zero Precheck is valid and allows nothing to be skipped. A Precheck
// holds slices of the piece it checked, which must stay unchanged until
// WritePrechecked is called with it.
type Precheck struct {
	piece        []byte // the piece checked, to match WritePrechecked's
	ok           bool   // the lines of piece[first:end] may be skipped
	first, end   int    // the whole lines: after the first newline, after the last
	lines        int
	longest      int    // the longest of those lines, newline included
	first0, last []byte // the first and last names
}

// Run prechecks piece: the complete lines after its first newline, up to
// and including its last.
func (pc *Precheck) Run(piece []byte) {
	*pc = Precheck{piece: piece}
	first := bytes.IndexByte(piece, '\n') + 1
	end := bytes.LastIndexByte(piece, '\n') + 1
	if first == 0 || first == end {
		return
	}
	const prefix = "princ\t"
	var prev []byte
	lines, longest := 0, 0
	for b := piece[first:end]; len(b) > 0; {
		if len(b) <= len(prefix) || string(b[:len(prefix)]) != prefix {
			return
		}
		name, at, n, ok := fastPrincipal(b[len(prefix):])
		if !ok || specialName(name[:at], name[at+1:]) != 0 ||
			(prev != nil && bytes.Compare(name, prev) <= 0) {
			return
		}
		if prev == nil {
			pc.first0 = name
		}
		prev = name
		n += len(prefix)
		lines++
		longest = max(longest, n)
		b = b[n:]
	}
	pc.ok, pc.first, pc.end, pc.lines, pc.longest, pc.last = true, first, end, lines, longest, prev
}

// specialName tells whether a principal, given as its components and
// realm, is one the Checker records: the master key K/M@R or the realm's
// own ticket-granting service krbtgt/R@R (WritePrechecked leaves those to
// Write).
func specialName(comps, realm []byte) int {
	switch {
	case string(comps) == "K/M":
		return masterPrincipal
	case bytes.HasPrefix(comps, []byte("krbtgt/")) && bytes.Equal(comps[len("krbtgt/"):], realm):
		return tgsPrincipal
	}
	return 0
}

// What specialName returns for the principals the Checker records.
const (
	masterPrincipal = 1 + iota
	tgsPrincipal
)

// WritePrechecked is Write for a piece that pc prechecked (Precheck.Run
// with the same piece): it returns what Write would, having skipped the
// lines the Precheck found valid when nothing before them prevents it. It
// is Write whenever pc is not for this piece, or has doubts, or the
// Validator is not in the DuplicatesSorted mode with its names still in
// order.
func (v *Validator) WritePrechecked(piece []byte, pc *Precheck) (int, error) {
	if !pc.ok || len(piece) != len(pc.piece) || len(piece) == 0 || &piece[0] != &pc.piece[0] ||
		!v.check.Sorted || v.err != nil || v.closed {
		return v.Write(piece)
	}
	// The line that ends at the piece's first newline, with what came
	// before it: after it, nothing is carried over.
	if _, err := v.Write(piece[:pc.first]); err != nil {
		return 0, err
	}
	o := &v.check.order[0]
	if !v.hdrDone || o.broken != 0 || pc.longest-1 > v.max ||
		(o.prevLine != 0 && bytes.Compare(pc.first0, o.prev) <= 0) {
		if _, err := v.Write(piece[pc.first:]); err != nil {
			return 0, err
		}
		return len(piece), nil
	}
	// Every line of piece[first:end] is a valid principal with a plain,
	// unremarkable name, and the names increase from the one before: the
	// fast path would accept each and the Checker would only note it.
	v.s.Lines += pc.lines
	v.s.Bytes += int64(pc.end - pc.first)
	v.s.Principals += pc.lines
	v.check.principals += pc.lines
	o.prev = append(o.prev[:0], pc.last...)
	o.prevLine = v.s.Lines
	if _, err := v.Write(piece[pc.end:]); err != nil {
		return 0, err
	}
	return len(piece), nil
}
