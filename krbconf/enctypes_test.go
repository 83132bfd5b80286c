package krbconf

import (
	"slices"
	"testing"

	"github.com/gokprop/gokprop/krb5"
)

func TestParseEnctypeList(t *testing.T) {
	tests := []struct {
		in   string
		weak bool
		want []krb5.Enctype
	}{
		{"DEFAULT", false, krb5.DefaultEnctypes()},
		{"aes256-cts aes128-cts", false, []krb5.Enctype{18, 17}},
		{"DEFAULT -des3 -rc4 -camellia", false, []krb5.Enctype{18, 17, 20, 19}},
		{"aes,rc4", false, []krb5.Enctype{18, 17, 20, 19, 23}},
		{"des3-hmac-sha1 des3-cbc-sha1-kd arcfour-hmac-md5", false, []krb5.Enctype{16, 23}},
		{"des3-cbc-raw aes128-sha2", false, []krb5.Enctype{19}},
		{"des3-cbc-raw aes128-sha2", true, []krb5.Enctype{6, 19}},
		{"AES256-CTS-HMAC-SHA1-96 +aes128-sha1 bogus", false, []krb5.Enctype{18, 17}},
		{"18 17", false, []krb5.Enctype{18, 17}},
	}
	for _, tt := range tests {
		got, err := ParseEnctypeList(tt.in, tt.weak)
		if err != nil {
			t.Errorf("ParseEnctypeList(%q): %v", tt.in, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParseEnctypeList(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if _, err := ParseEnctypeList("bogus -aes", false); err == nil {
		t.Error("empty list accepted")
	}
}
