package mitrealm

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"
)

// WaitListening waits until a socket listens on TCP port, without
// connecting to it (the kernel's socket tables are read), and fails if d
// exits first or timeout passes. Use it after StartDaemon for daemons that
// print their ready line before they listen, as MIT kpropd does.
func (d *Daemon) WaitListening(port int, timeout time.Duration) error {
	return waitListening(d, port, timeout)
}

// waitListening waits until some socket listens on TCP port (read from
// the kernel's socket tables, so the daemon sees no probe connection), or
// d exits, or timeout passes.
func waitListening(d *Daemon, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if listening(port) {
			return nil
		}
		if d.Exited() {
			return &StartError{Cmd: commandLine(d.cmd), Err: fmt.Errorf("exited before listening on port %d", port), Output: d.Output()}
		}
		if time.Now().After(deadline) {
			return &StartError{Cmd: commandLine(d.cmd), Err: fmt.Errorf("not listening on port %d after %v", port, timeout), Output: d.Output()}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listening reports whether /proc/net/tcp or tcp6 has a socket in the
// LISTEN state on port. Where /proc is missing it reports true, leaving
// the caller to its ready line.
func listening(port int) bool {
	want := fmt.Sprintf(":%04X", port)
	found, readable := false, false
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		readable = true
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st ...; st 0A is LISTEN.
			fields := strings.Fields(sc.Text())
			if len(fields) > 3 && strings.HasSuffix(fields[1], want) && fields[3] == "0A" {
				found = true
			}
		}
		f.Close()
	}
	return found || !readable
}
