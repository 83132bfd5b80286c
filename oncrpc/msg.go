package oncrpc

import (
	"fmt"

	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// RPCVersion is the version of the RPC message protocol (RFC 5531), the
// only one a call carries and a server accepts.
const RPCVersion = 2

// MaxAuthBytes bounds the body of a credential or verifier (RFC 5531
// section 8.2; MIT's MAX_AUTH_BYTES).
const MaxAuthBytes = 400

// Message types and reply states of RFC 5531.
const (
	msgCall  = 0
	msgReply = 1

	replyAccepted = 0
	replyDenied   = 1

	rejectRPCMismatch = 0
	rejectAuthError   = 1
)

// Flavor is an authentication flavor number (RFC 5531 section 8.2).
type Flavor uint32

// The flavors RFC 5531 and RFC 2203 define.
const (
	FlavorNone      Flavor = 0 // AUTH_NONE
	FlavorSys       Flavor = 1 // AUTH_SYS (AUTH_UNIX)
	FlavorShort     Flavor = 2 // AUTH_SHORT
	FlavorDH        Flavor = 3 // AUTH_DH
	FlavorRPCSECGSS Flavor = 6 // RPCSEC_GSS
)

// String returns the flavor's RFC name, or its number.
func (f Flavor) String() string {
	switch f {
	case FlavorNone:
		return "AUTH_NONE"
	case FlavorSys:
		return "AUTH_SYS"
	case FlavorShort:
		return "AUTH_SHORT"
	case FlavorDH:
		return "AUTH_DH"
	case FlavorRPCSECGSS:
		return "RPCSEC_GSS"
	}
	return fmt.Sprintf("flavor %d", uint32(f))
}

// OpaqueAuth is a credential or verifier: a flavor and up to MaxAuthBytes
// bytes whose meaning the flavor defines.
type OpaqueAuth struct {
	Flavor Flavor
	Body   []byte
}

// appendOpaqueAuth appends a; its body must not exceed MaxAuthBytes.
func appendOpaqueAuth(b []byte, a OpaqueAuth) ([]byte, error) {
	if len(a.Body) > MaxAuthBytes {
		return b, fmt.Errorf("oncrpc: %v body of %d bytes exceeds %d", a.Flavor, len(a.Body), MaxAuthBytes)
	}
	b = xdr.AppendUint32(b, uint32(a.Flavor))
	return xdr.AppendOpaque(b, a.Body), nil
}

func decodeOpaqueAuth(d *xdr.Decoder) OpaqueAuth {
	f := Flavor(d.Uint32())
	return OpaqueAuth{Flavor: f, Body: d.Opaque(MaxAuthBytes)}
}

// appendCallHeader appends a call message up to, not including, the
// credential: xid, CALL, RPC version, program, version, procedure.
func appendCallHeader(b []byte, xid, prog, vers, proc uint32) []byte {
	b = xdr.AppendUint32(b, xid)
	b = xdr.AppendUint32(b, msgCall)
	b = xdr.AppendUint32(b, RPCVersion)
	b = xdr.AppendUint32(b, prog)
	b = xdr.AppendUint32(b, vers)
	return xdr.AppendUint32(b, proc)
}

// replyXID returns the xid and message type of a record, and whether it
// is long enough to hold them.
func replyXID(rec []byte) (xid, mtype uint32, ok bool) {
	d := xdr.NewDecoder(rec)
	xid = d.Uint32()
	mtype = d.Uint32()
	return xid, mtype, d.Err() == nil
}

// reply is a decoded reply message whose xid matched the call.
type reply struct {
	verf    OpaqueAuth // accepted replies only
	results []byte     // accepted SUCCESS: the rest of the message
	err     error      // the RPC-level failure, if any
}

// parseReply decodes a reply record (xid and type already checked).
// A malformed record gives an error; an RPC failure reported by the server
// is in reply.err.
func parseReply(rec []byte) (reply, error) {
	d := xdr.NewDecoder(rec)
	d.Uint32() // xid
	d.Uint32() // REPLY
	var r reply
	switch stat := d.Uint32(); {
	case d.Err() != nil:
	case stat == replyAccepted:
		r.verf = decodeOpaqueAuth(d)
		as := AcceptStat(d.Uint32())
		switch {
		case d.Err() != nil:
		case as == Success:
			r.results = rec[d.Offset():]
		case as == ProgMismatch:
			lo, hi := d.Uint32(), d.Uint32()
			r.err = &AcceptError{Stat: as, Low: lo, High: hi}
		default:
			r.err = &AcceptError{Stat: as}
		}
	case stat == replyDenied:
		switch rs := d.Uint32(); {
		case d.Err() != nil:
		case rs == rejectRPCMismatch:
			lo, hi := d.Uint32(), d.Uint32()
			r.err = &RPCMismatchError{Low: lo, High: hi}
		case rs == rejectAuthError:
			r.err = &AuthError{Stat: AuthStat(d.Uint32())}
		default:
			d.Fail(fmt.Sprintf("reject status %d", rs), errBadReply)
		}
	default:
		d.Fail(fmt.Sprintf("reply status %d", stat), errBadReply)
	}
	if err := d.Err(); err != nil {
		return reply{}, &ReplyError{Err: err}
	}
	return r, nil
}
