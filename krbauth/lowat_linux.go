package krbauth

import (
	"net"
	"syscall"
)

// lowatSetter returns a function setting conn's SO_RCVLOWAT, or nil when
// conn is not a socket.
func lowatSetter(conn net.Conn) func(int) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return func(n int) bool {
		var serr error
		if err := raw.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n)
		}); err != nil {
			return false
		}
		return serr == nil
	}
}
