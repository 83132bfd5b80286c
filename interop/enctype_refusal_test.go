package interop

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// Where MIT refuses an enctype, ours refuse with MIT's words. Each case is
// a k5test-style realm (see tkprop_test.go: host principal and kpropd's
// own name agree, so kpropd looks its key up directly) run the four ways;
// kprop's exit status, standard output and standard error must be the
// same in every one as with MIT's kprop and kpropd.
func TestEnctypeRefusalsMatchMIT(t *testing.T) {
	hostname := tkHostname(t)
	ways := tkWays(t)
	for _, tc := range []struct {
		name string
		pass tkPass
		// replica are the replica's extra [libdefaults]; kprop are
		// kprop's (both on top of the pass's).
		replica, kprop []string
		want           string // what MIT's kprop prints on stderr after "kprop: "
	}{
		// krb5_decrypt_tkt_part refuses a ticket whose enctype is not in
		// permitted_enctypes before decrypting it (KRB5_NOPERM_ETYPE).
		{name: "ticket enctype not permitted",
			pass: tkPass{libdefaults: []string{"permitted_enctypes = des3 aes256-sha1"},
				realm: []string{"supported_enctypes = des3-cbc-sha1:normal"}},
			replica: []string{"permitted_enctypes = aes256-sha1"},
			want:    "Server rejected authentication (during sendauth exchange) while authenticating to server\nGeneric remote error: Encryption type not permitted\n"},
		// ... and, with ignore_acceptor_hostname, the keytab scan finds
		// the key but "cannot decrypt" the ticket.
		{name: "ticket enctype not permitted, any host",
			pass: tkPass{libdefaults: []string{"permitted_enctypes = des3 aes256-sha1"},
				realm: []string{"supported_enctypes = des3-cbc-sha1:normal"}},
			replica: []string{"permitted_enctypes = aes256-sha1", "ignore_acceptor_hostname = true"},
			want: "Server rejected authentication (during sendauth exchange) while authenticating to server\n" +
				"kprop: Decrypt integrity check failed signalled from server\nError text from server: Decrypt integrity check failed\n"},
		// rd_req's negotiate_etype: the session key enctype must be
		// permitted (the ticket itself is aes256-sha1 here).
		{name: "session key enctype not permitted",
			pass:    tkPass{},
			kprop:   []string{"default_tkt_enctypes = aes128-cts aes256-cts"},
			replica: []string{"permitted_enctypes = aes256-sha1"},
			want:    "Server rejected authentication (during sendauth exchange) while authenticating to server\nGeneric remote error: Encryption type not permitted\n"},
		// The keytab's enctypes are not among those kprop asks for: the
		// KDC finds no client key (KDC_ERR_ETYPE_NOSUPP).
		{name: "keytab enctype not requested",
			pass:  tkPass{},
			kprop: []string{"default_tkt_enctypes = camellia256-cts"},
			want:  "KDC has no support for encryption type while getting initial credentials\n\n"},
		// Nothing the KDC may issue as a session key is requested (des3
		// without allow_des3 on Debian's KDC, as 1.20.1's des3 pass).
		{name: "session key the KDC will not issue",
			pass: tkPass{libdefaults: []string{"permitted_enctypes = des3"},
				realm: []string{"supported_enctypes = des3-cbc-sha1:normal"}},
			want: "KDC has no support for encryption type while getting initial credentials\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, way := range ways {
				t.Run(way.name, func(t *testing.T) {
					t.Parallel()
					got := runRefusal(t, tc.pass, tc.replica, tc.kprop, way, hostname)
					want := outcome{stderr: "kprop: " + tc.want, status: 1}
					if got != want {
						t.Errorf("kprop: exit %d, stdout %q, stderr %q;\nMIT's: exit %d, stderr %q", got.status, got.stdout, got.stderr, want.status, want.stderr)
					}
				})
			}
		})
	}
}

// runRefusal propagates once in a fresh realm with the given settings and
// returns kprop's outcome, its program path replaced by "kprop".
func runRefusal(t *testing.T, pass tkPass, replicaConf, kpropConf []string, way tkWay, hostname string) outcome {
	r := newTKRealm(t, pass, hostname)
	replica := r.specialEnv("replica", "db.replica", replicaConf, nil)
	env := r.specialEnv("kprop", "db", kpropConf, nil)
	r.setupACL()
	dump := r.path("dump")
	r.run(r.env, "kdb5_util", "dump", dump)
	r.run(replica, "kdb5_util", "load", dump)
	kpropd := r.startKpropd(way.kpropd, replica, "-d")
	cmd := exec.Command(way.kprop, "-f", dump, "-P", strconv.Itoa(r.kpropPort), hostname)
	cmd.Env, cmd.Dir = env, r.dir
	stdout, stderr, err := mitrealm.Exec(cmd, "")
	o := outcome{stdout: strings.ReplaceAll(stdout, way.kprop, "kprop"), stderr: strings.ReplaceAll(stderr, way.kprop, "kprop")}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		o.status = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	t.Logf("kpropd:\n%s", kpropd.Output())
	stopDaemon(t, kpropd)
	return o
}
