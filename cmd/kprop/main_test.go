package main

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
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
