package rfc6803

import (
	"crypto/subtle"
	"fmt"
	"io"

	"github.com/gokprop/gokprop/internal/camellia"
)

// MessageCipher encrypts and decrypts the messages of one enctype under
// one protocol key and key usage, keeping MIT's cipher state between
// them: what krb5_mk_priv and krb5_rd_priv do with an auth context whose
// i_vector was set up by krb5_auth_con_initivector (KRB-PRIV of kprop and
// kpropd). Ke and Ki are derived once, by the constructor.
//
// A ciphertext is E(Ke, state, confounder | message) followed by
// CMAC(Ki, confounder | message): PrefixLen (16) bytes of confounder,
// the message, and 16 bytes of CMAC; there is no padding.
//
// Each call takes chained. With chained false it uses the initial (zero)
// state and leaves the kept state alone, like MIT with a NULL cipher
// state. With chained true, Seal starts from the kept state and updates it
// at once; Open starts from it but only computes the state after the
// message, and Commit adopts that, so a message that fails a later check
// (sequence number, addresses) can leave the state as it was. See the
// package documentation for how MIT moves the state.
//
// Seal, Open, Commit and Reset allocate nothing. A MessageCipher is not
// safe for concurrent use.
type MessageCipher struct {
	s              *spec
	cts            cts
	mac            *CMAC
	state, pending [blockSize]byte
	sum            [blockSize]byte
}

// NewMessageCipher returns the MessageCipher of camellia128-cts-cmac for a
// 16-byte key or camellia256-cts-cmac for a 32-byte key, for key usage
// usage (13 for KRB-PRIV), in the initial state.
func NewMessageCipher(key []byte, usage uint32) (*MessageCipher, error) {
	switch len(key) {
	case 16:
		return Camellia128CTSCMAC.NewMessageCipher(key, usage)
	case 32:
		return Camellia256CTSCMAC.NewMessageCipher(key, usage)
	}
	return nil, fmt.Errorf("rfc6803: camellia key of %d bytes: %w", len(key), ErrKeySize)
}

// NewMessageCipher returns e's MessageCipher for the protocol key and key
// usage, in the initial state.
func (e EType) NewMessageCipher(key []byte, usage uint32) (*MessageCipher, error) {
	if err := e.checkKey(key); err != nil {
		return nil, err
	}
	ce := usageConstant(usage, constEncryption)
	ke, err := kdfFeedbackCMAC(key, ce[:])
	if err != nil {
		return nil, err
	}
	b, err := camellia.NewCipher(ke)
	if err != nil {
		return nil, err
	}
	ci := usageConstant(usage, constIntegrity)
	mac, err := e.newCMAC(key, ci[:])
	if err != nil {
		return nil, err
	}
	return &MessageCipher{s: e.s, cts: cts{b: b}, mac: mac}, nil
}

// EType returns the enctype the cipher belongs to.
func (c *MessageCipher) EType() EType { return EType{c.s} }

// PrefixLen returns the length of the confounder that precedes the
// message in a ciphertext: 16.
func (c *MessageCipher) PrefixLen() int { return blockSize }

// SealLen returns the ciphertext length for an n-byte message: n + 32.
func (c *MessageCipher) SealLen(n int) int { return blockSize + n + blockSize }

// State returns the kept cipher state.
func (c *MessageCipher) State() [16]byte { return c.state }

// Seal encrypts in place. ct has length SealLen(n) and holds the message
// at ct[PrefixLen():PrefixLen()+n]; Seal reads the confounder from rand
// into ct[:PrefixLen()] and writes the CMAC after the message.
func (c *MessageCipher) Seal(ct []byte, n int, rand io.Reader, chained bool) error {
	if n < 0 || len(ct) != c.SealLen(n) {
		return ErrMessageSize
	}
	p := ct[:blockSize+n]
	if _, err := io.ReadFull(rand, p[:blockSize]); err != nil {
		return fmt.Errorf("rfc6803: confounder: %w", err)
	}
	c.mac.Reset()
	c.mac.Write(p)
	c.mac.Sum(c.sum[:0])
	var iv [blockSize]byte
	if chained {
		iv = c.state
	}
	next := c.cts.encrypt(p, p, iv)
	copy(ct[len(p):], c.sum[:])
	if chained {
		c.state = next
	}
	return nil
}

// Open verifies and decrypts ct into pt, which must be at least as long
// as ct (it may be ct itself), and returns the message, a subslice of
// pt. It fails with ErrMessageSize if ct is shorter than 32 bytes or pt
// shorter than ct, and with ErrIntegrity (pt's decrypted bytes zeroed) if
// the CMAC does not match. On success the state after the message is held
// for Commit; the kept state does not change.
func (c *MessageCipher) Open(pt, ct []byte, chained bool) ([]byte, error) {
	if len(ct) < 2*blockSize || len(pt) < len(ct) {
		return nil, ErrMessageSize
	}
	body, tag := ct[:len(ct)-blockSize], ct[len(ct)-blockSize:]
	var iv [blockSize]byte
	if chained {
		iv = c.state
	}
	p := pt[:len(body)]
	next := c.cts.decrypt(p, body, iv)
	c.mac.Reset()
	c.mac.Write(p)
	c.mac.Sum(c.sum[:0])
	if subtle.ConstantTimeCompare(c.sum[:], tag) != 1 {
		clear(p)
		return nil, ErrIntegrity
	}
	c.pending = next
	return p[blockSize:], nil
}

// Commit makes the state computed by the last successful Open the kept
// state.
func (c *MessageCipher) Commit() { c.state = c.pending }

// Reset puts the kept state back to the initial state, all zeros (MIT's
// camellia init_state).
func (c *MessageCipher) Reset() { c.state = [blockSize]byte{} }
