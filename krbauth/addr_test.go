package krbauth

import (
	"bytes"
	"errors"
	"net"
	"testing"

	"github.com/gokprop/gokprop/krb5"
)

// namedAddr is a net.Addr of an arbitrary type.
type namedAddr struct{ network, s string }

func (a namedAddr) Network() string { return a.network }
func (a namedAddr) String() string  { return a.s }

func TestLocalHostAddress(t *testing.T) {
	v6 := net.ParseIP("2001:db8::7")
	for _, tc := range []struct {
		name  string
		addr  net.Addr
		typ   int32
		bytes []byte
		err   error
	}{
		{"IPv4", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1).To4(), Port: 754}, 2, []byte{192, 0, 2, 1}, nil},
		{"IPv4 in 16-byte form", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 754}, 2, []byte{127, 0, 0, 1}, nil},
		{"IPv4-mapped IPv6 from a [::] listener", &net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 754}, 2, []byte{10, 1, 2, 3}, nil},
		{"IPv6", &net.TCPAddr{IP: v6, Port: 754}, 24, []byte(v6.To16()), nil},
		{"IPv6 with zone", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}, 24, []byte(net.ParseIP("fe80::1")), nil},
		{"UDP", &net.UDPAddr{IP: net.IPv4(198, 51, 100, 9)}, 2, []byte{198, 51, 100, 9}, nil},
		{"IPAddr", &net.IPAddr{IP: v6}, 24, []byte(v6.To16()), nil},
		{"other type, ip:port", namedAddr{"tcp", "203.0.113.5:754"}, 2, []byte{203, 0, 113, 5}, nil},
		{"other type, [v6]:port", namedAddr{"tcp", "[2001:db8::7]:754"}, 24, []byte(v6.To16()), nil},
		{"other type, bare ip", namedAddr{"ip", "203.0.113.5"}, 2, []byte{203, 0, 113, 5}, nil},
		{"unix socket", &net.UnixAddr{Name: "/run/kpropd.sock", Net: "unix"}, 0, nil, ErrAddrTypeNotSupported},
		{"pipe", namedAddr{"pipe", "pipe"}, 0, nil, ErrAddrTypeNotSupported},
		{"nil", nil, 0, nil, ErrAddrTypeNotSupported},
		{"TCPAddr without IP", &net.TCPAddr{}, 0, nil, ErrAddrTypeNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := localHostAddress(tc.addr)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("got %+v, %v; want %v", got, err, tc.err)
				}
				return
			}
			if err != nil || got.AddrType != tc.typ || !bytes.Equal(got.Address, tc.bytes) {
				t.Errorf("got %d % x, %v; want %d % x", got.AddrType, got.Address, err, tc.typ, tc.bytes)
			}
		})
	}
}

// TestHandshakeNeedsIPConn: over a connection without an IP address
// (net.Pipe) neither side starts, and nothing is written.
func TestHandshakeNeedsIPConn(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA1)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := sendAuth(t.Context(), a, setup.clientConfig()); !errors.Is(err, ErrAddrTypeNotSupported) {
		t.Errorf("SendAuth: %v", err)
	}
	if _, err := recvAuth(t.Context(), b, setup.serverConfig()); !errors.Is(err, ErrAddrTypeNotSupported) {
		t.Errorf("RecvAuth: %v", err)
	}
}
