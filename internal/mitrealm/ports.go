package mitrealm

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// Port range the harness hands out: below Linux's default ephemeral range
// (32768-60999), so outgoing connections do not take a port between its
// choice and the daemon's bind.
const (
	portMin = 20000
	portMax = 32767
)

// reservePort returns a 127.0.0.1 port for a daemon of the test and keeps
// it reserved until the test's cleanup.
//
// Probing with bind alone is not enough: MIT krb5kdc binds with
// SO_REUSEADDR and SO_REUSEPORT (MIT's src/lib/apputils/net-server.c), so
// two KDCs given the same port both start and share its traffic. Tests of
// several packages, and of several checkouts, run at once on one machine,
// so each port is also claimed with an exclusive lock on a file named after
// it in a directory shared by every harness process; the lock is held (the
// file kept open) until cleanup. The port must also be free for TCP and UDP
// on 127.0.0.1 right now.
func reservePort(t testing.TB) int {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "mitrealm-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	span := portMax - portMin + 1
	start := rand.IntN(span)
	for i := 0; i < span; i++ {
		port := portMin + (start+i)%span
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprint(port)), os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		if !tryLock(f) {
			f.Close()
			continue
		}
		if !portFree(port) {
			f.Close()
			continue
		}
		t.Cleanup(func() { f.Close() })
		return port
	}
	t.Fatalf("mitrealm: no free port in %d-%d", portMin, portMax)
	return 0
}

// portFree reports whether 127.0.0.1:port can be bound for TCP and UDP.
func portFree(port int) bool {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}
