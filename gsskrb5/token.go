package gsskrb5

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/krb5"
)

// Key usages of RFC 4121 section 2.
const (
	usageAcceptorSeal  = 22
	usageAcceptorSign  = 23
	usageInitiatorSeal = 24
	usageInitiatorSign = 25
)

// Token identifiers and flags of RFC 4121 per-message tokens.
const (
	tokMIC  = 0x0404
	tokWrap = 0x0504

	flagSentByAcceptor = 0x01
	flagSealed         = 0x02
	flagAcceptorSubkey = 0x04

	tokenHeaderLen = 16
)

// MaxTokenSize bounds the tokens Unwrap and VerifyMIC accept and the
// messages Wrap and GetMIC protect: 256 MiB, the largest record an
// oncrpc.Client reads by default (MIT's MAXLOGLEN).
const MaxTokenSize = 256 << 20

// tokenKey is a key that protects RFC 4121 tokens: its enctype's row of
// the module's enctype table and its mandatory checksum.
type tokenKey struct {
	etype int32
	value []byte
	spec  *kcrypto.Spec
	cksum *kcrypto.Checksum
}

// newTokenKey checks that k can protect RFC 4121 tokens: an implemented
// enctype of the table, with its key length and an implemented mandatory
// checksum, and not one of the enctypes RFC 4121 leaves to RFC 1964's
// token formats (des3-cbc-sha1, arcfour-hmac), which this package does not
// implement.
func newTokenKey(k types.EncryptionKey) (*tokenKey, error) {
	spec := kcrypto.Lookup(k.KeyType)
	name := krb5.Enctype(k.KeyType).String()
	if !spec.Implemented() {
		return nil, fmt.Errorf("gsskrb5: enctype %s: %w", name, krb5.ErrUnsupportedEnctype)
	}
	switch spec.Family {
	case kcrypto.FamDES3, kcrypto.FamRC4, kcrypto.FamAny:
		return nil, fmt.Errorf("gsskrb5: enctype %s needs RFC 1964 tokens, which are not implemented: %w", name, krb5.ErrUnsupportedEnctype)
	}
	if len(k.KeyValue) != spec.KeyLen {
		return nil, fmt.Errorf("gsskrb5: %s key of %d bytes: %w", name, len(k.KeyValue), kcrypto.ErrBadKeysize)
	}
	ck := kcrypto.LookupChecksum(spec.CksumType)
	if ck == nil || !ck.Implemented() {
		return nil, fmt.Errorf("gsskrb5: checksum type %d of %s: %w", spec.CksumType, name, krb5.ErrUnsupportedEnctype)
	}
	return &tokenKey{etype: k.KeyType, value: append([]byte(nil), k.KeyValue...), spec: spec, cksum: ck}, nil
}

func (k *tokenKey) checksum(usage uint32, parts ...[]byte) ([]byte, error) {
	var data []byte
	if len(parts) == 1 {
		data = parts[0]
	} else {
		n := 0
		for _, p := range parts {
			n += len(p)
		}
		data = make([]byte, 0, n)
		for _, p := range parts {
			data = append(data, p...)
		}
	}
	sum, err := k.cksum.Sum(k.value, usage, data)
	if err != nil {
		return nil, err
	}
	if len(sum) != k.cksum.Size {
		return nil, fmt.Errorf("gsskrb5: checksum of %d bytes, want %d", len(sum), k.cksum.Size)
	}
	return sum, nil
}

// tokenCtx is the per-message state of an established context, from one
// side's point of view: which key protects tokens in each direction, the
// next sequence number to send and the received numbers.
type tokenCtx struct {
	initiator bool
	// send protects our tokens; it is the acceptor's subkey when the
	// acceptor asserted one.
	send *tokenKey
	// initKey and acceptorKey verify the peer's tokens: the initiator's
	// subkey, and the acceptor's subkey (nil when none was asserted).
	initKey, acceptorKey *tokenKey
	sendSeq              uint64
	recv                 *seqState
}

// header fills hdr with the token header for tokID, flags and our next
// sequence number. ec and rrc are set only for Wrap tokens.
func (t *tokenCtx) header(hdr []byte, tokID uint16, flags byte) {
	binary.BigEndian.PutUint16(hdr[0:], tokID)
	hdr[2] = flags
	if !t.initiator {
		hdr[2] |= flagSentByAcceptor
	}
	if t.acceptorKey != nil {
		hdr[2] |= flagAcceptorSubkey
	}
	for i := 3; i < 8; i++ {
		hdr[i] = 0xff
	}
	binary.BigEndian.PutUint64(hdr[8:], t.sendSeq)
}

func (t *tokenCtx) usage(seal, ours bool) uint32 {
	fromInitiator := t.initiator == ours
	switch {
	case seal && fromInitiator:
		return usageInitiatorSeal
	case seal:
		return usageAcceptorSeal
	case fromInitiator:
		return usageInitiatorSign
	default:
		return usageAcceptorSign
	}
}

// getMIC makes a MIC token (RFC 4121 section 4.2.6.1) over msg.
func (t *tokenCtx) getMIC(msg []byte) ([]byte, error) {
	if len(msg) > MaxTokenSize {
		return nil, fmt.Errorf("gsskrb5: message of %d bytes exceeds %d", len(msg), MaxTokenSize)
	}
	tok := make([]byte, tokenHeaderLen, tokenHeaderLen+t.send.cksum.Size)
	t.header(tok, tokMIC, 0)
	sum, err := t.send.checksum(t.usage(false, true), msg, tok)
	if err != nil {
		return nil, err
	}
	t.sendSeq++
	return append(tok, sum...), nil
}

// wrap makes a Wrap token (RFC 4121 section 4.2.6.2) carrying msg,
// sealed when conf is set. Like MIT's gss_wrap it sends EC = 0 and
// RRC = 0 when sealing: the ciphertext is E(msg | header), and the header
// copy inside it is the token's own header. Without confidentiality the
// token is header | msg | checksum(msg | header with EC and RRC zero),
// with EC holding the checksum's length.
func (t *tokenCtx) wrap(msg []byte, conf bool) ([]byte, error) {
	if len(msg) > MaxTokenSize {
		return nil, fmt.Errorf("gsskrb5: message of %d bytes exceeds %d", len(msg), MaxTokenSize)
	}
	var hdr [tokenHeaderLen]byte
	if conf {
		t.header(hdr[:], tokWrap, flagSealed)
		binary.BigEndian.PutUint32(hdr[4:], 0) // EC = 0, RRC = 0
		plain := make([]byte, 0, len(msg)+tokenHeaderLen)
		plain = append(append(plain, msg...), hdr[:]...)
		_, ct, err := t.send.spec.EType.EncryptMessage(t.send.value, plain, t.usage(true, true))
		clear(plain)
		if err != nil {
			return nil, fmt.Errorf("gsskrb5: encrypt with %s: %w", t.send.spec.Name, err)
		}
		t.sendSeq++
		tok := make([]byte, 0, tokenHeaderLen+len(ct))
		return append(append(tok, hdr[:]...), ct...), nil
	}
	t.header(hdr[:], tokWrap, 0)
	binary.BigEndian.PutUint32(hdr[4:], 0) // EC and RRC are zero in the checksummed header
	sum, err := t.send.checksum(t.usage(false, true), msg, hdr[:])
	if err != nil {
		return nil, err
	}
	t.sendSeq++
	binary.BigEndian.PutUint16(hdr[4:], uint16(len(sum)))
	tok := make([]byte, 0, tokenHeaderLen+len(msg)+len(sum))
	return append(append(append(tok, hdr[:]...), msg...), sum...), nil
}

// peerKey checks a received token's direction flag and picks the key that
// protects it. As the initiator we require the AcceptorSubkey flag
// exactly when the acceptor asserted a subkey (MIT's acceptor always sets
// it then; MIT's initiator tolerates its absence, noting that it could
// enforce it).
func (t *tokenCtx) peerKey(flags byte) (*tokenKey, error) {
	fromAcceptor := flags&flagSentByAcceptor != 0
	if fromAcceptor != t.initiator {
		return nil, ErrBadDirection
	}
	sub := flags&flagAcceptorSubkey != 0
	switch {
	case t.acceptorKey != nil && sub:
		return t.acceptorKey, nil
	case t.initiator && t.acceptorKey != nil:
		return nil, fmt.Errorf("%w: token not protected with the acceptor's subkey", ErrBadMIC)
	case t.initiator && sub:
		return nil, fmt.Errorf("%w: token claims an acceptor subkey that was never asserted", ErrBadMIC)
	default:
		return t.initKey, nil
	}
}

// verifyMIC checks a MIC token over msg, then its sequence number.
func (t *tokenCtx) verifyMIC(msg, tok []byte) error {
	if len(tok) < tokenHeaderLen || len(tok) > MaxTokenSize {
		return fmt.Errorf("%w: MIC token of %d bytes", ErrDefectiveToken, len(tok))
	}
	if binary.BigEndian.Uint16(tok) != tokMIC || tok[3] != 0xff || binary.BigEndian.Uint32(tok[4:]) != 0xffffffff {
		return fmt.Errorf("%w: not a MIC token", ErrDefectiveToken)
	}
	key, err := t.peerKey(tok[2])
	if err != nil {
		return err
	}
	sum := tok[tokenHeaderLen:]
	if len(sum) != key.cksum.Size {
		return fmt.Errorf("%w: checksum of %d bytes, want %d", ErrBadMIC, len(sum), key.cksum.Size)
	}
	want, err := key.checksum(t.usage(false, false), msg, tok[:tokenHeaderLen])
	if err != nil {
		return err
	}
	if !hmac.Equal(sum, want) {
		return ErrBadMIC
	}
	return t.recv.check(binary.BigEndian.Uint64(tok[8:]))
}

// unwrap opens a Wrap token and returns its message and whether it was
// sealed. Any RRC is accepted (the token body is rotated back), as is any
// EC that fits, as MIT's gss_unwrap accepts them.
func (t *tokenCtx) unwrap(tok []byte) ([]byte, bool, error) {
	if len(tok) < tokenHeaderLen || len(tok) > MaxTokenSize {
		return nil, false, fmt.Errorf("%w: Wrap token of %d bytes", ErrDefectiveToken, len(tok))
	}
	if binary.BigEndian.Uint16(tok) != tokWrap || tok[3] != 0xff {
		return nil, false, fmt.Errorf("%w: not a Wrap token", ErrDefectiveToken)
	}
	flags := tok[2]
	key, err := t.peerKey(flags)
	if err != nil {
		return nil, false, err
	}
	ec := int(binary.BigEndian.Uint16(tok[4:]))
	rrc := int(binary.BigEndian.Uint16(tok[6:]))
	seq := binary.BigEndian.Uint64(tok[8:])
	// A copy: the decryptors work in place, and the caller's token
	// must survive a failed check.
	body := rotatedCopy(tok[tokenHeaderLen:], rrc)

	var msg []byte
	sealed := flags&flagSealed != 0
	if sealed {
		pt, err := key.spec.Decrypt(key.value, body, t.usage(true, false))
		if err != nil {
			if errors.Is(err, kcrypto.ErrIntegrity) {
				return nil, false, fmt.Errorf("%w: %v", ErrBadMIC, err)
			}
			return nil, false, err
		}
		if len(pt) < tokenHeaderLen+ec {
			return nil, false, fmt.Errorf("%w: %d-byte plaintext with EC %d", ErrDefectiveToken, len(pt), ec)
		}
		inner := pt[len(pt)-tokenHeaderLen:]
		// The encrypted header copy must repeat the token identifier,
		// flags, filler, EC and sequence number; only RRC may differ (the
		// sender rotates after encrypting). MIT does not compare EC, but
		// it sends EC = 0 in both copies, and the outer EC is not
		// integrity-protected: trusting it alone would let a forger cut
		// bytes off the message.
		if [6]byte(inner[:6]) != [6]byte(tok[:6]) || [8]byte(inner[8:]) != [8]byte(tok[8:16]) {
			return nil, false, fmt.Errorf("%w: encrypted header does not match the token's", ErrDefectiveToken)
		}
		msg = pt[:len(pt)-tokenHeaderLen-ec]
	} else {
		if ec != key.cksum.Size || ec > len(body) {
			return nil, false, fmt.Errorf("%w: EC %d for a %d-byte checksum", ErrBadMIC, ec, key.cksum.Size)
		}
		data, sum := body[:len(body)-ec], body[len(body)-ec:]
		var hdr [tokenHeaderLen]byte
		copy(hdr[:], tok)
		binary.BigEndian.PutUint32(hdr[4:], 0)
		want, err := key.checksum(t.usage(false, false), data, hdr[:])
		if err != nil {
			return nil, false, err
		}
		if !hmac.Equal(sum, want) {
			return nil, false, ErrBadMIC
		}
		msg = data
	}
	if err := t.recv.check(seq); err != nil {
		return nil, false, err
	}
	return msg, sealed, nil
}

// rotatedCopy returns a copy of b rotated left by n modulo its length
// (RFC 4121 section 4.2.5: the receiver undoes the sender's right
// rotation by RRC).
func rotatedCopy(b []byte, n int) []byte {
	out := make([]byte, 0, len(b))
	if len(b) == 0 {
		return out
	}
	n %= len(b)
	return append(append(out, b[n:]...), b[:n]...)
}
