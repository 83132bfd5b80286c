package krbauth

import (
	"bytes"
	"crypto/hmac"
	"fmt"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/krb5"
)

// makeSafe builds a KRB-SAFE carrying data exactly as MIT's krb5_mk_safe
// does with DO_SEQUENCE only: KRB-SAFE-BODY {user-data, seq-number = the
// local sequence number (omitted when 0), s-address = the local address},
// no timestamp and no r-address; the checksum is the session enctype's
// mandatory checksum with key usage 15, computed MIT's way over the DER of
// the whole KRB-SAFE with the checksum replaced by {0, ""}. The local
// sequence number then advances.
func (s *session) makeSafe(data []byte) ([]byte, error) {
	if len(s.localAddr.Address) == 0 {
		return nil, errLocalAddrRequired
	}
	ck := kcrypto.LookupChecksum(s.spec.CksumType)
	body := newBodyLayout(len(data), s.localSeq, s.localAddr.AddrType, s.localAddr.Address)
	b := body.appendPrefix(make([]byte, 0, body.seqLen()), false)
	b = append(b, data...)
	b = body.appendSuffix(b)
	sum, err := ck.Sum(s.key.KeyValue, usageSafeCksum, appendSafe(nil, b, 0, nil))
	if err != nil {
		return nil, fmt.Errorf("krbauth: KRB-SAFE checksum: %w", err)
	}
	msg := appendSafe(nil, b, ck.Type, sum)
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

// readSafe verifies a KRB-SAFE and returns its user data (a copy), as MIT's
// krb5_rd_safe does with DO_SEQUENCE only:
//   - a KRB-ERROR is returned as a *RemoteError;
//   - anything without the KRB-SAFE application tag is krb5.ErrMsgType;
//   - undecodable messages give MIT's ASN.1 errors (CodeOf: krb5.ErrGeneric), a
//     pvno other than 5 gives code 3;
//   - an unknown checksum type is MIT's KRB5_PROG_SUMTYPE_NOSUPP (CodeOf:
//     krb5.ErrGeneric); an unkeyed one is krb5.ErrInappCksum; one from another key
//     family is KRB5_BAD_ENCTYPE (CodeOf: krb5.ErrGeneric);
//   - an r-address other than the local address is krb5.ErrBadAddr;
//   - the checksum must verify over the whole message with a zeroed checksum
//     (MIT) or, failing that, over the body alone (RFC 4120); otherwise
//     krb5.ErrModified;
//   - the seq-number must be the expected remote sequence number (absent
//     reads as 0, Heimdal's sign-mangled forms tolerated) or krb5.ErrBadOrder.
//
// On success the remote sequence number advances; an error changes nothing.
func (s *session) readSafe(msg []byte) ([]byte, error) {
	if re, ok := parseKRBError(msg); ok {
		return nil, re
	}
	if !isAppTag(msg, tagKRBSafe) {
		return nil, fmt.Errorf("%w (KRB-SAFE expected)", krb5.ErrMsgType)
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

	ck := kcrypto.LookupChecksum(ctype)
	if ck == nil {
		return nil, fmt.Errorf("%w: %d", kcrypto.ErrSumtypeNosupp, ctype)
	}
	if !ck.Keyed {
		return nil, fmt.Errorf("%w: checksum type %d is unkeyed", krb5.ErrInappCksum, ctype)
	}
	if err := s.checkRAddr(&body); err != nil {
		return nil, err
	}
	// MIT's verify step fails for a checksum of another key family
	// (KRB5_BAD_ENCTYPE) or length (KRB5_BAD_MSIZE); rd_safe then reads an
	// uninitialised flag, so its result is one of those or
	// KRB5KRB_AP_ERR_MODIFIED. We report the family mismatch as the former
	// and a wrong length as the latter.
	if ck.Family != kcrypto.FamAny && ck.Family != s.spec.Family {
		return nil, fmt.Errorf("%w: checksum type %d with a %s key", ErrBadEnctype, ctype, krb5.Enctype(s.key.KeyType).String())
	}
	if !ck.Implemented() {
		return nil, fmt.Errorf("%w: checksum type %d", ErrBadEnctype, ctype)
	}
	if len(sum) != ck.Size || !s.verifySafe(ck, sum, appendSafe(nil, bodyDER, 0, nil)) &&
		!s.verifySafe(ck, sum, bodyDER) {
		return nil, krb5.ErrModified
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
func (s *session) verifySafe(ck *kcrypto.Checksum, sum, data []byte) bool {
	want, err := ck.Sum(s.key.KeyValue, usageSafeCksum, data)
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
