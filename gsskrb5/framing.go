package gsskrb5

import (
	"bytes"
	"fmt"
)

// mechOID is the DER encoding (without tag and length) of the Kerberos
// V5 mechanism's OID, 1.2.840.113554.1.2.2 (RFC 1964).
var mechOID = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}

// MechanismOID is the object identifier of the Kerberos V5 GSS-API
// mechanism, in dotted form.
const MechanismOID = "1.2.840.113554.1.2.2"

// Token identifiers of the context-establishment tokens (RFC 1964
// section 1.1, RFC 4121 section 4.1).
const (
	tokAPReq = 0x0100
	tokAPRep = 0x0200
	tokError = 0x0300
)

// maxContextToken bounds a context-establishment token we parse: MIT's
// RPC layer carries at most 2048-byte tokens (MAX_NETOBJ_SZ), and a
// Kerberos AP-REP or KRB-ERROR is far smaller; this is generous.
const maxContextToken = 64 << 10

// appendFramed appends body as an RFC 2743 section 3.1 initial-context
// token of the Kerberos mechanism: 0x60, the DER length, the mechanism
// OID, the two-byte token identifier, then body.
func appendFramed(b []byte, tokID uint16, body []byte) []byte {
	inner := 2 + len(mechOID) + 2 + len(body)
	b = append(b, 0x60)
	b = appendDERLength(b, inner)
	b = append(b, 0x06, byte(len(mechOID)))
	b = append(b, mechOID...)
	b = append(b, byte(tokID>>8), byte(tokID))
	return append(b, body...)
}

func appendDERLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 1<<8:
		return append(b, 0x81, byte(n))
	case n < 1<<16:
		return append(b, 0x82, byte(n>>8), byte(n))
	case n < 1<<24:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// parseFramed checks an initial-context token as MIT's
// g_verify_token_header does with the wrapper required: 0x60, a DER
// length equal to the rest of the token, the Kerberos OID; it returns the
// token identifier and the body after it.
func parseFramed(tok []byte) (uint16, []byte, error) {
	if len(tok) > maxContextToken {
		return 0, nil, fmt.Errorf("%w: context token of %d bytes", ErrDefectiveToken, len(tok))
	}
	if len(tok) < 1 || tok[0] != 0x60 {
		return 0, nil, fmt.Errorf("%w: no 0x60 token framing", ErrDefectiveToken)
	}
	n, rest, ok := readDERLength(tok[1:])
	if !ok || n != len(rest) {
		return 0, nil, fmt.Errorf("%w: bad token framing length", ErrDefectiveToken)
	}
	if len(rest) < 2 || rest[0] != 0x06 || int(rest[1]) > len(rest)-2 {
		return 0, nil, fmt.Errorf("%w: bad mechanism OID in token framing", ErrDefectiveToken)
	}
	oid := rest[2 : 2+int(rest[1])]
	if !bytes.Equal(oid, mechOID) {
		return 0, nil, fmt.Errorf("%w: token of another mechanism (OID %x)", ErrDefectiveToken, oid)
	}
	rest = rest[2+len(oid):]
	if len(rest) < 2 {
		return 0, nil, fmt.Errorf("%w: no token identifier", ErrDefectiveToken)
	}
	return uint16(rest[0])<<8 | uint16(rest[1]), rest[2:], nil
}

// readDERLength reads a definite DER length of at most four bytes.
func readDERLength(b []byte) (n int, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, nil, false
	}
	if b[0] < 0x80 {
		return int(b[0]), b[1:], true
	}
	k := int(b[0] & 0x7f)
	if k == 0 || k > 4 || len(b) < 1+k {
		return 0, nil, false
	}
	for _, c := range b[1 : 1+k] {
		n = n<<8 | int(c)
	}
	return n, b[1+k:], true
}
