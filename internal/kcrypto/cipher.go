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

// State is a chained cipher state: the IV the next KRB-PRIV starts from
// (all 16 bytes for AES, the first 8 for des3).
type State [16]byte

// Pipelined is implemented by the MessageCiphers whose KRB-PRIV messages
// can be sealed and opened in a pipeline (the CBC enctypes: aes-sha1,
// aes-sha2, des3). Sealing splits into the part that must run in message
// order, EncryptNext, which advances the chained state, and the tag, which
// a Worker computes beside it (over the plaintext, TagOverPlaintext) or
// after it (over the state and ciphertext). Opening needs no chained state
// at all once the state a message started from is known, and NextState
// tells that from the previous message's ciphertext alone, so successive
// messages can be opened in parallel by several Workers.
//
// The chained-state methods (EncryptNext, ChainState, SetChainState) and
// MessageCipher's methods belong to one goroutine; each Worker to one
// goroutine of its own. They all share the derived keys, which are never
// modified.
type Pipelined interface {
	MessageCipher
	// TagLen is the length of the integrity tag that ends a ciphertext.
	TagLen() int
	// TagOverPlaintext reports whether the tag is computed over the
	// plaintext (aes-sha1, des3), so that a Worker can compute it while
	// EncryptNext encrypts, rather than over the state before the message
	// and the ciphertext body (aes-sha2).
	TagOverPlaintext() bool
	// EncryptNext encrypts plain (PrefixLen confounder bytes, the DER and,
	// for des3, zero padding: SealLen(n)-TagLen bytes) into body, of the
	// same length (they may be the same slice), from the chained state,
	// advances the state as Seal with chained true does and returns the
	// state the message started from.
	EncryptNext(body, plain []byte) (before State)
	// ChainState returns the chained state; SetChainState replaces it,
	// for example with the state a pipeline's last opened message left.
	ChainState() State
	SetChainState(State)
	// NextState returns the state after the message whose ciphertext (tag
	// included) is ct and which started from before, without decrypting
	// it; a ciphertext of impossible length is ErrBadMsize.
	NextState(before State, ct []byte) (State, error)
	// NewWorker returns a Worker with the same keys, for one goroutine.
	NewWorker() Worker
}

// Worker does the parts of sealing and opening that need no chained
// state. A Worker is not safe for concurrent use; make one per goroutine.
type Worker interface {
	// Tag writes the message's integrity tag (TagLen bytes) into tag,
	// from the plaintext or from the state before the message and the
	// ciphertext body, whichever the enctype uses.
	Tag(tag []byte, before State, plain, body []byte)
	// Open verifies and decrypts ct (tag included), which was sealed from
	// state before, into pt (len(pt) >= len(ct)) and returns the DER and
	// any padding, as MessageCipher.Open with that chained state does.
	Open(pt, ct []byte, before State) ([]byte, error)
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

// ---- the AES enctypes: aes128/256-cts-hmac-sha1-96 (RFC 3962, MIT
// enc_dk_hmac.c) and aes128-cts-hmac-sha256-128 / aes256-cts-hmac-sha384-192
// (RFC 8009, MIT enc_etm.c) ----

// aesPriv is the chained message cipher of every AES enctype:
// C = CTS(Ke, state, conf|DER), and H = HMAC-SHA1(Ki, conf|DER)[:12] for
// RFC 3962 or, with etm, H = HMAC(Ki, state|C)[:16/24] for RFC 8009,
// where state is the cipher state before the message.
type aesPriv struct {
	cbc            cbcMode
	w              aesWorker // the parts without chained state, for Seal and Open
	trailer        int       // the tag's length
	etm            bool      // RFC 8009: the tag covers state and ciphertext
	state, pending [16]byte
}

const aesSHA1Trailer = 12

// aesWorker holds the keys of an AES enctype with their own scratch: the
// block cipher (immutable, shared by every worker), a CBC mode and an
// HMAC of its own. etm selects RFC 8009's tag over state|ciphertext over
// RFC 3962's tag over the plaintext.
type aesWorker struct {
	cbc     cbcMode
	mac     hash.Hash
	trailer int
	etm     bool
	newMAC  func() hash.Hash
	before  [16]byte
	sum     [sha512.Size]byte
}

func newAESWorker(b cipher.Block, newMAC func() hash.Hash, trailer int, etm bool) aesWorker {
	return aesWorker{cbc: newCBCMode(b), mac: newMAC(), trailer: trailer, etm: etm, newMAC: newMAC}
}

// clone returns a worker with the same keys and fresh scratch.
func (w *aesWorker) clone() *aesWorker {
	c := newAESWorker(w.cbc.b, w.newMAC, w.trailer, w.etm)
	return &c
}

// Tag writes the integrity tag of a message: HMAC over the plaintext, or
// (etm) over the state before the message and the ciphertext body.
func (w *aesWorker) Tag(tag []byte, before State, plain, body []byte) {
	var h []byte
	if w.etm {
		w.before = before
		h = macSum(w.mac, w.sum[:], w.before[:], body)
	} else {
		h = macSum(w.mac, w.sum[:], plain)
	}
	copy(tag, h[:w.trailer])
}

// Open verifies and decrypts ct, which was sealed from state before, into
// pt and returns the DER; the state after it is nextAESState.
func (w *aesWorker) Open(pt, ct []byte, before State) ([]byte, error) {
	if len(ct) < aes.BlockSize+w.trailer {
		return nil, ErrBadMsize
	}
	body, tag := ct[:len(ct)-w.trailer], ct[len(ct)-w.trailer:]
	p := pt[:len(body)]
	if w.etm {
		w.before = before
		if !hmac.Equal(macSum(w.mac, w.sum[:], w.before[:], body)[:w.trailer], tag) {
			return nil, ErrIntegrity
		}
		w.cbc.ctsDecrypt(p, body, before)
	} else {
		w.cbc.ctsDecrypt(p, body, before)
		if !hmac.Equal(macSum(w.mac, w.sum[:], p)[:w.trailer], tag) {
			return nil, ErrIntegrity
		}
	}
	return p[aes.BlockSize:], nil
}

// nextAESState is the state after an AES message whose ciphertext (tag
// included) is ct and which started from before: the second-to-last
// ciphertext block, or before for a one-block message (ctsEncrypt).
func nextAESState(before State, ct []byte, trailer int) (State, error) {
	if len(ct) < aes.BlockSize+trailer {
		return before, ErrBadMsize
	}
	n := len(ct) - trailer
	if n <= aes.BlockSize {
		return before, nil
	}
	full := ((n+15)/16 - 2) * 16
	return State(ct[full : full+16]), nil
}

func newAESSHA1Priv(e etype.EType, key []byte, usage uint32) (MessageCipher, error) {
	return newAESPriv(e, key, usage, sha1.New, aesSHA1Trailer, false)
}

func newAESSHA2Priv(e etype.EType, key []byte, usage uint32) (MessageCipher, error) {
	if len(key) == 32 {
		return newAESPriv(e, key, usage, sha512.New384, 24, true)
	}
	return newAESPriv(e, key, usage, sha256.New, 16, true)
}

func newAESPriv(e etype.EType, key []byte, usage uint32, h func() hash.Hash, trailer int, etm bool) (MessageCipher, error) {
	ke, ki, err := deriveUsageKeys(e, key, usage)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(ke)
	if err != nil {
		return nil, err
	}
	mac := func() hash.Hash { return hmac.New(h, ki) }
	return &aesPriv{cbc: newCBCMode(b), w: newAESWorker(b, mac, trailer, etm), trailer: trailer, etm: etm}, nil
}

func (c *aesPriv) PrefixLen() int    { return aes.BlockSize }
func (c *aesPriv) SealLen(n int) int { return aes.BlockSize + n + c.trailer }
func (c *aesPriv) Reset()            { c.state = [16]byte{} }
func (c *aesPriv) Commit()           { c.state = c.pending }

func (c *aesPriv) Seal(ct []byte, n int, rand io.Reader, chained bool) error {
	p := ct[:aes.BlockSize+n]
	if _, err := io.ReadFull(rand, p[:aes.BlockSize]); err != nil {
		return fmt.Errorf("confounder: %w", err)
	}
	if !c.etm {
		c.w.Tag(ct[len(p):], State{}, p, nil)
	}
	var iv [16]byte
	if chained {
		iv = c.state
	}
	next := c.cbc.ctsEncrypt(p, p, iv)
	if c.etm {
		c.w.Tag(ct[len(p):], iv, nil, p)
	}
	if chained {
		c.state = next
	}
	return nil
}

func (c *aesPriv) Open(pt, ct []byte, chained bool) ([]byte, error) {
	var iv State
	if chained {
		iv = c.state
	}
	next, _ := nextAESState(iv, ct, c.trailer) // before pt may overwrite ct
	der, err := c.w.Open(pt, ct, iv)
	if err != nil {
		return nil, err
	}
	c.pending = next
	return der, nil
}

// Pipeline methods (see Pipelined).
func (c *aesPriv) TagLen() int            { return c.trailer }
func (c *aesPriv) TagOverPlaintext() bool { return !c.etm }
func (c *aesPriv) ChainState() State      { return c.state }
func (c *aesPriv) SetChainState(s State)  { c.state = s }
func (c *aesPriv) NewWorker() Worker      { return c.w.clone() }
func (c *aesPriv) NextState(before State, ct []byte) (State, error) {
	return nextAESState(before, ct, c.trailer)
}
func (c *aesPriv) EncryptNext(body, plain []byte) State {
	before := c.state
	c.state = c.cbc.ctsEncrypt(body, plain, before)
	return before
}

// ---- des3-cbc-sha1 (RFC 3961, MIT enc_dk_hmac.c + builtin des3) ----

// des3Priv: P = conf(8)|DER|zero pad to 8, C = 3DES-CBC(Ke, state, P),
// H = HMAC-SHA1(Ki, P); the next state is the last ciphertext block.
type des3Priv struct {
	cbc            cbcMode
	w              des3Worker
	state, pending [des.BlockSize]byte
}

// des3Worker is the part of des3Priv without chained state.
type des3Worker struct {
	cbc cbcMode
	mac hash.Hash
	ki  []byte
	sum [sha1.Size]byte
}

func newDES3Worker(b cipher.Block, ki []byte) des3Worker {
	return des3Worker{cbc: newCBCMode(b), mac: hmac.New(sha1.New, ki), ki: ki}
}

func (w *des3Worker) Tag(tag []byte, _ State, plain, _ []byte) {
	copy(tag, macSum(w.mac, w.sum[:], plain))
}

func (w *des3Worker) Open(pt, ct []byte, before State) ([]byte, error) {
	if len(ct) < des.BlockSize+sha1.Size {
		return nil, ErrBadMsize
	}
	body, tag := ct[:len(ct)-sha1.Size], ct[len(ct)-sha1.Size:]
	if len(body)%des.BlockSize != 0 {
		return nil, ErrBadMsize
	}
	iv := w.cbc.iv[:des.BlockSize]
	copy(iv, before[:des.BlockSize])
	p := pt[:len(body)]
	w.cbc.decrypter(iv).CryptBlocks(p, body)
	if !hmac.Equal(macSum(w.mac, w.sum[:], p), tag) {
		return nil, ErrIntegrity
	}
	return p[des.BlockSize:], nil
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
	return &des3Priv{cbc: newCBCMode(b), w: newDES3Worker(b, ki)}, nil
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
	c.w.Tag(ct[len(p):], State{}, p, nil)
	var iv [des.BlockSize]byte
	if chained {
		iv = c.state
	}
	c.encrypt(p, p, iv)
	if chained {
		copy(c.state[:], p[len(p)-des.BlockSize:])
	}
	return nil
}

func (c *des3Priv) encrypt(dst, src []byte, iv [des.BlockSize]byte) {
	c.cbc.iv = [16]byte{}
	copy(c.cbc.iv[:], iv[:])
	c.cbc.encrypter(c.cbc.iv[:des.BlockSize]).CryptBlocks(dst, src)
}

func (c *des3Priv) Open(pt, ct []byte, chained bool) ([]byte, error) {
	var before State
	if chained {
		copy(before[:], c.state[:])
	}
	next, err := c.NextState(before, ct) // before pt may overwrite ct
	if err != nil {
		return nil, err
	}
	der, err := c.w.Open(pt, ct, before)
	if err != nil {
		return nil, err
	}
	copy(c.pending[:], next[:des.BlockSize])
	return der, nil
}

// Pipeline methods (see Pipelined).
func (c *des3Priv) TagLen() int            { return sha1.Size }
func (c *des3Priv) TagOverPlaintext() bool { return true }
func (c *des3Priv) ChainState() State {
	var s State
	copy(s[:], c.state[:])
	return s
}
func (c *des3Priv) SetChainState(s State) { copy(c.state[:], s[:]) }
func (c *des3Priv) NewWorker() Worker {
	w := newDES3Worker(c.w.cbc.b, c.w.ki)
	return &w
}
func (c *des3Priv) NextState(before State, ct []byte) (State, error) {
	n := len(ct) - sha1.Size
	if n < des.BlockSize || n%des.BlockSize != 0 {
		return before, ErrBadMsize
	}
	var s State
	copy(s[:], ct[n-des.BlockSize:n])
	return s, nil
}
func (c *des3Priv) EncryptNext(body, plain []byte) State {
	before := c.ChainState()
	c.encrypt(body, plain, c.state)
	copy(c.state[:], body[len(body)-des.BlockSize:])
	return before
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
