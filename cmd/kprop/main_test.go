package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
	"github.com/gokprop/gokprop/krbconf"
)

func TestParseArgs(t *testing.T) {
	var stderr bytes.Buffer
	o, _ := parseArgs([]string{"kprop", "-rEXAMPLE.COM", "-d", "-f", "/d", "-P", "7540", "-s", "/kt", "kdc2"}, &stderr)
	if o == nil || o.realm != "EXAMPLE.COM" || o.debug != 1 || o.file != "/d" || o.port != "7540" || o.keytab != "/kt" || o.host != "kdc2" {
		t.Fatalf("parseArgs = %+v (%s)", o, stderr.String())
	}
	o, _ = parseArgs([]string{"kprop", "kdc2"}, &stderr)
	if o.file != defaultFile {
		t.Errorf("default file %q", o.file)
	}
	for _, bad := range [][]string{{"kprop"}, {"kprop", "a", "b"}, {"kprop", "-x", "h"}} {
		stderr.Reset()
		if o, code := parseArgs(bad, &stderr); o != nil || code != 1 || !strings.Contains(stderr.String(), "Usage: kprop [-r realm] [-f file] [-d] [-P port] [-s keytab] replica_host") {
			t.Errorf("parseArgs(%q) = %v, %d, %q", bad, o, code, stderr.String())
		}
	}
}

func TestDialPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	c, err := dial(context.Background(), "127.0.0.1", port)
	if err != nil {
		t.Fatalf("numeric port: %v", err)
	}
	c.Close()
	if _, err := dial(context.Background(), "127.0.0.1", "no-such-service-name"); err == nil {
		t.Error("unknown service name accepted")
	}
}

// The credentials are checked with krb5.conf's clockskew, as MIT's
// krb5_mk_req_extended checks them with the context's clockskew.
func TestPropagateConfigClockSkew(t *testing.T) {
	for conf, want := range map[string]time.Duration{
		"[libdefaults]\nclockskew = 3600\n": time.Hour,
		"[libdefaults]\nclockskew = 42\n":   42 * time.Second,
		"":                                  krb5.DefaultClockSkew,
	} {
		cfg, err := krbconf.ParseConfig(strings.NewReader(conf), "krb5.conf")
		if err != nil {
			t.Fatal(err)
		}
		c := propagateConfig(cfg, &krbauth.Credentials{}, &options{}, io.Discard)
		if c.Auth.ClockSkew != want {
			t.Errorf("%q: clock skew %v, want %v", conf, c.Auth.ClockSkew, want)
		}
	}
}
