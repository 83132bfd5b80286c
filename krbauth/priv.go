package krbauth

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/krb5"
)

// initCipherState starts chaining the KRB-PRIV cipher state, as MIT's
// krb5_auth_con_initivector does: the state is set to the session
// enctype's initial value (16 zero bytes for AES, 8 for des3, an unkeyed
// stream for RC4), and from then on every sealPriv and openPriv continues
// from the state the previous message left. Before the first call each
// KRB-PRIV starts from the initial state on its own. MIT kprop calls it
// after sending the size KRB-SAFE, kpropd after reading it. Calling it
// again resets the state.
func (s *session) initCipherState() {
	s.priv.Reset()
	s.chained = true
}

// sealPriv appends to dst one KRB-PRIV carrying data and returns the
// extended slice, like strconv's Append functions. The message is what MIT's
// krb5_mk_priv builds with DO_SEQUENCE only: EncKrbPrivPart {user-data,
// seq-number = the local sequence number, s-address = the local address},
// encrypted with the session key (usage 13, enc-part kvno omitted) from the
// current cipher state. On success the local sequence number advances.
//
// With a chained cipher state and a dst that has room for the message,
// sealPriv does not allocate (RC4 allocates its keystream once, for the
// first message after initCipherState, and for every message when the
// state is not chained). data may overlap dst's spare capacity. On error dst is returned unchanged (bytes
// beyond its length may have been overwritten).
func (s *session) sealPriv(dst, data []byte) ([]byte, error) {
	if len(s.localAddr.Address) == 0 {
		return dst, errLocalAddrRequired
	}
	l := s.layoutPriv(len(data), s.localSeq)
	start := len(dst)
	dst = slices.Grow(dst, l.total)
	out := dst[start : start+l.total]
	// Place the user data first: it may live in dst's spare capacity, and
	// everything else is written around it.
	copy(out[l.ctOff+l.dataOff:], data)
	l.putHeader(out)
	l.putDER(out[l.ctOff:])
	if err := s.priv.Seal(out[l.ctOff:], l.derLen, s.rand, s.chained); err != nil {
		return dst[:start], err
	}
	s.localSeq++
	return dst[:start+l.total], nil
}

// privLayout is where the parts of one KRB-PRIV go: the KRB-PRIV header
// up to the ciphertext's contents, then the ciphertext, which holds the
// cipher's prefix (confounder), the EncKrbPrivPart DER (its prefix, the
// user data, its suffix), padding and the tag.
type privLayout struct {
	body   bodyLayout
	etype  int64
	derLen int // EncKrbPrivPart
	ctLen  int // the ciphertext
	total  int // the KRB-PRIV
	ctOff  int // of the ciphertext, in the KRB-PRIV
	// dataOff is the user data's offset in the ciphertext (and in the
	// plaintext, which lies where the ciphertext will).
	dataOff              int
	seqContents, encData int
	prefix               [32]byte
	prefixLen            int
	cipherPrefix         int
}

// layoutPriv lays out a KRB-PRIV carrying n bytes of user data with
// sequence number seq.
func (s *session) layoutPriv(n int, seq uint32) privLayout {
	var l privLayout
	l.body = newBodyLayout(n, seq, s.localAddr.AddrType, s.localAddr.Address)
	l.derLen = l.body.appPartLen()
	l.ctLen = s.priv.SealLen(l.derLen)
	l.etype = int64(s.key.KeyType)
	l.encData = ctxIntLen(l.etype) + tlvLen(tlvLen(l.ctLen))
	l.seqContents = 2*ctxIntLen(5) + tlvLen(tlvLen(l.encData))
	l.total = tlvLen(tlvLen(l.seqContents))
	l.prefixLen = len(l.body.appendPrefix(l.prefix[:0], true))
	l.ctOff = l.total - l.ctLen
	l.cipherPrefix = s.priv.PrefixLen()
	l.dataOff = l.cipherPrefix + l.prefixLen
	return l
}

// putHeader writes the KRB-PRIV header, everything before the
// ciphertext's contents, at the start of msg.
func (l *privLayout) putHeader(msg []byte) {
	w := appendHeader(msg[:0], idApp|tagKRBPriv, tlvLen(l.seqContents))
	w = appendHeader(w, idSequence, l.seqContents)
	w = appendCtxInt(w, 0, 5)
	w = appendCtxInt(w, 1, tagKRBPriv)
	w = appendHeader(w, idCtx|3, tlvLen(l.encData))
	w = appendHeader(w, idSequence, l.encData)
	w = appendCtxInt(w, 0, l.etype)
	w = appendHeader(w, idCtx|2, tlvLen(l.ctLen))
	w = appendHeader(w, idOctetString, l.ctLen)
	if len(w) != l.ctOff {
		panic("krbauth: KRB-PRIV header length mismatch")
	}
}

// putDER writes the EncKrbPrivPart around the user data, which is already
// in place at dataOff of the plaintext p.
func (l *privLayout) putDER(p []byte) {
	copy(p[l.cipherPrefix:], l.prefix[:l.prefixLen])
	end := l.dataOff + l.body.dataLen
	l.body.appendSuffix(p[end:end])
}

// openPriv verifies and decrypts one KRB-PRIV and appends its user data to
// dst, returning the extended slice. It follows MIT's krb5_rd_priv with
// DO_SEQUENCE only:
//   - a KRB-ERROR is returned as a *RemoteError;
//   - anything without the KRB-PRIV application tag is krb5.ErrMsgType;
//   - undecodable messages give MIT's ASN.1 errors (CodeOf: krb5.ErrGeneric),
//     a pvno other than 5 gives code 3;
//   - an enc-part etype other than the session key's (or MIT's
//     ENCTYPE_UNKNOWN) is MIT's KRB5_BAD_ENCTYPE (CodeOf: krb5.ErrGeneric);
//   - a failed integrity check is krb5.ErrBadIntegrity;
//   - an r-address that differs from the local address is krb5.ErrBadAddr (the
//     s-address is not checked, as kprop and kpropd set no remote address);
//   - a seq-number other than the expected remote sequence number is
//     krb5.ErrBadOrder (an absent one reads as 0; Heimdal's sign-mangled
//     encodings are tolerated as MIT does).
//
// Once the cipher state is chained, a replayed or reordered KRB-PRIV
// normally fails the integrity check (its state does not match) before
// its sequence number is looked at.
//
// An error leaves the session exactly as it was: neither the sequence
// number nor the cipher state moves, so a failed message cannot be used to
// skew later ones. (MIT's dk enctypes advance the cipher state even when the
// integrity check fails; MIT kpropd aborts the transfer on any error, so
// the difference is not observable.)
//
// openPriv does not allocate in steady state (chained state, dst with room
// for the data; the plaintext goes through a buffer the session keeps and
// grows to the largest message seen). dst may overlap msg. On error dst is
// returned unchanged.
func (s *session) openPriv(dst, msg []byte) ([]byte, error) {
	ct, err := s.privCiphertext(msg)
	if err != nil {
		return dst, err
	}
	if cap(s.scratch) < len(ct) {
		s.scratch = make([]byte, len(ct))
	}
	der, err := s.priv.Open(s.scratch[:len(ct)], ct, s.chained)
	if err != nil {
		return dst, cryptoErr(err)
	}
	body, err := s.privBody(der)
	if err != nil {
		return dst, err
	}
	sane, heimdal, err := s.checkSeq(body.seq)
	if err != nil {
		return dst, err
	}
	if s.chained {
		s.priv.Commit()
	}
	s.acceptSeq(sane, heimdal)
	return append(dst, body.userData...), nil
}

// privCiphertext runs openPriv's checks of a message before decryption:
// a KRB-ERROR, the KRB-PRIV envelope and its etype. It returns the
// ciphertext, pointing into msg. It only reads the session.
func (s *session) privCiphertext(msg []byte) ([]byte, error) {
	if re, ok := parseKRBError(msg); ok {
		return nil, re
	}
	if !isAppTag(msg, tagKRBPriv) {
		return nil, fmt.Errorf("%w (KRB-PRIV expected)", krb5.ErrMsgType)
	}
	etype, ct, err := parsePriv(msg)
	if err != nil {
		return nil, err
	}
	if etype != s.key.KeyType && etype != kcrypto.EnctypeUnknown {
		return nil, fmt.Errorf("%w: KRB-PRIV in %s, session key is %s",
			ErrBadEnctype, krb5.Enctype(etype).String(), krb5.Enctype(s.key.KeyType).String())
	}
	return ct, nil
}

// privBody runs openPriv's checks of the decrypted EncKrbPrivPart that
// need no order: its encoding and its r-address. It only reads the
// session.
func (s *session) privBody(der []byte) (privSafeBody, error) {
	body, err := parseBody(der, idEncPrivPart)
	if err != nil {
		return body, err
	}
	return body, s.checkRAddr(&body)
}

// acceptSeq advances the remote sequence number past an accepted message
// and adopts the sanity flags checkSeq returned for it.
func (s *session) acceptSeq(sane, heimdal bool) {
	s.remoteSeq++
	s.seqSane, s.seqHeimdal = sane, heimdal
}

// parsePriv decodes KRB-PRIV ::= [APPLICATION 21] SEQUENCE { pvno[0],
// msg-type[1], enc-part[3] EncryptedData } and returns the enc-part's etype
// and cipher, pointing into msg.
func parsePriv(msg []byte) (etype int32, cipher []byte, err error) {
	f, err := parseEnvelope(msg, tagKRBPriv)
	if err != nil {
		return 0, nil, err
	}
	ec, err := f.required(3)
	if err != nil {
		return 0, nil, err
	}
	sc, err := parseOnly(ec, idSequence)
	if err != nil {
		return 0, nil, err
	}
	e := seqFields{rest: sc}
	c, err := e.required(0)
	if err != nil {
		return 0, nil, err
	}
	if etype, err = explicitInt32(c); err != nil {
		return 0, nil, err
	}
	if c, ok, err := e.field(1); err != nil {
		return 0, nil, err
	} else if ok {
		if _, err := explicitInt32(c); err != nil { // kvno, ignored
			return 0, nil, err
		}
	}
	if c, err = e.required(2); err != nil {
		return 0, nil, err
	}
	cipher, err = explicitOctets(c)
	return etype, cipher, err
}

// checkRAddr checks the optional r-address of a received KRB-SAFE or
// KRB-PRIV against the local address (MIT's k5_privsafe_check_addrs; the
// s-address is compared only with a remote address, which kprop and kpropd
// never set).
func (s *session) checkRAddr(b *privSafeBody) error {
	if b.hasRAddr && !sameAddr(b.rAddr, s.localAddr) {
		return fmt.Errorf("%w: r-address type %d %x is not ours", krb5.ErrBadAddr, b.rAddr.typ, b.rAddr.addr)
	}
	return nil
}

// checkSeq checks a received sequence number (MIT's
// k5_privsafe_check_seqnum) and returns the sanity flags to adopt if the
// message is accepted, without changing the session.
func (s *session) checkSeq(seq uint32) (sane, heimdal bool, err error) {
	ok, sane, heimdal := checkSeqNum(s.remoteSeq, seq, s.seqSane, s.seqHeimdal)
	if !ok {
		return false, false, fmt.Errorf("%w: sequence number %d, expected %d", krb5.ErrBadOrder, seq, s.remoteSeq)
	}
	return sane, heimdal, nil
}

// sameAddr compares addresses as MIT's krb5_address_compare: type, length
// and bytes. With no local address set MIT would search all of the host's
// addresses; a session always has one in practice, and without one any
// r-address is refused.
func sameAddr(a hostAddr, local types.HostAddress) bool {
	return len(local.Address) > 0 && a.typ == local.AddrType && bytes.Equal(a.addr, local.Address)
}

// checkSeqNum decides whether a received sequence number in is acceptable
// when exp is expected, following MIT's k5_privsafe_check_seqnum: an exact
// match always passes (unless the peer is known to be Heimdal and the value
// is in the ambiguous range), and, until the peer is known to encode
// sequence numbers correctly ("sane"), the sign-extended forms that old
// Heimdal produced for counters 0x80..0xff, 0x8000..0xffff and
// 0x800000..0xffffff are accepted too. It returns the updated sane/heimdal
// knowledge about the peer.
func checkSeqNum(exp, in uint32, sane, heimdal bool) (ok, sane2, heimdal2 bool) {
	if sane {
		return in == exp, sane, heimdal
	}
	if in&0xff800000 == 0xff800000 {
		switch {
		case exp&0xff800000 == 0xff800000 && in == exp:
			return true, sane, heimdal
		case !heimdal && in == exp:
			return true, sane, heimdal
		case heimdalForm(exp, in):
			return true, sane, true
		}
		return false, sane, heimdal
	}
	if in == exp {
		if exp&0xffffff80 == 0x80 || exp&0xffff8000 == 0x8000 || exp&0xff800000 == 0x800000 {
			sane = true
		}
		return true, sane, heimdal
	}
	// A Heimdal peer whose counter started in the ambiguous range wraps
	// through "zero" at one of these values. MIT accepts the message and
	// marks the peer, but its expected counter simply advances to 1.
	if exp == 0 && !heimdal {
		switch in {
		case 0x100, 0x10000, 0x1000000:
			return true, sane, true
		}
	}
	return false, sane, heimdal
}

// heimdalForm reports whether in is exp as an old Heimdal sender encoded it:
// without the leading zero octet, so that the decoder sign-extends it.
func heimdalForm(exp, in uint32) bool {
	for _, w := range [...]struct{ top, bit, low uint32 }{
		{0xff800000, 0x00800000, 0x00ffffff},
		{0xffff8000, 0x00008000, 0x0000ffff},
		{0xffffff80, 0x00000080, 0x000000ff},
	} {
		if exp&w.top == w.bit && in&w.top == w.top && in&w.low == exp {
			return true
		}
	}
	return false
}
