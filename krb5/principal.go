package krb5

import (
	"fmt"
	"strings"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Principal is a Kerberos principal name with its realm.
type Principal struct {
	Name  types.PrincipalName
	Realm string
}

// HostPrincipal returns service/host@realm with name-type NT-SRV-HST, the
// form MIT's krb5_sname_to_principal builds (host is used as given; see
// Canonicalizer for MIT's hostname rules).
func HostPrincipal(service, host, realm string) Principal {
	return Principal{
		Name:  types.PrincipalName{NameType: nametype.KRB_NT_SRV_HST, NameString: []string{service, host}},
		Realm: realm,
	}
}

// ParsePrincipal parses an MIT-style principal string ("a/b@REALM", with
// backslash escapes). A name without a realm gets defaultRealm. The
// name-type is NT-PRINCIPAL.
func ParsePrincipal(s, defaultRealm string) (Principal, error) {
	p, haveRealm, err := parsePrincipal(s)
	if err == nil && !haveRealm {
		p.Realm = defaultRealm
	}
	return p, err
}

// ParseFullPrincipal parses s as ParsePrincipal does, but s must name
// the realm itself (after an unquoted '@', which may be followed by
// nothing): there is no default realm to fall back on.
func ParseFullPrincipal(s string) (Principal, error) {
	p, haveRealm, err := parsePrincipal(s)
	if err == nil && !haveRealm {
		return Principal{}, fmt.Errorf("principal %q: no realm", s)
	}
	return p, err
}

// parsePrincipal splits s with krb5_parse_name's rules and reports
// whether it named a realm.
func parsePrincipal(s string) (p Principal, haveRealm bool, err error) {
	var comps []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
			if i == len(s) {
				return Principal{}, false, fmt.Errorf("principal %q: trailing backslash", s)
			}
			switch s[i] {
			case 'n':
				cur.WriteByte('\n')
			case 't':
				cur.WriteByte('\t')
			case 'b':
				cur.WriteByte('\b')
			case '0':
				cur.WriteByte(0)
			default:
				cur.WriteByte(s[i])
			}
		case c == '/' && !haveRealm:
			comps = append(comps, cur.String())
			cur.Reset()
		case c == '@' && !haveRealm:
			comps = append(comps, cur.String())
			cur.Reset()
			haveRealm = true
		case c == '@' || c == '/':
			return Principal{}, false, fmt.Errorf("principal %q: %q in realm", s, c)
		default:
			cur.WriteByte(c)
		}
	}
	if haveRealm {
		p.Realm = cur.String()
	} else {
		comps = append(comps, cur.String())
	}
	p.Name = types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: comps}
	return p, haveRealm, nil
}

// String unparses the principal as MIT's krb5_unparse_name does, escaping
// '/', '@', '\\' and control characters inside components and the realm.
func (p Principal) String() string {
	var b strings.Builder
	for i, c := range p.Name.NameString {
		if i > 0 {
			b.WriteByte('/')
		}
		quote(&b, c)
	}
	b.WriteByte('@')
	quote(&b, p.Realm)
	return b.String()
}

// Equal reports whether two principals have the same components and realm;
// like MIT, the name-type is not compared.
func (p Principal) Equal(o Principal) bool {
	if p.Realm != o.Realm || len(p.Name.NameString) != len(o.Name.NameString) {
		return false
	}
	for i := range p.Name.NameString {
		if p.Name.NameString[i] != o.Name.NameString[i] {
			return false
		}
	}
	return true
}

func quote(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '/', '@', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
}
