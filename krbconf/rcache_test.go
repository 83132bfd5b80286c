package krbconf

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestReplayCacheName(t *testing.T) {
	for _, v := range []string{"KRB5RCACHENAME", "KRB5RCACHETYPE", "TMPDIR"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	cfg, err := ParseConfig(strings.NewReader("[libdefaults]\n\tdefault_rcache_name = file2:%{TEMP}/rc_%{euid}\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	euid := strconv.Itoa(os.Geteuid())
	check := func(what string, cfg *Config, want string) {
		t.Helper()
		got, err := ReplayCacheName(cfg)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", what, got, err, want)
		}
	}
	check("no configuration", nil, "dfl:")
	check("default_rcache_name", cfg, "file2:/tmp/rc_"+euid)
	t.Setenv("TMPDIR", "/var/spool")
	check("default_rcache_name with TMPDIR", cfg, "file2:/var/spool/rc_"+euid)
	t.Setenv("KRB5RCACHETYPE", "none")
	check("KRB5RCACHETYPE", cfg, "none:")
	t.Setenv("KRB5RCACHENAME", "file2:/x")
	check("KRB5RCACHENAME", cfg, "file2:/x")
}

func TestExpandPathTokens(t *testing.T) {
	t.Setenv("TMPDIR", "/tmpdir")
	uid, euid := strconv.Itoa(os.Getuid()), strconv.Itoa(os.Geteuid())
	for in, want := range map[string]string{
		"plain":                    "plain",
		"%{TEMP}/a":                "/tmpdir/a",
		"%{TE}/a":                  "/tmpdir/a", // MIT matches a prefix of a token's name
		"x%{uid}y%{USERID}%{null}": "x" + uid + "y" + uid,
		"%{euid}":                  euid,
		"%{LIBDIR}:%{SBINDIR}":     debianLibDir + ":" + debianSbinDir,
	} {
		if got, err := ExpandPathTokens(in); err != nil || got != want {
			t.Errorf("ExpandPathTokens(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"%{nosuch}", "%{}", "%{TEMP"} {
		if _, err := ExpandPathTokens(bad); err == nil {
			t.Errorf("ExpandPathTokens(%q) succeeded", bad)
		} else if bad != "%{TEMP" && !errors.Is(err, ErrPathToken) {
			t.Errorf("ExpandPathTokens(%q): %v", bad, err)
		}
	}
}
