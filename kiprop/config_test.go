package kiprop

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbconf"
)

func TestStripPort(t *testing.T) {
	for in, want := range map[string]string{
		"kdc1":              "kdc1",
		"kdc1.example:749":  "kdc1.example",
		"Kdc1.Example":      "Kdc1.Example",
		"[2001:db8::1]:749": "2001:db8::1",
		"[2001:db8::1]":     "2001:db8::1",
		"10.0.0.1:1":        "10.0.0.1",
		"":                  "",
	} {
		if got := stripPort(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestConfig(t *testing.T) {
	prof, err := krbconf.ParseConfig(strings.NewReader(`
[libdefaults]
	default_realm = R.TEST
	dns_canonicalize_hostname = false
	qualify_shortname = ""
	default_tgs_enctypes = aes256-sha2 des3-cbc-sha1 aes128-sha1
[realms]
	R.TEST = {
		admin_server = Primary.R.Test
		iprop_port = bad
	}
`), "t")
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{Profile: prof, Client: krb5.Principal{}}
	if h, err := c.AdminServerHost(); err != nil || h != "Primary.R.Test" {
		t.Errorf("admin server %q %v", h, err)
	}
	if s, _ := c.ServicePrincipal(); s.String() != "kiprop/Primary.R.Test@R.TEST" {
		t.Errorf("service %s", s)
	}
	if _, err := c.IpropPort(); err == nil || errors.Is(err, ErrNoIpropPort) {
		t.Errorf("malformed iprop_port: %v", err)
	}
	cl, err := (&Config{Profile: prof}).ClientPrincipal(context.Background())
	if err != nil || cl.Name.NameType != 3 || cl.Name.NameString[0] != "kiprop" || cl.Realm != "R.TEST" {
		t.Errorf("client %v %v", cl, err)
	}
	if got := c.negotiationEnctypes(); len(got) != 2 || got[0] != krb5.EnctypeAES256CTSSHA384 || got[1] != krb5.EnctypeAES128CTSSHA1 {
		t.Errorf("negotiation enctypes %v", got)
	}
	if _, err := (&Config{Realm: "NONE.TEST", Profile: prof}).AdminServerHost(); !errors.Is(err, ErrNoAdminServer) {
		t.Errorf("no admin server: %v", err)
	}
}
