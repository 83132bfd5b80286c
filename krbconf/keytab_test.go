package krbconf

import (
	"errors"
	"strings"
	"testing"
)

func TestKeytabPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"FILE:/etc/krb5.keytab", "/etc/krb5.keytab"},
		{"WRFILE:/x/y", "/x/y"},
		{"/plain/path", "/plain/path"},
		{"relative.kt", "relative.kt"},
		{"/odd:name/kt", "/odd:name/kt"},
	}
	for _, tt := range tests {
		got, err := KeytabPath(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("KeytabPath(%q) = %q, %v", tt.in, got, err)
		}
	}
	for _, bad := range []string{"MEMORY:x", "KEYRING:persistent:0", "BOGUS:x"} {
		if _, err := KeytabPath(bad); !errors.Is(err, ErrUnknownKeytabType) {
			t.Errorf("KeytabPath(%q) err = %v", bad, err)
		}
	}
}

func TestKeytabName(t *testing.T) {
	t.Setenv("KRB5_KTNAME", "")
	cfg, err := ParseConfig(strings.NewReader("[libdefaults]\n default_keytab_name = FILE:/srv/kt\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := KeytabName(cfg); got != "FILE:/srv/kt" {
		t.Errorf("from config: %q", got)
	}
	if got := KeytabName(nil); got != DefaultKeytabName {
		t.Errorf("default: %q", got)
	}
	t.Setenv("KRB5_KTNAME", "/env/kt")
	if got := KeytabName(cfg); got != "/env/kt" {
		t.Errorf("from environment: %q", got)
	}
}
