package mitrealm

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// IpropConfig are the incremental-propagation settings EnableIprop writes
// into a host's kdc.conf.
type IpropConfig struct {
	// Port is iprop_port, the primary kadmind's iprop port (also written
	// as iprop_listen = 127.0.0.1:Port). Zero picks a free port; a
	// replica must be given its primary's.
	Port int
	// LogFile is iprop_logfile; empty means principal.ulog in the host's
	// directory.
	LogFile string
	// ULogSize is iprop_ulogsize, the update log's slot count; zero leaves
	// it unset (MIT's default, 1000).
	ULogSize int
	// Relations are more "name = value" lines for the realm section.
	Relations []string
}

// Iprop describes the incremental-propagation setup of a host.
type Iprop struct {
	Port     int    // iprop_port
	LogFile  string // the update log
	ULogSize int    // the update log's slot count in effect
	// KadmACL is the kadm5.acl kadmind reads (acl_file).
	KadmACL string
	// KadmindPort and KpasswdPort are where a kadmind on the host listens
	// for kadmin and kpasswd (kadmind_listen, kpasswd_listen), so it never
	// needs the privileged default ports.
	KadmindPort, KpasswdPort int
}

// EnableIprop turns incremental propagation on in h's kdc.conf: it adds
// iprop_enable = true and cfg's settings, plus acl_file, kadmind_listen
// and kpasswd_listen on free 127.0.0.1 ports, to the realm section. It
// rewrites kdc.conf from the harness's template, so call it after
// StartKDC (which rewrites kdc.conf if it has to move to another port).
// Commands run on h afterwards (kadmin.local, kdb5_util, kproplog, kadmind,
// kpropd) log to and read the update log; NoIpropEnv gives an environment
// that does not.
func (h *Host) EnableIprop(t testing.TB, cfg IpropConfig) *Iprop {
	t.Helper()
	ip := &Iprop{
		Port:        cfg.Port,
		LogFile:     cfg.LogFile,
		ULogSize:    cfg.ULogSize,
		KadmACL:     filepath.Join(h.Dir, "kadm5.acl"),
		KadmindPort: reservePort(t),
		KpasswdPort: reservePort(t),
	}
	if ip.Port == 0 {
		ip.Port = reservePort(t)
	}
	if ip.LogFile == "" {
		ip.LogFile = filepath.Join(h.Dir, "principal.ulog")
	}
	rel := []string{
		"iprop_enable = true",
		fmt.Sprintf("iprop_port = %d", ip.Port),
		fmt.Sprintf("iprop_listen = 127.0.0.1:%d", ip.Port),
		"iprop_logfile = " + ip.LogFile,
		"acl_file = " + ip.KadmACL,
		fmt.Sprintf("kadmind_listen = 127.0.0.1:%d", ip.KadmindPort),
		fmt.Sprintf("kpasswd_listen = 127.0.0.1:%d", ip.KpasswdPort),
	}
	if cfg.ULogSize > 0 {
		rel = append(rel, fmt.Sprintf("iprop_ulogsize = %d", cfg.ULogSize))
	} else {
		ip.ULogSize = 1000
	}
	rel = append(rel, cfg.Relations...)
	h.mu.Lock()
	conf := kdcConfWith(h.kdcConf(), h.Realm, rel)
	h.mu.Unlock()
	if err := os.WriteFile(h.KDCConf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ip.KadmACL); os.IsNotExist(err) {
		h.WriteKadmACL(t)
	}
	return ip
}

// kdcConfWith inserts relations at the start of realm's section of conf.
func kdcConfWith(conf, realm string, relations []string) string {
	marker := "\t" + realm + " = {\n"
	i := strings.Index(conf, marker)
	if i < 0 {
		panic("mitrealm: kdc.conf template has no realm section")
	}
	i += len(marker)
	var b strings.Builder
	b.WriteString(conf[:i])
	for _, r := range relations {
		b.WriteString("\t\t" + r + "\n")
	}
	b.WriteString(conf[i:])
	return b.String()
}

// NoIpropEnv returns h.Env() with KRB5_KDC_PROFILE naming h's kdc.conf
// without the iprop settings, for kdb5_util and kadmin.local runs that
// must neither read nor write the update log.
func (h *Host) NoIpropEnv(t testing.TB) []string {
	t.Helper()
	path := filepath.Join(h.Dir, "kdc-noiprop.conf")
	h.mu.Lock()
	conf := h.kdcConf()
	h.mu.Unlock()
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return SetEnv(h.Env(), "KRB5_KDC_PROFILE="+path)
}

// WriteKadmACL replaces h's kadm5.acl (see EnableIprop) with one line per
// entry, such as "kiprop/host@R p".
func (h *Host) WriteKadmACL(t testing.TB, entries ...string) {
	t.Helper()
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e + "\n")
	}
	if err := os.WriteFile(filepath.Join(h.Dir, "kadm5.acl"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// KipropPrincipal returns kiprop/<LocalHostname()>@R, the principal MIT
// kpropd on this machine authenticates to kadmind as.
func (h *Host) KipropPrincipal() string {
	return "kiprop/" + LocalHostname() + "@" + h.Realm
}

// KipropService returns kiprop/localhost@R, the service principal MIT
// kpropd asks a ticket for when its admin server is ReplicaHost (it is
// "kiprop/" plus the configured admin server, not canonicalized).
func (h *Host) KipropService() string {
	return "kiprop/" + ReplicaHost + "@" + h.Realm
}

// SetupIprop prepares replica to poll h: it creates KipropPrincipal and
// KipropService on h with random keys (one principal if the machine is
// called localhost), extracts KipropPrincipal's keys into replica.Keytab
// (ktadd -norandkey) and grants it the iprop privilege in h's kadm5.acl.
// Both hosts must have had EnableIprop.
func (h *Host) SetupIprop(t testing.TB, replica *Host) {
	t.Helper()
	cmds := []string{"addprinc -randkey -clearpolicy " + h.KipropPrincipal()}
	if LocalHostname() != ReplicaHost {
		cmds = append(cmds, "addprinc -randkey -clearpolicy "+h.KipropService())
	}
	cmds = append(cmds, fmt.Sprintf("ktadd -k %s -norandkey %s", Quote("FILE:"+replica.Keytab), h.KipropPrincipal()))
	h.Kadmin(t, cmds...)
	h.WriteKadmACL(t, h.KipropPrincipal()+" p")
}

// StartKadmind starts MIT kadmind -nofork on h with args (for example -p,
// -K, -F and -k for full resyncs), waits for its "starting..." line and
// for its iprop port, and stops it in t.Cleanup. h must have had
// EnableIprop with ip.
func (h *Host) StartKadmind(t testing.TB, ip *Iprop, args ...string) *Daemon {
	t.Helper()
	path := bin(t, "kadmind")
	cmd := h.Command(path, append([]string{"-nofork", "-r", h.Realm}, args...)...)
	d, err := startDaemon(cmd, "starting...", ReadyTimeout)
	if err == nil {
		err = waitListening(d, ip.Port, ReadyTimeout)
		if err != nil {
			d.Stop()
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	d.cleanupWith(t)
	return d
}

// DumpIprop writes an iprop dump of h ("kdb5_util dump -i") to path; h
// must have had EnableIprop. The dump's header records h's last serial
// number.
func (h *Host) DumpIprop(t testing.TB, path string) {
	t.Helper()
	h.Dump(t, path, "-i")
}

// RunKpropdOnce runs MIT kpropd on replica h for one incremental cycle
// (-t, with -d for its debug lines) against primary: it polls the
// kadmind on the primary's iprop port as KipropPrincipal with keys from
// h.Keytab, with the admin server ReplicaHost and the primary's KDC for
// its ticket, applies what it gets and exits. It returns everything
// kpropd printed. The test fails if kpropd fails, does not finish within
// CommandTimeout, or asks for a full resync or reports an error (a -t
// cycle would then wait for a resync that never comes).
func (h *Host) RunKpropdOnce(t testing.TB, primary *Host, args ...string) string {
	t.Helper()
	port := reservePort(t)
	all := append(append([]string{"-t", "-d", "-A", ReplicaHost}, h.KpropdArgs(t, port)...), args...)
	cmd := h.Command(bin(t, "kpropd"), all...)
	for _, kv := range primary.ClientEnv(t, "ignore_acceptor_hostname = true") {
		if v, ok := strings.CutPrefix(kv, "KRB5_CONFIG="); ok {
			cmd.Env = SetEnv(h.Env(), "KRB5_CONFIG="+v)
		}
	}
	d, err := startDaemon(cmd, "Incremental propagation enabled", ReadyTimeout)
	if err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	defer d.Stop()
	bad := []string{"Full resync needed", "error", "denied", "failed", "bailing"}
	deadline := time.After(CommandTimeout)
	check := func(out string) {
		for _, b := range bad {
			if strings.Contains(out, b) {
				d.Stop()
				t.Fatalf("%s: kpropd -t printed %q:\n%s", h.Name, b, d.Output())
			}
		}
	}
	for {
		d.mu.Lock()
		out, ch := d.out.String(), d.changed
		d.mu.Unlock()
		check(out)
		select {
		case <-d.exited:
			d.waitOutput(time.Second)
			check(d.Output())
			if d.waitErr != nil {
				t.Fatalf("%s: kpropd -t: %v\n%s", h.Name, d.waitErr, d.Output())
			}
			return d.Output()
		case <-ch:
		case <-deadline:
			d.Stop()
			t.Fatalf("%s: kpropd -t did not finish within %v:\n%s", h.Name, CommandTimeout, d.Output())
		}
	}
}

// Kproplog runs MIT kproplog on h with args and TZ=UTC, so its times are
// printed in UTC, and returns its output.
func (h *Host) Kproplog(t testing.TB, args ...string) string {
	t.Helper()
	cmd := h.Command(bin(t, "kproplog"), args...)
	cmd.Env = SetEnv(cmd.Env, "TZ=UTC")
	out, _, err := Exec(cmd, "")
	if err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	return out
}

// ReservePort returns a free 127.0.0.1 port for a server a test starts
// itself, reserved for the test's duration against other harness users.
func ReservePort(t testing.TB) int {
	t.Helper()
	return reservePort(t)
}
