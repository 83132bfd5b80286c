package krbauth

import (
	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
)

// Hand-written DER for the protected messages (KRB-SAFE, KRB-PRIV and
// EncKrbPrivPart). The encoders append to a caller's buffer and the decoders
// return sub-slices of their input, so the per-chunk path allocates nothing.
// The decoders accept what MIT's ASN.1 decoder accepts: definite lengths in
// short or (possibly non-minimal) long form, fields in order with optional
// ones absent, and an element that matches no remaining field ends the
// sequence (MIT treats every sequence as extensible).

// MIT's asn1 error table (src/lib/krb5/error_tables/asn1_err.et).
var (
	errASN1MissingField  = &liberr.Error{Text: "ASN.1 structure is missing a required field"}
	errASN1Overflow      = &liberr.Error{Text: "ASN.1 value too large"}
	errASN1Overrun       = &liberr.Error{Text: "ASN.1 encoding ended unexpectedly"}
	errASN1BadID         = &liberr.Error{Text: "ASN.1 identifier doesn't match expected value"}
	errASN1BadLength     = &liberr.Error{Text: "ASN.1 length doesn't match expected value"}
	errASN1BadFormat     = &liberr.Error{Text: "ASN.1 badly-formatted encoding"}
	errASN1BadTimeFormat = &liberr.Error{Text: "ASN.1 failed call to system time library"}
	errASN1Indef         = &liberr.Error{Text: "ASN.1 indefinite encoding"}
)

// Identifier octets (class and constructed bits plus a low tag number).
const (
	idInteger     = 0x02
	idOctetString = 0x04
	idSequence    = 0x30
	idGenTime     = 0x18
	idCtx         = 0xa0 // context-specific, constructed: [n] is idCtx|n
	idApp         = 0x60 // application, constructed: [APPLICATION n] is idApp|n
	idEncPrivPart = idApp | 28
)

// asn1Tag is a decoded identifier: the class and constructed bits of the
// first octet and the tag number (which may span several octets).
type asn1Tag struct {
	class byte // first octet & 0xe0
	num   uint32
}

// is reports whether t is the low-numbered identifier id (one octet).
func (t asn1Tag) is(id byte) bool {
	return t.class == id&0xe0 && t.num == uint32(id&0x1f)
}

// asn1TagNumMax is MIT's ASN1_TAGNUM_MAX.
const asn1TagNumMax = 1<<31 - 1

// parseTLV splits one element off b as MIT's get_tag does.
func parseTLV(b []byte) (t asn1Tag, content, rest []byte, err error) {
	if len(b) == 0 {
		return t, nil, nil, errASN1Overrun
	}
	o := b[0]
	b = b[1:]
	t.class = o & 0xe0
	if o&0x1f != 0x1f {
		t.num = uint32(o & 0x1f)
	} else {
		for {
			if len(b) == 0 {
				return t, nil, nil, errASN1Overrun
			}
			if t.num > asn1TagNumMax>>7 {
				return t, nil, nil, errASN1Overflow
			}
			o = b[0]
			b = b[1:]
			t.num = t.num<<7 | uint32(o&0x7f)
			if o&0x80 == 0 {
				break
			}
		}
		if t.num > asn1TagNumMax {
			return t, nil, nil, errASN1Overflow
		}
	}
	if len(b) == 0 {
		return t, nil, nil, errASN1Overrun
	}
	o = b[0]
	b = b[1:]
	if o&0x80 == 0 {
		if int(o) > len(b) {
			return t, nil, nil, errASN1Overrun
		}
		return t, b[:o], b[o:], nil
	}
	llen := int(o & 0x7f)
	if llen > len(b) {
		return t, nil, nil, errASN1Overrun
	}
	if llen > 8 {
		return t, nil, nil, errASN1Overflow
	}
	if llen == 0 {
		return t, nil, nil, errASN1Indef
	}
	var clen uint64
	for _, c := range b[:llen] {
		clen = clen<<8 | uint64(c)
	}
	b = b[llen:]
	if clen > uint64(len(b)) {
		return t, nil, nil, errASN1Overrun
	}
	return t, b[:clen], b[clen:], nil
}

// parseOnly parses b as exactly one element with identifier id, as MIT
// decodes the type inside an explicit tag: anything after the element is
// ASN1_BAD_LENGTH, a different identifier ASN1_BAD_ID.
func parseOnly(b []byte, id byte) ([]byte, error) {
	t, content, rest, err := parseTLV(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errASN1BadLength
	}
	if !t.is(id) {
		return nil, errASN1BadID
	}
	return content, nil
}

// seqFields walks the elements of a SEQUENCE's contents. Callers ask for
// the explicitly tagged fields [n] in increasing order; an element that does
// not match the field asked for stays pending for a later field, and once an
// element matches no field it ends the walk, as in MIT's decode_sequence.
type seqFields struct {
	rest    []byte
	pending bool
	tag     asn1Tag
	content []byte
}

// field returns the contents of explicit field [n], or ok == false when the
// field is absent.
func (s *seqFields) field(n byte) (content []byte, ok bool, err error) {
	if !s.pending {
		if len(s.rest) == 0 {
			return nil, false, nil
		}
		s.tag, s.content, s.rest, err = parseTLV(s.rest)
		if err != nil {
			return nil, false, err
		}
		s.pending = true
	}
	if !s.tag.is(idCtx | n) {
		return nil, false, nil
	}
	s.pending = false
	return s.content, true, nil
}

// required is field for a field MIT does not let be absent.
func (s *seqFields) required(n byte) ([]byte, error) {
	c, ok, err := s.field(n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errASN1MissingField
	}
	return c, nil
}

// decodeInt decodes INTEGER contents as MIT's k5_asn1_decode_int does.
func decodeInt(c []byte) (int64, error) {
	if len(c) == 0 {
		return 0, errASN1BadLength
	}
	if len(c) > 8 {
		return 0, errASN1Overflow
	}
	var n int64
	if c[0]&0x80 != 0 {
		n = -1
	}
	for _, b := range c {
		n = n<<8 | int64(b)
	}
	return n, nil
}

// explicitInt32 decodes the contents of an explicit tag holding an INTEGER
// that must fit an int32 (MIT's store_int).
func explicitInt32(c []byte) (int32, error) {
	ic, err := parseOnly(c, idInteger)
	if err != nil {
		return 0, err
	}
	v, err := decodeInt(ic)
	if err != nil {
		return 0, err
	}
	if int64(int32(v)) != v {
		return 0, errASN1Overflow
	}
	return int32(v), nil
}

// explicitSeqNum decodes a seq-number the way MIT does: any INTEGER from
// -2^31 to 2^32-1, negative values mapped to uint32 by bit pattern (for old
// MIT and Heimdal senders).
func explicitSeqNum(c []byte) (uint32, error) {
	ic, err := parseOnly(c, idInteger)
	if err != nil {
		return 0, err
	}
	v, err := decodeInt(ic)
	if err != nil {
		return 0, err
	}
	if v < -1<<31 || v > 1<<32-1 {
		return 0, errASN1Overflow
	}
	return uint32(v), nil
}

// explicitOctets decodes an explicit tag holding an OCTET STRING.
func explicitOctets(c []byte) ([]byte, error) {
	return parseOnly(c, idOctetString)
}

// explicitTime checks an explicit tag holding a KerberosTime
// (YYYYMMDDhhmmssZ). The value itself is not needed: with DO_SEQUENCE only,
// MIT ignores timestamps on KRB-SAFE and KRB-PRIV.
func explicitTime(c []byte) error {
	tc, err := parseOnly(c, idGenTime)
	if err != nil {
		return err
	}
	if len(tc) != 15 {
		return errASN1BadLength
	}
	if tc[14] != 'Z' {
		return errASN1BadFormat
	}
	for _, d := range tc[:14] {
		if d < '0' || d > '9' {
			return errASN1BadTimeFormat
		}
	}
	return nil
}

// hostAddr is a decoded HostAddress, pointing into the message.
type hostAddr struct {
	typ  int32
	addr []byte
}

// explicitHostAddr decodes an explicit tag holding a HostAddress.
func explicitHostAddr(c []byte) (hostAddr, error) {
	sc, err := parseOnly(c, idSequence)
	if err != nil {
		return hostAddr{}, err
	}
	f := seqFields{rest: sc}
	var a hostAddr
	tc, err := f.required(0)
	if err != nil {
		return a, err
	}
	if a.typ, err = explicitInt32(tc); err != nil {
		return a, err
	}
	ac, err := f.required(1)
	if err != nil {
		return a, err
	}
	a.addr, err = explicitOctets(ac)
	return a, err
}

// privSafeBody is a decoded KRB-SAFE-BODY or EncKrbPrivPart (they share
// their fields), pointing into the message.
type privSafeBody struct {
	userData []byte
	seq      uint32 // 0 when absent, as MIT reads it
	sAddr    hostAddr
	rAddr    hostAddr
	hasRAddr bool
}

// parseBodyFields decodes the contents of a KRB-SAFE-BODY / EncKrbPrivPart
// SEQUENCE: user-data[0], timestamp[1], usec[2], seq-number[3],
// s-address[4], r-address[5].
func parseBodyFields(sc []byte) (privSafeBody, error) {
	var b privSafeBody
	f := seqFields{rest: sc}
	c, err := f.required(0)
	if err != nil {
		return b, err
	}
	if b.userData, err = explicitOctets(c); err != nil {
		return b, err
	}
	if c, ok, err := f.field(1); err != nil {
		return b, err
	} else if ok {
		if err := explicitTime(c); err != nil {
			return b, err
		}
	}
	if c, ok, err := f.field(2); err != nil {
		return b, err
	} else if ok {
		if _, err := explicitInt32(c); err != nil {
			return b, err
		}
	}
	if c, ok, err := f.field(3); err != nil {
		return b, err
	} else if ok {
		if b.seq, err = explicitSeqNum(c); err != nil {
			return b, err
		}
	}
	if c, err = f.required(4); err != nil {
		return b, err
	}
	if b.sAddr, err = explicitHostAddr(c); err != nil {
		return b, err
	}
	if c, ok, err := f.field(5); err != nil {
		return b, err
	} else if ok {
		if b.rAddr, err = explicitHostAddr(c); err != nil {
			return b, err
		}
		b.hasRAddr = true
	}
	return b, nil
}

// parseBody fully decodes a standalone body whose outer identifier must be
// id (SEQUENCE for KRB-SAFE-BODY, [APPLICATION 28] for EncKrbPrivPart).
// Bytes after the element are ignored, as MIT ignores them (des3 plaintext
// carries zero padding there).
func parseBody(der []byte, id byte) (privSafeBody, error) {
	t, c, _, err := parseTLV(der)
	if err != nil {
		return privSafeBody{}, err
	}
	if !t.is(id) {
		return privSafeBody{}, errASN1BadID
	}
	if id != idSequence {
		if c, err = parseOnly(c, idSequence); err != nil {
			return privSafeBody{}, err
		}
	}
	return parseBodyFields(c)
}

// parseEnvelope decodes [APPLICATION app] SEQUENCE { pvno[0], msg-type[1],
// ... } and returns the field walker positioned after msg-type. Like MIT,
// it insists on pvno 5 and ignores the msg-type value (the application tag
// already says what the message is). Bytes after the message are ignored.
func parseEnvelope(msg []byte, app byte) (seqFields, error) {
	t, c, _, err := parseTLV(msg)
	if err != nil {
		return seqFields{}, err
	}
	if !t.is(idApp | app) {
		return seqFields{}, errASN1BadID
	}
	sc, err := parseOnly(c, idSequence)
	if err != nil {
		return seqFields{}, err
	}
	f := seqFields{rest: sc}
	pc, err := f.required(0)
	if err != nil {
		return f, err
	}
	pc, err = parseOnly(pc, idInteger)
	if err != nil {
		return f, err
	}
	pvno, err := decodeInt(pc)
	if err != nil {
		return f, err
	}
	if pvno != 5 {
		return f, krb5.ErrBadPVNO
	}
	mc, err := f.required(1)
	if err != nil {
		return f, err
	}
	if mc, err = parseOnly(mc, idInteger); err != nil {
		return f, err
	}
	if _, err := decodeInt(mc); err != nil {
		return f, err
	}
	return f, nil
}

// ---- encoding ----

// derLenLen is the number of octets DER uses for a length of n.
func derLenLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 0x100:
		return 2
	case n < 0x10000:
		return 3
	case n < 0x1000000:
		return 4
	default:
		return 5
	}
}

// tlvLen is the size of an element with a one-octet identifier and n octets
// of contents.
func tlvLen(n int) int { return 1 + derLenLen(n) + n }

// appendHeader appends identifier id and the DER length n.
func appendHeader(b []byte, id byte, n int) []byte {
	b = append(b, id)
	switch l := derLenLen(n); l {
	case 1:
		return append(b, byte(n))
	default:
		b = append(b, 0x80|byte(l-1))
		for i := l - 2; i >= 0; i-- {
			b = append(b, byte(n>>(8*i)))
		}
		return b
	}
}

// intLen is the length of the minimal two's-complement contents for v.
func intLen(v int64) int {
	n := 1
	for v > 127 || v < -128 {
		v >>= 8
		n++
	}
	return n
}

// appendInt appends INTEGER v.
func appendInt(b []byte, v int64) []byte {
	n := intLen(v)
	b = append(b, idInteger, byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// uintLen is the length of the contents MIT writes for an unsigned value
// (k5_asn1_encode_uint: minimal, with a leading zero octet when the top bit
// would otherwise be set).
func uintLen(v uint32) int { return intLen(int64(v)) }

// appendUint appends INTEGER v for an unsigned v.
func appendUint(b []byte, v uint32) []byte { return appendInt(b, int64(v)) }

// ctxIntLen is the size of [n] INTEGER v.
func ctxIntLen(v int64) int { return tlvLen(tlvLen(intLen(v))) }

// appendCtxInt appends [n] INTEGER v.
func appendCtxInt(b []byte, n byte, v int64) []byte {
	b = appendHeader(b, idCtx|n, tlvLen(intLen(v)))
	return appendInt(b, v)
}

// hostAddrLen is the size of the HostAddress SEQUENCE for typ/addr.
func hostAddrLen(typ int32, addr []byte) int {
	return tlvLen(ctxIntLen(int64(typ)) + tlvLen(tlvLen(len(addr))))
}

// appendHostAddr appends a HostAddress SEQUENCE.
func appendHostAddr(b []byte, typ int32, addr []byte) []byte {
	b = appendHeader(b, idSequence, ctxIntLen(int64(typ))+tlvLen(tlvLen(len(addr))))
	b = appendCtxInt(b, 0, int64(typ))
	b = appendHeader(b, idCtx|1, tlvLen(len(addr)))
	b = appendHeader(b, idOctetString, len(addr))
	return append(b, addr...)
}

// bodyLayout describes the encoding of a KRB-SAFE-BODY or EncKrbPrivPart
// as MIT writes it with DO_SEQUENCE only: user-data[0], seq-number[3]
// (omitted when 0, MIT's optional-zero rule) and s-address[4].
type bodyLayout struct {
	contents int // length of the SEQUENCE contents
	seq      uint32
	addrType int32
	addr     []byte
	dataLen  int
}

func newBodyLayout(dataLen int, seq uint32, addrType int32, addr []byte) bodyLayout {
	n := tlvLen(tlvLen(dataLen))
	if seq != 0 {
		n += tlvLen(tlvLen(uintLen(seq)))
	}
	n += tlvLen(hostAddrLen(addrType, addr))
	return bodyLayout{contents: n, seq: seq, addrType: addrType, addr: addr, dataLen: dataLen}
}

// seqLen is the size of the body as a SEQUENCE (KRB-SAFE-BODY).
func (l *bodyLayout) seqLen() int { return tlvLen(l.contents) }

// appPartLen is the size of the body as EncKrbPrivPart ([APPLICATION 28]).
func (l *bodyLayout) appPartLen() int { return tlvLen(l.seqLen()) }

// appendPrefix appends everything in front of the user data bytes: the
// optional [APPLICATION 28] wrapper (when app), the SEQUENCE header and the
// [0] OCTET STRING headers.
func (l *bodyLayout) appendPrefix(b []byte, app bool) []byte {
	if app {
		b = appendHeader(b, idEncPrivPart, l.seqLen())
	}
	b = appendHeader(b, idSequence, l.contents)
	b = appendHeader(b, idCtx, tlvLen(l.dataLen)) // [0]
	return appendHeader(b, idOctetString, l.dataLen)
}

// appendSuffix appends everything after the user data bytes.
func (l *bodyLayout) appendSuffix(b []byte) []byte {
	if l.seq != 0 {
		b = appendHeader(b, idCtx|3, tlvLen(uintLen(l.seq)))
		b = appendUint(b, l.seq)
	}
	b = appendHeader(b, idCtx|4, hostAddrLen(l.addrType, l.addr))
	return appendHostAddr(b, l.addrType, l.addr)
}
