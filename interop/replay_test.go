package interop

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// recordSession runs MIT kprop with dump through a recording proxy to a
// kpropd on port and returns the client's bytes; the propagation must
// succeed.
func recordSession(t *testing.T, w *parityWorld, port int, dump string) []byte {
	t.Helper()
	p := newProxy(t, port, nil)
	args := w.args(p.port(), mitrealm.ReplicaHost)
	args[3] = dump
	if o := w.kprop(t, w.mitKprop, nil, args...); o.status != 0 || !strings.Contains(o.stdout, mitrealm.KpropSucceeded) {
		t.Fatalf("recorded propagation: %+v", o)
	}
	return p.lastSession(t)
}

// TestKpropdReplayAcrossRestart: the bytes of a legitimate propagation,
// captured on the wire and replayed within the clock skew after kpropd has
// restarted, are refused with MIT's "Request is a replay", and the
// replica keeps the newer database it received in between (with a replay
// cache in memory the replay was loaded and rolled the replica back).
func TestKpropdReplayAcrossRestart(t *testing.T) {
	w := newParityWorld(t)
	kpropd := goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd")
	old := filepath.Join(w.primary.Dir, "old.dump")
	w.primary.Dump(t, old)
	session := recordSession(t, w, w.god.Port, old)

	w.primary.AddPrincipal(t, "newer", "newer password")
	newer := filepath.Join(w.primary.Dir, "newer.dump")
	w.primary.Dump(t, newer)
	args := w.args(w.god.Port, mitrealm.ReplicaHost)
	args[3] = newer
	if o := w.kprop(t, w.mitKprop, nil, args...); o.status != 0 {
		t.Fatalf("newer propagation: %+v", o)
	}
	w.god.WaitFor(t, "Database load process for full propagation completed", 30*time.Second)
	before := w.replica.DumpString(t)
	if !strings.Contains(before, "newer@") {
		t.Fatal("the replica did not load the newer dump")
	}

	w.god.Stop()
	d := w.replica.StartKpropdBinary(t, kpropd, "-d")
	r := replaySession(t, d.Port, session)
	if !r.isReplayRefusal() {
		t.Errorf("replay after a restart: answer %d, accepted %v, KRB-ERROR %+v; want a refusal, code 34 Request is a replay", r.answer, r.accepted, r.krbError)
	}
	d.WaitFor(t, "Request is a replay", 10*time.Second)
	if after := w.replica.DumpString(t); after != before {
		t.Error("the replayed session changed the replica's database")
	}
	// And the daemon goes on serving.
	if o := w.kprop(t, w.mitKprop, nil, w.args(d.Port, mitrealm.ReplicaHost)...); o.status != 0 {
		t.Fatalf("propagation after the replay: %+v", o)
	}
	rc := filepath.Join(w.replica.RCacheDir, "krb5_"+strconv.Itoa(os.Geteuid())+".rcache2")
	if st, err := os.Stat(rc); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("replay cache %s: %v", rc, err)
	}
}

// TestKpropdReplayCacheSharedWithMIT: MIT kpropd and ours on one host
// share MIT's replay cache file (KRB5RCACHEDIR/krb5_EUID.rcache2), so an
// AP-REQ accepted by one is refused as a replay by the other.
func TestKpropdReplayCacheSharedWithMIT(t *testing.T) {
	w := newParityWorld(t)
	for _, c := range []struct {
		name          string
		first, replay *mitrealm.Kpropd
	}{
		{"MIT then ours", w.mitd, w.god},
		{"ours then MIT", w.god, w.mitd},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			session := recordSession(t, w, c.first.Port, w.dump)
			c.first.WaitFor(t, "Database load process for full propagation completed", 30*time.Second)
			before := w.replica.DumpString(t)
			r := replaySession(t, c.replay.Port, session)
			if !r.isReplayRefusal() {
				t.Errorf("%s: answer %d, accepted %v, KRB-ERROR %+v; want code 34 Request is a replay", c.name, r.answer, r.accepted, r.krbError)
			}
			if after := w.replica.DumpString(t); after != before {
				t.Error("the replayed session changed the replica's database")
			}
		})
	}
}
