package krbauth

import (
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
)

func TestKRBErrorRoundTrip(t *testing.T) {
	client := krb5.HostPrincipal("host", "primary.example", "EXAMPLE.ORG")
	server := krb5.HostPrincipal("host", "replica.example", "EXAMPLE.ORG")
	now := time.Date(2026, 11, 27, 9, 30, 1, 123456000, time.UTC)
	for _, role := range []role{roleServer, roleClient} {
		s, err := newSession(sessionParams{role: role, key: types.EncryptionKey{KeyType: 18, KeyValue: make([]byte, 32)}, client: client, server: server})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := s.makeError(krb5.ErrBadIntegrity, "while decoding database block starting at offset 32768", now)
		if err != nil {
			t.Fatal(err)
		}
		re, ok := parseKRBError(msg)
		if !ok {
			t.Fatalf("role %d: KRB-ERROR not recognised", role)
		}
		if re.Code != krb5.ErrBadIntegrity || re.Text != "while decoding database block starting at offset 32768" {
			t.Errorf("role %d: got %+v", role, re)
		}
		var raw messages.KRBError
		if err := raw.Unmarshal(msg); err != nil {
			t.Fatal(err)
		}
		if raw.EText[len(raw.EText)-1] != 0 {
			t.Errorf("e-text lacks MIT's trailing NUL: %q", raw.EText)
		}
		if got := (krb5.Principal{Name: raw.CName, Realm: raw.CRealm}); !got.Equal(client) {
			t.Errorf("cname = %v", got)
		}
		switch role {
		case roleServer:
			if !raw.CTime.IsZero() || !raw.STime.Equal(now.Truncate(time.Second)) || raw.Susec != 123456 {
				t.Errorf("server convention: ctime %v stime %v susec %d", raw.CTime, raw.STime, raw.Susec)
			}
		case roleClient:
			if !raw.STime.Equal(time.Unix(0, 0)) || !raw.CTime.Equal(now.Truncate(time.Second)) || raw.Cusec != 123456 {
				t.Errorf("client convention: ctime %v stime %v", raw.CTime, raw.STime)
			}
		}
	}
}

func TestKRBErrorCodeSquash(t *testing.T) {
	msg, err := marshalKRBError(errorParams{code: 1000, text: "x", server: krb5.HostPrincipal("host", "h", "R"), stime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	re, ok := parseKRBError(msg)
	if !ok || re.Code != krb5.ErrGeneric {
		t.Fatalf("got %+v, %v", re, ok)
	}
	if got := re.Error(); got != "Generic remote error: x" {
		t.Errorf("Error() = %q", got)
	}
}

func TestParseErrorRejectsOtherTags(t *testing.T) {
	for _, msg := range [][]byte{nil, {}, {0x74, 0x00}, {0x75, 0x00}, {0x30}} {
		if _, ok := parseKRBError(msg); ok {
			t.Errorf("parseKRBError(% x) claimed a KRB-ERROR", msg)
		}
	}
	// The primitive form of the tag is still an error (MIT masks the bit).
	if _, ok := parseKRBError([]byte{0x5e, 0x00}); !ok {
		t.Error("primitive-form KRB-ERROR tag not recognised")
	}
}
