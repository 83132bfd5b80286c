package interop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
	"github.com/gokprop/gokprop/krbconf"
	"github.com/gokprop/gokprop/krbkdc"
)

// asRealm is an MIT realm with a running KDC, a service principal
// host/replica.test with keys of every kprop enctype, and its keytab.
type asRealm struct {
	host     *mitrealm.Host
	server   krb5.Principal
	serverKT *keytab.Keytab
}

func newASRealm(t *testing.T, opts mitrealm.Options) *asRealm {
	t.Helper()
	mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kinit")
	h := mitrealm.NewPrimary(t, opts)
	h.AddHostPrincipal(t, "replica.test")
	ktPath := filepath.Join(h.Dir, "replica.keytab")
	h.Ktadd(t, ktPath, "host/replica.test@"+h.Realm)
	h.StartKDC(t)
	return &asRealm{
		host:     h,
		server:   krb5.HostPrincipal("host", "replica.test", h.Realm),
		serverKT: loadKeytab(t, ktPath),
	}
}

func loadKeytab(t *testing.T, path string) *keytab.Keytab {
	t.Helper()
	kt, err := keytab.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return kt
}

// addClient creates host/<name> with keys of enctypes only, optionally
// requiring pre-authentication, and returns its principal and a keytab of
// its keys (ktadd -norandkey).
func (r *asRealm) addClient(t *testing.T, name string, preauth bool, enctypes ...string) (krb5.Principal, *keytab.Keytab, string) {
	t.Helper()
	p := r.host.AddHostPrincipal(t, name, enctypes...)
	if preauth {
		r.host.Kadmin(t, "modprinc +requires_preauth "+p)
	}
	path := filepath.Join(r.host.Dir, name+".keytab")
	r.host.Ktadd(t, path, p)
	return krb5.HostPrincipal("host", name, r.host.Realm), loadKeytab(t, path), path
}

// clientConfig reads the host's krb5.conf as the Go client, with extra
// [libdefaults] lines in a file in front of it.
func (r *asRealm) clientConfig(t *testing.T, libdefaults ...string) *krbconf.Config {
	t.Helper()
	front := filepath.Join(t.TempDir(), "front.conf")
	if err := os.WriteFile(front, []byte("[libdefaults]\n"+strings.Join(libdefaults, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := krbconf.LoadConfigFiles(front, r.host.KRB5Conf)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (r *asRealm) get(t *testing.T, cfg *krbconf.Config, kt *keytab.Keytab, client krb5.Principal) (*krbauth.Credentials, error) {
	t.Helper()
	return r.getWith(t, &krbkdc.KDCClient{Config: cfg}, kt, client)
}

func (r *asRealm) getWith(t *testing.T, k *krbkdc.KDCClient, kt *keytab.Keytab, client krb5.Principal) (*krbauth.Credentials, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return k.GetInitialCredentials(ctx, kt, client, r.server)
}

// syncLog collects a KDCClient's debug log.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// checkCreds verifies credentials the way the replica will: the service
// key opens the ticket, which names the client and carries the session key.
func (r *asRealm) checkCreds(t *testing.T, creds *krbauth.Credentials, client krb5.Principal, sessionEtype krb5.Enctype) {
	t.Helper()
	if !creds.Client.Equal(client) || !creds.Server.Equal(r.server) {
		t.Errorf("credentials for %v -> %v", creds.Client, creds.Server)
	}
	if krb5.Enctype(creds.SessionKey.KeyType) != sessionEtype {
		t.Errorf("session key %s, want %s", krb5.Enctype(creds.SessionKey.KeyType).String(), sessionEtype)
	}
	key, err := krbauth.FindKey(r.serverKT, r.server, uint32(creds.Ticket.EncPart.KVNO), krb5.Enctype(creds.Ticket.EncPart.EType))
	if err != nil {
		t.Fatal(err)
	}
	tkt := creds.Ticket
	if err := tkt.Decrypt(key.Key); err != nil {
		t.Fatalf("the service key does not open the ticket: %v", err)
	}
	etp := tkt.DecryptedEncPart
	if etp.Key.KeyType != creds.SessionKey.KeyType || string(etp.Key.KeyValue) != string(creds.SessionKey.KeyValue) {
		t.Error("the ticket's session key differs from the AS-REP's")
	}
	if got := (krb5.Principal{Name: etp.CName, Realm: etp.CRealm}); !got.Equal(client) {
		t.Errorf("ticket client %v", got)
	}
	if !creds.EndTime.After(time.Now()) || creds.EndTime.After(time.Now().Add(24*time.Hour+time.Minute)) {
		t.Errorf("end time %v", creds.EndTime)
	}
}

// asReqLines returns the KDC's AS_REQ log lines about client.
func asReqLines(t *testing.T, h *mitrealm.Host, client krb5.Principal) []string {
	var out []string
	for _, l := range strings.Split(h.KDCLog(t), "\n") {
		if strings.Contains(l, "AS_REQ") && strings.Contains(l, " "+client.String()+" for ") {
			out = append(out, l)
		}
	}
	return out
}

var (
	etypesInLog = regexp.MustCompile(`AS_REQ \(\d+ etypes \{([^}]*)\}\)`)
	etypeNumber = regexp.MustCompile(`[^ ,]+\((-?\d+)\)`)
)

func TestGetInitialCredentialsFromMITKDC(t *testing.T) {
	r := newASRealm(t, mitrealm.Options{})
	enctypes := []struct {
		name string
		id   krb5.Enctype
	}{
		{mitrealm.AES256SHA1, krb5.EnctypeAES256CTSSHA1},
		{mitrealm.AES128SHA1, krb5.EnctypeAES128CTSSHA1},
		{mitrealm.AES256SHA384, krb5.EnctypeAES256CTSSHA384},
		{mitrealm.AES128SHA256, krb5.EnctypeAES128CTSSHA256},
	}
	for _, e := range enctypes {
		for _, preauth := range []bool{false, true} {
			for _, transport := range []string{"udp", "tcp"} {
				name := fmt.Sprintf("%s/preauth=%v/%s", e.name, preauth, transport)
				t.Run(name, func(t *testing.T) {
					host := fmt.Sprintf("client-%d-%v-%s.test", e.id, preauth, transport)
					client, kt, _ := r.addClient(t, host, preauth, e.name)
					var extra []string
					if transport == "tcp" {
						extra = append(extra, "udp_preference_limit = 0")
					}
					var log syncLog
					k := &krbkdc.KDCClient{
						Config: r.clientConfig(t, extra...),
						Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
					}
					creds, err := r.getWith(t, k, kt, client)
					if err != nil {
						t.Fatal(err)
					}
					r.checkCreds(t, creds, client, e.id)
					// The reply came over the intended transport, and MIT's KDC
					// confirmed the request (RFC 6806 enc-pa-rep), which the
					// client checked.
					replied := regexp.MustCompile(`msg="received reply from KDC".* proto=` + transport + ` `)
					if s := log.String(); !replied.MatchString(s) || !strings.Contains(s, "PA-REQ-ENC-PA-REP") {
						t.Errorf("client log:\n%s", s)
					}
					lines := asReqLines(t, r.host, client)
					needed := 0
					for _, l := range lines {
						if strings.Contains(l, "NEEDED_PREAUTH") {
							needed++
						}
					}
					if preauth && needed != 1 || !preauth && needed != 0 {
						t.Errorf("KDC log for preauth=%v:\n%s", preauth, strings.Join(lines, "\n"))
					}
					var issued []mitrealm.ASIssue
					for _, is := range r.host.KDCIssues(t) {
						if is.Client == client.String() {
							issued = append(issued, is)
						}
					}
					if len(issued) != 1 || issued[0].Reply != int32(e.id) || issued[0].Session != int32(e.id) || issued[0].Server != r.server.String() {
						t.Errorf("KDC issued %v", issued)
					}
				})
			}
		}
	}
}

// MIT's own client (kinit -k -S, the same library call as kprop's) asks the
// KDC for the same enctypes, in the same order, as the Go client, except
// that the Go client moves those it does not allow as session keys (des3
// and rc4 without allow_des3/allow_rc4) to the end, so that the KDC picks
// them for the session key only when it can issue nothing else.
func TestASRequestMatchesMITClient(t *testing.T) {
	r := newASRealm(t, mitrealm.Options{})
	for i, tc := range []struct {
		keys []string
		conf []string
	}{
		{[]string{mitrealm.AES128SHA256, mitrealm.AES256SHA1}, nil},
		{[]string{mitrealm.AES128SHA256, mitrealm.AES256SHA1}, []string{"default_tkt_enctypes = aes128-sha1 aes256-sha2 aes256-sha1 aes128-sha2"}},
		{[]string{mitrealm.Camellia128, mitrealm.DES3}, nil},
		{[]string{mitrealm.DES3}, []string{"permitted_enctypes = des3 aes256-sha1"}},
		{[]string{mitrealm.RC4, mitrealm.DES3}, []string{"allow_des3 = true"}},
	} {
		goClient, kt, _ := r.addClient(t, fmt.Sprintf("go-client-%d.test", i), true, tc.keys...)
		mitClient, _, mitKT := r.addClient(t, fmt.Sprintf("mit-client-%d.test", i), true, tc.keys...)
		env := r.host.ClientEnv(t, tc.conf...)
		cmd := r.host.Command("kinit", "-k", "-t", mitKT, "-S", r.server.String(), mitClient.String())
		cmd.Env = env
		if out, stderr, err := mitrealm.Exec(cmd, ""); err != nil {
			t.Fatalf("kinit: %v\n%s%s", err, out, stderr)
		}
		cfg := r.clientConfig(t, tc.conf...)
		if _, err := r.get(t, cfg, kt, goClient); err != nil {
			t.Fatal(err)
		}
		etypes := func(p krb5.Principal) [][]int32 {
			var out [][]int32
			for _, l := range asReqLines(t, r.host, p) {
				m := etypesInLog.FindStringSubmatch(l)
				if m == nil {
					continue
				}
				var list []int32
				for _, e := range etypeNumber.FindAllStringSubmatch(m[1], -1) {
					n, _ := strconv.Atoi(e[1])
					list = append(list, int32(n))
				}
				out = append(out, list)
			}
			return out
		}
		g, m := etypes(goClient), etypes(mitClient)
		want := make([][]int32, len(m))
		for j, l := range m {
			var allowed, gated []int32
			for _, e := range l {
				if cfg.EnctypeUsable(krb5.Enctype(e)) != nil {
					gated = append(gated, e)
				} else {
					allowed = append(allowed, e)
				}
			}
			want[j] = append(allowed, gated...)
		}
		if len(g) == 0 || !slices.EqualFunc(g, want, slices.Equal) {
			t.Errorf("keys %v, config %q: requested enctypes differ:\nGo:  %v\nMIT: %v (gated ones moved last: %v)", tc.keys, tc.conf, g, m, want)
		}
	}
}

func TestMITKDCErrors(t *testing.T) {
	r := newASRealm(t, mitrealm.Options{})
	client, kt, _ := r.addClient(t, "errors.test", false, mitrealm.AES256SHA1)
	cfg := r.clientConfig(t)
	ctx := context.Background()

	k := &krbkdc.KDCClient{Config: cfg}
	_, err := k.GetInitialCredentials(ctx, kt, client, krb5.HostPrincipal("host", "no-such-replica.test", r.host.Realm))
	var ke *krbkdc.KDCError
	if !errors.As(err, &ke) || ke.Code != krb5.ErrServerUnknown || err.Error() != "Server not found in Kerberos database" {
		t.Errorf("unknown server: %v", err)
	}
	ghost := krb5.HostPrincipal("host", "ghost.test", r.host.Realm)
	ghostKT := keytab.New()
	if err := ghostKT.AddEntry("host/ghost.test", r.host.Realm, "pw", time.Now(), 1, int32(krb5.EnctypeAES256CTSSHA1)); err != nil {
		t.Fatal(err)
	}
	_, err = k.GetInitialCredentials(ctx, ghostKT, ghost, r.server)
	if !errors.As(err, &ke) || ke.Code != 6 || err.Error() != "Client 'host/ghost.test@"+r.host.Realm+"' not found in Kerberos database" {
		t.Errorf("unknown client: %v", err)
	}

	// A keytab whose keys the database no longer has.
	r.host.Kadmin(t, "cpw -randkey "+client.String())
	if _, err := k.GetInitialCredentials(ctx, kt, client, r.server); !errors.Is(err, krb5.ErrBadIntegrity) {
		t.Errorf("stale key, no preauth: %v", err)
	}
	r.host.Kadmin(t, "modprinc +requires_preauth "+client.String())
	if _, err := k.GetInitialCredentials(ctx, kt, client, r.server); !errors.As(err, &ke) || ke.Code != krb5.ErrPreauthFailed {
		t.Errorf("stale key, preauth: %v", err)
	}
}

// des3 and rc4 session keys work only when both the KDC (Debian's
// allow_des3/allow_rc4) and the Go client's configuration allow them;
// des3 and rc4 long-term keys work whatever the switches say.
func TestDeprecatedEnctypesWithMITKDC(t *testing.T) {
	deprecated := []struct {
		name, allow string
		id          krb5.Enctype
	}{
		{mitrealm.DES3, "allow_des3 = true", krb5.EnctypeDES3CBCSHA1},
		{mitrealm.RC4, "allow_rc4 = true", krb5.EnctypeRC4HMAC},
	}
	t.Run("KDC allows", func(t *testing.T) {
		r := newASRealm(t, mitrealm.Options{AllowDES3: true, AllowRC4: true})
		for _, d := range deprecated {
			for _, preauth := range []bool{false, true} {
				client, kt, _ := r.addClient(t, fmt.Sprintf("old-%d-%v.test", d.id, preauth), preauth, d.name)
				creds, err := r.get(t, r.clientConfig(t, d.allow), kt, client)
				if err != nil {
					t.Errorf("%s preauth=%v: %v", d.name, preauth, err)
					continue
				}
				r.checkCreds(t, creds, client, d.id)
			}
			// Without the client-side switch the deprecated long-term key
			// still gets credentials, as MIT's does; the Go client asks for
			// des3 and rc4 last, so the KDC issues an AES session key.
			client, kt, _ := r.addClient(t, fmt.Sprintf("longterm-%d.test", d.id), false, d.name)
			noAllow := r.clientConfig(t, "allow_des3 = false", "allow_rc4 = false")
			creds, err := r.get(t, noAllow, kt, client)
			if err != nil {
				t.Errorf("%s long-term key without %s: %v", d.name, d.allow, err)
				continue
			}
			r.checkCreds(t, creds, client, krb5.EnctypeAES256CTSSHA1)
			var issued []mitrealm.ASIssue
			for _, is := range r.host.KDCIssues(t) {
				if is.Client == client.String() {
					issued = append(issued, is)
				}
			}
			if len(issued) != 1 || issued[0].Reply != int32(d.id) || issued[0].Session != int32(krb5.EnctypeAES256CTSSHA1) {
				t.Errorf("%s long-term key: KDC issued %v", d.name, issued)
			}
			// Asking for nothing else, it gets a session key of that type,
			// which it refuses, naming the enctype and the setting.
			_, err = r.get(t, r.clientConfig(t, "allow_des3 = false", "allow_rc4 = false", "default_tkt_enctypes = "+d.name), kt, client)
			if !errors.Is(err, krb5.ErrUnsupportedEnctype) || !strings.Contains(err.Error(), d.name) || !strings.Contains(err.Error(), strings.Fields(d.allow)[0]) {
				t.Errorf("%s session key without %s: %v", d.name, d.allow, err)
			}
		}
	})
	t.Run("KDC refuses", func(t *testing.T) {
		r := newASRealm(t, mitrealm.Options{})
		for _, d := range deprecated {
			client, kt, _ := r.addClient(t, fmt.Sprintf("nokdc-%d.test", d.id), false, d.name)
			// Only the deprecated enctype requested: Debian's KDC will not
			// issue such a session key.
			_, err := r.get(t, r.clientConfig(t, d.allow, "default_tkt_enctypes = "+d.name), kt, client)
			var ke *krbkdc.KDCError
			if !errors.As(err, &ke) || ke.Code != krb5.ErrEtypeNoSupp || err.Error() != "KDC has no support for encryption type" {
				t.Errorf("%s only: %v", d.name, err)
			}
			// With AES also requested the KDC picks an AES session key for
			// the deprecated reply key.
			creds, err := r.get(t, r.clientConfig(t, d.allow), kt, client)
			if err != nil {
				t.Errorf("%s with AES: %v", d.name, err)
				continue
			}
			r.checkCreds(t, creds, client, krb5.EnctypeAES256CTSSHA1)
		}
	})
}

var (
	traceClient  = regexp.MustCompile(`Getting initial credentials for (\S+)`)
	traceService = regexp.MustCompile(`Setting initial creds service to (\S+)`)
)

// The Go canonicalizer names kprop's client and server as MIT kprop does
// (read from kprop's KRB5_TRACE before it fails for want of a keytab). Only
// names that resolve without DNS servers are looked up: localhost and
// names under dns_canonicalize_hostname = false.
func TestCanonicalizationMatchesMITKprop(t *testing.T) {
	kprop := mitrealm.Require(t, "kprop")["kprop"]
	dir := t.TempDir()
	tests := []struct {
		libdefaults string
		host        string
	}{
		{"dns_canonicalize_hostname = false", "Replica"},
		{"dns_canonicalize_hostname = false", "Replica.Example.ORG."},
		{"dns_canonicalize_hostname = false\nqualify_shortname = q.example", "replica"},
		{"dns_canonicalize_hostname = false\nqualify_shortname = \"\"", "REPLICA"},
		{"dns_canonicalize_hostname = true\nrdns = false", "LocalHost"},
		{"dns_canonicalize_hostname = true", "localhost"},
		{"dns_canonicalize_hostname = true", "127.0.0.1"},
		{"dns_canonicalize_hostname = true\nrdns = false", "127.0.0.1"},
	}
	for i, tt := range tests {
		conf := filepath.Join(dir, fmt.Sprintf("krb5-%d.conf", i))
		text := "[libdefaults]\ndefault_realm = CANON.TEST\n" + tt.libdefaults + "\n"
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(kprop, "-s", filepath.Join(dir, "no-keytab"), "-f", os.DevNull, tt.host)
		cmd.Env = mitrealm.SetEnv(os.Environ(), "KRB5_CONFIG="+conf, "KRB5_TRACE=/dev/stdout", "LOCALDOMAIN=search.example")
		out, _ := cmd.CombinedOutput()
		mc, ms := traceClient.FindSubmatch(out), traceService.FindSubmatch(out)
		if mc == nil || ms == nil {
			t.Fatalf("no trace from kprop:\n%s", out)
		}
		cfg, err := krbconf.LoadConfigFiles(conf)
		if err != nil {
			t.Fatal(err)
		}
		c := &krbconf.Canonicalizer{Config: cfg, PrimaryDomain: func() string { return "search.example" }}
		ctx := context.Background()
		client, err := c.Principal(ctx, "host", "", "CANON.TEST")
		if err != nil {
			t.Fatal(err)
		}
		server, err := c.Principal(ctx, "host", tt.host, "CANON.TEST")
		if err != nil {
			t.Fatal(err)
		}
		serverNoRealm := strings.TrimSuffix(server.String(), "@CANON.TEST")
		if client.String() != string(mc[1]) || serverNoRealm != string(ms[1]) {
			t.Errorf("%q, %q: Go %s -> %s, MIT kprop %s -> %s", tt.libdefaults, tt.host, client, serverNoRealm, mc[1], ms[1])
		}
	}
}
