package interop

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// MIT's own test of propagation, src/tests/t_kprop.py, reproduced step for
// step (learned from krb5-1.20.1-final, krb5-1.21.3-final and
// krb5-1.22.1-final, where t_kprop.py is the same; its realms come from
// src/util/k5test.py, whose pass definitions differ between them). Each
// pass makes a fresh realm the way k5test's K5Realm(create_user=False)
// does, then:
//
//   - the "replica" environment: the same krb5.conf, a kdc.conf naming
//     another database (db.replica), the same keytab, stash, replay cache
//     directory and ports;
//   - a kpropd ACL holding the host principal;
//   - kdb5_util dump on the primary, kdb5_util load and stash -P master on
//     the replica;
//   - a new principal, wakawaka, on the primary;
//   - kpropd -D -P PORT -f FILE -p kdb5_util -a ACL -d in the replica
//     environment, started when it prints "ready";
//   - kdb5_util dump, then kprop -f DUMP -P PORT HOSTNAME with the default
//     keytab and realm, which must exit 0;
//   - kpropd's output read up to "Database load process for full
//     propagation completed", failing on "Rejected connection";
//   - kadmin.local listprincs in the replica environment must show
//     wakawaka.
//
// After the passes come the default_realm variations: kpropd -r REALM and
// kprop -r REALM with a replica whose default_realm is FOO and whose
// domain_realm maps the host to FOO, then a replica whose domain_realm maps
// the host to BAR. Every daemon must still be running when it is stopped
// and must exit 0 (or die of the SIGTERM) when it is, as k5test requires.
//
// Every scenario runs four ways: MIT's kprop and kpropd (the control),
// our kprop with MIT's kpropd, MIT's kprop with our kpropd, and ours with
// ours.
//
// Where this harness departs from k5test: each run has its own directory
// and free ports instead of ./testdir and 61000-61009; the KDC listens on
// 127.0.0.1 and krb5.conf names it by address, where k5test uses the host
// name (dns_canonicalize_hostname = fallback leaves KDC names alone, so
// nothing the test checks depends on it); plugin_base_dir, the kadmind,
// kpasswd and iprop ports (no daemon of this test uses them) are left out.

// tkRealmName is k5test's default realm.
const tkRealmName = "KRBTEST.COM"

// tkMasterPassword is k5test's master password ("kdb5_util create -s -P").
const tkMasterPassword = "master"

// A tkPass is one pass of k5test's multipass list: its name, the MIT
// releases whose k5test.py defines it so, the krbtgt key/salt it sets
// (krbtgt_keysalt), and what it adds to krb5.conf's [libdefaults] and to
// kdc.conf's realm section.
type tkPass struct {
	name          string
	versions      []string
	krbtgtKeysalt string
	libdefaults   []string
	realm         []string
	// mitFails, if set, is how MIT's own kprop fails on Debian's
	// krb5 1.20.1 (whose KDC will not issue des3 and rc4 session keys
	// without allow_des3 and allow_rc4): everything it prints after
	// "kprop: ". The scenario then checks that every combination fails
	// printing exactly that, and that kpropd is left running.
	mitFails string
}

const (
	v120 = "1.20.1"
	v121 = "1.21.3"
	v122 = "1.22.1"
)

// tkPasses are k5test.py's passes in its order. Passes whose definition
// is the same in several releases are listed once with all of them.
func tkPasses() []tkPass {
	all := []string{v120, v121, v122}
	// The enctype passes: permitted_enctypes, supported_enctypes and
	// master_key_type all name the pass's enctype.
	enc := func(name, libEnctypes, enctype string, versions []string, extra ...string) tkPass {
		return tkPass{name: name, versions: versions,
			libdefaults: append([]string{"permitted_enctypes = " + libEnctypes}, extra...),
			realm:       []string{"supported_enctypes = " + enctype + ":normal", "master_key_type = " + enctype}}
	}
	// (MIT's kprop.c ends the com_err format with a newline of its own.)
	const noSession = "KDC has no support for encryption type while getting initial credentials\n\n"
	des3v120 := enc("des3", "des3", "des3-cbc-sha1", []string{v120})
	des3v120.mitFails = noSession
	rc4v120 := enc("arcfour", "rc4", "arcfour-hmac", []string{v120})
	rc4v120.mitFails = noSession
	return []tkPass{
		{name: "default", versions: all},
		des3v120,
		enc("des3", "des3 aes256-sha1", "des3-cbc-sha1", []string{v121}),
		enc("des3", "des3", "des3-cbc-sha1", []string{v122}, "allow_des3 = true"),
		rc4v120,
		enc("arcfour", "rc4 aes256-sha1", "arcfour-hmac", []string{v121}),
		enc("arcfour", "rc4", "arcfour-hmac", []string{v122}, "allow_rc4 = true"),
		enc("aes128", "aes128-cts", "aes128-cts", all),
		enc("camellia256", "camellia256-cts", "camellia256-cts", all),
		enc("aes128-sha2", "aes128-sha2", "aes128-sha2", all),
		enc("aes256-sha2", "aes256-sha2", "aes256-sha2", all),
		{name: "aes256.destgt", versions: all, krbtgtKeysalt: "arcfour-hmac:normal",
			libdefaults: []string{"allow_weak_crypto = true"}},
	}
}

// tkWay is one assignment of programs to the scenario's kprop and kpropd.
type tkWay struct {
	name          string
	kprop, kpropd string
	ours          bool // at least one of them is ours
}

func tkWays(t *testing.T) []tkWay {
	bins := mitrealm.Require(t, "kprop", "kpropd")
	goKprop := goProgram(t, "github.com/gokprop/gokprop/cmd/kprop")
	goKpropd := goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd")
	return []tkWay{
		{"MIT", bins["kprop"], bins["kpropd"], false},
		{"our-kprop", goKprop, bins["kpropd"], true},
		{"our-kpropd", bins["kprop"], goKpropd, true},
		{"ours", goKprop, goKpropd, true},
	}
}

// tkHostname is k5test's hostname, socket.gethostname() lowercased, which
// names the host principal and which kprop is given as the replica. It
// must resolve to an address of this machine, as for MIT's own test: kprop
// connects to it, and kpropd listens on every address.
func tkHostname(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	h = strings.ToLower(h)
	addrs, err := net.LookupHost(h)
	local := map[string]bool{}
	if ifs, ierr := net.InterfaceAddrs(); ierr == nil {
		for _, a := range ifs {
			if ipn, ok := a.(*net.IPNet); ok {
				local[ipn.IP.String()] = true
			}
		}
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil && (ip.IsLoopback() || local[ip.String()]) {
			return h
		}
	}
	msg := fmt.Sprintf("MIT's t_kprop.py needs the host name %q to resolve to an address of this machine (it resolves to %v, %v); add it to /etc/hosts", h, addrs, err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// A tkRealm is one k5test realm in its own directory.
type tkRealm struct {
	t         *testing.T
	dir       string
	hostname  string
	pass      tkPass
	kdcPort   int
	kpropPort int
	hostPrinc string
	env       []string // the realm's environment (k5test's realm.env)
	kdb5Util  string
	kdc       *mitrealm.Daemon
}

// newTKRealm lays out and creates a realm as k5test's
// K5Realm(create_user=False) does with the pass's settings: profiles, an
// ACL and dictionary, kdb5_util create -s, the krbtgt key/salt, the host
// principal and its keytab, and a running KDC.
func newTKRealm(t *testing.T, pass tkPass, hostname string) *tkRealm {
	t.Helper()
	bins := mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc")
	r := &tkRealm{
		t:         t,
		dir:       t.TempDir(),
		hostname:  hostname,
		pass:      pass,
		kdcPort:   mitrealm.ReservePort(t),
		kpropPort: mitrealm.ReservePort(t),
		hostPrinc: "host/" + hostname + "@" + tkRealmName,
		kdb5Util:  bins["kdb5_util"],
	}
	r.env = r.specialEnv("", "db", nil, nil)
	for name, text := range map[string]string{
		"acl":      "user/admin@" + tkRealmName + " *e\nkiprop/" + hostname + "@" + tkRealmName + " p\n",
		"dictfile": "weak_password\n",
	} {
		r.write(name, text)
	}
	r.run(r.env, "kdb5_util", "create", "-s", "-P", tkMasterPassword)
	if pass.krbtgtKeysalt != "" {
		r.run(r.env, "kadmin.local", "cpw", "-randkey", "-e", pass.krbtgtKeysalt, "krbtgt/"+tkRealmName+"@"+tkRealmName)
	}
	r.run(r.env, "kadmin.local", "addprinc", "-randkey", r.hostPrinc)
	r.run(r.env, "kadmin.local", "ktadd", "-k", r.path("keytab"), "-norandkey", r.hostPrinc)
	cmd := exec.Command(bins["krb5kdc"], "-n")
	cmd.Env, cmd.Dir = r.env, r.dir
	r.kdc = mitrealm.StartDaemon(t, cmd, "starting...")
	if err := r.kdc.WaitListening(r.kdcPort, mitrealm.ReadyTimeout); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *tkRealm) path(name string) string { return filepath.Join(r.dir, name) }

func (r *tkRealm) write(name, text string) {
	r.t.Helper()
	if err := os.WriteFile(r.path(name), []byte(text), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// specialEnv writes krb5.conf.NAME and kdc.conf.NAME (krb5.conf and
// kdc.conf for the realm itself, NAME "") and returns an environment using
// them, as k5test's special_env and _make_env do: krb5.conf with the
// pass's [libdefaults], libdefaults replacing settings of the same name,
// and domainRealm as a [domain_realm] section; kdc.conf with the pass's
// realm settings and database db.
func (r *tkRealm) specialEnv(name, db string, libdefaults []string, domainRealm []string) []string {
	r.t.Helper()
	lib := mergeSettings([]string{
		"default_realm = " + tkRealmName,
		"dns_lookup_kdc = false",
		"dns_canonicalize_hostname = fallback",
		`qualify_shortname = ""`,
	}, r.pass.libdefaults, libdefaults)
	var k strings.Builder
	k.WriteString("[libdefaults]\n")
	for _, l := range lib {
		k.WriteString("\t" + l + "\n")
	}
	fmt.Fprintf(&k, "[realms]\n\t%s = {\n\t\tkdc = 127.0.0.1:%d\n\t}\n", tkRealmName, r.kdcPort)
	if len(domainRealm) > 0 {
		k.WriteString("[domain_realm]\n")
		for _, l := range domainRealm {
			k.WriteString("\t" + l + "\n")
		}
	}
	realm := mergeSettings([]string{
		"database_module = db",
		"key_stash_file = " + r.path("stash"),
		"acl_file = " + r.path("acl"),
		"dict_file = " + r.path("dictfile"),
		fmt.Sprintf("kdc_listen = 127.0.0.1:%d", r.kdcPort),
		fmt.Sprintf("kdc_tcp_listen = 127.0.0.1:%d", r.kdcPort),
	}, r.pass.realm)
	var d strings.Builder
	fmt.Fprintf(&d, "[realms]\n\t%s = {\n", tkRealmName)
	for _, l := range realm {
		d.WriteString("\t\t" + l + "\n")
	}
	fmt.Fprintf(&d, "\t}\n[dbmodules]\n\tdb = {\n\t\tdb_library = db2\n\t\tdatabase_name = %s\n\t}\n", r.path(db))
	fmt.Fprintf(&d, "[logging]\n\tadmin_server = FILE:%s\n\tkdc = FILE:%s\n\tdefault = FILE:%s\n",
		r.path("kadmind5.log"), r.path("kdc.log"), r.path("others.log"))
	suffix := ""
	if name != "" {
		suffix = "." + name
	}
	r.write("krb5.conf"+suffix, k.String())
	r.write("kdc.conf"+suffix, d.String())
	port := strconv.Itoa(r.kpropPort)
	return mitrealm.SetEnv(mitrealm.Environ(),
		"KRB5_CONFIG="+r.path("krb5.conf"+suffix),
		"KRB5_KDC_PROFILE="+r.path("kdc.conf"+suffix),
		"KRB5CCNAME="+r.path("ccache"),
		"KRB5_KTNAME="+r.path("keytab"),
		"KRB5_CLIENT_KTNAME="+r.path("client_keytab"),
		"KRB5RCACHEDIR="+r.dir,
		"KPROPD_PORT="+port,
		"KPROP_PORT="+port,
		"GSS_MECH_CONFIG="+r.path("mech.conf"),
	)
}

// mergeSettings returns base with the "name = value" lines of more
// replacing those of the same name in place, or appended, as k5test's
// _cfg_merge does for one section.
func mergeSettings(base []string, more ...[]string) []string {
	out := append([]string(nil), base...)
	key := func(l string) string { n, _, _ := strings.Cut(l, "="); return strings.TrimSpace(n) }
	for _, list := range more {
	next:
		for _, l := range list {
			for i := range out {
				if key(out[i]) == key(l) {
					out[i] = l
					continue next
				}
			}
			out = append(out, l)
		}
	}
	return out
}

// exec runs a program in env as k5test's run does, returning its exit
// error and everything it printed.
func (r *tkRealm) exec(env []string, prog string, args ...string) (string, error) {
	r.t.Helper()
	path, err := mitrealm.LookPath(prog)
	if err != nil {
		path = prog
	}
	cmd := exec.Command(path, args...)
	cmd.Env, cmd.Dir = env, r.dir
	stdout, stderr, err := mitrealm.Exec(cmd, "")
	return stdout + stderr, err
}

// run is exec for a program that must succeed (k5test's expected_code 0).
func (r *tkRealm) run(env []string, prog string, args ...string) string {
	r.t.Helper()
	out, err := r.exec(env, prog, args...)
	if err != nil {
		r.t.Fatalf("%s %s: %v\n%s", filepath.Base(prog), strings.Join(args, " "), err, out)
	}
	return out
}

// setupACL writes the kpropd ACL t_kprop.py writes: the host principal.
func (r *tkRealm) setupACL() { r.write("kpropd-acl", r.hostPrinc+"\n") }

// startKpropd starts kpropd as k5test's start_kpropd does and waits for
// its "ready" line (and, unlike k5test, for its listening socket, so that
// kprop cannot come too early).
func (r *tkRealm) startKpropd(path string, env []string, args ...string) *mitrealm.Daemon {
	r.t.Helper()
	argv := append([]string{"-D", "-P", strconv.Itoa(r.kpropPort), "-f", r.path("incoming-datatrans"),
		"-p", r.kdb5Util, "-a", r.path("kpropd-acl")}, args...)
	cmd := exec.Command(path, argv...)
	cmd.Env, cmd.Dir = env, r.dir
	d := mitrealm.StartDaemon(r.t, cmd, "ready")
	if err := d.WaitListening(r.kpropPort, mitrealm.ReadyTimeout); err != nil {
		r.t.Fatal(err)
	}
	return d
}

// kprop runs kprop with args and checks it as t_kprop.py does (exit 0),
// and that it reports success as MIT's does.
func (r *tkRealm) kprop(path string, args ...string) {
	r.t.Helper()
	out := r.run(r.env, path, args...)
	if want := "Database propagation to " + r.hostname + ": SUCCEEDED"; !strings.Contains(out, want) {
		r.t.Errorf("kprop did not print %q:\n%s", want, out)
	}
}

// checkOutput is t_kprop.py's check_output: kpropd's output up to the end
// of the load, which must not reject the connection.
func (r *tkRealm) checkOutput(kpropd *mitrealm.Daemon) {
	r.t.Helper()
	const done = "Database load process for full propagation completed"
	kpropd.WaitFor(r.t, done, time.Minute)
	out := kpropd.Output()
	before, _, _ := strings.Cut(out, done)
	if strings.Contains(before, "Rejected connection") {
		r.t.Errorf("kpropd rejected connection from kprop:\n%s", out)
	}
}

// listprincs runs kadmin.local listprincs in env, as t_kprop.py does, and
// requires wakawaka in its output.
func (r *tkRealm) listprincs(env []string, args ...string) {
	r.t.Helper()
	out := r.run(env, "kadmin.local", append(args, "listprincs")...)
	if !strings.Contains(out, "wakawaka") {
		r.t.Errorf("the replica has no wakawaka:\n%s", out)
	}
}

// stopDaemon is k5test's stop_daemon: the daemon must not have exited by
// itself, and after SIGTERM it must exit 0 or die of the signal (what
// krb5 1.22's k5test accepts).
func stopDaemon(t *testing.T, d *mitrealm.Daemon) {
	t.Helper()
	if d.Exited() {
		t.Errorf("%s exited early:\n%s", d.Name, d.Output())
		return
	}
	err := d.Stop()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.String() == "signal: terminated") {
		t.Errorf("%s exited with %v after SIGTERM:\n%s", d.Name, err, d.Output())
	}
}

// runTKPass is the loop body of t_kprop.py for one pass.
func runTKPass(t *testing.T, pass tkPass, way tkWay, hostname string) {
	r := newTKRealm(t, pass, hostname)
	replica := r.specialEnv("replica", "db.replica", nil, nil)
	r.setupACL()
	dump := r.path("dump")
	r.run(r.env, "kdb5_util", "dump", dump)
	r.run(replica, "kdb5_util", "load", dump)
	r.run(replica, "kdb5_util", "stash", "-P", tkMasterPassword)
	r.run(r.env, "kadmin.local", "addprinc", "-randkey", "wakawaka")
	kpropd := r.startKpropd(way.kpropd, replica, "-d")
	r.run(r.env, "kdb5_util", "dump", dump)
	if pass.mitFails != "" {
		// MIT's own kprop fails here on Debian's 1.20.1: so must ours,
		// saying the same.
		out, err := r.exec(r.env, way.kprop, "-f", dump, "-P", strconv.Itoa(r.kpropPort), hostname)
		want := "kprop: " + pass.mitFails
		if got := strings.ReplaceAll(out, way.kprop, "kprop"); err == nil || got != want {
			t.Errorf("kprop: %v, output %q; MIT's fails with %q", err, got, want)
		}
		stopDaemon(t, kpropd)
		return
	}
	r.kprop(way.kprop, "-f", dump, "-P", strconv.Itoa(r.kpropPort), hostname)
	r.checkOutput(kpropd)
	r.listprincs(replica)
	stopDaemon(t, kpropd)
	stopDaemon(t, r.kdc)
}

// runTKRealmVariations is the default_realm part of t_kprop.py.
func runTKRealmVariations(t *testing.T, way tkWay, hostname string) {
	r := newTKRealm(t, tkPass{name: "default"}, hostname)
	replica2 := r.specialEnv("replica2", "db.replica2", []string{"default_realm = FOO"}, []string{hostname + " = FOO"})
	replica3 := r.specialEnv("replica3", "db.replica3", nil, []string{hostname + " = BAR"})
	r.setupACL()
	dump := r.path("dump")
	r.run(r.env, "kdb5_util", "dump", dump)
	r.run(replica2, "kdb5_util", "-r", tkRealmName, "load", dump)
	r.run(replica3, "kdb5_util", "load", dump)
	r.run(r.env, "kadmin.local", "addprinc", "-randkey", "wakawaka")

	// -r on both ends overrides the replica's default_realm.
	kpropd := r.startKpropd(way.kpropd, replica2, "-r", tkRealmName, "-d")
	r.run(r.env, "kdb5_util", "dump", dump)
	r.kprop(way.kprop, "-r", tkRealmName, "-f", dump, "-P", strconv.Itoa(r.kpropPort), hostname)
	r.checkOutput(kpropd)
	r.listprincs(replica2, "-r", tkRealmName)
	stopDaemon(t, kpropd)

	// default_realm and domain_realm disagree.
	kpropd = r.startKpropd(way.kpropd, replica3, "-d")
	r.run(r.env, "kdb5_util", "dump", dump)
	r.kprop(way.kprop, "-f", dump, "-P", strconv.Itoa(r.kpropPort), hostname)
	r.checkOutput(kpropd)
	r.listprincs(replica3)
	stopDaemon(t, kpropd)
	stopDaemon(t, r.kdc)
}

// TestMITTKprop runs MIT's t_kprop.py scenario (see the top of this file)
// for every pass of krb5 1.20.1's, 1.21.3's and 1.22.1's k5test.py and for
// the default_realm variations, each with MIT's programs, our kprop, our
// kpropd and both. Subtests are named WAY/PASS/VERSIONS.
func TestMITTKprop(t *testing.T) {
	hostname := tkHostname(t)
	for _, way := range tkWays(t) {
		t.Run(way.name, func(t *testing.T) {
			for _, pass := range tkPasses() {
				t.Run(pass.name+"/"+strings.Join(pass.versions, "+"), func(t *testing.T) {
					t.Parallel()
					runTKPass(t, pass, way, hostname)
				})
			}
			t.Run("default_realm", func(t *testing.T) {
				t.Parallel()
				runTKRealmVariations(t, way, hostname)
			})
		})
	}
}
