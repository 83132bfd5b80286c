package krb5

import (
	"slices"
	"testing"
)

func TestEnctypeFacts(t *testing.T) {
	want := []Enctype{18, 17, 20, 19, 16, 23, 25, 26}
	if got := DefaultEnctypes(); !slices.Equal(got, want) {
		t.Errorf("DefaultEnctypes() = %v", got)
	}
	d := DefaultEnctypes()
	d[0] = 1
	if DefaultEnctypes()[0] != 18 {
		t.Error("DefaultEnctypes returns shared storage")
	}
	tests := []struct {
		e           Enctype
		name        string
		keySize     int
		cksum       int32
		gate        string
		weak, known bool
		implemented bool
	}{
		{EnctypeAES128CTSSHA1, "aes128-cts-hmac-sha1-96", 16, 15, "", false, true, true},
		{EnctypeAES256CTSSHA384, "aes256-cts-hmac-sha384-192", 32, 20, "", false, true, true},
		{EnctypeDES3CBCSHA1, "des3-cbc-sha1", 24, 12, "allow_des3", false, true, true},
		{EnctypeRC4HMAC, "arcfour-hmac", 16, -138, "allow_rc4", false, true, true},
		{EnctypeCamellia256CTSCMAC, "camellia256-cts-cmac", 32, 18, "", false, true, true},
		{EnctypeDES3CBCRaw, "des3-cbc-raw", 24, 0, "", true, true, false},
		{99, "etype 99", 0, 0, "", false, false, false},
	}
	for _, tt := range tests {
		if tt.e.String() != tt.name || tt.e.KeySize() != tt.keySize || tt.e.ChecksumType() != tt.cksum ||
			tt.e.Gate() != tt.gate || tt.e.Weak() != tt.weak || tt.e.Known() != tt.known || tt.e.Implemented() != tt.implemented {
			t.Errorf("%d: %s %d %d %q weak %v known %v implemented %v", int32(tt.e), tt.e, tt.e.KeySize(), tt.e.ChecksumType(),
				tt.e.Gate(), tt.e.Weak(), tt.e.Known(), tt.e.Implemented())
		}
	}
	for name, want := range map[string]Enctype{"AES128-CTS": 17, "des3-hmac-sha1": 16, "rc4-hmac": 23, "aes256-sha2": 20} {
		if got, ok := ParseEnctype(name); !ok || got != want {
			t.Errorf("ParseEnctype(%q) = %v, %v", name, got, ok)
		}
	}
	for _, bad := range []string{"18", "", "aes"} {
		if _, ok := ParseEnctype(bad); ok {
			t.Errorf("ParseEnctype(%q) accepted", bad)
		}
	}
}
