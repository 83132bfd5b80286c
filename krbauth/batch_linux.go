//go:build linux

package krbauth

import (
	"errors"
	"net"
	"syscall"
)

// setLowat sets the socket's receive low-water mark (SO_RCVLOWAT): the
// kernel wakes a reader waiting on it once n bytes have arrived.
func setLowat(conn net.Conn, n int) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return errors.ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n)
	}); err != nil {
		return err
	}
	return serr
}
