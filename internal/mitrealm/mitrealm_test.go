package mitrealm

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/config"
)

func TestProfilesParseWithGokrb5(t *testing.T) {
	h := newHost(t, t.TempDir(), "primary", Options{Realm: "EXAMPLE.TEST", AllowDES3: true,
		LibDefaults: []string{"clockskew = 600", "rdns = true"}}, nil)
	cfg, err := config.Load(h.KRB5Conf)
	if err != nil {
		t.Fatalf("gokrb5 cannot read the harness krb5.conf: %v\n%s", err, h.krb5Conf(nil))
	}
	if cfg.LibDefaults.DefaultRealm != "EXAMPLE.TEST" {
		t.Errorf("default_realm = %q", cfg.LibDefaults.DefaultRealm)
	}
	if cfg.LibDefaults.Clockskew != 600*time.Second {
		t.Errorf("clockskew = %v, want the Options.LibDefaults value", cfg.LibDefaults.Clockskew)
	}
	if !cfg.LibDefaults.RDNS {
		t.Errorf("rdns: Options.LibDefaults did not replace the harness default")
	}
	_, kdcs, err := cfg.GetKDCs("EXAMPLE.TEST", true)
	if err != nil || len(kdcs) != 1 || kdcs[1] != "127.0.0.1:"+strconv.Itoa(h.KDCPort()) {
		t.Errorf("KDCs = %v, %v; want 127.0.0.1:%d", kdcs, err, h.KDCPort())
	}
	if n := strings.Count(h.krb5Conf(nil), "rdns ="); n != 1 {
		t.Errorf("rdns appears %d times in krb5.conf, want once", n)
	}

	env := h.ClientEnv(t, "default_tkt_enctypes = aes128-cts-hmac-sha1-96")
	var conf string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "KRB5_CONFIG="); ok {
			conf = v
		}
	}
	if conf == "" || conf == h.KRB5Conf {
		t.Fatalf("ClientEnv KRB5_CONFIG = %q", conf)
	}
	ccfg, err := config.Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	if got := ccfg.LibDefaults.DefaultTktEnctypeIDs; len(got) != 1 || got[0] != 17 {
		t.Errorf("client profile default_tkt_enctypes IDs = %v, want [17]", got)
	}
	if _, err := parseSettings([]string{"no equals sign"}); err == nil {
		t.Error("parseSettings accepted a line without '='")
	}
}

func TestEnvIsPrivate(t *testing.T) {
	t.Setenv("KRB5_CONFIG", "/nonexistent/krb5.conf")
	t.Setenv("KRB5_TRACE", "/dev/stderr")
	t.Setenv("LANG", "de_DE.UTF-8")
	h := newHost(t, t.TempDir(), "primary", Options{}, nil)
	seen := map[string]int{}
	for _, kv := range h.Env() {
		name, v, _ := strings.Cut(kv, "=")
		seen[name]++
		switch name {
		case "KRB5_CONFIG":
			if v != h.KRB5Conf {
				t.Errorf("KRB5_CONFIG = %q, want %q", v, h.KRB5Conf)
			}
		case "KRB5_TRACE", "LANG":
			t.Errorf("%s leaked from the test's environment", name)
		}
	}
	for _, name := range []string{"KRB5_CONFIG", "KRB5_KDC_PROFILE", "KRB5CCNAME", "KRB5RCACHEDIR", "KRB5_KTNAME", "LC_ALL"} {
		if seen[name] != 1 {
			t.Errorf("%s set %d times", name, seen[name])
		}
	}
}

func TestParseKDCLog(t *testing.T) {
	for _, tc := range []struct {
		name string
		log  string
		want []ASIssue
	}{
		{"des3 deprecated prefix",
			"Nov 27 09:09:42 vm krb5kdc[10592](info): AS_REQ (1 etypes {DEPRECATED:des3-cbc-sha1(16)}) 127.0.0.1: ISSUE: authtime 1795770582, etypes {rep=DEPRECATED:des3-cbc-sha1(16), tkt=aes256-cts-hmac-sha1-96(18), ses=DEPRECATED:des3-cbc-sha1(16)}, host/vm@GOKPROP.TEST for host/localhost@GOKPROP.TEST\n",
			[]ASIssue{{"host/vm@GOKPROP.TEST", "host/localhost@GOKPROP.TEST", 16, 18, 16}}},
		{"names with spaces and other lines",
			"Nov 27 09:09:40 vm krb5kdc[1](info): commencing operation\n" +
				"Nov 27 09:09:43 vm krb5kdc[1](info): AS_REQ (2 etypes {aes256-cts-hmac-sha384-192(20), aes128-cts-hmac-sha1-96(17)}) 127.0.0.1: ISSUE: authtime 1, etypes {rep=aes128-cts-hmac-sha1-96(17), tkt=aes256-cts-hmac-sha1-96(18), ses=aes256-cts-hmac-sha384-192(20)}, space name@R for krbtgt/R@R\n" +
				"Nov 27 09:09:44 vm krb5kdc[1](info): AS_REQ (1 etypes {aes256-cts-hmac-sha1-96(18)}) 127.0.0.1: NEEDED_PREAUTH: alice@R for krbtgt/R@R, Additional pre-authentication required\n",
			[]ASIssue{{"space name@R", "krbtgt/R@R", 17, 18, 20}}},
		{"empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseKDCLog(tc.log)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("issue %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestKadminErrors(t *testing.T) {
	stderr := "No policy specified for zz1@R; defaulting to no policy\n" +
		"add_principal: Principal or policy already exists while creating \"zz1@R\".\n" +
		"kadmin.local: Unknown request \"bogus\".  Type \"?\" for a request list.\n" +
		"WARNING: policy \"nope\" does not exist\n"
	got := kadminErrors(stderr)
	if len(got) != 3 || !strings.HasPrefix(got[0], "add_principal:") || !strings.HasPrefix(got[2], "WARNING") {
		t.Errorf("kadminErrors = %q", got)
	}
	if got := kadminErrors("No policy specified for a b@R; defaulting to no policy\n\n"); len(got) != 0 {
		t.Errorf("benign notice reported as error: %q", got)
	}
}

func TestIsReadyLine(t *testing.T) {
	for _, tc := range []struct {
		line, ready string
		want        bool
	}{
		{"ready\n", "ready", true},
		{"krb5kdc: starting...\n", "starting...", true},
		{"kpropd: Address already in use while binding listener socket\n", "ready", false},
		{"already\n", "ready", false},
		{"not ready yet\n", "ready", false},
	} {
		if got := isReadyLine(tc.line, tc.ready); got != tc.want {
			t.Errorf("isReadyLine(%q, %q) = %v", tc.line, tc.ready, got)
		}
	}
}

func TestDaemonExitBeforeReady(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	_, err = startDaemon(exec.Command(sh, "-c", `echo "x: Address already in use" >&2; exit 3`), "ready", 10*time.Second)
	var se *StartError
	if !errors.As(err, &se) || !strings.Contains(se.Output, "already in use") || !addrInUse(err) {
		t.Fatalf("err = %v, want a StartError with the output", err)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("err does not unwrap to exit status 3: %v", err)
	}
	_, err = startDaemon(exec.Command(sh, "-c", `echo almost; sleep 300`), "ready", 200*time.Millisecond)
	if !errors.As(err, &se) || !strings.Contains(se.Output, "almost") {
		t.Fatalf("timeout err = %v", err)
	}
}

func TestLocalHostname(t *testing.T) {
	h := LocalHostname()
	if h == "" || strings.ToLower(h) != h || strings.HasSuffix(h, ".") {
		t.Errorf("LocalHostname() = %q", h)
	}
}

// TestPrimaryReplicaKDC drives the basic life of two hosts with real MIT
// programs: create, add a user, kinit against the primary's KDC, copy the
// database to a replica by dump and load, and kinit against the replica's
// own KDC.
func TestPrimaryReplicaKDC(t *testing.T) {
	Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kinit", "klist")
	p := NewPrimary(t, Options{})
	p.AddPrincipal(t, "carol", "Carol-Passw0rd")
	p.StartKDC(t)
	p.Kinit(t, "carol", "Carol-Passw0rd")
	if out := p.Klist(t); !strings.Contains(out, "krbtgt/GOKPROP.TEST@GOKPROP.TEST") || !strings.Contains(out, "carol@GOKPROP.TEST") {
		t.Errorf("klist after kinit:\n%s", out)
	}
	issues := p.KDCIssues(t)
	if len(issues) != 1 || issues[0].Client != "carol@GOKPROP.TEST" || issues[0].Session != 18 {
		t.Errorf("KDC log issues = %v, want one aes256 ticket for carol", issues)
	}

	r := p.NewReplica(t)
	if _, err := os.Stat(r.DatabaseName); !os.IsNotExist(err) {
		t.Errorf("replica database exists before any load: %v", err)
	}
	if r.KDCPort() == p.KDCPort() || r.Dir == p.Dir {
		t.Errorf("replica shares the primary's port or directory")
	}
	dump := p.tempName("dump")
	p.Dump(t, dump)
	r.Load(t, dump)
	if got, want := r.DumpString(t), p.DumpString(t); got != want {
		t.Errorf("replica dump differs from primary dump")
	}
	r.StartKDC(t)
	r.Kinit(t, "carol", "Carol-Passw0rd")
	if len(p.KDCIssues(t)) != 1 || len(r.KDCIssues(t)) != 1 {
		t.Errorf("kinit on the replica did not go to the replica's KDC")
	}
}

func TestPopulate(t *testing.T) {
	Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kinit")
	p := NewPrimary(t, Options{})
	start := time.Now()
	pop := Populate(t, p, 1000)
	t.Logf("Populate(1000) took %v", time.Since(start))
	out := p.Kadmin(t, "listprincs", "listpols", "getprinc svc00003/node3.example.test",
		"getprinc gen00007", "getprinc gen00999", "getprinc gen00500", "getstrs gen00500", "getprinc 用户/管理")
	// Count the generated names in listprincs (getprinc adds a few more).
	if n := strings.Count(out, "\ngen0") + strings.Count(out, "\nsvc0"); n != pop.Generated {
		t.Errorf("listprincs shows %d generated principals, want %d", n, pop.Generated)
	}
	for _, want := range []string{
		"Principal: svc00003/node3.example.test@GOKPROP.TEST",
		"Policy: " + PolicyLockout, // gen00007
		"Number of keys: 0",        // gen00999 (-nokey)
		"session_enctypes: aes256-cts,aes128-cts",
		"Principal: 用户/管理@GOKPROP.TEST",
		PolicyStrict, PolicyAESOnly, PolicyPlain,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kadmin output lacks %q", want)
		}
	}
	p.StartKDC(t)
	p.Kinit(t, pop.User, pop.Password)
}

// TestMITPropagation checks the propagation helpers with MIT kprop and
// kpropd, with a small database: the kprop principals, keytabs and ACL
// work, kprop's ticket is host/<local> -> host/localhost, and the replica
// ends up with the primary's database.
func TestMITPropagation(t *testing.T) {
	Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kprop", "kpropd", "kinit")
	primary := NewPrimary(t, Options{Trace: true})
	pop := Populate(t, primary, 100)
	primary.AddKpropPrincipals(t, AES128SHA1, AES256SHA1)
	replica := primary.NewReplica(t)
	primary.SetupKprop(t, replica)
	primary.StartKDC(t)
	kpropd := replica.StartKpropd(t, "-d")
	if kpropd.Port == 0 || kpropd.File != replica.KpropdFile {
		t.Fatalf("kpropd = %+v", kpropd)
	}

	dump := filepath.Join(primary.Dir, "dump")
	primary.Dump(t, dump)
	out := primary.Kprop(t, dump, kpropd.Port, "default_tkt_enctypes = "+AES128SHA1)
	t.Log(out)
	kpropd.WaitFor(t, "Database load process for full propagation completed", 30*time.Second)
	kpropd.WaitFor(t, "authenticated client: "+primary.KpropPrincipal(), time.Second)

	issues := primary.KDCIssues(t)
	if len(issues) != 1 || issues[0].Client != primary.KpropPrincipal() ||
		issues[0].Server != primary.ReplicaPrincipal() || issues[0].Session != 17 {
		t.Errorf("KDC issued %v, want one aes128 ticket %s -> %s", issues, primary.KpropPrincipal(), primary.ReplicaPrincipal())
	}
	sent, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	if got := replica.DumpString(t); got != string(sent) {
		t.Errorf("replica dump (%d bytes) differs from the dump sent (%d bytes)", len(got), len(sent))
	}
	if !strings.Contains(replica.TraceLog(t), "session key aes128-cts/") {
		t.Errorf("replica trace lacks the aes128 session key line:\n%s", replica.TraceLog(t))
	}
	replica.StartKDC(t)
	replica.Kinit(t, pop.User, pop.Password)
}

// TestRequireMissing runs this test binary again to see Require skip a
// test for a missing program, or fail it when CI is set.
func TestRequireMissing(t *testing.T) {
	if os.Getenv("MITREALM_REQUIRE_HELPER") == "1" {
		Require(t, "kdb5_util", "no-such-mit-program")
		t.Log("Require returned")
		return
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"", false, "--- SKIP"},
		{"true", true, "CI is set"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireMissing$", "-test.v", "-test.count=1")
		cmd.Env = SetEnv(os.Environ(), "MITREALM_REQUIRE_HELPER=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail {
			t.Errorf("CI=%q: failed = %v (%v), want %v; output:\n%s", tc.ci, failed, err, tc.wantFail, out)
		}
		if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "no-such-mit-program") ||
			strings.Contains(string(out), "Require returned") {
			t.Errorf("CI=%q: output lacks %q and the program name, or Require returned:\n%s", tc.ci, tc.want, out)
		}
	}
}

func TestListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if !listening(port) {
		t.Errorf("port %d: listener not seen", port)
	}
	l.Close()
	if listening(port) {
		t.Errorf("port %d: closed listener still seen", port)
	}
}
