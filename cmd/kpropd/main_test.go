package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/kpropd"
)

func TestParseArgs(t *testing.T) {
	var stderr bytes.Buffer
	o, _ := parseArgs([]string{"kpropd", "-S", "-D", "-d", "-t", "-rR", "-s", "/kt", "-f", "/from", "-F", "/db",
		"-p", "/kdb5_util", "-x", "a", "-x", "b", "-P", "7754", "-a", "/acl", "-A", "admin", "--pid-file=/run/p"}, &stderr)
	if o == nil {
		t.Fatalf("parseArgs failed: %s", stderr.String())
	}
	want := options{realm: "R", keytab: "/kt", file: "/from", database: "/db", kdb5util: "/kdb5_util", port: "7754",
		acl: "/acl", pidFile: "/run/p", debug: 1, nodaemon: 1, runOnce: true}
	if *o != want {
		t.Errorf("parseArgs = %+v, want %+v", *o, want)
	}
	o, _ = parseArgs([]string{"kpropd"}, &stderr)
	if o.file != "/var/lib/krb5kdc/from_master" || o.acl != "/etc/krb5kdc/kpropd.acl" || o.kdb5util != kpropd.DefaultKDB5Util {
		t.Errorf("Debian defaults: %+v", o)
	}
	for _, bad := range [][]string{{"kpropd", "extra"}, {"kpropd", "-z"}, {"kpropd", "--pid-file"}} {
		stderr.Reset()
		if o, code := parseArgs(bad, &stderr); o != nil || code != 1 || !strings.Contains(stderr.String(), "Usage: kpropd [-r realm]") {
			t.Errorf("parseArgs(%q) = %v, %d, %q", bad, o, code, stderr.String())
		}
	}
}

func TestLookupPort(t *testing.T) {
	if p, err := lookupPort("7754"); err != nil || p != 7754 {
		t.Errorf("numeric: %d, %v", p, err)
	}
	// krb5_prop from services(5), or 754 where it is missing.
	if p, err := lookupPort(""); err != nil || p != 754 {
		t.Errorf("default: %d, %v", p, err)
	}
}
