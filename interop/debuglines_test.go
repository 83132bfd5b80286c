package interop

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// debugLines is a kpropd's -d output from its "ready" line on, with the
// numbers that differ from run to run (descriptors, process IDs) blanked.
func debugLines(out string) []string {
	fd := regexp.MustCompile(`^krb5_recvauth\(\d+, `)
	pid := regexp.MustCompile(`^Load PID is \d+$`)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		l = fd.ReplaceAllString(l, "krb5_recvauth(N, ")
		l = pid.ReplaceAllString(l, "Load PID is N")
		lines = append(lines, l)
	}
	return lines
}

// TestKpropdDebugLines: our kpropd -d prints MIT kpropd's lines, each when
// its event happens: the peer named as MIT's getnameinfo names it (on this
// dual-stack listener an IPv4 client is ::ffff:a.b.c.d, which only DNS
// could map to a name), "waiting for a kprop connection" before each
// connection and not again right after an accept. The one difference is
// deliberate: MIT's parent prints "Database load process for full
// propagation completed." whenever the child serving a connection exits,
// also when the client was refused and nothing was loaded; ours prints it
// only after a load.
func TestKpropdDebugLines(t *testing.T) {
	w := newParityWorld(t)
	const done = "Database load process for full propagation completed."
	const rejected = "Rejected connection from unauthorized principal"
	push := func(d *mitrealm.Kpropd) {
		t.Helper()
		w.kprop(t, w.mitKprop, nil, w.args(d.Port, mitrealm.ReplicaHost)...)
	}
	waitLines := func(d *mitrealm.Kpropd, substr string, n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for strings.Count(d.Output(), substr) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not print %q %d times:\n%s", d.Name, substr, n, d.Output())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	const waiting = "waiting for a kprop connection"
	for _, d := range []*mitrealm.Kpropd{w.mitd, w.god} {
		push(d)
		waitLines(d, waiting, 2)
	}
	w.replica.WriteKpropdACL(t, "host/someone.else@"+w.primary.Realm)
	for _, d := range []*mitrealm.Kpropd{w.mitd, w.god} {
		push(d)
		waitLines(d, rejected, 1)
		waitLines(d, waiting, 3)
	}
	mit, ours := debugLines(w.mitd.Output()), debugLines(w.god.Output())
	var want []string
	seenRejection := false
	for _, l := range mit {
		if strings.HasPrefix(l, rejected) {
			seenRejection = true
		}
		if seenRejection && l == done {
			continue // the deliberate difference
		}
		want = append(want, l)
	}
	if strings.Join(ours, "\n") != strings.Join(want, "\n") {
		t.Errorf("our kpropd -d printed:\n%s\n\nwant (MIT's, without the load line after the refusal):\n%s\n\nMIT printed:\n%s",
			strings.Join(ours, "\n"), strings.Join(want, "\n"), strings.Join(mit, "\n"))
	}
}
