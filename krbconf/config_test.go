package krbconf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/krb5"
)

func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	c, err := ParseConfig(strings.NewReader(text), "test.conf")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func loadFixture(t *testing.T, names ...string) *Config {
	t.Helper()
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join("testdata", "conf", n))
	}
	c, err := LoadConfigFiles(paths...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fedoraConfig loads the Fedora-style fixture with its includedir pointed
// at the fixture directory instead of the real /etc/krb5.conf.d.
func fedoraConfig(t *testing.T) *Config {
	t.Helper()
	text, err := os.ReadFile("testdata/conf/fedora-krb5.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs("testdata/conf/fedora-krb5.conf.d")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(text), "includedir /etc/krb5.conf.d/", "includedir "+dir+"/", 1)
	if s == string(text) {
		t.Fatal("fixture lacks its includedir line")
	}
	path := filepath.Join(t.TempDir(), "krb5.conf")
	writeFile(t, path, s)
	c, err := LoadConfigFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDebianKrb5Conf(t *testing.T) {
	c := loadFixture(t, "debian-krb5.conf")
	if r, err := c.DefaultRealm(); err != nil || r != "ATHENA.MIT.EDU" {
		t.Errorf("DefaultRealm = %q, %v", r, err)
	}
	if c.RDNS() {
		t.Error("rdns = false not honoured")
	}
	if c.DNSCanonicalizeHostname() != CanonTrue {
		t.Errorf("dns_canonicalize_hostname default = %v, want true (MIT 1.20)", c.DNSCanonicalizeHostname())
	}
	if !c.libdefaultBool("ATHENA.MIT.EDU", "forwardable") || !c.libdefaultBool("ATHENA.MIT.EDU", "proxiable") {
		t.Error("forwardable/proxiable")
	}
	kdcs, err := c.KDCs("ATHENA.MIT.EDU")
	if err != nil {
		t.Fatal(err)
	}
	want := []KDCAddress{{"kerberos.mit.edu", 88, "", ""}, {"kerberos-1.mit.edu", 88, "", ""}, {"kerberos-2.mit.edu", 88, "", ""}}
	if !slices.Equal(kdcs, want) {
		t.Errorf("KDCs = %v", kdcs)
	}
	if kdcs, _ := c.KDCs("CSAIL.MIT.EDU"); len(kdcs) != 0 {
		t.Errorf("CSAIL.MIT.EDU lists no kdc, got %v", kdcs)
	}
	if got := c.String("", "domain_realm", ".media.mit.edu"); got != "MEDIA-LAB.MIT.EDU" {
		t.Errorf("domain_realm = %q", got)
	}
	if got := c.Subsections("realms"); len(got) != 10 || got[0] != "1TS.ORG" || got[9] != "stanford.edu" {
		t.Errorf("realms = %q", got)
	}
	if got := c.String("", "libdefaults", "fcc-mit-ticketflags"); got != "true" {
		t.Errorf("Heimdal relation = %q", got)
	}
	if n, err := c.UDPPreferenceLimit(); err != nil || n != 1465 {
		t.Errorf("UDPPreferenceLimit = %d, %v", n, err)
	}
	if d := c.ClockSkew(); d != 5*time.Minute {
		t.Errorf("ClockSkew = %v", d)
	}
	if l, err := c.DefaultTktEnctypes(); err != nil || !slices.Equal(l, krb5.DefaultEnctypes()) {
		t.Errorf("DefaultTktEnctypes = %v, %v", l, err)
	}
}

func TestUbuntuKrb5Conf(t *testing.T) {
	c := loadFixture(t, "ubuntu-krb5.conf")
	if c.DNSCanonicalizeHostname() != CanonFalse {
		t.Error("dns_canonicalize_hostname = false not honoured")
	}
	if d, ok := c.QualifyShortname(); !ok || d != "corp.example.com" {
		t.Errorf("QualifyShortname = %q, %v", d, ok)
	}
	if d := c.ClockSkew(); d != 10*time.Minute {
		t.Errorf("ClockSkew = %v", d)
	}
	if d, err := c.TicketLifetime("EXAMPLE.COM"); err != nil || d != 10*time.Hour {
		t.Errorf("per-realm ticket_lifetime = %v, %v", d, err)
	}
	if d, err := c.TicketLifetime("OTHER.ORG"); err != nil || d != 24*time.Hour {
		t.Errorf("default ticket_lifetime = %v, %v", d, err)
	}
	if l, err := c.DefaultTktEnctypes(); err != nil || !slices.Equal(l, []krb5.Enctype{18, 17, 20, 19}) {
		t.Errorf("DefaultTktEnctypes = %v, %v", l, err)
	}
	kdcs, err := c.KDCs("EXAMPLE.COM")
	if err != nil {
		t.Fatal(err)
	}
	want := []KDCAddress{
		{"kdc1.example.com", 88, "", ""},
		{"kdc2.example.com", 8888, "", ""},
		{"2001:db8::53", 88, "", ""},
		{"2001:db8::54", 88, "", ""},
		{"192.0.2.10", 88, "", ""},
		{"kdc3.example.com", 1088, "tcp", ""},
	}
	if !slices.Equal(kdcs, want) {
		t.Errorf("KDCs =\n%v\nwant\n%v", kdcs, want)
	}
	if s := kdcs[2].String(); s != "[2001:db8::53]:88" {
		t.Errorf("String = %q", s)
	}
	if s := kdcs[5].String(); s != "tcp/kdc3.example.com:1088" {
		t.Errorf("String = %q", s)
	}
}

func TestFedoraKrb5Conf(t *testing.T) {
	// Read verbatim, the includedir names a directory this machine lacks;
	// MIT fails the same way ("Included profile directory could not be read").
	if _, err := os.Stat("/etc/krb5.conf.d"); errors.Is(err, os.ErrNotExist) {
		_, err := LoadConfigFiles("testdata/conf/fedora-krb5.conf")
		if !errors.Is(err, ErrProfileIncludeDir) {
			t.Errorf("verbatim fedora file: %v", err)
		}
	}
	c := fedoraConfig(t)
	// The includedir comes first, so its files' values come first: the
	// snippet's KCM: ccache beats the main file's KEYRING.
	if got := c.Strings("libdefaults", "default_ccache_name"); !slices.Equal(got, []string{"KCM:", "KEYRING:persistent:%{uid}"}) {
		t.Errorf("default_ccache_name = %q", got)
	}
	if got := c.String("", "libdefaults", "default_ccache_name"); got != "KCM:" {
		t.Errorf("default_ccache_name = %q", got)
	}
	// zz-site-overrides says true, before the main file's fallback.
	if c.DNSCanonicalizeHostname() != CanonTrue {
		t.Errorf("dns_canonicalize_hostname = %v", c.DNSCanonicalizeHostname())
	}
	// Skipped: the .rpmsave file and the dotfile.
	if got := c.Strings("libdefaults", "default_realm"); !slices.Equal(got, []string{"IPA.EXAMPLE.TEST"}) {
		t.Errorf("default_realm = %q", got)
	}
	if d, ok := c.QualifyShortname(); !ok || d != "" {
		t.Errorf("qualify_shortname = %q, %v (want set and empty)", d, ok)
	}
	if n, err := c.UDPPreferenceLimit(); err != nil || n != 0 {
		t.Errorf("UDPPreferenceLimit = %d, %v", n, err)
	}
	l, err := c.PermittedEnctypes()
	if err != nil || !slices.Equal(l, []krb5.Enctype{18, 20, 26, 17, 19, 25}) {
		t.Errorf("PermittedEnctypes = %v, %v", l, err)
	}
	// No default_tkt_enctypes: permitted_enctypes is used.
	if l2, err := c.DefaultTktEnctypes(); err != nil || !slices.Equal(l2, l) {
		t.Errorf("DefaultTktEnctypes = %v, %v", l2, err)
	}
	if d, err := c.RenewLifetime("IPA.EXAMPLE.TEST"); err != nil || d != 7*24*time.Hour {
		t.Errorf("RenewLifetime = %v, %v", d, err)
	}
	kdcs, err := c.KDCs("IPA.EXAMPLE.TEST")
	if err != nil || len(kdcs) != 1 || kdcs[0] != (KDCAddress{"ipa1.ipa.example.test", 88, "", ""}) {
		t.Errorf("KDCs = %v, %v", kdcs, err)
	}

	// With the main file's own setting only, the mode is fallback.
	c2 := mustParse(t, "[libdefaults]\n dns_canonicalize_hostname = fallback\n")
	if c2.DNSCanonicalizeHostname() != CanonFallback {
		t.Errorf("fallback not recognised: %v", c2.DNSCanonicalizeHostname())
	}
}

func TestADKrb5Conf(t *testing.T) {
	c := loadFixture(t, "ad-krb5.conf")
	if n, err := c.UDPPreferenceLimit(); err != nil || n != 0 {
		t.Errorf("UDPPreferenceLimit = %d, %v", n, err)
	}
	if !c.AllowRC4() || c.AllowDES3() {
		t.Errorf("AllowRC4 = %v, AllowDES3 = %v", c.AllowRC4(), c.AllowDES3())
	}
	if l, err := c.DefaultTktEnctypes(); err != nil || !slices.Equal(l, []krb5.Enctype{18, 17, 23}) {
		t.Errorf("DefaultTktEnctypes = %v, %v", l, err)
	}
	if err := c.EnctypeUsable(krb5.EnctypeRC4HMAC); err != nil {
		t.Errorf("rc4 with allow_rc4: %v", err)
	}
	if got := c.RealmStrings("AD.EXAMPLE.NET", "auth_to_local"); len(got) != 2 || got[0] != `RULE:[1:$1@$0](^.*@AD\.EXAMPLE\.NET$)s/@.*//` {
		t.Errorf("auth_to_local = %q", got)
	}
	if got := c.String("", "capaths", "AD.EXAMPLE.NET", "CHILD.AD.EXAMPLE.NET"); got != "." {
		t.Errorf("capaths = %q", got)
	}
	if !c.DNSLookupKDC() {
		t.Error("dns_lookup_kdc")
	}
	if d, err := c.RenewLifetime("AD.EXAMPLE.NET"); err != nil || d != 7*24*time.Hour {
		t.Errorf("renew_lifetime = %v, %v", d, err)
	}
}

func TestKDCConfLayering(t *testing.T) {
	dir, err := filepath.Abs("testdata/conf")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(KDCConfigEnv, filepath.Join(dir, "kdc.conf"))
	t.Setenv(ConfigEnv, filepath.Join(dir, "missing.conf")+":"+filepath.Join(dir, "ubuntu-krb5.conf"))
	c, err := LoadKDCConfig()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.fileNames(); len(got) != 2 || !strings.HasSuffix(got[0], "kdc.conf") || !strings.HasSuffix(got[1], "ubuntu-krb5.conf") {
		t.Errorf("Files = %q", got)
	}
	// kdc.conf is in front: its libdefaults win.
	if !c.AllowDES3() {
		t.Error("allow_des3 from kdc.conf not seen")
	}
	if r, _ := c.DefaultRealm(); r != "EXAMPLE.COM" {
		t.Errorf("default realm from krb5.conf = %q", r)
	}
	if got := c.RealmString("EXAMPLE.COM", "database_name", ""); got != "/var/lib/krb5kdc/principal" {
		t.Errorf("database_name = %q", got)
	}
	if got := c.RealmString("EXAMPLE.COM", "key_stash_file", "/default"); got != "/etc/krb5kdc/stash" {
		t.Errorf("key_stash_file = %q", got)
	}
	if got := c.RealmString("EXAMPLE.COM", "acl_file", ""); got != "/etc/krb5kdc/kadm5.acl" {
		t.Errorf("acl_file = %q", got)
	}
	if got := c.RealmString("EXAMPLE.COM", "kdc_ports", ""); got != "750,88" {
		t.Errorf("kdc_ports = %q", got)
	}
	if got := c.RealmString("EXAMPLE.COM", "iprop_logfile", ""); got != "/var/lib/krb5kdc/principal.ulog" {
		t.Errorf("iprop_logfile = %q", got)
	}
	if b, err := c.RealmBool("EXAMPLE.COM", "iprop_enable", false); err != nil || !b {
		t.Errorf("iprop_enable = %v, %v", b, err)
	}
	if d, err := c.RealmDuration("EXAMPLE.COM", "iprop_resync_timeout", 0); err != nil || d != 5*time.Minute {
		t.Errorf("iprop_resync_timeout = %v, %v", d, err)
	}
	if d, err := c.RealmDuration("EXAMPLE.COM", "max_life", 0); err != nil || d != 10*time.Hour {
		t.Errorf("max_life = %v, %v", d, err)
	}
	if d, err := c.RealmDuration("EXAMPLE.COM", "max_renewable_life", 0); err != nil || d != 7*24*time.Hour {
		t.Errorf("max_renewable_life = %v, %v", d, err)
	}
	if d, err := c.RealmDuration("OTHER", "iprop_resync_timeout", 300*time.Second); err != nil || d != 300*time.Second {
		t.Errorf("default = %v, %v", d, err)
	}
	// Both files have [realms] EXAMPLE.COM; kdc lines come from krb5.conf.
	if kdcs, err := c.KDCs("EXAMPLE.COM"); err != nil || len(kdcs) != 6 {
		t.Errorf("KDCs = %v, %v", kdcs, err)
	}
	// The client view does not see kdc.conf.
	c2, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c2.AllowDES3() || len(c2.fileNames()) != 1 {
		t.Errorf("LoadConfig read %q", c2.fileNames())
	}

	// Debian's shipped kdc.conf.
	d := loadFixture(t, "debian-kdc.conf")
	if got := d.String("", "kdcdefaults", "kdc_ports"); got != "750,88" {
		t.Errorf("kdcdefaults.kdc_ports = %q", got)
	}
	if got := d.RealmString("EXAMPLE.COM", "default_principal_flags", ""); got != "+preauth" {
		t.Errorf("default_principal_flags = %q", got)
	}
	if got := d.RealmString("EXAMPLE.COM", "master_key_type", "none"); got != "none" {
		t.Errorf("commented-out master_key_type = %q", got)
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Setenv(ConfigEnv, "/nonexistent/a.conf::/nonexistent/b.conf")
	c, err := LoadConfig()
	if err != nil {
		t.Fatalf("all files missing: %v (MIT uses an empty profile)", err)
	}
	if len(c.fileNames()) != 0 {
		t.Errorf("Files = %q", c.fileNames())
	}
	if _, err := c.DefaultRealm(); !errors.Is(err, ErrNoDefaultRealm) {
		t.Errorf("DefaultRealm: %v", err)
	}
	if got := configPaths(); len(got) != 3 || got[1] != "" {
		t.Errorf("ConfigPaths = %q", got)
	}
	os.Unsetenv(ConfigEnv)
	if got := configPaths(); !slices.Equal(got, []string{"/etc/krb5.conf"}) {
		t.Errorf("default ConfigPaths = %q", got)
	}
	os.Unsetenv(KDCConfigEnv)
	if got := KDCConfigPath(); got != "/etc/krb5kdc/kdc.conf" {
		t.Errorf("KDCConfigPath = %q", got)
	}
	var nilc *Config
	if nilc.RDNS() != true || nilc.DNSCanonicalizeHostname() != CanonTrue || nilc.String("d", "a", "b") != "d" {
		t.Error("nil Config defaults")
	}
	if l, err := nilc.DefaultTktEnctypes(); err != nil || !slices.Equal(l, krb5.DefaultEnctypes()) {
		t.Errorf("nil Config enctypes = %v, %v", l, err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	writeFile(t, filepath.Join(home, "k.conf"), "[libdefaults]\ndefault_realm = HOME.REALM\n")
	c, err = LoadConfigFiles("~/k.conf")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := c.DefaultRealm(); r != "HOME.REALM" {
		t.Errorf("~ expansion: realm %q", r)
	}
}

func TestFinalSectionsStopLaterFiles(t *testing.T) {
	dir := t.TempDir()
	f1, f2 := filepath.Join(dir, "1.conf"), filepath.Join(dir, "2.conf")
	tests := []struct {
		first, path string
		want        []string
	}{
		{"[a]\nb = f1\n", "a b", []string{"f1", "f2"}},
		{"[a]*\nb = f1\n", "a b", []string{"f1"}},
		{"[a]*\nb = f1\n", "a c", nil},                        // the final section hides later files entirely
		{"[a]\nb* = f1\n", "a b", []string{"f1", "f2"}},       // a final relation does not
		{"[a]\nc = {\nd = f1\n}*\n", "a c d", []string{"f1"}}, // nor does it for subsections
		{"[a]\nc = {\nd = f1\n}\n", "a c d", []string{"f1", "f2"}},
		{"[a]*\n", "a c d", nil},
		{"[x]\n", "a b", []string{"f2"}},
	}
	writeFile(t, f2, "[a]\nb = f2\nc = {\nd = f2\n}\nc = f2\n")
	for _, tt := range tests {
		writeFile(t, f1, tt.first)
		c, err := LoadConfigFiles(f1, f2)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Strings(strings.Fields(tt.path)...); !slices.Equal(got, tt.want) {
			t.Errorf("%q / %s: got %q, want %q", tt.first, tt.path, got, tt.want)
		}
	}
}

func TestValidationLikeInitContext(t *testing.T) {
	for _, line := range []string{
		"allow_weak_crypto = maybe", "allow_des3 = maybe", "allow_rc4 = 2",
		"ignore_acceptor_hostname = x", "enforce_ok_as_delegate = ?",
	} {
		_, err := ParseConfig(strings.NewReader("[libdefaults]\n"+line+"\n"), "v.conf")
		if !errors.Is(err, ErrProfileBadBoolean) {
			t.Errorf("%s: %v", line, err)
		}
	}
	if _, err := ParseConfig(strings.NewReader("[libdefaults]\ndns_canonicalize_hostname = maybe\n"), "v.conf"); err == nil {
		t.Error("bad dns_canonicalize_hostname accepted")
	}
	// Values MIT does not check at context creation.
	c := mustParse(t, "[libdefaults]\nclockskew = abc\nrdns = x\nudp_preference_limit = x\nkdc_timesync = x\ndns_canonicalize_hostname = FallBack\n")
	if c.ClockSkew() != krb5.DefaultClockSkew || !c.RDNS() || !c.KDCTimesync() || c.DNSCanonicalizeHostname() != CanonFallback {
		t.Error("lenient settings")
	}
	if _, err := c.UDPPreferenceLimit(); !errors.Is(err, ErrProfileBadInteger) {
		t.Errorf("UDPPreferenceLimit: %v", err)
	}
}

func TestGenericLookups(t *testing.T) {
	c := mustParse(t, `[s]
	yes = Yes
	off = off
	bad = maybe
	n = 42
	neg = -7
	sp = " 12"
	hex = 0x10
	junk = 12x
	big = 99999999999
	d = 1h30m
	dbad = 1h 30x
	multi = a
	multi = b
[libdefaults]
	udp_preference_limit = 40000
	kdc_default_options = 0
`)
	bools := []struct {
		tag  string
		want bool
		err  bool
	}{{"yes", true, false}, {"off", false, false}, {"bad", true, true}, {"unset", true, false}}
	for _, b := range bools {
		got, err := c.Bool(true, "s", b.tag)
		if got != b.want || (err != nil) != b.err {
			t.Errorf("Bool(%s) = %v, %v", b.tag, got, err)
		}
	}
	ints := []struct {
		tag  string
		want int
		err  bool
	}{{"n", 42, false}, {"neg", -7, false}, {"sp", 12, false}, {"hex", 5, true}, {"junk", 5, true}, {"big", 5, true}, {"unset", 5, false}}
	for _, i := range ints {
		got, err := c.Int(5, "s", i.tag)
		if got != i.want || (err != nil) != i.err {
			t.Errorf("Int(%s) = %v, %v", i.tag, got, err)
		}
	}
	if d, err := c.Duration(0, "s", "d"); err != nil || d != 90*time.Minute {
		t.Errorf("Duration = %v, %v", d, err)
	}
	if _, err := c.Duration(0, "s", "dbad"); !errors.Is(err, ErrBadDeltat) {
		t.Errorf("bad Duration: %v", err)
	}
	if got := c.Strings("s", "multi"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Strings = %q", got)
	}
	if got := c.String("x", "s", "multi"); got != "a" {
		t.Errorf("String = %q", got)
	}
	if n, err := c.UDPPreferenceLimit(); err != nil || n != 32700 {
		t.Errorf("clamped UDPPreferenceLimit = %d, %v", n, err)
	}
	if got := c.KDCDefaultOptions(); got != 0 {
		t.Errorf("KDCDefaultOptions = %#x", got)
	}
	if got := mustParse(t, "").KDCDefaultOptions(); got != 0x10 {
		t.Errorf("default KDCDefaultOptions = %#x", got)
	}
	if n, _ := mustParse(t, "[libdefaults]\nudp_preference_limit = -3\n").UDPPreferenceLimit(); n != 1465 {
		t.Errorf("negative limit = %d", n)
	}
}

func TestParseKDCAddress(t *testing.T) {
	tests := []struct {
		in   string
		want KDCAddress
		err  bool
	}{
		{in: "kdc.example.com", want: KDCAddress{"kdc.example.com", 88, "", ""}},
		{in: "kdc.example.com:750", want: KDCAddress{"kdc.example.com", 750, "", ""}},
		{in: "127.0.0.1:8888", want: KDCAddress{"127.0.0.1", 8888, "", ""}},
		{in: "[::1]:88", want: KDCAddress{"::1", 88, "", ""}},
		{in: "[::1]", want: KDCAddress{"::1", 88, "", ""}},
		{in: "[::1]junk", want: KDCAddress{"::1", 88, "", ""}},
		{in: "host junk", want: KDCAddress{"host", 88, "", ""}},
		{in: "tcp/kdc:99", want: KDCAddress{"kdc", 99, "tcp", ""}},
		{in: "udp/[fe80::1]:5", want: KDCAddress{"fe80::1", 5, "udp", ""}},
		{in: "https://proxy.example.com/KdcProxy", want: KDCAddress{"proxy.example.com", 443, "https", "KdcProxy"}},
		{in: "https://proxy:8443", want: KDCAddress{"proxy", 8443, "https", ""}},
		{in: "", err: true},
		{in: "88", err: true},
		{in: ":88", err: true},
		{in: "::1", err: true},
		{in: "fe80::1", err: true},
		{in: "host:", err: true},
		{in: "host:88x", err: true},
		{in: "host:65536", err: true},
		{in: "host:+8", err: true},
		{in: "tcp/", err: true},
		{in: "[]:88", err: true},
	}
	for _, tt := range tests {
		got, err := parseKDCAddress(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseKDCAddress(%q) = %+v, %v", tt.in, got, err)
		}
	}
	c := mustParse(t, "[realms]\nR = {\nkdc = good\nkdc = bad:x\n}\n")
	if _, err := c.KDCs("R"); err == nil {
		t.Error("malformed kdc entry accepted")
	}
}

func TestEnctypeUsable(t *testing.T) {
	plain := mustParse(t, "")
	allow := mustParse(t, "[libdefaults]\nallow_des3 = true\nallow_rc4 = yes\n")
	for _, id := range []krb5.Enctype{17, 18, 19, 20} {
		if err := plain.EnctypeUsable(id); err != nil {
			t.Errorf("%d: %v", id, err)
		}
	}
	for _, tt := range []struct {
		id   krb5.Enctype
		name string
	}{{16, "des3-cbc-sha1"}, {23, "arcfour-hmac"}} {
		err := plain.EnctypeUsable(tt.id)
		if !errors.Is(err, krb5.ErrUnsupportedEnctype) || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("%d without allow: %v", tt.id, err)
		}
		if err := allow.EnctypeUsable(tt.id); err != nil {
			t.Errorf("%d with allow: %v", tt.id, err)
		}
	}
	for _, tt := range []struct {
		id   krb5.Enctype
		name string
	}{{6, "des3-cbc-raw"}, {24, "arcfour-hmac-exp"}, {1, "etype 1"}, {99, "etype 99"}} {
		err := allow.EnctypeUsable(tt.id)
		if !errors.Is(err, krb5.ErrUnsupportedEnctype) || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("%d: %v", tt.id, err)
		}
	}
	// Every enctype of MIT's default list, camellia included, can be used
	// without a switch, except des3 and rc4.
	for _, e := range krb5.DefaultEnctypes() {
		if err := plain.EnctypeUsable(e); (err == nil) != (e.Gate() == "") {
			t.Errorf("%s: %v", e, err)
		}
	}
	if l, err := mustParse(t, "[libdefaults]\npermitted_enctypes = des3-cbc-raw aes128-sha2\nallow_weak_crypto = true\n").PermittedEnctypes(); err != nil || !slices.Equal(l, []krb5.Enctype{6, 19}) {
		t.Errorf("weak permitted = %v, %v", l, err)
	}
	if _, err := mustParse(t, "[libdefaults]\ndefault_tkt_enctypes = bogus\n").DefaultTktEnctypes(); !errors.Is(err, krb5.ErrUnsupportedEnctype) {
		t.Errorf("empty list: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, name := range []string{"debian-krb5.conf", "ubuntu-krb5.conf", "ad-krb5.conf", "kdc.conf"} {
		b, err := os.ReadFile(filepath.Join("testdata", "conf", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("[a]\nb = {\nc = \"x\\\"\n}*\n")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, "include") {
			return // keep the fuzzer off the file system
		}
		c, err := ParseConfig(strings.NewReader(s), "fuzz.conf")
		if err != nil {
			var pe *ProfileError
			if !errors.As(err, &pe) && !errors.Is(err, ErrProfileBadBoolean) && !strings.Contains(err.Error(), "dns_canonicalize_hostname") {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, r := range c.Subsections("realms") {
			_, _ = c.KDCs(r)
		}
		_, _ = c.DefaultTktEnctypes()
		_ = c.Strings("libdefaults", "default_realm")
	})
}

func ExampleParseConfig() {
	cfg, err := ParseConfig(strings.NewReader(`
[libdefaults]
	default_realm = EXAMPLE.ORG
	dns_canonicalize_hostname = fallback
	default_tkt_enctypes = DEFAULT -des3 -rc4 -camellia
[realms]
	EXAMPLE.ORG = {
		kdc = kdc1.example.org
		kdc = [2001:db8::1]:750
	}
`), "krb5.conf")
	if err != nil {
		fmt.Println(err)
		return
	}
	realm, _ := cfg.DefaultRealm()
	kdcs, _ := cfg.KDCs(realm)
	etypes, _ := cfg.DefaultTktEnctypes()
	fmt.Println(realm, cfg.DNSCanonicalizeHostname(), kdcs, etypes)
	// Output: EXAMPLE.ORG fallback [kdc1.example.org:88 [2001:db8::1]:750] [aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128]
}
