//go:build !linux

package krbauth

import "net"

// lowatSetter returns nil: the low-water mark is set on Linux only.
func lowatSetter(net.Conn) func(int) bool { return nil }
