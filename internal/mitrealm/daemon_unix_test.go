//go:build unix

package mitrealm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the parenthesized command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestDaemonCleanupKillsProcessGroup(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	var leader, child int
	t.Run("daemon", func(t *testing.T) {
		d := StartDaemon(t, exec.Command(sh, "-c", `sleep 300 & echo "child $!"; echo ready; wait`), "ready")
		leader = d.Pid()
		for _, l := range strings.Split(d.Output(), "\n") {
			if v, ok := strings.CutPrefix(l, "child "); ok {
				child, _ = strconv.Atoi(v)
			}
		}
		if child == 0 || !alive(leader) || !alive(child) {
			t.Fatalf("leader %d child %d not running; output %q", leader, child, d.Output())
		}
		d.WaitFor(t, "child", time.Second)
	})
	deadline := time.Now().Add(5 * time.Second)
	for (alive(leader) || alive(child)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(leader) || alive(child) {
		t.Errorf("after cleanup: leader %d alive %v, child %d alive %v", leader, alive(leader), child, alive(child))
	}
}

func TestReservePortLocks(t *testing.T) {
	var port int
	lockFile := func(p int) string {
		return filepath.Join(os.TempDir(), "mitrealm-ports", strconv.Itoa(p))
	}
	t.Run("holder", func(t *testing.T) {
		port = reservePort(t)
		other := reservePort(t)
		if other == port {
			t.Fatalf("reservePort returned %d twice", port)
		}
		f, err := os.Open(lockFile(port))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if tryLock(f) {
			t.Errorf("port %d could be locked again while reserved", port)
		}
	})
	f, err := os.Open(lockFile(port))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !tryLock(f) {
		t.Errorf("port %d still locked after its test ended", port)
	}
}
