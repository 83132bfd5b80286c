package merge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gokprop/gokprop/iprop"
)

// ErrName reports a principal name that krb5_parse_name would refuse, or
// one without a realm (MIT's replica would substitute its own default
// realm; a primary never sends one).
var ErrName = errors.New("merge: malformed principal name")

// name is a parsed principal name: components and realm, raw bytes.
type name struct {
	comps []string
	realm string
}

// parseName splits s with krb5_parse_name's rules: '/' separates
// components, the first '@' starts the realm, a backslash quotes the next
// character (\n, \t, \b and \0 stand for newline, tab, backspace and
// NUL). A realm is required.
func parseName(s string) (name, error) {
	var n name
	var cur strings.Builder
	inRealm := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case 0:
			// MIT reads the name as a C string and would stop here.
			return n, fmt.Errorf("%w: %q contains a NUL byte", ErrName, s)
		case '/':
			if inRealm {
				return n, fmt.Errorf("%w: %q has '/' in its realm", ErrName, s)
			}
			n.comps = append(n.comps, cur.String())
			cur.Reset()
			continue
		case '@':
			if inRealm {
				return n, fmt.Errorf("%w: %q has a second realm separator", ErrName, s)
			}
			n.comps = append(n.comps, cur.String())
			cur.Reset()
			inRealm = true
			continue
		case '\\':
			i++
			if i == len(s) {
				return n, fmt.Errorf("%w: %q ends with a backslash", ErrName, s)
			}
			switch c = s[i]; c {
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
		cur.WriteByte(c)
	}
	if !inRealm {
		return n, fmt.Errorf("%w: %q has no realm", ErrName, s)
	}
	n.realm = cur.String()
	return n, nil
}

// unparse writes n as krb5_unparse_name does: components joined by '/',
// then '@' and the realm, with '/', '@', '\', tab, newline, backspace and
// NUL quoted in every field.
func (n name) unparse() string {
	var b strings.Builder
	for i, c := range n.comps {
		if i > 0 {
			b.WriteByte('/')
		}
		quote(&b, c)
	}
	b.WriteByte('@')
	quote(&b, n.realm)
	return b.String()
}

func quote(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '/', '@', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\b':
			b.WriteString(`\b`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
}

// Canonical returns the form of a principal name under which MIT's
// database stores the principal, and a dump lists it: the name parsed
// and unparsed again, so that differently quoted spellings of one
// principal compare equal.
func Canonical(s string) (string, error) {
	n, err := parseName(s)
	if err != nil {
		return "", err
	}
	return n.unparse(), nil
}

// fromIprop converts an iprop principal as MIT's replica does
// (conv_princ_2db): each field is copied with strncpy, so bytes after a
// NUL become NULs.
func fromIprop(p *iprop.Principal) name {
	n := name{realm: strncpy(p.Realm), comps: make([]string, len(p.Components))}
	for i, c := range p.Components {
		n.comps[i] = strncpy(c.Data)
	}
	return n
}

func strncpy(s string) string {
	i := strings.IndexByte(s, 0)
	if i < 0 {
		return s
	}
	return s[:i] + strings.Repeat("\x00", len(s)-i)
}
