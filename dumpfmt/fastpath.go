package dumpfmt

// The validation fast path.
//
// Validation spends nearly all its time on principal lines, and nearly
// every principal line in a real dump is unremarkable: small canonical
// numbers, lower-case hex of the declared lengths, a name without escapes.
// fastPrincipal checks such a line in one left-to-right walk over the
// bytes as they lie in the writer's buffer, with no search for the
// newline first, no field slicing, no error values and no tab counting:
// each number is read digit by digit up to the tab that must follow it,
// each contents field is skipped by its declared length and checked eight
// hex digits at a time (isHex), the name is checked byte by byte against a
// table of the few bytes that need a closer look, and the line must end
// where its fields say, with ";\n" after e_data. No field the fast path
// accepts can hold a newline, so that newline is the line's first.
//
// The fast path only ever says "valid" or "not sure", and never explains
// anything. When it is not sure, because the line is wrong (a number with
// a leading zero, a length that disagrees with its contents...) or has an
// escaped name, the line goes to the Reader's parser (parsePrincipal),
// which either accepts it or reports the *ParseError with the line and
// field at fault. The fast path accepts exactly the lines parsePrincipal
// accepts whose names are plain, so what Validate accepts and the errors
// it reports are the Reader's; TestFastPathMutations, TestFastPathLimits
// and FuzzFastPath check this against parsePrincipal.

// fastPrincipal checks the fields of a principal line. b starts after the
// line's "princ\t" and may run past its end: the fast path finds the end
// itself, where the fields say it must be, after e_data and ';' (no field
// it accepts can hold a newline). When the line is valid and its name
// plain (no backslash, tab, backspace, newline or NUL, so that the name is
// its own canonical form) it returns the name, the index of its '@' and
// the length of the rest of the line, newline included; ok is false for
// anything else, valid or not.
func fastPrincipal(b []byte) (name []byte, at, n int, ok bool) {
	// len, name-length, n_tl_data, n_key_data, e_length.
	baseLen, i, ok1 := uintField(b, 0)
	nameLen, i, ok2 := uintField(b, i)
	nTL, i, ok3 := uintField(b, i)
	nKey, i, ok4 := uintField(b, i)
	eLen, i, ok5 := uintField(b, i)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || baseLen > 1<<15-1 || nameLen > 1<<31-1 ||
		nTL > 1<<15-1 || nKey > 1<<15-1 || eLen > 1<<15-1 {
		return nil, 0, 0, false
	}

	// The name: exactly name-length bytes, then a tab.
	if nameLen >= uint64(len(b)-i) {
		return nil, 0, 0, false
	}
	end := i + int(nameLen)
	if b[end] != '\t' {
		return nil, 0, 0, false
	}
	name = b[i:end]
	if at = plainName(name); at < 0 {
		return nil, 0, 0, false
	}
	i = end + 1

	// attributes, max_life, max_renewable_life are 32-bit signed,
	// expiration, pw_expiration, last_success, last_failed unsigned,
	// fail_auth_count signed again (see principalFixed).
	for k := 0; k < 3; k++ {
		if i = int32Field(b, i); i < 0 {
			return nil, 0, 0, false
		}
	}
	for k := 0; k < 4; k++ {
		v, j, ok := uintField(b, i)
		if !ok || v > 1<<32-1 {
			return nil, 0, 0, false
		}
		i = j
	}
	if i = int32Field(b, i); i < 0 {
		return nil, 0, 0, false
	}

	// tl-data: type, length, contents.
	for k := uint64(0); k < nTL; k++ {
		if i = typedContents(b, i); i < 0 {
			return nil, 0, 0, false
		}
	}
	// key-data: version (1 or 2), kvno, then version times type,
	// length, contents.
	for k := uint64(0); k < nKey; k++ {
		if i+1 >= len(b) || b[i+1] != '\t' || (b[i] != '1' && b[i] != '2') {
			return nil, 0, 0, false
		}
		pairs := int(b[i] - '0')
		kvno, j, ok := uintField(b, i+2)
		if !ok || kvno > 1<<16-1 {
			return nil, 0, 0, false
		}
		i = j
		for ; pairs > 0; pairs-- {
			if i = typedContents(b, i); i < 0 {
				return nil, 0, 0, false
			}
		}
	}

	// e_data, ';' and the newline, nothing else.
	if eLen == 0 {
		if i+3 >= len(b) || b[i] != '-' || b[i+1] != '1' || b[i+2] != ';' || b[i+3] != '\n' {
			return nil, 0, 0, false
		}
		return name, at, i + 4, true
	}
	end = i + 2*int(eLen)
	if end+1 >= len(b) || b[end] != ';' || b[end+1] != '\n' || !isHex(b[i:end]) {
		return nil, 0, 0, false
	}
	return name, at, end + 2, true
}

// uintField reads a canonical unsigned decimal of at most ten digits at
// b[i:] followed by a tab, returning its value and the index after the
// tab. (A digit-at-a-time loop: its branches follow the pattern of field
// widths that repeats from line to line, which the processor learns; a
// branch-free eight-byte version measured no faster.)
func uintField(b []byte, i int) (v uint64, next int, ok bool) {
	if i < 0 {
		return 0, 0, false
	}
	j := i
	for j < len(b) {
		c := b[j] - '0'
		if c > 9 {
			break
		}
		v = v*10 + uint64(c)
		j++
	}
	n := j - i
	if n == 0 || n > 10 || (n > 1 && b[i] == '0') || j >= len(b) || b[j] != '\t' {
		return 0, 0, false
	}
	return v, j + 1, true
}

// intField reads a canonical signed decimal in [-lim, lim-1] at b[i:]
// followed by a tab ("-0" is not canonical), returning the index after the
// tab or -1.
func intField(b []byte, i int, lim uint64) int {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	v, next, ok := uintField(b, i)
	switch {
	case !ok:
		return -1
	case neg && (v == 0 || v > lim):
		return -1
	case !neg && v >= lim:
		return -1
	}
	return next
}

func int32Field(b []byte, i int) int { return intField(b, i, 1<<31) }

// typedContents reads the (16-bit signed type, 16-bit length, contents)
// triple of a tl-data or of one half of a key, returning the index after
// the contents' tab or -1. Contents of length 0 are written "-1".
func typedContents(b []byte, i int) int {
	if i = intField(b, i, 1<<15); i < 0 {
		return -1
	}
	length, i, ok := uintField(b, i)
	if !ok || length > 1<<16-1 {
		return -1
	}
	if length == 0 {
		if i+2 >= len(b) || b[i] != '-' || b[i+1] != '1' || b[i+2] != '\t' {
			return -1
		}
		return i + 3
	}
	end := i + 2*int(length)
	if end >= len(b) || b[end] != '\t' || !isHex(b[i:end]) {
		return -1
	}
	return end + 1
}

// nameByte classifies the bytes of a principal name for plainName: 0 for
// bytes that need no attention, nameAt and nameSlash for the separators,
// nameOther for bytes that send the name to the slow path (NUL, which is
// invalid, and the backslash and control characters that make its
// canonical form differ from its written form).
var nameByte = func() (t [256]byte) {
	t['@'] = nameAt
	t['/'] = nameSlash
	for _, c := range []byte{0, '\\', '\t', '\b', '\n'} {
		t[c] = nameOther
	}
	return t
}()

const (
	nameAt = 1 + iota
	nameSlash
	nameOther
)

// plainName returns the index of the '@' of a name that is valid (as
// checkName decides) and plain: one '@', no '/' after it, no byte that
// nameByte marks nameOther. It returns -1 for anything else.
func plainName(name []byte) int {
	at := -1
	for i, c := range name {
		switch nameByte[c] {
		case 0:
		case nameAt:
			if at >= 0 {
				return -1
			}
			at = i
		case nameSlash:
			if at >= 0 {
				return -1
			}
		default:
			return -1
		}
	}
	return at
}
