package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/krb5"
)

func TestParseArgsExtensions(t *testing.T) {
	var stderr bytes.Buffer
	o, _ := parseArgs([]string{"kpropd", "-D", "--metrics-listen", "127.0.0.1:9754", "--log-format=json", "--mit-wire"}, &stderr)
	if o == nil || o.metricsListen != "127.0.0.1:9754" || o.logFormat != "json" || o.help || !o.mitWire {
		t.Fatalf("parseArgs = %+v (%s)", o, stderr.String())
	}
	if o, _ := parseArgs([]string{"kpropd", "--help"}, &stderr); o == nil || !o.help {
		t.Errorf("--help: %+v", o)
	}
	stderr.Reset()
	if o, code := parseArgs([]string{"kpropd", "--log-format", "xml"}, &stderr); o != nil || code != 1 || !strings.Contains(stderr.String(), "Usage: kpropd [-r realm]") {
		t.Errorf("--log-format xml: %v, %d, %q", o, code, stderr.String())
	}
	var stdout bytes.Buffer
	help("kpropd", &stdout)
	if !strings.Contains(stdout.String(), "[--metrics-listen=addr] [--log-format=text|json]") {
		t.Errorf("help: %q", stdout.String())
	}
}

// The JSON handler writes one object per record, with addresses,
// enctypes and errors as strings.
func TestStructuredHandler(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(structuredHandler("json", slog.LevelDebug, &out))
	log.Debug("authenticated", "peer", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242},
		"ticket_enctype", krb5.EnctypeAES256CTSSHA1, "err", &net.OpError{Op: "read", Err: net.ErrClosed})
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if rec["msg"] != "authenticated" || rec["level"] != "DEBUG" || rec["peer"] != "127.0.0.1:4242" ||
		rec["ticket_enctype"] != "aes256-cts-hmac-sha1-96" || rec["err"] != "read: use of closed network connection" {
		t.Errorf("record %v", rec)
	}
	out.Reset()
	slog.New(structuredHandler("text", slog.LevelInfo, &out)).Debug("hidden")
	if out.Len() != 0 {
		t.Errorf("debug record at the info level: %q", out.String())
	}
}
