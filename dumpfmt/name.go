package dumpfmt

import (
	"bytes"
	"fmt"

	"github.com/gokprop/gokprop/krb5"
)

// checkName checks a principal name as written with the rules of MIT's
// krb5_parse_name, and additionally requires a realm (kdb5_util dump always
// writes one; without it MIT's loader would substitute the loading host's
// default realm) and refuses NUL bytes (MIT reads the name as a C string
// and would silently cut it there).
func checkName(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty principal name", ErrName)
	}
	inRealm := false
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case 0:
			return fmt.Errorf("%w: NUL byte in principal name", ErrName)
		case '\\':
			i++
			if i == len(b) {
				return fmt.Errorf("%w: %q ends with a backslash", ErrName, truncateForError(b))
			}
			if b[i] == 0 {
				return fmt.Errorf("%w: NUL byte in principal name", ErrName)
			}
		case '/':
			if inRealm {
				return fmt.Errorf("%w: %q has '/' in the realm", ErrName, truncateForError(b))
			}
		case '@':
			if inRealm {
				return fmt.Errorf("%w: %q has a second '@'", ErrName, truncateForError(b))
			}
			inRealm = true
		}
	}
	if !inRealm {
		return fmt.Errorf("%w: %q has no realm", ErrName, truncateForError(b))
	}
	return nil
}

// ParseName splits a principal name as written in a dump into components
// and realm (MIT's krb5_parse_name rules; a realm is required). The
// name-type is NT-PRINCIPAL: dumps do not record it.
func ParseName(name string) (krb5.Principal, error) {
	if err := checkName([]byte(name)); err != nil {
		return krb5.Principal{}, err
	}
	return krb5.ParsePrincipal(name, "")
}

// ParsedName returns the principal's name split into components and
// realm.
func (p *Principal) ParsedName() (krb5.Principal, error) { return ParseName(p.Name) }

// appendCanonical appends the canonical written form of a name that passed
// checkName: what MIT's krb5_unparse_name prints for the parsed principal.
// Two names denote the same principal exactly when their canonical forms
// are equal.
func appendCanonical(dst, name []byte) []byte {
	if bytes.IndexByte(name, '\\') < 0 && !hasControl(name) {
		return append(dst, name...)
	}
	inRealm := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch c {
		case '/':
			dst = append(dst, '/')
			continue
		case '@':
			if !inRealm {
				inRealm = true
				dst = append(dst, '@')
				continue
			}
		case '\\':
			i++
			c = name[i]
			switch c {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case '0':
				c = 0
			}
		}
		switch c {
		case '/', '@', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case 0:
			dst = append(dst, '\\', '0')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c == '\n' || c == '\t' || c == '\b' || c == 0 {
			return true
		}
	}
	return false
}

// splitCanonical splits a canonical name into its written components and
// realm (still escaped), without allocating.
func realmOf(canon []byte) (comps, realm []byte) {
	for i := 0; i < len(canon); i++ {
		switch canon[i] {
		case '\\':
			i++
		case '@':
			return canon[:i], canon[i+1:]
		}
	}
	return canon, nil
}
