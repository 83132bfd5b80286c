package mitrealm

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// benignKadmin matches what kadmin.local prints on stderr for commands that
// succeeded.
var benignKadmin = regexp.MustCompile(`^No policy specified for .*; defaulting to no policy$`)

// Kadmin runs kadmin.local once on h, feeding it cmds on standard input,
// one per line; that is much faster than one process per command. Each
// command is a kadmin request line such as `addprinc -randkey alice`;
// arguments with spaces go in double quotes (see Quote). kadmin.local exits
// 0 even when a request fails, so the test fails if it prints anything on
// stderr except the "No policy specified" notice. Kadmin returns stdout.
func (h *Host) Kadmin(t testing.TB, cmds ...string) string {
	t.Helper()
	path := bin(t, "kadmin.local")
	for _, c := range cmds {
		if strings.ContainsAny(c, "\n\r") {
			t.Fatalf("kadmin command %q contains a line break", c)
		}
	}
	out, stderr, err := Exec(h.Command(path, "-r", h.Realm), strings.Join(cmds, "\n")+"\n")
	if err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	if bad := kadminErrors(stderr); len(bad) > 0 {
		shown := strings.Join(cmds, "\n")
		if len(cmds) > 20 {
			shown = fmt.Sprintf("(%d requests)", len(cmds))
		}
		t.Fatalf("%s: kadmin.local reported errors:\n%s\nrequests:\n%s", h.Name, strings.Join(bad, "\n"), shown)
	}
	return out
}

// kadminErrors returns the lines of kadmin.local's stderr that report a
// failed request.
func kadminErrors(stderr string) []string {
	var bad []string
	for _, l := range strings.Split(stderr, "\n") {
		if l = strings.TrimSpace(l); l != "" && !benignKadmin.MatchString(l) {
			bad = append(bad, l)
		}
	}
	return bad
}

// Quote returns s as one kadmin.local request argument: in double quotes if
// it contains white space. s must not contain a double quote.
func Quote(s string) string {
	if strings.ContainsAny(s, " \t") {
		return `"` + s + `"`
	}
	return s
}

// keysaltList renders enctypes as a kadmin -e list, adding ":normal" to
// entries without a salt type.
func keysaltList(enctypes []string) string {
	out := make([]string, len(enctypes))
	for i, e := range enctypes {
		if !strings.Contains(e, ":") {
			e += ":normal"
		}
		out[i] = e
	}
	return strings.Join(out, ",")
}

// AddPrincipal creates principal on h with the given password, or with a
// random key if password is empty, and no policy.
func (h *Host) AddPrincipal(t testing.TB, principal, password string) {
	t.Helper()
	if strings.Contains(password, `"`) {
		t.Fatalf("password %q: kadmin.local arguments cannot contain a double quote", password)
	}
	key := "-randkey"
	if password != "" {
		key = "-pw " + Quote(password)
	}
	h.Kadmin(t, fmt.Sprintf("addprinc %s -clearpolicy %s", key, Quote(principal)))
}

// AddHostPrincipal creates host/<hostname> on h with random keys of the
// given enctypes (default: KpropEnctypes) and returns its name with the
// realm.
func (h *Host) AddHostPrincipal(t testing.TB, hostname string, enctypes ...string) string {
	t.Helper()
	if len(enctypes) == 0 {
		enctypes = KpropEnctypes()
	}
	p := "host/" + hostname + "@" + h.Realm
	h.Kadmin(t, fmt.Sprintf("addprinc -randkey -clearpolicy -e %s %s", keysaltList(enctypes), p))
	return p
}

// Ktadd writes principal's keys into keytab. Without enctypes it uses
// "ktadd -norandkey", which keeps the database's keys and kvno, so several
// keytabs of one principal agree. With enctypes it runs "ktadd -e", which
// gives the principal new random keys of exactly those enctypes and a new
// kvno.
func (h *Host) Ktadd(t testing.TB, keytab, principal string, enctypes ...string) {
	t.Helper()
	opt := "-norandkey"
	if len(enctypes) > 0 {
		opt = "-e " + keysaltList(enctypes)
	}
	h.Kadmin(t, fmt.Sprintf("ktadd -k %s %s %s", Quote("FILE:"+keytab), opt, Quote(principal)))
}

// ReplicaHost is the host name kprop is given for the replica: it resolves
// to a loopback address on every machine.
const ReplicaHost = "localhost"

// LocalHostname returns the name MIT kprop and kpropd use for this machine
// under the harness's krb5.conf: gethostname() with ASCII letters lowercased
// and a trailing dot removed, as MIT's canon() does with
// dns_canonicalize_hostname = false and an empty qualify_shortname.
func LocalHostname() string {
	name, err := os.Hostname()
	if err != nil || name == "" {
		return "localhost"
	}
	b := []byte(strings.TrimSuffix(name, "."))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// KpropPrincipal returns host/<LocalHostname()>@R: the client principal MIT
// kprop on this machine authenticates as, and MIT kpropd's own name.
func (h *Host) KpropPrincipal() string {
	return "host/" + LocalHostname() + "@" + h.Realm
}

// ReplicaPrincipal returns host/localhost@R: the service principal MIT kprop
// asks for when given ReplicaHost, whose keys a replica's keytab holds.
func (h *Host) ReplicaPrincipal() string {
	return "host/" + ReplicaHost + "@" + h.Realm
}

// AddKpropPrincipals creates the principals a propagation needs,
// KpropPrincipal and ReplicaPrincipal (one principal if the machine is
// called localhost), with random keys of the given enctypes (default:
// KpropEnctypes).
func (h *Host) AddKpropPrincipals(t testing.TB, enctypes ...string) {
	t.Helper()
	h.AddHostPrincipal(t, LocalHostname(), enctypes...)
	if LocalHostname() != ReplicaHost {
		h.AddHostPrincipal(t, ReplicaHost, enctypes...)
	}
}

// SetupKprop prepares a propagation from h to replica: it extracts
// KpropPrincipal's keys into h.Keytab (kprop's client key) and
// ReplicaPrincipal's keys into replica.Keytab (kpropd's service key), both
// with -norandkey so they match h's database, and rewrites replica's kpropd
// ACL to allow KpropPrincipal. The principals must exist on h (see
// AddKpropPrincipals).
func (h *Host) SetupKprop(t testing.TB, replica *Host) {
	t.Helper()
	h.Kadmin(t,
		fmt.Sprintf("ktadd -k %s -norandkey %s", Quote("FILE:"+h.Keytab), h.KpropPrincipal()),
		fmt.Sprintf("ktadd -k %s -norandkey %s", Quote("FILE:"+replica.Keytab), h.ReplicaPrincipal()))
	replica.WriteKpropdACL(t, h.KpropPrincipal())
}
