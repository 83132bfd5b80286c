package krbauth

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
)

// KeytabEntry is one key found in a keytab.
type KeytabEntry struct {
	Principal krb5.Principal
	KVNO      uint32
	Key       types.EncryptionKey
	Timestamp time.Time
}

// AnyKVNO asks FindKey for the most recent key version, as MIT's
// IGNORE_VNO does.
const AnyKVNO = 0

// AnyEnctype asks FindKey for a key of any encryption type.
const AnyEnctype krb5.Enctype = 0

// ErrKeyNotFound: the keytab has no entry for the principal (MIT's
// KRB5_KT_NOTFOUND). ErrKVNONotFound: it has entries for the principal and
// enctype but not the requested version (KRB5_KT_KVNONOTFOUND).
var (
	ErrKeyNotFound  error = &liberr.Error{Text: "Key table entry not found", Err: krb5.ErrNoKey}
	ErrKVNONotFound error = &liberr.Error{Text: "Key version number for principal in key table is incorrect", Err: krb5.ErrBadKeyVer}
)

// FindKey selects a key from kt for principal p the way MIT's file keytab
// does (krb5_ktfile_get_entry), not the way gokrb5's GetEncryptionKey does:
//   - principal comparison includes the realm and ignores the name-type;
//   - with kvno == AnyKVNO the highest version wins, with MIT's wrap-around
//     heuristic (a small kvno written no earlier than a kvno above 240 is
//     newer), rather than the newest timestamp;
//   - with a specific kvno an exact match wins, else the first entry whose
//     stored version equals the low 8 bits of kvno (old 8-bit keytabs).
//
// enctype AnyEnctype matches every encryption type.
func FindKey(kt *keytab.Keytab, p krb5.Principal, kvno uint32, enctype krb5.Enctype) (KeytabEntry, error) {
	var cur *KeytabEntry
	wrongKVNO := false
	for i := range kt.Entries {
		e := &kt.Entries[i]
		ep := krb5.Principal{Name: types.PrincipalName{NameType: e.Principal.NameType, NameString: e.Principal.Components}, Realm: e.Principal.Realm}
		if !ep.Equal(p) {
			continue
		}
		if enctype != AnyEnctype && krb5.Enctype(e.Key.KeyType) != enctype {
			continue
		}
		cand := KeytabEntry{Principal: ep, KVNO: e.KVNO, Key: e.Key, Timestamp: e.Timestamp}
		if kvno == AnyKVNO || e.KVNO == 0 {
			if cur == nil || moreRecent(cand, *cur) {
				cur = &cand
			}
			continue
		}
		switch {
		case e.KVNO == kvno:
			return cand, nil
		case e.KVNO == kvno&0xff && cur == nil:
			cur = &cand
		default:
			wrongKVNO = true
		}
	}
	switch {
	case cur != nil:
		return *cur, nil
	case wrongKVNO:
		return KeytabEntry{}, fmt.Errorf("%s kvno %d: %w", p, kvno, ErrKVNONotFound)
	default:
		return KeytabEntry{}, fmt.Errorf("%w for %s", ErrKeyNotFound, p)
	}
}

// moreRecent reports whether a is a more recent key version than b.
func moreRecent(a, b KeytabEntry) bool {
	if !a.Timestamp.Before(b.Timestamp) && a.KVNO < 128 && b.KVNO > 240 {
		return true
	}
	if !b.Timestamp.Before(a.Timestamp) && a.KVNO > 240 && b.KVNO < 128 {
		return false
	}
	return a.KVNO > b.KVNO
}

// DefaultKeytabName is MIT's compiled-in default keytab.
const DefaultKeytabName = "FILE:/etc/krb5.keytab"

// ErrUnknownKeytabType is MIT's KRB5_KT_UNKNOWN_TYPE: a keytab name with a
// type prefix other than FILE or WRFILE.
var ErrUnknownKeytabType error = &liberr.Error{Text: "Unknown Key table type"}

// KeytabName returns the keytab MIT programs use when none is given: the
// KRB5_KTNAME environment variable, else [libdefaults] default_keytab_name,
// else DefaultKeytabName. cfg may be nil.
func KeytabName(cfg *Config) string {
	if name := os.Getenv("KRB5_KTNAME"); name != "" {
		return name
	}
	if cfg != nil {
		if name := cfg.String("", "libdefaults", "default_keytab_name"); name != "" {
			return name
		}
	}
	return DefaultKeytabName
}

// KeytabPath resolves a keytab name to a file path as MIT's krb5_kt_resolve
// does for file keytabs: "FILE:path", "WRFILE:path" or a bare path. Other
// types fail with ErrUnknownKeytabType.
func KeytabPath(name string) (string, error) {
	typ, rest, found := strings.Cut(name, ":")
	// A one-letter "type" is a drive letter on Windows; MIT treats a name
	// whose first colon comes after a slash as a plain path.
	if !found || strings.Contains(typ, "/") {
		return name, nil
	}
	switch strings.ToUpper(typ) {
	case "FILE", "WRFILE":
		return rest, nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownKeytabType, typ)
}

// LoadKeytab reads the file keytab named by name (see KeytabPath).
func LoadKeytab(name string) (*keytab.Keytab, error) {
	path, err := KeytabPath(name)
	if err != nil {
		return nil, err
	}
	kt, err := keytab.Load(path)
	if err != nil {
		return nil, fmt.Errorf("keytab %s: %w", path, err)
	}
	return kt, nil
}
