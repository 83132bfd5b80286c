//go:build !linux

package krbauth

import (
	"net"
	"testing"
)

func rcvLowat(*testing.T, net.Conn) (int, bool) { return 0, false }
