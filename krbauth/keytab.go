package krbauth

import (
	"fmt"
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
