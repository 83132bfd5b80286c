package interop

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/krb5"
)

// A sender is a program that pushes a dump with MIT kprop's command line
// (mitrealm.KpropArgs) and prints mitrealm.KpropSucceeded when the replica
// has acknowledged it.
type sender struct {
	name string // for test names: "MIT", "Go"
	path string
	// mitTrace: the program is MIT's and writes KRB5_TRACE output, which
	// the cell checks for the session key enctype.
	mitTrace bool
}

// A receiver is a program that takes MIT kpropd's command line
// (mitrealm.KpropdArgs, plus -d), prints "ready" once listening and loads
// what it receives with kdb5_util.
type receiver struct {
	name     string
	path     string
	mitTrace bool
	// doneLine, if set, is printed after the load has finished; the cell
	// waits for it before looking at the replica's database.
	doneLine string
}

func mitSender(t testing.TB) sender {
	return sender{name: "MIT", path: mitrealm.Require(t, "kprop")["kprop"], mitTrace: true}
}

func mitReceiver(t testing.TB) receiver {
	return receiver{name: "MIT", path: mitrealm.Require(t, "kpropd")["kpropd"], mitTrace: true,
		doneLine: "Database load process for full propagation completed."}
}

// A cell is one propagation setting: what the sender's krb5.conf asks for
// and which enctypes the primary's KDC must then issue.
type cell struct {
	name string // the subtest name
	// libdefaults are the sender's extra [libdefaults] lines.
	libdefaults []string
	// hostKeys, if set, replaces the keys of both kprop host principals
	// with random keys of exactly these enctypes before the propagation.
	hostKeys []string
	// noAllow leaves allow_des3 and allow_rc4 out of both hosts'
	// krb5.conf (the KDC's, kpropd's and kprop's).
	noAllow bool
	// reply, ticket and session are the enctypes the KDC must log for
	// the AS reply key, the ticket and the session key; 0 is not checked.
	reply, ticket, session int32
}

// enctypeCell is the cell whose sender asks for exactly one enctype, so
// that the KDC can only issue a session key and an AS reply key of that
// type; the KDC itself and kadmin.local keep reading the host's full
// krb5.conf.
func enctypeCell(t testing.TB, enctype string) cell {
	e, ok := krb5.ParseEnctype(enctype)
	if !ok {
		t.Fatalf("unknown enctype %q", enctype)
	}
	return cell{
		name: enctype,
		libdefaults: []string{"default_tkt_enctypes = " + enctype, "default_tgs_enctypes = " + enctype,
			"permitted_enctypes = " + enctype},
		reply: int32(e), session: int32(e),
	}
}

// des3HostKeysCell is MIT 1.21's des3 pass of t_kprop.py as a matrix cell:
// the kprop host principals have des3 keys only, nobody sets allow_des3,
// permitted_enctypes is "des3 aes256-sha1". The des3 long-term keys
// decrypt the AS reply and the ticket; the KDC, which will not issue a
// des3 session key without allow_des3, issues an aes256-sha1 one.
func des3HostKeysCell() cell {
	return cell{
		name:        "des3-host-keys-aes-session",
		libdefaults: []string{"permitted_enctypes = des3-cbc-sha1 aes256-cts-hmac-sha1-96"},
		hostKeys:    []string{mitrealm.DES3},
		noAllow:     true,
		reply:       int32(krb5.EnctypeDES3CBCSHA1),
		ticket:      int32(krb5.EnctypeDES3CBCSHA1),
		session:     int32(krb5.EnctypeAES256CTSSHA1),
	}
}

// matrixCells are the cells of every direction of the matrix: one per
// enctype of KpropEnctypes, and des3HostKeysCell.
func matrixCells(t testing.TB) []cell {
	var cells []cell
	for _, e := range mitrealm.KpropEnctypes() {
		cells = append(cells, enctypeCell(t, e))
	}
	return append(cells, des3HostKeysCell())
}

// runMatrix runs one parallel cell per sender, receiver and cell, named
// sender-to-receiver/cell.
func runMatrix(t *testing.T, senders []sender, receivers []receiver, cells []cell) {
	for _, s := range senders {
		for _, r := range receivers {
			t.Run(s.name+"-to-"+r.name, func(t *testing.T) {
				for _, c := range cells {
					t.Run(c.name, func(t *testing.T) {
						t.Parallel()
						runCell(t, s, r, c)
					})
				}
			})
		}
	}
}

// runCell propagates the snapshot database from a fresh primary with s to a
// fresh replica running r, in the setting of c, and checks the result.
func runCell(t *testing.T, s sender, r receiver, c cell) {
	mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kinit")
	start := time.Now()
	opts := snapOptions
	if c.noAllow {
		opts.AllowDES3, opts.AllowRC4 = false, false
	}
	primary := snap.NewPrimaryWith(t, opts)
	if c.hostKeys != nil {
		var keysalts []string
		for _, e := range c.hostKeys {
			keysalts = append(keysalts, e+":normal")
		}
		primary.Kadmin(t,
			"cpw -randkey -e "+strings.Join(keysalts, ",")+" "+primary.KpropPrincipal(),
			"cpw -randkey -e "+strings.Join(keysalts, ",")+" "+primary.ReplicaPrincipal())
	}
	replica := primary.NewReplica(t)
	primary.SetupKprop(t, replica)
	primary.StartKDC(t)
	kpropd := replica.StartKpropdBinary(t, r.path, "-d")
	dump := filepath.Join(primary.Dir, "propagated.dump")
	primary.Dump(t, dump)
	ready := time.Now()

	// Through a recording proxy, to see which data phase went on the wire.
	proxy := newProxy(t, kpropd.Port, nil)
	cmd := primary.Command(s.path, primary.KpropArgs(dump, proxy.port())...)
	cmd.Env = primary.ClientEnv(t, c.libdefaults...)
	stdout, stderr, err := mitrealm.Exec(cmd, "")
	if err != nil {
		t.Fatalf("%s kprop: %v\nstdout:\n%s", s.name, err, stdout)
	}
	if !strings.Contains(stdout, mitrealm.KpropSucceeded) {
		t.Fatalf("%s kprop did not print %q; stdout:\n%s\nstderr:\n%s", s.name, mitrealm.KpropSucceeded, stdout, stderr)
	}
	if r.doneLine != "" {
		kpropd.WaitFor(t, r.doneLine, 30*time.Second)
	}
	propagated := time.Now()

	// The replica received exactly the bytes that were sent ...
	sent := readFile(t, dump)
	if got := readFile(t, kpropd.File); !bytes.Equal(got, sent) {
		t.Errorf("kpropd wrote %d bytes to %s, the dump sent has %d; first difference: %s",
			len(got), kpropd.File, len(sent), firstDifference(sent, got))
	}
	// ... and loaded them: its own dump equals the primary's. Dumps list
	// principals in database order and policies after them; both databases
	// are db2 files built by kdb5_util load from the same text, so the
	// order is the same and the files are byte-identical.
	if got := []byte(replica.DumpString(t)); !bytes.Equal(got, sent) {
		t.Errorf("replica dump (%d bytes) differs from the primary's (%d bytes); first difference: %s",
			len(got), len(sent), firstDifference(sent, got))
	}
	if n := bytes.Count(sent, []byte("\nprinc\t")); n < populated {
		t.Errorf("the propagated dump has %d principals, want at least %d", n, populated)
	}
	if n := bytes.Count(sent, []byte("\npolicy\t")); n < 4 {
		t.Errorf("the propagated dump has %d policies, want at least 4", n)
	}

	checkSessionEnctype(t, s, r, primary, replica, c)
	checkDataPhase(t, s, r, c, proxy.lastSession(t))

	// The replica's KDC serves the propagated database.
	replica.StartKDC(t)
	pop := snap.Population(t)
	replica.Kinit(t, pop.User, pop.Password)
	var served bool
	for _, is := range replica.KDCIssues(t) {
		served = served || is.Client == pop.User+"@"+replica.Realm
	}
	if !served {
		t.Errorf("the replica's KDC log shows no ticket for %s:\n%s", pop.User, replica.KDCLog(t))
	}
	t.Logf("%s -> %s %s: setup %v, propagation %v, checks %v", s.name, r.name, c.name,
		ready.Sub(start).Round(time.Millisecond), propagated.Sub(ready).Round(time.Millisecond),
		time.Since(propagated).Round(time.Millisecond))
}

// checkDataPhase asserts which data phase the client's bytes show: the
// fast data phase's records only from our kprop to our kpropd (never with
// a des3 session key), MIT's KRB-PRIV chunks in every other direction.
func checkDataPhase(t *testing.T, s sender, r receiver, c cell, client []byte) {
	t.Helper()
	wantFast := s.name == "Go" && r.name == "Go" && c.session != int32(krb5.EnctypeDES3CBCSHA1)
	frames := 0
	for b := client; len(b) >= 4; frames++ {
		n := int(binary.BigEndian.Uint32(b))
		if len(b) < 4+n {
			t.Fatalf("the client's frame %d is cut short", frames)
		}
		if frames >= frameChunk {
			// KRB-PRIV is [APPLICATION 21]; a fast data record starts
			// with its type byte 1.
			want, what := byte(0x75), "a KRB-PRIV"
			if wantFast {
				want, what = 0x01, "a fast data record"
			}
			if n == 0 || b[4] != want {
				t.Fatalf("the client's frame %d starts with %#x, want %s", frames, b[min(4, len(b)-1)], what)
			}
		}
		b = b[4+n:]
	}
	if frames <= frameChunk {
		t.Fatalf("the client sent %d frames, no data", frames)
	}
	t.Logf("%s -> %s %s: %d data frames, fast data phase %v", s.name, r.name, c.name, frames-frameChunk, wantFast)
}

// traceSessionKey matches MIT's KRB5_TRACE lines that name the session key
// of kprop's ticket: the client's after the AS exchange, kpropd's after
// decrypting the AP-REQ.
var (
	clientSessionKey = regexp.MustCompile(`Decrypted AS reply; session key is: ([^/\s]+)/`)
	serverSessionKey = regexp.MustCompile(`AP-REQ ticket: \S+ -> \S+, session key ([^/\s]+)/`)
)

// checkSessionEnctype asserts that the propagation's ticket had the
// enctypes the cell wants: always from the primary KDC's log, and the
// session key's from the trace of each MIT end.
func checkSessionEnctype(t *testing.T, s sender, r receiver, primary, replica *mitrealm.Host, c cell) {
	t.Helper()
	var issued []mitrealm.ASIssue
	for _, is := range primary.KDCIssues(t) {
		if is.Client == primary.KpropPrincipal() && is.Server == primary.ReplicaPrincipal() {
			issued = append(issued, is)
		}
	}
	if len(issued) != 1 {
		t.Fatalf("want one ticket %s -> %s in the primary KDC's log, found %v:\n%s",
			primary.KpropPrincipal(), primary.ReplicaPrincipal(), issued, primary.KDCLog(t))
	}
	is := issued[0]
	for _, x := range []struct {
		what      string
		got, want int32
	}{{"session key", is.Session, c.session}, {"AS reply key", is.Reply, c.reply}, {"ticket", is.Ticket, c.ticket}} {
		if x.want != 0 && x.got != x.want {
			t.Errorf("KDC issued a %s of enctype %d, want %d (%s)", x.what, x.got, x.want, krb5.Enctype(x.want))
		}
	}
	check := func(who string, h *mitrealm.Host, re *regexp.Regexp) {
		m := re.FindAllStringSubmatch(h.TraceLog(t), -1)
		if len(m) != 1 {
			t.Errorf("%s trace: want one session key line, found %d", who, len(m))
			return
		}
		if got, ok := krb5.ParseEnctype(m[0][1]); !ok || int32(got) != c.session {
			t.Errorf("%s trace: session key enctype %q, want %s", who, m[0][1], krb5.Enctype(c.session))
		}
	}
	if s.mitTrace {
		check("kprop", primary, clientSessionKey)
	}
	if r.mitTrace {
		check("kpropd", replica, serverSessionKey)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// firstDifference describes the first line where two dumps differ.
func firstDifference(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return fmt.Sprintf("line %d:\nwant %.300q\n got %.300q", i+1, w, g)
		}
	}
	return "none (equal)"
}
