package mitrealm

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// A Kpropd is a kpropd (MIT's or a compatible one) running in standalone
// mode on a Host.
type Kpropd struct {
	*Daemon
	Port int    // the 127.0.0.1 port it listens on (-P)
	File string // where it writes a received dump (-f)
}

// KpropdArgs returns MIT kpropd's standalone-mode arguments for h and port:
//
//	-D -P port -f h.KpropdFile -p <kdb5_util> -a h.KpropdACL -s h.Keytab -r h.Realm
//
// -D keeps it in the foreground; it then prints "ready" once listening.
func (h *Host) KpropdArgs(t testing.TB, port int) []string {
	t.Helper()
	return []string{"-D", "-P", strconv.Itoa(port), "-f", h.KpropdFile,
		"-p", bin(t, "kdb5_util"), "-a", h.KpropdACL, "-s", h.Keytab, "-r", h.Realm}
}

// StartKpropd starts MIT kpropd on h with KpropdArgs on a free port plus
// args (for example "-d" for debug output), waits for its "ready" line and
// stops it in t.Cleanup.
func (h *Host) StartKpropd(t testing.TB, args ...string) *Kpropd {
	t.Helper()
	return h.StartKpropdBinary(t, bin(t, "kpropd"), args...)
}

// StartKpropdBinary is StartKpropd for any program that takes MIT kpropd's
// arguments and prints "ready" when listening, such as this module's own
// kpropd.
func (h *Host) StartKpropdBinary(t testing.TB, path string, args ...string) *Kpropd {
	t.Helper()
	return h.StartKpropdCommand(t, func(port int) *exec.Cmd {
		return h.Command(path, append(h.KpropdArgs(t, port), args...)...)
	})
}

// StartKpropdCommand starts the kpropd command that command builds for a
// free port (typically h.Command(path, h.KpropdArgs(t, port)...) with
// another environment, more arguments or a wrapper program), waits for its
// "ready" line and for its listener, and stops it in t.Cleanup. command may
// be called again with another port if the first is taken.
func (h *Host) StartKpropdCommand(t testing.TB, command func(port int) *exec.Cmd) *Kpropd {
	t.Helper()
	for attempt := 1; ; attempt++ {
		port := reservePort(t)
		d, err := startDaemon(command(port), "ready", ReadyTimeout)
		if err == nil {
			// MIT kpropd prints "ready" before it binds its socket
			// (kpropd.c main, then do_standalone): wait for the listener
			// too, or a client may be refused.
			if err = waitListening(d, port, ReadyTimeout); err == nil {
				d.cleanupWith(t)
				return &Kpropd{Daemon: d, Port: port, File: h.KpropdFile}
			}
			d.Stop()
		}
		if !addrInUse(err) || attempt == startAttempts {
			t.Fatalf("%s: %v", h.Name, err)
		}
	}
}

// KpropArgs returns MIT kprop's arguments for pushing dumpFile from h to a
// kpropd listening on ReplicaHost:port:
//
//	-r h.Realm -f dumpFile -P port -s h.Keytab localhost
func (h *Host) KpropArgs(dumpFile string, port int) []string {
	return []string{"-r", h.Realm, "-f", dumpFile, "-P", strconv.Itoa(port), "-s", h.Keytab, ReplicaHost}
}

// KpropSucceeded is the line MIT kprop prints after the replica
// acknowledged a propagation to ReplicaHost.
const KpropSucceeded = "Database propagation to " + ReplicaHost + ": SUCCEEDED"

// Kprop runs MIT kprop on h with KpropArgs, using ClientEnv(libdefaults)
// (for example "default_tkt_enctypes = des3-cbc-sha1"), and fails the test
// unless it exits 0 and prints KpropSucceeded. dumpFile needs a
// dumpFile.dump_ok no older than it, as Dump leaves. It returns kprop's
// output.
func (h *Host) Kprop(t testing.TB, dumpFile string, port int, libdefaults ...string) string {
	t.Helper()
	cmd := h.Command(bin(t, "kprop"), h.KpropArgs(dumpFile, port)...)
	cmd.Env = h.ClientEnv(t, libdefaults...)
	out, stderr, err := Exec(cmd, "")
	if err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	if !strings.Contains(out, KpropSucceeded) {
		t.Fatalf("%s: kprop did not print %q; stdout:\n%s\nstderr:\n%s", h.Name, KpropSucceeded, out, stderr)
	}
	return out + stderr
}
