package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"slices"
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
	o, _ := parseArgs([]string{"kprop", "-rEXAMPLE.COM", "-d", "-f", "/d", "-P", "7540", "-s", "/kt", "kdc2"}, io.Discard, &stderr)
	if o == nil || o.realm != "EXAMPLE.COM" || o.debug != 1 || o.file != "/d" || o.port != "7540" || o.keytab != "/kt" || !slices.Equal(o.hosts, []string{"kdc2"}) {
		t.Fatalf("parseArgs = %+v (%s)", o, stderr.String())
	}
	o, _ = parseArgs([]string{"kprop", "kdc2"}, io.Discard, &stderr)
	if o.file != defaultFile || o.dump || o.parallel != 0 || o.logFormat != "" || o.mitWire {
		t.Errorf("defaults %+v", o)
	}
	o, _ = parseArgs([]string{"kprop", "--dump", "kdc2", "--parallel", "2", "--log-format=json", "--mit-wire", "[::1]:7540", "kdc4"}, io.Discard, &stderr)
	if o == nil || !o.dump || o.parallel != 2 || o.logFormat != "json" || !o.mitWire || !slices.Equal(o.hosts, []string{"kdc2", "[::1]:7540", "kdc4"}) {
		t.Errorf("extensions: %+v (%s)", o, stderr.String())
	}
	// A command-line error prints MIT's usage message, exactly.
	for _, bad := range [][]string{{"kprop"}, {"kprop", "-x", "h"}, {"kprop", "--parallel", "0", "h"},
		{"kprop", "--log-format", "xml", "h"}, {"kprop", "--nope", "h"}} {
		stderr.Reset()
		if o, code := parseArgs(bad, io.Discard, &stderr); o != nil || code != 1 || !strings.HasSuffix(stderr.String(), "\nUsage: kprop [-r realm] [-f file] [-d] [-P port] [-s keytab] replica_host\n\n") {
			t.Errorf("parseArgs(%q) = %v, %d, %q", bad, o, code, stderr.String())
		}
	}
	var stdout bytes.Buffer
	if o, code := parseArgs([]string{"kprop", "--help"}, &stdout, &stderr); o != nil || code != 0 || !strings.Contains(stdout.String(), "[--dump] [--parallel N] [--log-format text|json]") {
		t.Errorf("--help: %v, %d, %q", o, code, stdout.String())
	}
}

func TestParseTargets(t *testing.T) {
	ts, err := parseTargets([]string{"kdc2", "kdc3:7541", "[::1]:7542", "[::1]", "fe80::1", "kdc3", "k:krb5_prop"}, "754")
	if err != nil {
		t.Fatal(err)
	}
	want := []target{
		{"kdc2", "kdc2", "754", "kdc2"},
		{"kdc3:7541", "kdc3", "7541", "kdc3:7541"},
		{"[::1]:7542", "::1", "7542", "[::1]:7542"},
		{"[::1]", "::1", "754", "[::1]"},
		{"fe80::1", "fe80::1", "754", "fe80::1"},
		{"kdc3", "kdc3", "754", "kdc3"},
		{"k:krb5_prop", "k", "krb5_prop", "k"},
	}
	if !slices.Equal(ts, want) {
		t.Errorf("parseTargets =\n%+v\nwant\n%+v", ts, want)
	}
	for _, bad := range []string{"", "[::1", "[::1]x", "[]:7", "host:", ":754", "[::1]:"} {
		if _, err := parseTargets([]string{bad}, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPrefixLinesAndSummary(t *testing.T) {
	if got := prefixLines("kdc3: ", "kprop: a while b\n\nGeneric remote error: c\n"); got != "kdc3: kprop: a while b\n\nkdc3: Generic remote error: c\n" {
		t.Errorf("prefixLines = %q", got)
	}
	ts := []target{{label: "a"}, {label: "b"}, {label: "c"}}
	if got := summary(ts, 3, nil); got != "Database propagation to 3 replicas: 3 SUCCEEDED" {
		t.Errorf("summary = %q", got)
	}
	if got := summary(ts, 1, []string{"a", "c"}); got != "Database propagation to 3 replicas: 1 SUCCEEDED, 2 FAILED (a, c)" {
		t.Errorf("summary = %q", got)
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
	c, err := dialTarget(context.Background(), "127.0.0.1", port)
	if err != nil {
		t.Fatalf("numeric port: %v", err)
	}
	c.Close()
	if _, err := dialTarget(context.Background(), "127.0.0.1", "no-such-service-name"); err == nil {
		t.Error("unknown service name accepted")
	}
}

// The credentials are checked with krb5.conf's clockskew, as MIT's
// krb5_mk_req_extended checks them with the context's clockskew.
func TestReplicaConfigClockSkew(t *testing.T) {
	for conf, want := range map[string]time.Duration{
		"[libdefaults]\nclockskew = 3600\n": time.Hour,
		"[libdefaults]\nclockskew = 42\n":   42 * time.Second,
		"":                                  krb5.DefaultClockSkew,
	} {
		cfg, err := krbconf.ParseConfig(strings.NewReader(conf), "krb5.conf")
		if err != nil {
			t.Fatal(err)
		}
		c := replicaConfig(cfg, &krbauth.Credentials{})
		if c.Auth.ClockSkew != want {
			t.Errorf("%q: clock skew %v, want %v", conf, c.Auth.ClockSkew, want)
		}
	}
}
