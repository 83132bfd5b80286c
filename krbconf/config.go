package krbconf

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gokprop/gokprop/krb5"
)

// Default locations and environment variables of MIT's configuration files
// (Debian's build).
const (
	DefaultConfigPath    = "/etc/krb5.conf"
	DefaultKDCConfigPath = "/etc/krb5kdc/kdc.conf"
	ConfigEnv            = "KRB5_CONFIG"
	KDCConfigEnv         = "KRB5_KDC_PROFILE"
)

// MIT's built-in defaults for the settings this package reads.
const (
	DefaultTicketLifetime     = 24 * time.Hour
	DefaultUDPPreferenceLimit = 1465
	hardUDPLimit              = 32700
	DefaultKDCPort            = 88
	kdcOptRenewableOK         = 0x00000010
)

// ErrNoDefaultRealm is MIT's KRB5_CONFIG_NODEFREALM.
var ErrNoDefaultRealm = errors.New("Configuration file does not specify default realm")

// Config is a parsed MIT profile: krb5.conf, possibly with kdc.conf layered
// in front of it, as MIT's krb5_init_context and the KDC tools read them.
// Lookups search the files in order; for a single-valued setting the first
// file that has it wins, and a section marked final ("[realms]*") stops the
// search at its file. A Config is immutable and safe for concurrent use; a
// nil *Config behaves as an empty one (all defaults).
type Config struct {
	files  []profileFile
	module string
}

type profileFile struct {
	path string
	root *profNode
}

// ParseConfig parses one profile from r. name is used in error messages;
// include and includedir directives are resolved on the file system
// (relative paths against the working directory, as MIT does).
func ParseConfig(r io.Reader, name string) (*Config, error) {
	c := &Config{}
	root := &profNode{}
	if err := parseProfile(r, name, root, &c.module, 0); err != nil {
		return nil, err
	}
	c.files = append(c.files, profileFile{path: name, root: root})
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadConfigFiles reads the profile files in order of precedence, the way
// MIT's profile_init does: missing files are skipped (if every file is
// missing the result is an empty Config), an unreadable file is skipped but
// reported if no file could be read, a directory is read like includedir,
// and "~/" is expanded. A module declaration is accepted (and ignored) at
// the top of the first file read. Like krb5_init_context, it fails on a bad
// boolean in the [libdefaults] settings MIT checks when a context is made.
func LoadConfigFiles(paths ...string) (*Config, error) {
	c := &Config{}
	var unreadable error
	for _, p := range paths {
		var module *string
		if len(c.files) == 0 {
			module = &c.module
		}
		root, err := loadProfileFile(p, module)
		if err != nil {
			skip, remember := isSkippableOpenError(err)
			if !skip {
				return nil, err
			}
			if remember && unreadable == nil {
				unreadable = err
			}
			continue
		}
		c.files = append(c.files, profileFile{path: p, root: root})
	}
	if len(c.files) == 0 && unreadable != nil {
		return nil, unreadable
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// configPaths returns the krb5.conf search path: KRB5_CONFIG split at
// colons, or DefaultConfigPath.
func configPaths() []string {
	if v, ok := os.LookupEnv(ConfigEnv); ok {
		return strings.Split(v, ":")
	}
	return []string{DefaultConfigPath}
}

// KDCConfigPath returns KRB5_KDC_PROFILE, or DefaultKDCConfigPath.
func KDCConfigPath() string {
	if v, ok := os.LookupEnv(KDCConfigEnv); ok {
		return v
	}
	return DefaultKDCConfigPath
}

// LoadConfig reads krb5.conf as MIT's client programs (kprop) do: the files
// named by KRB5_CONFIG, else /etc/krb5.conf.
func LoadConfig() (*Config, error) {
	return LoadConfigFiles(configPaths()...)
}

// LoadKDCConfig reads the profile MIT's KDC programs (krb5kdc, kadmind,
// kpropd) use: kdc.conf (KRB5_KDC_PROFILE, else /etc/krb5kdc/kdc.conf) in
// front of the krb5.conf files, so kdc.conf wins.
func LoadKDCConfig() (*Config, error) {
	return LoadConfigFiles(append([]string{KDCConfigPath()}, configPaths()...)...)
}

// fileNames returns the names of the top-level files that were read, in
// order of precedence.
func (c *Config) fileNames() []string {
	if c == nil {
		return nil
	}
	out := make([]string, len(c.files))
	for i, f := range c.files {
		out[i] = f.path
	}
	return out
}

// moduleName returns the module declaration found at the top of the first
// file, if any. MIT would load that profile module instead of the files;
// this package cannot and reads the files.
func (c *Config) moduleName() string {
	if c == nil {
		return ""
	}
	return c.module
}

// validate reproduces the checks that make MIT's krb5_init_context fail.
func (c *Config) validate() error {
	for _, tag := range []string{"allow_weak_crypto", "allow_des3", "allow_rc4", "ignore_acceptor_hostname", "enforce_ok_as_delegate"} {
		if _, err := c.Bool(false, "libdefaults", tag); err != nil {
			return err
		}
	}
	if _, err := c.dnsCanonicalizeHostname(); err != nil {
		return err
	}
	return nil
}

// sections calls f with the section at path in each file, in order,
// stopping after a file where a section on the path is final (MIT's
// profile semantics for several files).
func (c *Config) sections(path []string, f func(*profNode)) {
	for _, file := range c.files {
		sec, final := file.root, false
		for _, name := range path {
			if sec = sec.section(name); sec == nil {
				break
			}
			final = final || sec.final
		}
		if sec != nil {
			f(sec)
		}
		if final {
			return
		}
	}
}

// Strings returns every value of the relation at path (section,
// subsections..., tag) in file order, stopping after a file where a
// section on the path is final.
func (c *Config) Strings(path ...string) []string {
	if c == nil || len(path) == 0 {
		return nil
	}
	var out []string
	last := path[len(path)-1]
	c.sections(path[:len(path)-1], func(sec *profNode) {
		for _, n := range sec.children {
			if n.relation && n.name == last {
				out = append(out, n.value)
			}
		}
	})
	return out
}

// lookup returns the first value of the relation at path.
func (c *Config) lookup(path ...string) (string, bool) {
	v := c.Strings(path...)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// String returns the first value of the relation at path, or def.
func (c *Config) String(def string, path ...string) string {
	if v, ok := c.lookup(path...); ok {
		return v
	}
	return def
}

// Subsections returns the names of the subsections at path (for example
// Subsections("realms") lists the realms), each once, in MIT's order.
func (c *Config) Subsections(path ...string) []string {
	if c == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	c.sections(path, func(sec *profNode) {
		for _, n := range sec.children {
			if !n.relation && !seen[n.name] {
				seen[n.name] = true
				out = append(out, n.name)
			}
		}
	})
	return out
}

// ParseBool interprets a boolean as MIT's profile library does: y, yes,
// true, t, 1 or on are true and n, no, false, nil, 0 or off false, in any
// case; ok is false for anything else.
func ParseBool(s string) (v, ok bool) {
	return parseProfileBool(s)
}

func parseProfileBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "y", "yes", "true", "t", "1", "on":
		return true, true
	case "n", "no", "false", "nil", "0", "off":
		return false, true
	}
	return false, false
}

// Bool returns the boolean at path, or def when it is not set. A value that
// is not one of MIT's booleans (y yes true t 1 on / n no false nil 0 off,
// any case) is an error wrapping ErrProfileBadBoolean.
func (c *Config) Bool(def bool, path ...string) (bool, error) {
	v, ok := c.lookup(path...)
	if !ok {
		return def, nil
	}
	b, ok := parseProfileBool(v)
	if !ok {
		return def, fmt.Errorf("%s = %q: %w", strings.Join(path, "."), v, ErrProfileBadBoolean)
	}
	return b, nil
}

// parseProfileInt parses an integer as MIT's profile library does (strtol
// in base 10 over the whole string, int range).
func parseProfileInt(s string) (int, bool) {
	t := skipBlanks(s)
	if t == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(t, 10, 32)
	if err != nil {
		return 0, false
	}
	return int(n), true
}

// Int returns the integer at path, or def when it is not set. A malformed
// value is an error wrapping ErrProfileBadInteger.
func (c *Config) Int(def int, path ...string) (int, error) {
	v, ok := c.lookup(path...)
	if !ok {
		return def, nil
	}
	n, ok := parseProfileInt(v)
	if !ok {
		return def, fmt.Errorf("%s = %q: %w", strings.Join(path, "."), v, ErrProfileBadInteger)
	}
	return n, nil
}

// Duration returns the time interval at path, in any format MIT's
// krb5_string_to_deltat accepts ("300", "5m", "1h30m", "2:00:00", "1d",
// "10h 0m 0s", "1-02:03:04"), or def when it is not set.
func (c *Config) Duration(def time.Duration, path ...string) (time.Duration, error) {
	v, ok := c.lookup(path...)
	if !ok {
		return def, nil
	}
	d, err := ParseDeltat(v)
	if err != nil {
		return def, fmt.Errorf("%s: %w", strings.Join(path, "."), err)
	}
	return d, nil
}

// libdefault returns a [libdefaults] setting as MIT's
// krb5int_libdefault_string does: the realm's subsection first.
func (c *Config) libdefault(realm, tag string) (string, bool) {
	if realm != "" {
		if v, ok := c.lookup("libdefaults", realm, tag); ok {
			return v, true
		}
	}
	return c.lookup("libdefaults", tag)
}

// Forwardable returns [libdefaults] forwardable for clients of realm (the
// realm's subsection first; default false).
func (c *Config) Forwardable(realm string) bool { return c.libdefaultBool(realm, "forwardable") }

// Proxiable returns [libdefaults] proxiable for clients of realm (default
// false).
func (c *Config) Proxiable(realm string) bool { return c.libdefaultBool(realm, "proxiable") }

// Canonicalize returns [libdefaults] canonicalize for clients of realm
// (default false).
func (c *Config) Canonicalize(realm string) bool { return c.libdefaultBool(realm, "canonicalize") }

// NoAddresses returns [libdefaults] noaddresses for clients of realm:
// whether AS requests omit the host's addresses (default true; a value
// that is not one of MIT's booleans means false).
func (c *Config) NoAddresses(realm string) bool {
	v, ok := c.libdefault(realm, "noaddresses")
	if !ok {
		return true
	}
	b, _ := parseProfileBool(v)
	return b
}

// libdefaultBool interprets a realm-specific boolean like MIT's
// krb5int_libdefault_boolean: unknown words mean false.
func (c *Config) libdefaultBool(realm, tag string) bool {
	v, ok := c.libdefault(realm, tag)
	if !ok {
		return false
	}
	b, _ := parseProfileBool(v)
	return b
}

// RealmString returns the [realms] REALM tag value (in kdc.conf: database_name,
// key_stash_file, acl_file, iprop_enable, kdc_ports, ...; in krb5.conf:
// admin_server, default_domain, ...), or def.
func (c *Config) RealmString(realm, tag, def string) string {
	return c.String(def, "realms", realm, tag)
}

// RealmStrings returns every [realms] REALM tag value.
func (c *Config) RealmStrings(realm, tag string) []string {
	return c.Strings("realms", realm, tag)
}

// RealmBool returns the [realms] REALM tag boolean, or def.
func (c *Config) RealmBool(realm, tag string, def bool) (bool, error) {
	return c.Bool(def, "realms", realm, tag)
}

// RealmDuration returns the [realms] REALM tag interval (for example
// iprop_resync_timeout or max_life), or def.
func (c *Config) RealmDuration(realm, tag string, def time.Duration) (time.Duration, error) {
	return c.Duration(def, "realms", realm, tag)
}

// DefaultRealm returns [libdefaults] default_realm, or an error wrapping
// ErrNoDefaultRealm.
func (c *Config) DefaultRealm() (string, error) {
	if v, ok := c.lookup("libdefaults", "default_realm"); ok && v != "" {
		return v, nil
	}
	return "", ErrNoDefaultRealm
}

// ClockSkew returns [libdefaults] clockskew (seconds; default
// krb5.DefaultClockSkew). Like MIT, a malformed value is ignored.
func (c *Config) ClockSkew() time.Duration {
	n, err := c.Int(int(krb5.DefaultClockSkew/time.Second), "libdefaults", "clockskew")
	if err != nil {
		return krb5.DefaultClockSkew
	}
	return time.Duration(n) * time.Second
}

// CanonMode is the value of dns_canonicalize_hostname.
type CanonMode int

// The dns_canonicalize_hostname modes.
const (
	CanonFalse    CanonMode = iota // no DNS: only qualify_shortname, lowercasing, dot stripping
	CanonTrue                      // forward (and, with rdns, reverse) DNS lookups
	CanonFallback                  // try the name without DNS first, then with DNS
)

// String returns the krb5.conf spelling of the mode.
func (m CanonMode) String() string {
	switch m {
	case CanonTrue:
		return "true"
	case CanonFallback:
		return "fallback"
	}
	return "false"
}

func (c *Config) dnsCanonicalizeHostname() (CanonMode, error) {
	v, ok := c.lookup("libdefaults", "dns_canonicalize_hostname")
	if !ok {
		return CanonTrue, nil
	}
	if b, ok := parseProfileBool(v); ok {
		if b {
			return CanonTrue, nil
		}
		return CanonFalse, nil
	}
	if strings.EqualFold(v, "fallback") {
		return CanonFallback, nil
	}
	return CanonTrue, fmt.Errorf("libdefaults.dns_canonicalize_hostname = %q: invalid value", v)
}

// DNSCanonicalizeHostname returns [libdefaults] dns_canonicalize_hostname:
// true, false or fallback. MIT 1.20's default is true. (The constructors
// reject other values, as krb5_init_context does.)
func (c *Config) DNSCanonicalizeHostname() CanonMode {
	m, _ := c.dnsCanonicalizeHostname()
	return m
}

// RDNS returns [libdefaults] rdns (default true; a malformed value means
// the default, as in MIT).
func (c *Config) RDNS() bool {
	b, err := c.Bool(true, "libdefaults", "rdns")
	if err != nil {
		return true
	}
	return b
}

// QualifyShortname returns [libdefaults] qualify_shortname and whether it
// is set. When it is not set MIT appends the first DNS search domain; an
// empty value disables qualification.
func (c *Config) QualifyShortname() (string, bool) {
	return c.lookup("libdefaults", "qualify_shortname")
}

// IgnoreAcceptorHostname returns [libdefaults] ignore_acceptor_hostname
// (default false).
func (c *Config) IgnoreAcceptorHostname() bool {
	b, _ := c.Bool(false, "libdefaults", "ignore_acceptor_hostname")
	return b
}

// AllowWeakCrypto returns [libdefaults] allow_weak_crypto (default false).
func (c *Config) AllowWeakCrypto() bool {
	b, _ := c.Bool(false, "libdefaults", "allow_weak_crypto")
	return b
}

// AllowDES3 returns [libdefaults] allow_des3 (default false), the switch
// Debian's MIT 1.20.1 (and MIT 1.21) added for des3-cbc-sha1 session keys.
// This package also refuses to use des3-cbc-sha1 at all unless it is set.
func (c *Config) AllowDES3() bool {
	b, _ := c.Bool(false, "libdefaults", "allow_des3")
	return b
}

// AllowRC4 returns [libdefaults] allow_rc4 (default false); see AllowDES3.
func (c *Config) AllowRC4() bool {
	b, _ := c.Bool(false, "libdefaults", "allow_rc4")
	return b
}

// UDPPreferenceLimit returns [libdefaults] udp_preference_limit: requests
// of at most this many bytes go to a KDC over UDP first. Default 1465;
// negative means the default, values above 32700 are clamped. A malformed
// value is an error (MIT fails the send).
func (c *Config) UDPPreferenceLimit() (int, error) {
	n, err := c.Int(DefaultUDPPreferenceLimit, "libdefaults", "udp_preference_limit")
	if err != nil {
		return 0, err
	}
	switch {
	case n < 0:
		n = DefaultUDPPreferenceLimit
	case n > hardUDPLimit:
		n = hardUDPLimit
	}
	return n, nil
}

// DNSLookupKDC reports whether KDCs are looked up in DNS when a realm lists
// none: [libdefaults] dns_lookup_kdc, else dns_fallback, else true.
func (c *Config) DNSLookupKDC() bool {
	v, ok := c.lookup("libdefaults", "dns_lookup_kdc")
	if !ok {
		v, ok = c.lookup("libdefaults", "dns_fallback")
	}
	if !ok {
		return true
	}
	b, _ := parseProfileBool(v)
	return b
}

// KDCTimesync returns [libdefaults] kdc_timesync (default on): when on, the
// client adopts the KDC's clock offset instead of checking the AS-REP time
// against clockskew.
func (c *Config) KDCTimesync() bool {
	n, err := c.Int(1, "libdefaults", "kdc_timesync")
	return err != nil || n != 0
}

// KDCDefaultOptions returns [libdefaults] kdc_default_options, the KDC
// options every AS request starts from (default renewable-ok, 0x10).
func (c *Config) KDCDefaultOptions() uint32 {
	n, err := c.Int(kdcOptRenewableOK, "libdefaults", "kdc_default_options")
	if err != nil {
		return kdcOptRenewableOK
	}
	return uint32(n)
}

// TicketLifetime returns the ticket_lifetime for clients of realm
// ([libdefaults] REALM = { ticket_lifetime } first; default 24h).
func (c *Config) TicketLifetime(realm string) (time.Duration, error) {
	return c.libdefaultDuration(realm, "ticket_lifetime", DefaultTicketLifetime)
}

// RenewLifetime returns renew_lifetime for clients of realm (default 0: no
// renewable tickets requested).
func (c *Config) RenewLifetime(realm string) (time.Duration, error) {
	return c.libdefaultDuration(realm, "renew_lifetime", 0)
}

func (c *Config) libdefaultDuration(realm, tag string, def time.Duration) (time.Duration, error) {
	v, ok := c.libdefault(realm, tag)
	if !ok {
		return def, nil
	}
	d, err := ParseDeltat(v)
	if err != nil {
		return def, fmt.Errorf("libdefaults.%s: %w", tag, err)
	}
	return d, nil
}

// enctypeList parses the first of the tags that is set as an enctype list
// (DEFAULT when none is), with MIT's krb5_get_default_in_tkt_ktypes rules.
func (c *Config) enctypeList(tags ...string) ([]krb5.Enctype, error) {
	weak := c.AllowWeakCrypto()
	for _, tag := range tags {
		if v, ok := c.lookup("libdefaults", tag); ok {
			l, err := ParseEnctypeList(v, weak)
			if err != nil {
				return nil, fmt.Errorf("libdefaults.%s: %w", tag, err)
			}
			return l, nil
		}
	}
	return ParseEnctypeList("DEFAULT", weak)
}

// PermittedEnctypes returns [libdefaults] permitted_enctypes (default
// DEFAULT), without weak enctypes unless allow_weak_crypto.
func (c *Config) PermittedEnctypes() ([]krb5.Enctype, error) {
	return c.enctypeList("permitted_enctypes")
}

// DefaultTktEnctypes returns the enctypes an AS request asks for, as MIT
// chooses them: default_tkt_enctypes, else permitted_enctypes, else
// DEFAULT; weak enctypes are dropped unless allow_weak_crypto. The list is
// not filtered by what this package implements; see EnctypeUsable.
func (c *Config) DefaultTktEnctypes() ([]krb5.Enctype, error) {
	return c.enctypeList("default_tkt_enctypes", "permitted_enctypes")
}

// EnctypeUsable reports whether the module can and may use enctype e as a
// session key (for KRB-SAFE and KRB-PRIV) under this configuration: it
// must be implemented and, if its row names a [libdefaults] gate
// (allow_des3 for des3-cbc-sha1, allow_rc4 for arcfour-hmac), the gate must
// be true. Otherwise the error names the enctype and wraps
// krb5.ErrUnsupportedEnctype.
//
// Long-term keys are not subject to it: as in MIT, a des3 or rc4 key in a
// keytab decrypts an AS reply or a ticket wherever permitted_enctypes
// allows its enctype. MIT 1.21 (and Debian's 1.20.1, which backported it)
// applies allow_des3 and allow_rc4 in its KDC, which will not issue such
// session keys without them; this module also refuses them at both ends
// of a propagation.
func (c *Config) EnctypeUsable(e krb5.Enctype) error {
	switch {
	case !e.Implemented() && e.Known() && !e.Weak():
		return fmt.Errorf("%s is not implemented: %w", e, krb5.ErrUnsupportedEnctype)
	case !e.Implemented():
		return fmt.Errorf("%s: %w", e, krb5.ErrUnsupportedEnctype)
	case e.Gate() != "":
		if on, _ := c.Bool(false, "libdefaults", e.Gate()); !on {
			return fmt.Errorf("%s is deprecated and disabled for session keys (set %s = true in [libdefaults] to use it): %w", e, e.Gate(), krb5.ErrUnsupportedEnctype)
		}
	}
	return nil
}

// KDC transports of a KDCAddress.
const (
	TransportAny   = ""      // UDP and TCP, UDP first for small requests (MIT's default)
	TransportUDP   = "udp"   // UDP only
	TransportTCP   = "tcp"   // TCP only
	TransportHTTPS = "https" // MS-KKDCP proxy (not supported by KDCClient)
)

// KDCAddress is one KDC of a realm as krb5.conf lists it.
type KDCAddress struct {
	Host      string // name or address, without IPv6 brackets
	Port      int    // default 88 (443 for https)
	Transport string // one of the Transport constants
	Path      string // URI path of an https:// entry
}

// String returns host:port (brackets around IPv6 literals), prefixed with
// the transport when it is fixed.
func (a KDCAddress) String() string {
	hp := a.Host + ":" + strconv.Itoa(a.Port)
	if strings.Contains(a.Host, ":") {
		hp = "[" + a.Host + "]:" + strconv.Itoa(a.Port)
	}
	switch a.Transport {
	case TransportHTTPS:
		return "https://" + hp + "/" + a.Path
	case TransportAny:
		return hp
	}
	return a.Transport + "/" + hp
}

// parseKDCAddress parses one "kdc =" value as MIT's locate_kdc.c and
// k5_parse_host_string do: "host", "host:port", "[v6addr]" or
// "[v6addr]:port" (default port 88), "https://host[:port]/path" (default
// port 443). As an extension (Heimdal's syntax, which MIT 1.20 does not
// understand) a "tcp/" or "udp/" prefix fixes the transport.
func parseKDCAddress(spec string) (KDCAddress, error) {
	a := KDCAddress{Transport: TransportAny}
	s := spec
	defPort := DefaultKDCPort
	switch {
	case strings.HasPrefix(s, "https://"):
		a.Transport, defPort = TransportHTTPS, 443
		s = s[len("https://"):]
		if i := strings.IndexByte(s, '/'); i >= 0 {
			s, a.Path = s[:i], s[i+1:]
		}
	case strings.HasPrefix(s, "tcp/"):
		a.Transport, s = TransportTCP, s[len("tcp/"):]
	case strings.HasPrefix(s, "udp/"):
		a.Transport, s = TransportUDP, s[len("udp/"):]
	}
	bad := func() (KDCAddress, error) {
		return KDCAddress{}, fmt.Errorf("kdc %q: invalid host specification", spec)
	}
	if s == "" || s[0] == ':' || isDigits(s) {
		return bad()
	}
	var port string
	havePort := false
	if end := strings.IndexByte(s, ']'); s[0] == '[' && end >= 0 {
		a.Host = s[1:end]
		if strings.HasPrefix(s[end+1:], ":") {
			port, havePort = s[end+2:], true
		}
	} else {
		n := strings.IndexAny(s, " \t:")
		if n < 0 {
			n = len(s)
		}
		a.Host = s[:n]
		if n < len(s) && s[n] == ':' {
			port, havePort = s[n+1:], true
		}
	}
	a.Port = defPort
	if havePort {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || !isDigits(port) {
			return bad()
		}
		a.Port = int(n)
	}
	if a.Host == "" {
		return bad()
	}
	return a, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// KDCs returns the KDCs [realms] REALM lists with "kdc =", in order. An
// empty list (and no error) means the realm lists none; KDCClient then
// falls back to DNS SRV records when DNSLookupKDC allows it. A malformed
// entry is an error, as in MIT.
func (c *Config) KDCs(realm string) ([]KDCAddress, error) {
	var out []KDCAddress
	for _, v := range c.RealmStrings(realm, "kdc") {
		a, err := parseKDCAddress(v)
		if err != nil {
			return nil, fmt.Errorf("realm %s: %w", realm, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// isAddrLiteral reports whether host is a numeric IPv4 or IPv6 address.
func isAddrLiteral(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}
