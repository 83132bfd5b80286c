package krbauth

import (
	"errors"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
)

// testKeytab builds a keytab whose keys encode their kvno in the first
// byte, with the given (kvno, timestamp offset) entries for one principal.
func testKeytab(t *testing.T, p krb5.Principal, entries ...[2]int) *keytab.Keytab {
	t.Helper()
	kt := keytab.New()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range entries {
		if err := kt.AddEntry("host/x", p.Realm, "pw", base.Add(time.Duration(e[1])*time.Hour), 0, int32(krb5.EnctypeAES256CTSSHA1)); err != nil {
			t.Fatal(err)
		}
		last := &kt.Entries[len(kt.Entries)-1]
		last.Principal.Components = p.Name.NameString
		last.KVNO = uint32(e[0])
		last.KVNO8 = uint8(e[0])
		last.Key = types.EncryptionKey{KeyType: int32(krb5.EnctypeAES256CTSSHA1), KeyValue: []byte{byte(e[0])}}
	}
	return kt
}

func TestFindKeyHighestKVNONotNewestTimestamp(t *testing.T) {
	p := krb5.HostPrincipal("host", "kdc1", "R")
	// gokrb5's GetEncryptionKey picks the newest timestamp (kvno 2 here);
	// MIT picks the highest kvno.
	kt := testKeytab(t, p, [2]int{3, 0}, [2]int{2, 5}, [2]int{1, 1})
	e, err := FindKey(kt, p, AnyKVNO, AnyEnctype)
	if err != nil || e.KVNO != 3 {
		t.Fatalf("FindKey = kvno %d, %v; want 3", e.KVNO, err)
	}
	if gk, kv, _ := kt.GetEncryptionKey(p.Name, p.Realm, 0, int32(krb5.EnctypeAES256CTSSHA1)); kv == 3 && gk.KeyValue[0] == 3 {
		t.Log("gokrb5 now agrees with MIT")
	}
}

func TestFindKeyWrapHeuristic(t *testing.T) {
	p := krb5.HostPrincipal("host", "kdc1", "R")
	// kvno 2 written after kvno 255: the kvno wrapped, 2 is newer.
	kt := testKeytab(t, p, [2]int{255, 0}, [2]int{2, 1})
	if e, _ := FindKey(kt, p, AnyKVNO, AnyEnctype); e.KVNO != 2 {
		t.Errorf("wrapped kvno: got %d, want 2", e.KVNO)
	}
	// kvno 2 written before kvno 255: plain comparison.
	kt = testKeytab(t, p, [2]int{255, 1}, [2]int{2, 0})
	if e, _ := FindKey(kt, p, AnyKVNO, AnyEnctype); e.KVNO != 255 {
		t.Errorf("unwrapped: got %d, want 255", e.KVNO)
	}
}

func TestFindKeySpecificKVNO(t *testing.T) {
	p := krb5.HostPrincipal("host", "kdc1", "R")
	kt := testKeytab(t, p, [2]int{4, 0}, [2]int{5, 0})
	if e, err := FindKey(kt, p, 4, krb5.EnctypeAES256CTSSHA1); err != nil || e.KVNO != 4 {
		t.Errorf("kvno 4: %d, %v", e.KVNO, err)
	}
	// A 32-bit kvno matching the low 8 bits of a stored one (old keytab).
	if e, err := FindKey(kt, p, 256+5, krb5.EnctypeAES256CTSSHA1); err != nil || e.KVNO != 5 {
		t.Errorf("kvno 261 via low byte: %d, %v", e.KVNO, err)
	}
	if _, err := FindKey(kt, p, 7, krb5.EnctypeAES256CTSSHA1); !errors.Is(err, ErrKVNONotFound) || CodeOf(err) != krb5.ErrBadKeyVer {
		t.Errorf("missing kvno: %v", err)
	}
	if _, err := FindKey(kt, p, 4, krb5.EnctypeAES128CTSSHA1); !errors.Is(err, ErrKeyNotFound) || CodeOf(err) != krb5.ErrNoKey {
		t.Errorf("missing enctype: %v", err)
	}
}

func TestFindKeyComparesRealmNotNameType(t *testing.T) {
	p := krb5.HostPrincipal("host", "kdc1", "R")
	kt := testKeytab(t, p, [2]int{1, 0})
	other := p
	other.Realm = "OTHER"
	if _, err := FindKey(kt, other, AnyKVNO, AnyEnctype); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("other realm matched: %v", err)
	}
	q, _ := krb5.ParsePrincipal("host/kdc1@R", "")
	if _, err := FindKey(kt, q, AnyKVNO, AnyEnctype); err != nil {
		t.Errorf("name-type difference prevented a match: %v", err)
	}
}
