package krbauth

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/jcmturner/gokrb5/v8/iana/addrtype"
	"github.com/jcmturner/gokrb5/v8/types"
)

// ErrAddrTypeNotSupported: a connection's local address is not an IPv4 or
// IPv6 address, so it cannot be carried in the s-address of KRB-SAFE and
// KRB-PRIV messages (MIT's KRB5_PROG_ATYPE_NOSUPP).
var ErrAddrTypeNotSupported = errors.New("Program lacks support for address type")

// localHostAddress converts a socket address to the Kerberos host address MIT
// kprop and kpropd put in the s-address of their messages
// (sockaddr2krbaddr in MIT's src/kprop/kprop_util.c):
//   - IPv4, and IPv4-mapped IPv6 such as a socket accepted on "[::]", give
//     addr-type 2 with the 4 address bytes;
//   - any other IPv6 address gives addr-type 24 with 16 bytes;
//   - ports and IPv6 zones are dropped.
//
// *net.TCPAddr, *net.UDPAddr and *net.IPAddr are understood directly; any
// other net.Addr whose String is "ip:port" or a bare IP is parsed. Anything
// else (a Unix socket, net.Pipe) fails with ErrAddrTypeNotSupported.
func localHostAddress(a net.Addr) (types.HostAddress, error) {
	var ip net.IP
	switch a := a.(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	case *net.IPAddr:
		ip = a.IP
	case nil:
		return types.HostAddress{}, fmt.Errorf("no local address: %w", ErrAddrTypeNotSupported)
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return hostAddressFromNetip(ap.Addr())
		}
		if ad, err := netip.ParseAddr(a.String()); err == nil {
			return hostAddressFromNetip(ad)
		}
		return types.HostAddress{}, fmt.Errorf("local address %q (%s): %w", a.String(), a.Network(), ErrAddrTypeNotSupported)
	}
	ad, ok := netip.AddrFromSlice(ip)
	if !ok {
		return types.HostAddress{}, fmt.Errorf("local address %v: %w", a, ErrAddrTypeNotSupported)
	}
	return hostAddressFromNetip(ad)
}

func hostAddressFromNetip(ad netip.Addr) (types.HostAddress, error) {
	ad = ad.WithZone("")
	switch {
	case ad.Is4() || ad.Is4In6():
		b := ad.Unmap().As4()
		return types.HostAddress{AddrType: addrtype.IPv4, Address: b[:]}, nil
	case ad.Is6():
		b := ad.As16()
		return types.HostAddress{AddrType: addrtype.IPv6, Address: b[:]}, nil
	default:
		return types.HostAddress{}, fmt.Errorf("local address %v: %w", ad, ErrAddrTypeNotSupported)
	}
}
