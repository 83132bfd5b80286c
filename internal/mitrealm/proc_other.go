//go:build !unix

package mitrealm

import (
	"os"
	"os/exec"
	"syscall"
)

// MIT krb5's programs are Unix programs; elsewhere the harness only kills
// the process it started.

func setProcessGroup(cmd *exec.Cmd) {}

func signalGroup(pid int, sig syscall.Signal) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// tryLock cannot lock across processes here; ports are only probed.
func tryLock(f *os.File) bool { return true }
