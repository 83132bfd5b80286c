package incremental

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gokprop/gokprop/gsskrb5"
	"github.com/gokprop/gokprop/internal/iproptest"
	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/ulog"
)

// ours holds this module's programs, built once by TestMain.
var ours struct{ kpropd, kprop, dir string }

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "incremental-programs-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ours.dir = dir
		defer os.RemoveAll(dir)
		for _, p := range []string{"kpropd", "kprop"} {
			out := filepath.Join(dir, p)
			if b, err := exec.Command("go", "build", "-o", out, "github.com/gokprop/gokprop/cmd/"+p).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", p, err, b)
				return 1
			}
		}
		ours.kpropd, ours.kprop = filepath.Join(dir, "kpropd"), filepath.Join(dir, "kprop")
		return m.Run()
	}()
	os.Exit(code)
}

// sessionEnctypes are the session enctypes of the interop matrix that
// RFC 4121 tokens cover (des3 and rc4 have none).
func sessionEnctypes() []string {
	var out []string
	for _, name := range mitrealm.KpropEnctypes() {
		if e, ok := krb5.ParseEnctype(name); ok && gsskrb5.EnctypeSupported(e) {
			out = append(out, name)
		}
	}
	return out
}

// A primary is an MIT realm serving incremental propagation: krb5kdc and
// kadmind with iprop, the kiprop principals with keys of every session
// enctype, and host principals for the full resyncs kadmind sends with
// kprop.
type primary struct {
	h         *mitrealm.Host
	ip        *mitrealm.Iprop
	kadmind   *mitrealm.Daemon
	kprop     string // kadmind -K
	kpropPort int    // kadmind -k: where the replicas' listeners are
	dumpFile  string // kadmind -F
	// clientOf, for an intermediate replica serving iprop, is the top
	// primary, whose KDC issues the kiprop tickets.
	clientOf *primary
}

func newPrimary(t *testing.T, ulogSize int, kprop string) *primary {
	t.Helper()
	mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kadmind", "kpropd", "kprop", "kproplog")
	h := mitrealm.NewPrimary(t, mitrealm.Options{})
	h.StartKDC(t)
	p := &primary{h: h, kprop: kprop, kpropPort: mitrealm.ReservePort(t), dumpFile: filepath.Join(h.Dir, "replica_datatrans")}
	p.ip = h.EnableIprop(t, mitrealm.IpropConfig{ULogSize: ulogSize})
	keys := strings.Join(sessionEnctypes(), ":normal,") + ":normal"
	cmds := []string{"addprinc -randkey -clearpolicy -e " + keys + " " + h.KipropPrincipal()}
	if mitrealm.LocalHostname() != mitrealm.ReplicaHost {
		cmds = append(cmds, "addprinc -randkey -clearpolicy -e "+keys+" "+h.KipropService())
	}
	h.Kadmin(t, cmds...)
	h.AddKpropPrincipals(t)
	h.Kadmin(t, fmt.Sprintf("ktadd -k %s -norandkey %s", mitrealm.Quote("FILE:"+h.Keytab), h.KpropPrincipal()))
	h.WriteKadmACL(t, h.KipropPrincipal()+" p")
	p.startKadmind(t)
	return p
}

func (p *primary) startKadmind(t *testing.T) {
	t.Helper()
	p.kadmind = p.h.StartKadmind(t, p.ip, "-p", mustLook(t, "kdb5_util"), "-K", p.kprop, "-F", p.dumpFile, "-k", strconv.Itoa(p.kpropPort))
}

func (p *primary) stopKadmind(t *testing.T) {
	t.Helper()
	p.kadmind.Stop()
}

// mustLook returns the path of MIT program name; when it is missing the
// test is skipped, or fails with CI set (mitrealm.Require).
func mustLook(t *testing.T, name string) string {
	t.Helper()
	return mitrealm.Require(t, name)[name]
}

// A replica is one replica host and the kpropd (MIT's or ours) that keeps
// it up to date.
type replica struct {
	name    string
	h       *mitrealm.Host
	kpropd  string
	enctype string // the session enctype its kpropd asks for
	ulog    string
	slots   int // iprop_ulogsize
}

// newReplica makes a replica of p whose kpropd is prog, with its own
// copy of the primary's database made by a plain dump and load (no iprop
// position yet: the first poll asks for a full resync) and a small update
// log.
func (p *primary) newReplica(t *testing.T, name, prog, enctype string, ulogSize int) *replica {
	t.Helper()
	h := p.h.NewReplica(t)
	h.Name = name
	ip := h.EnableIprop(t, mitrealm.IpropConfig{Port: p.ip.Port, ULogSize: ulogSize, Relations: []string{"iprop_replica_poll = 1", "iprop_resync_timeout = 4"}})
	top := p
	if p.clientOf != nil {
		top = p.clientOf
	}
	top.h.Kadmin(t, fmt.Sprintf("ktadd -k %s -norandkey %s %s %s", mitrealm.Quote("FILE:"+h.Keytab),
		p.h.KipropPrincipal(), p.h.KpropPrincipal(), p.h.ReplicaPrincipal()))
	return &replica{name: name, h: h, kpropd: prog, enctype: enctype, ulog: ip.LogFile, slots: ulogSize}
}

// loadFrom gives r the database of the dump at path (plain load).
func (r *replica) loadFrom(t *testing.T, path string) {
	t.Helper()
	r.h.Load(t, path)
}

// twins makes b a copy of a: the same records (a's dump, loaded without
// touching the update log) and a's update log byte for byte, so that
// both start from one state.
func twins(t *testing.T, a, b *replica) {
	t.Helper()
	path := filepath.Join(b.h.Dir, "twin.dump")
	if err := os.WriteFile(path, []byte(a.dump(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := b.h.Command("kdb5_util", "-r", b.h.Realm, "load", path)
	cmd.Env = b.h.NoIpropEnv(t)
	if _, _, err := mitrealm.Exec(cmd, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.ulog, a.ulogBytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, u := sameState(t, "copy", a, b); !d || u != ulogIdentical {
		t.Fatal("the copies differ")
	}
}

// env is the environment of r's kpropd: r's files, with a krb5.conf
// whose KDC is the primary's (for the kiprop credentials) and whose
// default_tkt_enctypes picks the session enctype.
func (r *replica) env(t *testing.T, p *primary) []string {
	t.Helper()
	env := r.h.Env()
	kdc := p
	if p.clientOf != nil {
		kdc = p.clientOf
	}
	for _, kv := range kdc.h.ClientEnv(t, "ignore_acceptor_hostname = true", "default_tkt_enctypes = "+r.enctype) {
		if v, ok := strings.CutPrefix(kv, "KRB5_CONFIG="); ok {
			env = mitrealm.SetEnv(env, "KRB5_CONFIG="+v)
		}
	}
	return env
}

// args are MIT kpropd's arguments for r in iprop mode, listening on port.
func (r *replica) args(t *testing.T, port int, extra ...string) []string {
	t.Helper()
	return append([]string{"-d", "-A", mitrealm.ReplicaHost, "-D", "-P", strconv.Itoa(port), "-f", r.h.KpropdFile,
		"-p", mustLook(t, "kdb5_util"), "-a", r.h.KpropdACL, "-s", r.h.Keytab, "-r", r.h.Realm}, extra...)
}

// syncBuf is a buffer written by a process and read by the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runOnce runs r's kpropd -t (one cycle, continuing through a full
// resync, whose dump kadmind sends to p.kpropPort) and returns what it
// printed, standard output and error together. The test fails if it does
// not exit 0 within two minutes.
func (r *replica) runOnce(t *testing.T, p *primary, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.kpropd, r.args(t, p.kpropPort, append([]string{"-t"}, extra...)...)...)
	cmd.Env = r.env(t, p)
	cmd.Dir = r.h.Dir
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("%s: kpropd -t (%s): %v\n%s", r.name, r.kpropd, err, out.String())
	}
	return out.String()
}

// start starts r's kpropd as a daemon listening on port and waits for
// "ready".
func (r *replica) start(t *testing.T, p *primary, port int, extra ...string) *mitrealm.Daemon {
	t.Helper()
	cmd := exec.Command(r.kpropd, r.args(t, port, extra...)...)
	cmd.Env = r.env(t, p)
	cmd.Dir = r.h.Dir
	return mitrealm.StartDaemon(t, cmd, "ready")
}

// dump is r's database as kdb5_util dumps it, read without touching the
// update log.
func (r *replica) dump(t *testing.T) string {
	t.Helper()
	return iproptest.DumpNoIprop(t, r.h)
}

func (r *replica) ulogBytes(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(r.ulog)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Outcomes of comparing two update logs.
const (
	ulogIdentical = "identical"
	// ulogLive: the header and every slot from the first serial number
	// to the last are identical; a slot outside them differs. kdb5_util
	// load -i (a full resync) resets the log before it records the
	// dump's position, leaving a dummy entry stamped with the time of the
	// load in slot 0, which only a later update overwrites: two replicas
	// that load the same dump at different times (two MIT replicas too)
	// differ there.
	ulogLive      = "live entries identical"
	ulogDifferent = "different"
)

// sameState compares the two replicas' dumps and update logs, failing
// the test unless the dumps are byte-identical and the update logs are
// at least ulogLive.
func sameState(t *testing.T, step string, a, b *replica) (dumpSame bool, ulog string) {
	t.Helper()
	da, db := a.dump(t), b.dump(t)
	dumpSame = da == db
	if !dumpSame {
		_, pa := iproptest.ReadDump(t, da)
		_, pb := iproptest.ReadDump(t, db)
		for n, x := range pa {
			if y := pb[n]; y == nil {
				t.Errorf("%s: %s only on %s", step, n, a.name)
			} else if lx, ly := iproptest.PrincipalLine(t, x), iproptest.PrincipalLine(t, y); lx != ly {
				t.Errorf("%s: %s differs:\n%s: %s%s: %s", step, n, a.name, lx, b.name, ly)
			}
		}
		for n := range pb {
			if pa[n] == nil {
				t.Errorf("%s: %s only on %s", step, n, b.name)
			}
		}
		if len(pa) == len(pb) {
			t.Errorf("%s: dumps differ outside principal records", step)
		}
	}
	ua, ub := a.ulogBytes(t), b.ulogBytes(t)
	switch {
	case bytes.Equal(ua, ub):
		ulog = ulogIdentical
	case a.slots == b.slots && liveEqual(ua, ub, a.slots):
		ulog = ulogLive
	default:
		ulog = ulogDifferent
		at := 0
		for at < len(ua) && at < len(ub) && ua[at] == ub[at] {
			at++
		}
		t.Errorf("%s: update logs differ (%d and %d bytes, first difference at byte %d):\n%s:\n%s\n%s:\n%s",
			step, len(ua), len(ub), at, a.name, a.h.Kproplog(t), b.name, b.h.Kproplog(t))
	}
	return dumpSame, ulog
}

// liveEqual reports whether two update log files have the same header
// and the same blocks for every serial number the header says they hold.
func liveEqual(a, b []byte, slots int) bool {
	const hdr = ulog.HeaderSize
	if len(a) != len(b) || len(a) < hdr || !bytes.Equal(a[:hdr], b[:hdr]) {
		return false
	}
	num := binary.NativeEndian.Uint32(a[8:])
	first := binary.NativeEndian.Uint32(a[28:])
	block := int(binary.NativeEndian.Uint16(a[38:]))
	if block == 0 || slots <= 0 || num > uint32(slots) {
		return false
	}
	for i := uint32(0); i < num; i++ {
		off := hdr + int((first+i-1)%uint32(slots))*block
		if off+block > len(a) || !bytes.Equal(a[off:off+block], b[off:off+block]) {
			return false
		}
	}
	return true
}

// requireLines fails unless out contains every line, in order.
func requireLines(t *testing.T, who, out string, lines ...string) {
	t.Helper()
	rest := out
	for _, l := range lines {
		i := strings.Index(rest, l)
		if i < 0 {
			t.Fatalf("%s: no %q (in order) in:\n%s", who, l, out)
		}
		rest = rest[i+len(l):]
	}
}

// refuseLines fails if out contains any of the lines.
func refuseLines(t *testing.T, who, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if strings.Contains(out, l) {
			t.Fatalf("%s: %q in:\n%s", who, l, out)
		}
	}
}
