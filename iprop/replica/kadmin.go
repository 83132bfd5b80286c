package replica

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gokprop/gokprop/dumpfmt"
)

// QuoteArg returns s as one argument of a kadmin request line, as MIT's
// request parser (libss's ss_parse) reads it back: always in double
// quotes, with each double quote doubled. Backslashes are not special to
// ss_parse, so a principal name's own escapes (\/, \@, \\) pass through
// to krb5_parse_name unchanged. s must not contain a line break or a NUL
// byte, which no request line can carry; an unparsed principal name
// never does (krb5_unparse_name escapes them).
func QuoteArg(s string) (string, error) {
	if strings.ContainsAny(s, "\n\r\x00") {
		return "", fmt.Errorf("replica: %q cannot be a kadmin argument", s)
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`, nil
}

// terse is what "kadmin.local getprinc -terse" prints of a principal: the
// fields this package compares with its index to notice a database that
// changed behind its back, and the lockout attributes it takes from the
// database.
type terse struct {
	name          string
	expiration    uint32
	lastPwdChange uint32
	pwExpiration  uint32
	maxLife       int32
	modName       string
	modTime       uint32
	attributes    int32
	kvno          int32
	policy        string
	maxRenewLife  int32
	lastSuccess   uint32
	lastFailed    uint32
	failAuthCount int32
	keys          []terseKey
}

type terseKey struct{ version, kvno, enctype, salttype int32 }

// parseTerse parses one line of getprinc -terse output (without its
// newline): tab-separated fields, the three names in double quotes (MIT
// prints them with %s between quotes, unescaped; a name never contains a
// tab), numbers with %d.
func parseTerse(line string) (*terse, error) {
	f := strings.Split(line, "\t")
	if len(f) < 16 {
		return nil, fmt.Errorf("getprinc -terse: %d fields in %q", len(f), line)
	}
	var err error
	num := func(i int) int32 {
		if err != nil {
			return 0
		}
		var v int64
		v, err = strconv.ParseInt(f[i], 10, 32)
		if err != nil {
			err = fmt.Errorf("getprinc -terse: field %d of %q: %w", i+1, line, err)
		}
		return int32(v)
	}
	str := func(i int) string {
		s := f[i]
		if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
			if err == nil {
				err = fmt.Errorf("getprinc -terse: field %d of %q is not quoted", i+1, line)
			}
			return ""
		}
		return s[1 : len(s)-1]
	}
	t := &terse{
		name:          str(0),
		expiration:    uint32(num(1)),
		lastPwdChange: uint32(num(2)),
		pwExpiration:  uint32(num(3)),
		maxLife:       num(4),
		modName:       str(5),
		modTime:       uint32(num(6)),
		attributes:    num(7),
		kvno:          num(8),
		policy:        str(10),
		maxRenewLife:  num(11),
		lastSuccess:   uint32(num(12)),
		lastFailed:    uint32(num(13)),
		failAuthCount: num(14),
	}
	_ = num(9) // mkvno: derived by libkdb5, not a stored field
	n := num(15)
	if err != nil {
		return nil, err
	}
	if n < 0 || len(f) != 16+4*int(n) {
		return nil, fmt.Errorf("getprinc -terse: %d keys but %d fields in %q", n, len(f), line)
	}
	for i := 0; i < int(n); i++ {
		b := 16 + 4*i
		t.keys = append(t.keys, terseKey{num(b), num(b + 1), num(b + 2), num(b + 3)})
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// errMismatch is the cause of every difference sameRecord reports.
var errMismatch = errors.New("database record differs from the index")

// sameRecord reports whether the database's record, as getprinc -terse
// shows it, is the index's record p (lockout attributes aside, which the
// index does not keep). It compares every field kadmin prints: the
// expirations, lifetimes, flags, the last password change and modifier
// tl-data, the policy reference, and each key's version, kvno, enctype and
// salt type (not the key contents, which kadmin does not print).
func sameRecord(t *terse, p *dumpfmt.Principal) error {
	diff := func(field string, db, idx any) error {
		return fmt.Errorf("%w: %s: %s is %v in the database, %v in the index", errMismatch, p.Name, field, db, idx)
	}
	switch {
	case t.name != p.Name:
		return diff("name", t.name, p.Name)
	case t.expiration != p.Expiration:
		return diff("expiration", t.expiration, p.Expiration)
	case t.pwExpiration != p.PasswordExpiration:
		return diff("password expiration", t.pwExpiration, p.PasswordExpiration)
	case t.maxLife != p.MaxLife:
		return diff("maximum life", t.maxLife, p.MaxLife)
	case t.maxRenewLife != p.MaxRenewableLife:
		return diff("maximum renewable life", t.maxRenewLife, p.MaxRenewableLife)
	case t.attributes != p.Attributes:
		return diff("attributes", t.attributes, p.Attributes)
	}
	pwd, _, err := p.LastPwdChange()
	if err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	if t.lastPwdChange != pwd {
		return diff("last password change", t.lastPwdChange, pwd)
	}
	when, by, ok, err := p.ModPrinc()
	if err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	if !ok {
		// kadmin could not have printed the line (it fails to unparse a
		// missing modifier), so this cannot match.
		return diff("modifier", t.modName, "none")
	}
	if t.modTime != when || t.modName != by {
		return diff("modifier", t.modName+" at "+strconv.FormatUint(uint64(t.modTime), 10), by+" at "+strconv.FormatUint(uint64(when), 10))
	}
	pol, ok, err := p.PolicyName()
	if err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	if !ok {
		pol = "[none]"
	}
	if t.policy != pol {
		return diff("policy", t.policy, pol)
	}
	if len(t.keys) != len(p.KeyData) {
		return diff("number of keys", len(t.keys), len(p.KeyData))
	}
	var kvno int32
	for i, k := range p.KeyData {
		want := terseKey{int32(k.Version), int32(k.Kvno), int32(k.Enctype), 0}
		if k.Version > 1 {
			want.salttype = int32(k.SaltType)
		}
		if t.keys[i] != want {
			return diff(fmt.Sprintf("key %d", i+1), t.keys[i], want)
		}
		kvno = max(kvno, int32(k.Kvno))
	}
	if t.kvno != kvno {
		return diff("kvno", t.kvno, kvno)
	}
	return nil
}
