package kcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/jcmturner/gokrb5/v8/crypto/common"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"

	"github.com/gokprop/gokprop/internal/rfc6803"
)

// MessageCipher is the KRB-PRIV encryption of one enctype for one session
// key and key usage, together with MIT's cipher state (the i_vector of
// krb5_auth_con_initivector). Keys are derived once, when it is built, by
// Spec.NewCipher.
//
// The ciphertext of a message holds PrefixLen bytes (confounder, and for
// RC4 the checksum), then the DER plaintext, then padding and trailer.
//
// With chained false a call uses the enctype's initial state and leaves the
// session state alone (MIT's NULL cstate). With chained true, Seal updates
// the state at once, while Open only computes the state after the message
// and holds it until Commit, so that a message that fails any later check
// leaves the session as it was.
type MessageCipher interface {
	// PrefixLen is the number of ciphertext bytes before the DER.
	PrefixLen() int
	// SealLen is the ciphertext length for n bytes of DER.
	SealLen(n int) int
	// Seal encrypts in place. ct has length SealLen(n) and holds the DER at
	// ct[PrefixLen():PrefixLen()+n]; Seal writes the confounder (read from
	// rand), padding and checksum around it.
	Seal(ct []byte, n int, rand io.Reader, chained bool) error
	// Open verifies and decrypts ct into pt (len(pt) >= len(ct)) and returns
	// the decrypted DER, followed by any padding. A failed integrity check
	// is ErrIntegrity, a ciphertext of impossible length ErrBadMsize.
	Open(pt, ct []byte, chained bool) ([]byte, error)
	// Commit adopts the state computed by the last successful Open.
	Commit()
	// Reset puts the state back to the enctype's initial state.
	Reset()
}

// ---- AES-CBC with ciphertext stealing (RFC 3962) ----

// ivSetter is implemented by the standard library's CBC modes; it lets one
// BlockMode be reused with a new IV instead of allocating another.
type ivSetter interface{ SetIV([]byte) }

// cbcMode holds a block cipher, reusable CBC encrypter and decrypter, and
// scratch blocks. The scratch lives here, not on the stack, because slices
// of it are handed to interface methods and would otherwise escape (one
// allocation per message).
type cbcMode struct {
	b            cipher.Block
	enc, dec     cipher.BlockMode
	iv, prev     [16]byte
	b1, b2, x, p [16]byte
}

func newCBCMode(b cipher.Block) cbcMode {
	iv := make([]byte, b.BlockSize())
	return cbcMode{b: b, enc: cipher.NewCBCEncrypter(b, iv), dec: cipher.NewCBCDecrypter(b, iv)}
}

// encrypter returns the CBC encrypter set to iv.
func (m *cbcMode) encrypter(iv []byte) cipher.BlockMode {
	if s, ok := m.enc.(ivSetter); ok {
		s.SetIV(iv)
		return m.enc
	}
	return cipher.NewCBCEncrypter(m.b, iv)
}

// decrypter returns the CBC decrypter set to iv.
func (m *cbcMode) decrypter(iv []byte) cipher.BlockMode {
	if s, ok := m.dec.(ivSetter); ok {
		s.SetIV(iv)
		return m.dec
	}
	return cipher.NewCBCDecrypter(m.b, iv)
}

func xor16(dst, src *[16]byte) {
	for i := range dst {
		dst[i] ^= src[i]
	}
}

// ctsEncrypt encrypts src into dst (same length; they may be the same
// slice) with CBC and ciphertext stealing (RFC 3962) starting from cipher
// state iv, and returns the next state as MIT's builtin provider leaves it:
// the last full ciphertext block before the final (possibly short) one.
// Input of one block or less is encrypted with a zero IV and leaves the
// state unchanged, as in MIT. The block size must be 16.
func (m *cbcMode) ctsEncrypt(dst, src []byte, iv [16]byte) [16]byte {
	n := len(src)
	if n <= 16 {
		m.b1 = [16]byte{}
		copy(m.b1[:], src)
		m.b.Encrypt(m.b1[:], m.b1[:])
		copy(dst, m.b1[:n])
		return iv
	}
	full := ((n+15)/16 - 2) * 16 // bytes before the last two blocks
	last := n - full - 16        // length of the final block, 1..16
	m.iv = iv
	m.b1 = [16]byte{}
	copy(m.b2[:], src[full:full+16])
	copy(m.b1[:], src[full+16:]) // zero padded
	if full > 0 {
		m.encrypter(m.iv[:]).CryptBlocks(dst[:full], src[:full])
		copy(m.iv[:], dst[full-16:full])
	}
	xor16(&m.b2, &m.iv)
	m.b.Encrypt(m.b2[:], m.b2[:])
	xor16(&m.b1, &m.b2)
	m.b.Encrypt(m.b1[:], m.b1[:])
	copy(dst[full:], m.b1[:])
	copy(dst[full+16:], m.b2[:last])
	return m.b1
}

// ctsDecrypt is the inverse of ctsEncrypt, from any cipher state iv. It
// returns the next state: the second-to-last ciphertext block. dst and src
// must be the same slice or not overlap.
func (m *cbcMode) ctsDecrypt(dst, src []byte, iv [16]byte) [16]byte {
	n := len(src)
	if n <= 16 {
		m.b1 = [16]byte{}
		copy(m.b1[:], src)
		m.b.Decrypt(m.b1[:], m.b1[:])
		copy(dst, m.b1[:n])
		return iv
	}
	full := ((n+15)/16 - 2) * 16
	last := n - full - 16
	m.b1 = [16]byte{}
	copy(m.b2[:], src[full:full+16])
	copy(m.b1[:], src[full+16:])
	m.iv, m.prev = iv, iv
	if full > 0 {
		copy(m.prev[:], src[full-16:full])
		m.decrypter(m.iv[:]).CryptBlocks(dst[:full], src[:full])
	}
	next := m.b2
	// D(c2) is the zero-padded final plaintext block XOR the CBC output e2
	// whose head was stolen, so its tail completes e2 (held in b1) and its
	// head XOR c1 is the final plaintext.
	m.b.Decrypt(m.x[:], m.b2[:])
	copy(m.b1[last:], m.x[last:])
	for i := 0; i < last; i++ {
		m.x[i] ^= m.b1[i]
	}
	m.b.Decrypt(m.p[:], m.b1[:])
	xor16(&m.p, &m.prev)
	copy(dst[full:], m.p[:])
	copy(dst[full+16:], m.x[:last])
	return next
}

// macSum computes h over the given parts into buf and returns it.
func macSum(h hash.Hash, buf []byte, parts ...[]byte) []byte {
	h.Reset()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(buf[:0])
}

// deriveUsageKeys returns Ke and Ki for usage with the enctype's RFC 3961 /
// RFC 8009 key derivation.
func deriveUsageKeys(e etype.EType, key []byte, usage uint32) (ke, ki []byte, err error) {
	if ke, err = e.DeriveKey(key, common.GetUsageKe(usage)); err != nil {
		return nil, nil, err
	}
	if ki, err = e.DeriveKey(key, common.GetUsageKi(usage)); err != nil {
		return nil, nil, err
	}
	return ke, ki, nil
}

// ---- aes128/256-cts-hmac-sha1-96 (RFC 3962, MIT enc_dk_hmac.c) ----

// aesSHA1Priv: C = CTS(Ke, state, conf|DER), H = HMAC-SHA1(Ki, conf|DER)[:12].
type aesSHA1Priv struct {
	cbc            cbcMode
	mac            hash.Hash
	state, pending [16]byte
	sum            [sha1.Size]byte
}

const aesSHA1Trailer = 12

func newAESSHA1Priv(e etype.EType, key []byte, usage uint32) (MessageCipher, error) {
	ke, ki, err := deriveUsageKeys(e, key, usage)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(ke)
	if err != nil {
		return nil, err
	}
	return &aesSHA1Priv{cbc: newCBCMode(b), mac: hmac.New(sha1.New, ki)}, nil
}

func (c *aesSHA1Priv) PrefixLen() int    { return aes.BlockSize }
func (c *aesSHA1Priv) SealLen(n int) int { return aes.BlockSize + n + aesSHA1Trailer }
func (c *aesSHA1Priv) Reset()            { c.state = [16]byte{} }
func (c *aesSHA1Priv) Commit()           { c.state = c.pending }

func (c *aesSHA1Priv) Seal(ct []byte, n int, rand io.Reader, chained bool) error {
	p := ct[:aes.BlockSize+n]
	if _, err := io.ReadFull(rand, p[:aes.BlockSize]); err != nil {
		return fmt.Errorf("confounder: %w", err)
	}
	h := macSum(c.mac, c.sum[:], p)
	var iv [16]byte
	if chained {
		iv = c.state
	}
	next := c.cbc.ctsEncrypt(p, p, iv)
	copy(ct[len(p):], h[:aesSHA1Trailer])
	if chained {
		c.state = next
	}
	return nil
}

func (c *aesSHA1Priv) Open(pt, ct []byte, chained bool) ([]byte, error) {
	if len(ct) < aes.BlockSize+aesSHA1Trailer {
		return nil, ErrBadMsize
	}
	body, tag := ct[:len(ct)-aesSHA1Trailer], ct[len(ct)-aesSHA1Trailer:]
	var iv [16]byte
	if chained {
		iv = c.state
	}
	p := pt[:len(body)]
	next := c.cbc.ctsDecrypt(p, body, iv)
	if !hmac.Equal(macSum(c.mac, c.sum[:], p)[:aesSHA1Trailer], tag) {
		return nil, ErrIntegrity
	}
	c.pending = next
	return p[aes.BlockSize:], nil
}

// ---- aes128-cts-hmac-sha256-128 / aes256-cts-hmac-sha384-192 (RFC 8009, MIT enc_etm.c) ----

// aesSHA2Priv: C = CTS(Ke, state, conf|DER), H = HMAC(Ki, state|C)[:16/24],
// where state is the cipher state before the message.
type aesSHA2Priv struct {
	cbc            cbcMode
	mac            hash.Hash
	trailer        int
	state, pending [16]byte
	before         [16]byte // the state a message started from, for the HMAC
	sum            [sha512.Size]byte
}

func newAESSHA2Priv(e etype.EType, key []byte, usage uint32) (MessageCipher, error) {
	h, trailer := sha256.New, 16
	if len(key) == 32 {
		h, trailer = sha512.New384, 24
	}
	ke, ki, err := deriveUsageKeys(e, key, usage)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(ke)
	if err != nil {
		return nil, err
	}
	return &aesSHA2Priv{cbc: newCBCMode(b), mac: hmac.New(h, ki), trailer: trailer}, nil
}

func (c *aesSHA2Priv) PrefixLen() int    { return aes.BlockSize }
func (c *aesSHA2Priv) SealLen(n int) int { return aes.BlockSize + n + c.trailer }
func (c *aesSHA2Priv) Reset()            { c.state = [16]byte{} }
func (c *aesSHA2Priv) Commit()           { c.state = c.pending }

func (c *aesSHA2Priv) Seal(ct []byte, n int, rand io.Reader, chained bool) error {
	p := ct[:aes.BlockSize+n]
	if _, err := io.ReadFull(rand, p[:aes.BlockSize]); err != nil {
		return fmt.Errorf("confounder: %w", err)
	}
	var iv [16]byte
	if chained {
		iv = c.state
	}
	next := c.cbc.ctsEncrypt(p, p, iv)
	c.before = iv
	h := macSum(c.mac, c.sum[:], c.before[:], p)
	copy(ct[len(p):], h[:c.trailer])
	if chained {
		c.state = next
	}
	return nil
}

func (c *aesSHA2Priv) Open(pt, ct []byte, chained bool) ([]byte, error) {
	if len(ct) < aes.BlockSize+c.trailer {
		return nil, ErrBadMsize
	}
	body, tag := ct[:len(ct)-c.trailer], ct[len(ct)-c.trailer:]
	var iv [16]byte
	if chained {
		iv = c.state
	}
	c.before = iv
	if !hmac.Equal(macSum(c.mac, c.sum[:], c.before[:], body)[:c.trailer], tag) {
		return nil, ErrIntegrity
	}
	p := pt[:len(body)]
	c.pending = c.cbc.ctsDecrypt(p, body, iv)
	return p[aes.BlockSize:], nil
}

// ---- des3-cbc-sha1 (RFC 3961, MIT enc_dk_hmac.c + builtin des3) ----

// des3Priv: P = conf(8)|DER|zero pad to 8, C = 3DES-CBC(Ke, state, P),
// H = HMAC-SHA1(Ki, P); the next state is the last ciphertext block.
type des3Priv struct {
	cbc            cbcMode
	mac            hash.Hash
	state, pending [des.BlockSize]byte
	sum            [sha1.Size]byte
}

func newDES3Priv(e etype.EType, key []byte, usage uint32) (MessageCipher, error) {
	ke, ki, err := deriveUsageKeys(e, key, usage)
	if err != nil {
		return nil, err
	}
	b, err := des.NewTripleDESCipher(ke)
	if err != nil {
		return nil, err
	}
	return &des3Priv{cbc: newCBCMode(b), mac: hmac.New(sha1.New, ki)}, nil
}

func (c *des3Priv) PrefixLen() int { return des.BlockSize }
func (c *des3Priv) SealLen(n int) int {
	p := des.BlockSize + n
	return (p+des.BlockSize-1)/des.BlockSize*des.BlockSize + sha1.Size
}
func (c *des3Priv) Reset()  { c.state = [des.BlockSize]byte{} }
func (c *des3Priv) Commit() { c.state = c.pending }

func (c *des3Priv) Seal(ct []byte, n int, rand io.Reader, chained bool) error {
	p := ct[:len(ct)-sha1.Size]
	if _, err := io.ReadFull(rand, p[:des.BlockSize]); err != nil {
		return fmt.Errorf("confounder: %w", err)
	}
	clear(p[des.BlockSize+n:])
	h := macSum(c.mac, c.sum[:], p)
	iv := c.cbc.iv[:des.BlockSize]
	clear(iv)
	if chained {
		copy(iv, c.state[:])
	}
	c.cbc.encrypter(iv).CryptBlocks(p, p)
	copy(ct[len(p):], h)
	if chained {
		copy(c.state[:], p[len(p)-des.BlockSize:])
	}
	return nil
}

func (c *des3Priv) Open(pt, ct []byte, chained bool) ([]byte, error) {
	if len(ct) < des.BlockSize+sha1.Size {
		return nil, ErrBadMsize
	}
	body, tag := ct[:len(ct)-sha1.Size], ct[len(ct)-sha1.Size:]
	if len(body)%des.BlockSize != 0 {
		return nil, ErrBadMsize
	}
	iv := c.cbc.iv[:des.BlockSize]
	clear(iv)
	if chained {
		copy(iv, c.state[:])
	}
	p := pt[:len(body)]
	copy(c.pending[:], body[len(body)-des.BlockSize:])
	c.cbc.decrypter(iv).CryptBlocks(p, body)
	if !hmac.Equal(macSum(c.mac, c.sum[:], p), tag) {
		return nil, ErrIntegrity
	}
	return p[des.BlockSize:], nil
}

// ---- arcfour-hmac (RFC 4757, MIT enc_rc4.c + builtin rc4.c) ----

// rc4Priv: K1 = HMAC-MD5(K, LE32(usage)); CK = HMAC-MD5(K1, conf(8)|DER);
// output CK | RC4(conf|DER). The RC4 stream is keyed with
// K3 = HMAC-MD5(K1, CK) of the first message after the state was
// initialised, and then continues across messages (MIT keeps the RC4
// context in the cipher state and re-keys only while it is uninitialised).
type rc4Priv struct {
	mac  hash.Hash // HMAC-MD5 keyed with K1
	cur  *rc4.Cipher
	tmp  *rc4.Cipher
	init bool // cur holds a keyed stream

	pending *rc4.Cipher // stream after the last successful open, or nil
	sum     [md5.Size]byte
}

const rc4Conf = 8

func newRC4Priv(_ etype.EType, key []byte, usage uint32) (MessageCipher, error) {
	// MIT translates RFC 4120 usages to Microsoft's message types; 13 and
	// 15 are their own translation (enc_rc4.c:krb5int_arcfour_translate_usage).
	var salt [4]byte
	binary.LittleEndian.PutUint32(salt[:], rc4Usage(usage))
	k1 := hmac.New(md5.New, key)
	k1.Write(salt[:])
	return &rc4Priv{mac: hmac.New(md5.New, k1.Sum(nil)), cur: new(rc4.Cipher), tmp: new(rc4.Cipher)}, nil
}

// rc4Usage is MIT's krb5int_arcfour_translate_usage.
func rc4Usage(u uint32) uint32 {
	switch u {
	case 3:
		return 8
	case 23:
		return 13
	}
	return u
}

func (c *rc4Priv) PrefixLen() int    { return md5.Size + rc4Conf }
func (c *rc4Priv) SealLen(n int) int { return md5.Size + rc4Conf + n }
func (c *rc4Priv) Reset()            { c.init = false }

func (c *rc4Priv) Commit() {
	if c.pending == nil {
		return
	}
	if c.pending == c.tmp {
		c.cur, c.tmp = c.tmp, c.cur
	} else {
		*c.cur = *c.pending
	}
	c.init = true
	c.pending = nil
}

// keyed returns a new RC4 stream keyed with K3 = HMAC-MD5(K1, ck).
func (c *rc4Priv) keyed(ck []byte) *rc4.Cipher {
	k3 := macSum(c.mac, c.sum[:], ck)
	s, _ := rc4.NewCipher(k3) // cannot fail for a 16-byte key
	return s
}

func (c *rc4Priv) Seal(ct []byte, n int, rand io.Reader, chained bool) error {
	p := ct[md5.Size : md5.Size+rc4Conf+n]
	if _, err := io.ReadFull(rand, p[:rc4Conf]); err != nil {
		return fmt.Errorf("confounder: %w", err)
	}
	copy(ct[:md5.Size], macSum(c.mac, c.sum[:], p))
	var s *rc4.Cipher
	switch {
	case !chained:
		s = c.keyed(ct[:md5.Size])
	case !c.init:
		*c.cur = *c.keyed(ct[:md5.Size])
		c.init = true
		s = c.cur
	default:
		s = c.cur
	}
	s.XORKeyStream(p, p)
	return nil
}

func (c *rc4Priv) Open(pt, ct []byte, chained bool) ([]byte, error) {
	c.pending = nil
	if len(ct) < md5.Size+rc4Conf {
		return nil, ErrBadMsize
	}
	ck, body := ct[:md5.Size], ct[md5.Size:]
	var s *rc4.Cipher
	if chained && c.init {
		*c.tmp = *c.cur
		s = c.tmp
	} else {
		s = c.keyed(ck)
	}
	p := pt[:len(body)]
	s.XORKeyStream(p, body)
	if subtle.ConstantTimeCompare(macSum(c.mac, c.sum[:], p), ck) != 1 {
		return nil, ErrIntegrity
	}
	if chained {
		c.pending = s
	}
	return p[rc4Conf:], nil
}

// ---- camellia128/256-cts-cmac (RFC 6803, MIT enc_dk_cmac.c + builtin camellia) ----

// camelliaPriv adapts rfc6803.MessageCipher, which has this interface's
// shape and MIT's cipher-state rules (see that package's documentation):
// C = CTS(Ke, state, conf|DER) | CMAC(Ki, conf|DER), no padding. It only
// gives rfc6803's errors this package's identities.
type camelliaPriv struct{ *rfc6803.MessageCipher }

func newCamelliaPriv(e etype.EType, key []byte, usage uint32) (MessageCipher, error) {
	et, ok := e.(rfc6803.EType)
	if !ok {
		return nil, ErrUnsupported
	}
	c, err := et.NewMessageCipher(key, usage)
	if err != nil {
		return nil, camelliaErr(err)
	}
	return camelliaPriv{c}, nil
}

func (c camelliaPriv) Seal(ct []byte, n int, rand io.Reader, chained bool) error {
	return camelliaErr(c.MessageCipher.Seal(ct, n, rand, chained))
}

func (c camelliaPriv) Open(pt, ct []byte, chained bool) ([]byte, error) {
	p, err := c.MessageCipher.Open(pt, ct, chained)
	return p, camelliaErr(err)
}

// camelliaErr maps rfc6803's errors to this package's.
func camelliaErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, rfc6803.ErrIntegrity):
		return ErrIntegrity
	case errors.Is(err, rfc6803.ErrMessageSize):
		return ErrBadMsize
	case errors.Is(err, rfc6803.ErrKeySize):
		return ErrBadKeysize
	}
	return err
}
