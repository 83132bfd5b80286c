package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"net"
	"strconv"
)

const (
	// ApplVersion is the sendauth application version of full propagation
	// (MIT's KPROP_PROT_VERSION).
	ApplVersion = "kprop5_01"
	// ServiceName is the service of the principals both ends use.
	ServiceName = "host"
	// PortName is the services(5) name of the kprop port.
	PortName = "krb5_prop"
	// DefaultPort is the kprop port when services(5) has no entry.
	DefaultPort = 754
	// ChunkSize is the dump bytes per KRB-PRIV MIT kprop sends (KPROP_BUFSIZ).
	ChunkSize = 32768
	// MaxSizeLen is the longest encoded database size.
	MaxSizeLen = 12
)

// ErrMalformedSize is returned for a database-size message MIT would reject.
var ErrMalformedSize = errors.New("malformed database size message")

// AppendSize appends the encoding of a database size: four big-endian bytes
// for 1..2^32-1, otherwise four zero bytes and eight big-endian bytes (MIT's
// encode_database_size).
func AppendSize(dst []byte, size uint64) []byte {
	if size > 0 && size <= math.MaxUint32 {
		return binary.BigEndian.AppendUint32(dst, uint32(size))
	}
	dst = binary.BigEndian.AppendUint32(dst, 0)
	return binary.BigEndian.AppendUint64(dst, size)
}

// DecodeSize decodes a database size with MIT's rules: four bytes (any
// value), or twelve bytes whose first four are zero and whose value is 0 or
// above 2^32-1.
func DecodeSize(b []byte) (uint64, error) {
	switch len(b) {
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), nil
	case 12:
		if binary.BigEndian.Uint32(b) != 0 {
			return 0, ErrMalformedSize
		}
		size := binary.BigEndian.Uint64(b[4:])
		if size > 0 && size <= math.MaxUint32 {
			return 0, ErrMalformedSize
		}
		return size, nil
	}
	return 0, ErrMalformedSize
}

// LookupPort returns the kprop port for a -P argument as MIT's programs
// resolve it: a number, or a services(5) name; "" means the krb5_prop
// service, or DefaultPort when services(5) lacks it. An unknown name is
// net.LookupPort's error.
func LookupPort(name string) (int, error) {
	if name == "" {
		if n, err := net.LookupPort("tcp", PortName); err == nil {
			return n, nil
		}
		return DefaultPort, nil
	}
	if n, err := strconv.Atoi(name); err == nil {
		return n, nil
	}
	return net.LookupPort("tcp", name)
}
