package krbauth

import (
	"net"
	"syscall"
	"testing"
)

// rcvLowat returns the SO_RCVLOWAT of a TCP connection.
func rcvLowat(t *testing.T, c net.Conn) (int, bool) {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		v, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return v, true
}
