package krbauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/crypto"
)

// MIT's error for a checksum type it does not know (KRB5_PROG_SUMTYPE_NOSUPP).
var errSumtypeNosupp = &libError{msg: "Program lacks support for checksum type"}

// cksumSpec describes a checksum type as MIT's table does
// (src/lib/crypto/krb/cksumtypes.c): whether it is keyed, which key family
// it needs (MIT's enc provider), and its length.
type cksumSpec struct {
	typ    int32
	keyed  bool
	family encFamily
	size   int
	// sum computes the checksum of data for a key usage; nil when this
	// package cannot compute it (unkeyed types are never accepted anyway).
	sum func(key []byte, usage uint32, data []byte) ([]byte, error)
}

// cksumTable is MIT 1.20's list of checksum types. All keyed ones are
// collision-proof.
var cksumTable = [...]cksumSpec{
	{2, false, famAny, 16, nil},  // rsa-md4
	{7, false, famAny, 16, nil},  // rsa-md5
	{9, false, famAny, 20, nil},  // nist-sha
	{14, false, famAny, 20, nil}, // sha1
	{12, true, famDES3, 20, dkChecksum(EnctypeDES3CBCSHA1)},
	{-138, true, famAny, 16, hmacMD5Checksum(true)},
	{15, true, famAES128, 12, dkChecksum(EnctypeAES128CTSSHA1)},
	{16, true, famAES256, 12, dkChecksum(EnctypeAES256CTSSHA1)},
	{-137, true, famRC4, 16, hmacMD5Checksum(false)},
	{17, true, famCamellia128, 16, nil}, // cmac-camellia128: not yet
	{18, true, famCamellia256, 16, nil}, // cmac-camellia256: not yet
	{19, true, famAES128, 16, dkChecksum(EnctypeAES128CTSSHA256)},
	{20, true, famAES256, 24, dkChecksum(EnctypeAES256CTSSHA384)},
}

func lookupCksum(typ int32) *cksumSpec {
	for i := range cksumTable {
		if cksumTable[i].typ == typ {
			return &cksumTable[i]
		}
	}
	return nil
}

// dkChecksum is the keyed checksum of enctype id as gokrb5 computes it:
// HMAC(Kc, data) truncated, Kc derived for usage|0x99 by RFC 3961 or RFC
// 8009. The key only has to have the family's length, so for example an
// aes128-sha2 key can make a hmac-sha1-96-aes128 checksum, as in MIT.
func dkChecksum(id int32) func(key []byte, usage uint32, data []byte) ([]byte, error) {
	return func(key []byte, usage uint32, data []byte) ([]byte, error) {
		e, err := crypto.GetEtype(id)
		if err != nil {
			return nil, err
		}
		return e.GetChecksumHash(key, data, usage)
	}
}

// hmacMD5Checksum is RFC 4757's HMAC-MD5 checksum (-138, signing key
// HMAC-MD5(K, "signaturekey\0")) or, with signKey false, Microsoft's
// MD5-HMAC (-137, signing with K itself): HMAC-MD5(Ks, MD5(LE32(usage) |
// data)), usage translated as MIT does.
func hmacMD5Checksum(signKey bool) func(key []byte, usage uint32, data []byte) ([]byte, error) {
	return func(key []byte, usage uint32, data []byte) ([]byte, error) {
		if len(key) > 64 {
			return nil, errBadEnctype
		}
		ks := key
		if signKey {
			m := hmac.New(md5.New, key)
			m.Write([]byte("signaturekey\x00"))
			ks = m.Sum(nil)
		}
		var t [4]byte
		binary.LittleEndian.PutUint32(t[:], rc4Usage(usage))
		h := md5.New()
		h.Write(t[:])
		h.Write(data)
		m := hmac.New(md5.New, ks)
		m.Write(h.Sum(nil))
		return m.Sum(nil), nil
	}
}

// MakeSafe builds a KRB-SAFE carrying data exactly as MIT's krb5_mk_safe
// does with DO_SEQUENCE only: KRB-SAFE-BODY {user-data, seq-number = the
// local sequence number (omitted when 0), s-address = the local address},
// no timestamp and no r-address; the checksum is the session enctype's
// mandatory checksum with key usage 15, computed MIT's way over the DER of
// the whole KRB-SAFE with the checksum replaced by {0, ""}. The local
// sequence number then advances.
func (s *Session) MakeSafe(data []byte) ([]byte, error) {
	if len(s.localAddr.Address) == 0 {
		return nil, errLocalAddrRequired
	}
	ck := lookupCksum(s.spec.cksumType)
	body := newBodyLayout(len(data), s.localSeq, s.localAddr.AddrType, s.localAddr.Address)
	b := body.appendPrefix(make([]byte, 0, body.seqLen()), false)
	b = append(b, data...)
	b = body.appendSuffix(b)
	sum, err := ck.sum(s.key.KeyValue, usageSafeCksum, appendSafe(nil, b, 0, nil))
	if err != nil {
		return nil, fmt.Errorf("krbauth: KRB-SAFE checksum: %w", err)
	}
	msg := appendSafe(nil, b, ck.typ, sum)
	s.localSeq++
	return msg, nil
}

// appendSafe appends KRB-SAFE ::= [APPLICATION 20] SEQUENCE { pvno[0] 5,
// msg-type[1] 20, safe-body[2] (body, verbatim), cksum[3] {ctype, sum} }.
// With ctype 0 and no sum it is the zeroed message MIT checksums.
func appendSafe(b, body []byte, ctype int32, sum []byte) []byte {
	cks := ctxIntLen(int64(ctype)) + tlvLen(tlvLen(len(sum)))
	contents := ctxIntLen(5) + ctxIntLen(tagKRBSafe) + tlvLen(len(body)) + tlvLen(tlvLen(cks))
	b = appendHeader(b, idApp|tagKRBSafe, tlvLen(contents))
	b = appendHeader(b, idSequence, contents)
	b = appendCtxInt(b, 0, 5)
	b = appendCtxInt(b, 1, tagKRBSafe)
	b = appendHeader(b, idCtx|2, len(body))
	b = append(b, body...)
	b = appendHeader(b, idCtx|3, tlvLen(cks))
	b = appendHeader(b, idSequence, cks)
	b = appendCtxInt(b, 0, int64(ctype))
	b = appendHeader(b, idCtx|1, tlvLen(len(sum)))
	b = appendHeader(b, idOctetString, len(sum))
	return append(b, sum...)
}

// ReadSafe verifies a KRB-SAFE and returns its user data (a copy), as MIT's
// krb5_rd_safe does with DO_SEQUENCE only:
//   - a KRB-ERROR is returned as a *RemoteError;
//   - anything without the KRB-SAFE application tag is ErrMsgType;
//   - undecodable messages give MIT's ASN.1 errors (CodeOf: ErrGeneric), a
//     pvno other than 5 gives code 3;
//   - an unknown checksum type is MIT's KRB5_PROG_SUMTYPE_NOSUPP (CodeOf:
//     ErrGeneric); an unkeyed one is ErrInappCksum; one from another key
//     family is KRB5_BAD_ENCTYPE (CodeOf: ErrGeneric);
//   - an r-address other than the local address is ErrBadAddr;
//   - the checksum must verify over the whole message with a zeroed checksum
//     (MIT) or, failing that, over the body alone (RFC 4120); otherwise
//     ErrModified;
//   - the seq-number must be the expected remote sequence number (absent
//     reads as 0, Heimdal's sign-mangled forms tolerated) or ErrBadOrder.
//
// On success the remote sequence number advances; an error changes nothing.
func (s *Session) ReadSafe(msg []byte) ([]byte, error) {
	if re, ok := ParseError(msg); ok {
		return nil, re
	}
	if !isAppTag(msg, tagKRBSafe) {
		return nil, fmt.Errorf("%w (KRB-SAFE expected)", ErrMsgType)
	}
	f, err := parseEnvelope(msg, tagKRBSafe)
	if err != nil {
		return nil, err
	}
	bodyDER, err := f.required(2)
	if err != nil {
		return nil, err
	}
	// The body is kept verbatim (MIT stores it as raw DER, whatever its tag).
	if _, _, rest, err := parseTLV(bodyDER); err != nil {
		return nil, err
	} else if len(rest) != 0 {
		return nil, errASN1BadLength
	}
	cc, err := f.required(3)
	if err != nil {
		return nil, err
	}
	ctype, sum, err := parseChecksum(cc)
	if err != nil {
		return nil, err
	}
	body, err := parseBody(bodyDER, idSequence)
	if err != nil {
		return nil, err
	}

	ck := lookupCksum(ctype)
	if ck == nil {
		return nil, fmt.Errorf("%w: %d", errSumtypeNosupp, ctype)
	}
	if !ck.keyed {
		return nil, fmt.Errorf("%w: checksum type %d is unkeyed", ErrInappCksum, ctype)
	}
	if err := s.checkRAddr(&body); err != nil {
		return nil, err
	}
	// MIT's verify step fails for a checksum of another key family
	// (KRB5_BAD_ENCTYPE) or length (KRB5_BAD_MSIZE); rd_safe then reads an
	// uninitialised flag, so its result is one of those or
	// KRB5KRB_AP_ERR_MODIFIED. We report the family mismatch as the former
	// and a wrong length as the latter.
	if ck.family != famAny && ck.family != s.spec.family {
		return nil, fmt.Errorf("%w: checksum type %d with a %s key", errBadEnctype, ctype, EnctypeName(s.key.KeyType))
	}
	if ck.sum == nil {
		return nil, fmt.Errorf("%w: checksum type %d", errBadEnctype, ctype)
	}
	if len(sum) != ck.size || !s.verifySafe(ck, sum, appendSafe(nil, bodyDER, 0, nil)) &&
		!s.verifySafe(ck, sum, bodyDER) {
		return nil, ErrModified
	}
	sane, heimdal, err := s.checkSeq(body.seq)
	if err != nil {
		return nil, err
	}
	s.remoteSeq++
	s.seqSane, s.seqHeimdal = sane, heimdal
	return bytes.Clone(body.userData), nil
}

// verifySafe reports whether sum is ck's checksum of data under the session
// key and the KRB-SAFE usage.
func (s *Session) verifySafe(ck *cksumSpec, sum, data []byte) bool {
	want, err := ck.sum(s.key.KeyValue, usageSafeCksum, data)
	return err == nil && len(want) >= len(sum) && hmac.Equal(want[:len(sum)], sum)
}

// parseChecksum decodes an explicit tag holding Checksum ::= SEQUENCE {
// cksumtype[0] Int32, checksum[1] OCTET STRING }.
func parseChecksum(c []byte) (int32, []byte, error) {
	sc, err := parseOnly(c, idSequence)
	if err != nil {
		return 0, nil, err
	}
	f := seqFields{rest: sc}
	tc, err := f.required(0)
	if err != nil {
		return 0, nil, err
	}
	typ, err := explicitInt32(tc)
	if err != nil {
		return 0, nil, err
	}
	vc, err := f.required(1)
	if err != nil {
		return 0, nil, err
	}
	v, err := explicitOctets(vc)
	return typ, v, err
}
