package krbconf

import (
	"errors"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// ErrPathToken is what MIT's k5_expand_path_tokens reports for an unknown
// or unterminated %{...} token (EINVAL).
var ErrPathToken = errors.New("Invalid token")

// ReplayCacheName returns the name of the replay cache MIT's servers use
// (k5_rc_default): the KRB5RCACHENAME environment variable if set, else
// KRB5RCACHETYPE followed by ":" (so KRB5RCACHETYPE=none turns replay
// detection off), else [libdefaults] default_rcache_name with its path
// tokens expanded (ExpandPathTokens), else "dfl:". Resolve it with
// krbauth.ResolveReplayCache. cfg may be nil.
func ReplayCacheName(cfg *Config) (string, error) {
	if v, ok := os.LookupEnv("KRB5RCACHENAME"); ok {
		return v, nil
	}
	if v, ok := os.LookupEnv("KRB5RCACHETYPE"); ok {
		return v + ":", nil
	}
	if cfg != nil {
		if v, ok := cfg.lookup("libdefaults", "default_rcache_name"); ok {
			return ExpandPathTokens(v)
		}
	}
	return "dfl:", nil
}

// Debian's build directories, MIT's %{LIBDIR}, %{BINDIR} and %{SBINDIR}.
const (
	debianLibDir  = "/usr/lib/x86_64-linux-gnu"
	debianBinDir  = "/usr/bin"
	debianSbinDir = "/usr/sbin"
)

// pathTokens are MIT's path tokens on Unix, in MIT's order: a token is
// matched against the first name it is a prefix of, as MIT's strncmp
// does ("%{TE}" is %{TEMP}).
var pathTokens = []struct {
	name   string
	expand func() (string, error)
}{
	{"LIBDIR", func() (string, error) { return debianLibDir, nil }},
	{"BINDIR", func() (string, error) { return debianBinDir, nil }},
	{"SBINDIR", func() (string, error) { return debianSbinDir, nil }},
	{"euid", func() (string, error) { return strconv.Itoa(os.Geteuid()), nil }},
	{"username", func() (string, error) {
		u, err := user.LookupId(strconv.Itoa(os.Geteuid()))
		if err != nil {
			return "", errors.New("Can't find username for uid " + strconv.Itoa(os.Geteuid()))
		}
		return u.Username, nil
	}},
	{"TEMP", func() (string, error) {
		if d, ok := os.LookupEnv("TMPDIR"); ok {
			return d, nil
		}
		return "/tmp", nil
	}},
	{"USERID", func() (string, error) { return strconv.Itoa(os.Getuid()), nil }},
	{"uid", func() (string, error) { return strconv.Itoa(os.Getuid()), nil }},
	{"null", func() (string, error) { return "", nil }},
}

// ExpandPathTokens expands the %{...} tokens of a profile path value as
// MIT's k5_expand_path_tokens does on Unix: %{TEMP} (TMPDIR, else /tmp),
// %{uid} and %{USERID} (the real user ID), %{euid}, %{username} (the
// effective user's name), %{LIBDIR}, %{BINDIR}, %{SBINDIR} (Debian's
// directories) and %{null} (nothing). An unknown or unterminated token is
// an error (ErrPathToken).
func ExpandPathTokens(s string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "%{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", errors.New("variable missing }")
		}
		name := s[i+2 : i+j]
		var val string
		found := false
		for _, tok := range pathTokens {
			if name != "" && strings.HasPrefix(tok.name, name) {
				v, err := tok.expand()
				if err != nil {
					return "", err
				}
				val, found = v, true
				break
			}
		}
		if !found {
			return "", ErrPathToken
		}
		b.WriteString(val)
		s = s[i+j+1:]
	}
}
