package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/krbconf"
)

func profile(t *testing.T, files ...string) *krbconf.Config {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, f := range files {
		p := filepath.Join(dir, string(rune('a'+i))+".conf")
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	cfg, err := krbconf.LoadConfigFiles(paths...)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestReadIpropSettings(t *testing.T) {
	// Defaults.
	s := readIpropSettings(profile(t, "[realms]\n R = {\n  iprop_enable = true\n }\n"), "R", "")
	want := ipropSettings{enabled: true, logFile: "/var/lib/krb5kdc/principal.ulog", ulogSize: 1000,
		poll: 2 * time.Minute, resyncTimeout: 5 * time.Minute}
	if s != want {
		t.Errorf("defaults: %+v", s)
	}
	// kdc.conf first, krb5.conf after it: kadm5 takes the last value.
	kdc := "[realms]\n R = {\n  iprop_enable = false\n  iprop_port = 2121\n  database_name = /db/principal\n  iprop_slave_poll = 30s\n  iprop_master_ulogsize = 50\n  iprop_resync_timeout = 1m\n  admin_server = kdc01.example.com:749\n }\n"
	krb5 := "[realms]\n R = {\n  iprop_enable = yes\n  iprop_port = 3000\n }\n"
	s = readIpropSettings(profile(t, kdc, krb5), "R", "")
	want = ipropSettings{enabled: true, adminServer: "kdc01.example.com:749", port: 3000, logFile: "/db/principal.ulog",
		ulogSize: 50, poll: 30 * time.Second, resyncTimeout: time.Minute}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	// The new spellings win over the old; -A over admin_server; a zero
	// poll means 10 s; a bad value counts as unset.
	s = readIpropSettings(profile(t, "[realms]\n R = {\n  iprop_enable = 1\n  iprop_replica_poll = 0\n  iprop_slave_poll = 5s\n  iprop_ulogsize = 7\n  iprop_master_ulogsize = 9\n  iprop_logfile = /l\n  iprop_port = banana\n }\n"), "R", "other")
	want = ipropSettings{enabled: true, adminServer: "other", logFile: "/l", ulogSize: 7, poll: 10 * time.Second, resyncTimeout: 5 * time.Minute}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	if s := readIpropSettings(profile(t, "[realms]\n R = {\n  iprop_enable = maybe\n }\n"), "R", ""); s.enabled {
		t.Error("enabled by an unreadable boolean")
	}
}

func TestIpropNeedsPort(t *testing.T) {
	cfg := profile(t, "[realms]\n R = {\n  iprop_enable = true\n }\n")
	_, err := newIprop("kpropd", &options{}, cfg, "R", 0, true, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "iprop_port is not") {
		t.Fatalf("err = %v", err)
	}
	if ip, err := newIprop("kpropd", &options{}, profile(t, "[realms]\n R = {\n }\n"), "R", 0, true, &bytes.Buffer{}); ip != nil || err != nil {
		t.Fatalf("iprop off: %v %v", ip, err)
	}
}

// The poller's records come out as MIT's do_iprop words them, on the
// right streams.
func TestIpropLines(t *testing.T) {
	for _, c := range []struct {
		debug     int
		msg       string
		attrs     []any
		want      string // everything on standard error
		wantNoDbg string // the same without -d (syslog unavailable, foreground)
	}{
		{1, "polling", []any{"sno", uint32(6), "sec", uint32(1796114965), "usec", uint32(573292)},
			"Calling iprop_get_updates_1 (sno=6 sec=1796114965 usec=573292)\n", ""},
		{1, "updates applied", []any{"updates", 5, "elapsed", 4444 * time.Microsecond},
			"Incremental updates: 5 updates / 4444 us\n", "Incremental updates: 5 updates / 4444 us\n"},
		{1, "full resync needed", nil, "Full resync needed\n", "kpropd: Full resync needed.\n"},
		{1, "waiting", []any{"seconds", 600}, "Waiting for 600 seconds before checking for updates again\n", ""},
		{1, "get updates failed", []any{"err", errors.New("RPC: Unable to receive")},
			"iprop_get_updates call failed: RPC: Unable to receive\nReinitializing iprop because get updates failed\n",
			"iprop_get_updates call failed: RPC: Unable to receive\n"},
		{1, "connect failed", []any{"err", errors.New("Connection refused"), "rpc", true, "backoff", 4 * time.Second},
			"kadm5 initialization failed!\nkpropd: Connection refused while attempting to connect to primary KDC ... retrying\nSleeping 4 seconds to re-initialize kadm5 (RPC ERROR)\n",
			"kpropd: Connection refused while attempting to connect to primary KDC ... retrying\n"},
		{1, "connect failed", []any{"err", errors.New("Preauthentication failed"), "rpc", false, "backoff", 8 * time.Second},
			"kadm5 initialization failed!\nkpropd: Preauthentication failed while initializing kpropd interface, retrying\nSleeping 8 seconds to re-initialize kadm5 (krb5kdc not running?)\n",
			"kpropd: Preauthentication failed while initializing kpropd interface, retrying\n"},
		{1, "get updates denied", nil, "get_updates permission denied\n", "get_updates, permission denied.\n"},
		{1, "bailing", nil, "ERROR returned by primary, bailing\n", "ERROR returned by primary KDC, bailing.\n"},
		{1, "apply failed", []any{"err", errors.New("disk full")}, "ulog_replay failed (disk full), updates not registered\n",
			"ulog_replay failed (disk full), updates not registered.\n"},
		{1, "applied updates", []any{"updates", 1}, "", ""},
		{2, "applied updates", []any{"updates", 1}, "applied updates updates=1\n", ""},
	} {
		for _, debug := range []int{c.debug, 0} {
			var out bytes.Buffer
			h := &ipropHandler{prog: "kpropd", stderr: &out, verbose: debug > 1}
			if debug > 0 {
				h.debug = &out
			} else {
				h.sysFallback = &out
			}
			log := slog.New(h)
			log.Log(context.Background(), slog.LevelDebug, c.msg, c.attrs...)
			want := c.want
			if debug == 0 {
				want = c.wantNoDbg
			}
			if out.String() != want {
				t.Errorf("%s (debug %d):\n%q\nwant\n%q", c.msg, debug, out.String(), want)
			}
		}
	}
}
