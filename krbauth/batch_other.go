//go:build !linux

package krbauth

import (
	"errors"
	"net"
)

// setLowat reports that the receive low-water mark is not used here:
// reads wake for what has arrived.
func setLowat(net.Conn, int) error { return errors.ErrUnsupported }
