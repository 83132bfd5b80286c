package merge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/krb5"
)

// ErrName reports a principal name that krb5_parse_name would refuse, or
// one without a realm (MIT's replica would substitute its own default
// realm; a primary never sends one).
var ErrName = errors.New("merge: malformed principal name")

// Canonical returns the form of a principal name under which MIT's
// database stores the principal, and a dump lists it: the name parsed
// and unparsed again, so that differently quoted spellings of one
// principal compare equal.
func Canonical(s string) (string, error) {
	// MIT reads the name as a C string and would stop at a NUL.
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("%w: %q contains a NUL byte", ErrName, s)
	}
	p, err := krb5.ParseFullPrincipal(s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrName, err)
	}
	return p.String(), nil
}

// fromIprop converts an iprop principal as MIT's replica does
// (conv_princ_2db): each field is copied with strncpy, so bytes after a
// NUL become NULs.
func fromIprop(p *iprop.Principal) krb5.Principal {
	n := krb5.Principal{Realm: strncpy(p.Realm)}
	n.Name.NameString = make([]string, len(p.Components))
	for i, c := range p.Components {
		n.Name.NameString[i] = strncpy(c.Data)
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
