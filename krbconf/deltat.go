package krbconf

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrBadDeltat is MIT's KRB5_DELTAT_BADFORMAT.
var ErrBadDeltat = errors.New("Delta-time value is in an invalid format")

// ParseDeltat parses a time interval exactly as MIT's krb5_string_to_deltat
// does (src/lib/krb5/krb/x-deltat.y): "N" or "Ns" seconds; "Nd", "Nh", "Nm"
// with optional smaller units after them in order ("1d 2h 3m 4s",
// "1h30m"); "H:MM", "H:MM:SS" and "D-HH:MM:SS" with one- or two-digit fields
// after the first; numbers may be negative; the total must fit in 32 bits.
// As in MIT, parsing stops silently at a character that is not part of the
// grammar ("10x" is 10 seconds).
func ParseDeltat(s string) (time.Duration, error) {
	p := deltatParser{s: s}
	v, ok := p.parse()
	if !ok {
		return 0, fmt.Errorf("%q: %w", s, ErrBadDeltat)
	}
	return time.Duration(v) * time.Second, nil
}

// Tokens of the deltat grammar.
const (
	dtEOF = iota
	dtNum
	dtLongNum
	dtOverflow
	dtWS
	dtMinus = '-'
	dtColon = ':'
	dtDay   = 'd'
	dtHour  = 'h'
	dtMin   = 'm'
	dtSec   = 's'
)

type deltatParser struct {
	s      string
	pos    int
	tok    int
	val    int64
	peeked bool
}

func (p *deltatParser) lex() (int, int64) {
	if p.pos >= len(p.s) || p.s[p.pos] >= 0x80 {
		return dtEOF, 0
	}
	c := p.s[p.pos]
	p.pos++
	switch {
	case c == '-' || c == ':' || c == 'd' || c == 'h' || c == 'm' || c == 's':
		return int(c), 0
	case '0' <= c && c <= '9':
		start := p.pos - 1
		n := int64(c - '0')
		for p.pos < len(p.s) && '0' <= p.s[p.pos] && p.s[p.pos] <= '9' {
			if n > math.MaxInt32/10 {
				return dtOverflow, 0
			}
			n *= 10
			d := int64(p.s[p.pos] - '0')
			if n > math.MaxInt32-d {
				return dtOverflow, 0
			}
			n += d
			p.pos++
		}
		if p.pos-start > 2 {
			return dtLongNum, n
		}
		return dtNum, n
	case c == ' ' || c == '\t' || c == '\n':
		for p.pos < len(p.s) && isCSpace(p.s[p.pos]) {
			p.pos++
		}
		return dtWS, 0
	}
	p.pos = len(p.s) // anything else ends the input
	return dtEOF, 0
}

func (p *deltatParser) peek() int {
	if !p.peeked {
		p.tok, p.val = p.lex()
		p.peeked = true
	}
	return p.tok
}

func (p *deltatParser) next() (int, int64) {
	t := p.peek()
	p.peeked = false
	return t, p.val
}

func (p *deltatParser) isNumStart() bool {
	t := p.peek()
	return t == dtNum || t == dtLongNum || t == dtMinus || t == dtOverflow
}

// num parses an optionally negative number (the WS before it is consumed
// by the caller).
func (p *deltatParser) num() (int64, bool) {
	neg := false
	t, v := p.next()
	if t == dtMinus {
		neg = true
		t, v = p.next()
	}
	if t != dtNum && t != dtLongNum {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// wsnum parses an optional blank run followed by a number.
func (p *deltatParser) wsnum() (int64, bool) {
	if p.peek() == dtWS {
		p.next()
	}
	return p.num()
}

// Limits of MIT's overflow checks.
const (
	dtMaxTime = math.MaxInt32
	dtMinTime = math.MinInt32
	dtMaxDay  = dtMaxTime / 86400
	dtMinDay  = -(-dtMinTime / 86400)
	dtMaxHour = dtMaxTime / 3600
	dtMinHour = -(-dtMinTime / 3600)
	dtMaxMin  = dtMaxTime / 60
	dtMinMin  = -(-dtMinTime / 60)
)

func dtSum(a, b int64) (int64, bool) {
	r := a + b
	return r, r >= dtMinTime && r <= dtMaxTime
}

func dtCombine(d, h, m, s int64) (int64, bool) {
	if d > dtMaxDay || d < dtMinDay || h > dtMaxHour || h < dtMinHour || m > dtMaxMin || m < dtMinMin {
		return 0, false
	}
	r := d * 86400
	var ok bool
	for _, x := range []int64{h * 3600, m * 60, s} {
		if r, ok = dtSum(r, x); !ok {
			return 0, false
		}
	}
	return r, true
}

// optUnits parses the grammar's opt_s, opt_ms and opt_hms (largest is
// dtSec, dtMin or dtHour): blanks, or a number with a unit no larger than
// largest, followed after minutes or hours by the smaller units in turn.
func (p *deltatParser) optUnits(largest int) (int64, bool) {
	if p.peek() == dtWS {
		p.next()
	}
	if !p.isNumStart() {
		return 0, true
	}
	v, ok := p.num()
	if !ok {
		return 0, false
	}
	var scale, lo, hi int64
	var next int
	switch t, _ := p.next(); {
	case t == dtSec:
		return v, true
	case t == dtMin && largest != dtSec:
		scale, lo, hi, next = 60, dtMinMin, dtMaxMin, dtSec
	case t == dtHour && largest == dtHour:
		scale, lo, hi, next = 3600, dtMinHour, dtMaxHour, dtMin
	default:
		return 0, false
	}
	if v > hi || v < lo {
		return 0, false
	}
	rest, ok := p.optUnits(next)
	if !ok {
		return 0, false
	}
	return dtSum(v*scale, rest)
}

func (p *deltatParser) parse() (int64, bool) {
	n, ok := p.wsnum()
	if !ok {
		return 0, false
	}
	var r int64
	t, _ := p.next()
	switch t {
	case dtDay:
		rest, ok := p.optUnits(dtHour)
		if !ok {
			return 0, false
		}
		r, ok = dtCombine(n, 0, 0, rest)
		if !ok {
			return 0, false
		}
	case dtHour:
		rest, ok := p.optUnits(dtMin)
		if !ok {
			return 0, false
		}
		if r, ok = dtCombine(0, n, 0, rest); !ok {
			return 0, false
		}
	case dtMin:
		rest, ok := p.optUnits(dtSec)
		if !ok {
			return 0, false
		}
		if r, ok = dtCombine(0, 0, n, rest); !ok {
			return 0, false
		}
	case dtSec:
		if r, ok = dtCombine(0, 0, 0, n); !ok {
			return 0, false
		}
	case dtMinus: // D-HH:MM:SS
		var f [3]int64
		for i := range f {
			if i > 0 {
				if sep, _ := p.next(); sep != dtColon {
					return 0, false
				}
			}
			ft, fv := p.next()
			if ft != dtNum {
				return 0, false
			}
			f[i] = fv
		}
		if r, ok = dtCombine(n, f[0], f[1], f[2]); !ok {
			return 0, false
		}
	case dtColon: // H:MM or H:MM:SS
		ft, m := p.next()
		if ft != dtNum {
			return 0, false
		}
		var sec int64
		if p.peek() == dtColon {
			p.next()
			if ft, sec = p.next(); ft != dtNum {
				return 0, false
			}
		}
		if r, ok = dtCombine(0, n, m, sec); !ok {
			return 0, false
		}
	case dtEOF:
		if r, ok = dtCombine(0, 0, 0, n); !ok {
			return 0, false
		}
		return r, true
	default:
		return 0, false
	}
	if t, _ := p.next(); t != dtEOF {
		return 0, false
	}
	return r, true
}
