package mitrealm

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// A Host is one machine's worth of MIT Kerberos configuration, all inside
// Dir: krb5.conf, kdc.conf, the database, the stash, a keytab, a kpropd ACL,
// a credential cache and a replay cache directory. Commands run on a host
// see only these files (see Env). The exported fields are paths and names
// for tests to read; do not change them.
type Host struct {
	Name  string // "primary", "replica", "replica2", ...; for messages
	Realm string // the realm name
	Dir   string // the directory holding every file below

	KRB5Conf     string // krb5.conf (KRB5_CONFIG)
	KDCConf      string // kdc.conf (KRB5_KDC_PROFILE)
	DatabaseName string // kdc.conf database_name; absent until created or loaded
	Stash        string // kdc.conf key_stash_file
	Keytab       string // the host's keytab (KRB5_KTNAME, kprop -s, kpropd -s)
	KpropdACL    string // the kpropd ACL file (kpropd -a)
	KpropdFile   string // where kpropd writes a received dump (kpropd -f)
	CCache       string // the credential cache file (KRB5CCNAME)
	RCacheDir    string // the replay cache directory (KRB5RCACHEDIR)
	KDCLogFile   string // the KDC's log ([logging] kdc)
	TraceFile    string // KRB5_TRACE output when Options.Trace is set

	opts             Options
	extraLibdefaults []setting

	mu             sync.Mutex
	kdcPort        int
	kdc            *Daemon
	clientProfiles []clientProfile
	replicas       int
	files          int
}

// clientProfile is an extra krb5.conf written by ClientEnv.
type clientProfile struct {
	path  string
	extra []setting
}

// newHost lays out a host in dir (created if needed) and writes its
// profiles. replicaLibdefaults are added to opts.LibDefaults.
func newHost(t testing.TB, dir, name string, opts Options, moreLibdefaults []string) *Host {
	t.Helper()
	extra, err := parseSettings(append(append([]string(nil), opts.LibDefaults...), moreLibdefaults...))
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{
		Name:             name,
		Realm:            opts.realm(),
		Dir:              dir,
		KRB5Conf:         filepath.Join(dir, "krb5.conf"),
		KDCConf:          filepath.Join(dir, "kdc.conf"),
		DatabaseName:     filepath.Join(dir, "db", "principal"),
		Stash:            filepath.Join(dir, "stash"),
		Keytab:           filepath.Join(dir, "keytab"),
		KpropdACL:        filepath.Join(dir, "kpropd.acl"),
		KpropdFile:       filepath.Join(dir, "from_primary"),
		CCache:           filepath.Join(dir, "ccache"),
		RCacheDir:        filepath.Join(dir, "rcache"),
		KDCLogFile:       filepath.Join(dir, "kdc.log"),
		TraceFile:        filepath.Join(dir, "trace.log"),
		opts:             opts,
		extraLibdefaults: extra,
	}
	for _, d := range []string{dir, filepath.Dir(h.DatabaseName), h.RCacheDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	h.kdcPort = reservePort(t)
	if err := h.writeProfiles(); err != nil {
		t.Fatal(err)
	}
	return h
}

// NewPrimary creates a host in a new t.TempDir() and a realm database on it
// with "kdb5_util create -s" (master password MasterPassword, stashed).
// The database holds only what kdb5_util creates (K/M, krbtgt,
// kadmin/*); add principals with Kadmin, Populate or AddKpropPrincipals.
func NewPrimary(t testing.TB, opts Options) *Host {
	t.Helper()
	Require(t, "kdb5_util", "kadmin.local")
	h := newHost(t, t.TempDir(), "primary", opts, nil)
	h.Run(t, "kdb5_util", "-r", h.Realm, "create", "-s", "-P", MasterPassword)
	return h
}

// NewReplica creates another host of h's realm in a new t.TempDir(), with
// h's Options, a copy of h's stash (so it shares the master key), its own
// KDC port, database path and profiles, and no database yet. Its krb5.conf
// sets ignore_acceptor_hostname = true (see the package documentation) plus
// libdefaults; its kpropd ACL allows h.KpropPrincipal().
func (h *Host) NewReplica(t testing.TB, libdefaults ...string) *Host {
	t.Helper()
	h.mu.Lock()
	h.replicas++
	name := "replica"
	if h.replicas > 1 {
		name += strconv.Itoa(h.replicas)
	}
	h.mu.Unlock()
	r := newHost(t, t.TempDir(), name, h.opts,
		append([]string{"ignore_acceptor_hostname = true"}, libdefaults...))
	if err := copyFile(r.Stash, h.Stash); err != nil {
		t.Fatalf("copying the master key stash to %s: %v", name, err)
	}
	r.WriteKpropdACL(t, h.KpropPrincipal())
	return r
}

// WriteKpropdACL replaces h's kpropd ACL with one line per entry (a
// principal, optionally followed by whitespace and an enctype name).
func (h *Host) WriteKpropdACL(t testing.TB, entries ...string) {
	t.Helper()
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e + "\n")
	}
	if err := os.WriteFile(h.KpropdACL, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ClientEnv returns h.Env() with KRB5_CONFIG naming a krb5.conf of its own:
// h's krb5.conf with the given [libdefaults] lines replacing or adding
// settings. Use it to steer one client (for example a kprop's
// default_tkt_enctypes and permitted_enctypes) without changing what the KDC
// and kadmin.local on the same host read. It is one complete file, not a
// KRB5_CONFIG list, so parsers other than MIT's read it the same way.
func (h *Host) ClientEnv(t testing.TB, libdefaults ...string) []string {
	t.Helper()
	extra, err := parseSettings(libdefaults)
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p := clientProfile{path: filepath.Join(h.Dir, fmt.Sprintf("krb5-client%d.conf", len(h.clientProfiles)+1)), extra: extra}
	h.clientProfiles = append(h.clientProfiles, p)
	if err := os.WriteFile(p.path, []byte(h.krb5Conf(extra)), 0o644); err != nil {
		t.Fatal(err)
	}
	return SetEnv(h.Env(), "KRB5_CONFIG="+p.path)
}

// tempName returns a new file name in h.Dir.
func (h *Host) tempName(prefix string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files++
	return filepath.Join(h.Dir, fmt.Sprintf("%s%d", prefix, h.files))
}

// Dump runs "kdb5_util dump [args] path" on h. kdb5_util also writes
// path.dump_ok, which MIT kprop requires.
func (h *Host) Dump(t testing.TB, path string, args ...string) {
	t.Helper()
	h.Run(t, "kdb5_util", append(append([]string{"-r", h.Realm, "dump"}, args...), path)...)
}

// DumpString dumps h's database to a new file in h.Dir and returns its
// contents.
func (h *Host) DumpString(t testing.TB, args ...string) string {
	t.Helper()
	path := h.tempName("dump")
	h.Dump(t, path, args...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Load runs "kdb5_util load [args] path" on h, replacing (or creating) h's
// database.
func (h *Host) Load(t testing.TB, path string, args ...string) {
	t.Helper()
	h.Run(t, "kdb5_util", append(append([]string{"-r", h.Realm, "load"}, args...), path)...)
}

// Kinit gets a TGT for principal from the KDC named in h's krb5.conf
// (normally h's own, see StartKDC) into h's private ccache, feeding password
// on standard input as MIT kinit reads it when stdin is not a terminal. It
// returns kinit's output and fails the test if kinit fails.
func (h *Host) Kinit(t testing.TB, principal, password string) string {
	t.Helper()
	return h.RunInput(t, password+"\n", "kinit", principal)
}

// Klist returns "klist" output for h's ccache.
func (h *Host) Klist(t testing.TB) string {
	t.Helper()
	return h.Run(t, "klist")
}

// copyFile copies src to dst with mode 0600.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
