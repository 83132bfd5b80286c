package rfc6803

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"hash"

	"github.com/gokprop/gokprop/internal/camellia"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
)

// Encryption and checksum type numbers (RFC 6803 section 6; IANA).
const (
	EnctypeCamellia128CTSCMAC int32 = 25 // camellia128-cts-cmac
	EnctypeCamellia256CTSCMAC int32 = 26 // camellia256-cts-cmac
	ChecksumCMACCamellia128   int32 = 17 // cmac-camellia128
	ChecksumCMACCamellia256   int32 = 18 // cmac-camellia256
)

// libError is an error of MIT's crypto library, with MIT's text.
type libError string

func (e libError) Error() string { return string(e) }

// Errors, with the text MIT krb5 prints for the corresponding library
// error code (src/lib/krb5/error_tables/krb5_err.et). Callers that map
// them to their own error values compare with errors.Is.
var (
	// ErrIntegrity is KRB5KRB_AP_ERR_BAD_INTEGRITY: the CMAC of a
	// decrypted message does not match.
	ErrIntegrity error = libError("Decrypt integrity check failed")
	// ErrMessageSize is KRB5_BAD_MSIZE: a ciphertext too short to hold a
	// confounder and a CMAC, or an output buffer too small.
	ErrMessageSize error = libError("Message size is incompatible with encryption type")
	// ErrKeySize is KRB5_BAD_KEYSIZE: a key that is not the enctype's
	// 16 or 32 bytes.
	ErrKeySize error = libError("Key size is incompatible with encryption type")
	// ErrBadS2KParams is KRB5_ERR_BAD_S2K_PARAMS: string-to-key
	// parameters MIT refuses (see EType.StringToKey).
	ErrBadS2KParams error = libError("Invalid key generation parameters from KDC")
)

// spec is what distinguishes the two enctypes.
type spec struct {
	id, cksum int32
	name      string // MIT's canonical name, also the string-to-key pepper
	keyLen    int
}

var (
	spec128 = &spec{EnctypeCamellia128CTSCMAC, ChecksumCMACCamellia128, "camellia128-cts-cmac", 16}
	spec256 = &spec{EnctypeCamellia256CTSCMAC, ChecksumCMACCamellia256, "camellia256-cts-cmac", 32}
)

// EType is one of the two RFC 6803 encryption types. It implements
// gokrb5's etype.EType, so it can stand wherever code uses an etype from
// gokrb5's crypto.GetEtype (which knows no camellia): EncryptedData,
// checksums, key derivation, string-to-key. The zero EType is not
// usable; use Camellia128CTSCMAC, Camellia256CTSCMAC or Lookup.
//
// Methods taking a key want the protocol key (the session or long-term
// key); they derive Ke, Ki and Kc themselves, except EncryptData and
// DecryptData, which use the key given as the Camellia key, as gokrb5's
// etypes do.
type EType struct{ s *spec }

var _ etype.EType = EType{}

// The two enctypes.
var (
	Camellia128CTSCMAC = EType{spec128}
	Camellia256CTSCMAC = EType{spec256}
)

// Lookup returns the EType of enctype number id, if id is 25 or 26.
func Lookup(id int32) (EType, bool) {
	switch id {
	case EnctypeCamellia128CTSCMAC:
		return Camellia128CTSCMAC, true
	case EnctypeCamellia256CTSCMAC:
		return Camellia256CTSCMAC, true
	}
	return EType{}, false
}

// Name returns MIT's name of the enctype, "camellia128-cts-cmac" or
// "camellia256-cts-cmac". (MIT also accepts "camellia128-cts" and
// "camellia256-cts" in profiles.)
func (e EType) Name() string { return e.s.name }

// GetETypeID returns the enctype number, 25 or 26.
func (e EType) GetETypeID() int32 { return e.s.id }

// GetHashID returns the enctype's checksum type, cmac-camellia128 (17) or
// cmac-camellia256 (18).
func (e EType) GetHashID() int32 { return e.s.cksum }

// GetKeyByteSize returns the key length, 16 or 32 bytes.
func (e EType) GetKeyByteSize() int { return e.s.keyLen }

// GetKeySeedBitLength returns the random-to-key input length in bits, the
// key length (random-to-key is the identity).
func (e EType) GetKeySeedBitLength() int { return e.s.keyLen * 8 }

// GetDefaultStringToKeyParams returns "00008000": 32768 PBKDF2
// iterations.
func (e EType) GetDefaultStringToKeyParams() string { return "00008000" }

// StringToKey derives a key from a password and salt (for a principal's
// normal salt: the realm followed by the name components). s2kparams is
// the iteration count as eight hex digits, as in an ETYPE-INFO2 entry; ""
// means the default. Like MIT, it refuses counts below 32768, zero
// (2^32) and counts from 2^24 on with ErrBadS2KParams; StringToKeyIter
// takes any count.
func (e EType) StringToKey(secret, salt, s2kparams string) ([]byte, error) {
	n, err := parseS2KParams(s2kparams)
	if err != nil {
		return nil, err
	}
	return stringToKey(e.s, secret, salt, n)
}

// StringToKeyIter is StringToKey with the PBKDF2 iteration count given as
// a number; any count from 1 to 2^24-1 is accepted (RFC 6803's test
// vectors use counts as low as 1).
func (e EType) StringToKeyIter(secret, salt string, iterations int) ([]byte, error) {
	return stringToKey(e.s, secret, salt, iterations)
}

// RandomToKey returns b: random-to-key is the identity for these
// enctypes. b should be GetKeyByteSize bytes long.
func (e EType) RandomToKey(b []byte) []byte { return b }

// GetHMACBitLength returns 128, the length of the integrity CMAC that
// ends every ciphertext, and of a checksum.
func (e EType) GetHMACBitLength() int { return 128 }

// GetMessageBlockByteSize returns 1: ciphertext stealing needs no
// padding.
func (e EType) GetMessageBlockByteSize() int { return 1 }

// GetCypherBlockBitLength returns 128, Camellia's block size.
func (e EType) GetCypherBlockBitLength() int { return 128 }

// GetConfounderByteSize returns 16.
func (e EType) GetConfounderByteSize() int { return blockSize }

// GetHashFunc returns nil: these enctypes use no hash function (their
// checksums and key derivation are CMAC; string-to-key's PBKDF2 uses
// SHA-1 internally). Use GetChecksumHash and VerifyChecksum.
func (e EType) GetHashFunc() func() hash.Hash { return nil }

// checkKey returns ErrKeySize unless key has the enctype's length.
func (e EType) checkKey(key []byte) error {
	if len(key) != e.s.keyLen {
		return fmt.Errorf("rfc6803: %s key of %d bytes: %w", e.s.name, len(key), ErrKeySize)
	}
	return nil
}

// newCTS returns CBC-CTS with key as the Camellia key.
func (e EType) newCTS(key []byte) (*cts, error) {
	if err := e.checkKey(key); err != nil {
		return nil, err
	}
	b, err := camellia.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return &cts{b: b}, nil
}

// EncryptData encrypts data (at least 16 bytes) with Camellia-CBC-CTS,
// using key itself as the Camellia key and a zero initial cipher state. It
// returns the cipher state after the encryption (see the package
// documentation) and the ciphertext, which is as long as data.
func (e EType) EncryptData(key, data []byte) ([]byte, []byte, error) {
	m, err := e.newCTS(key)
	if err != nil {
		return nil, nil, err
	}
	if len(data) < blockSize {
		return nil, nil, ErrMessageSize
	}
	out := make([]byte, len(data))
	next := m.encrypt(out, data, [blockSize]byte{})
	return next[:], out, nil
}

// DecryptData is the inverse of EncryptData.
func (e EType) DecryptData(key, data []byte) ([]byte, error) {
	m, err := e.newCTS(key)
	if err != nil {
		return nil, err
	}
	if len(data) < blockSize {
		return nil, ErrMessageSize
	}
	out := make([]byte, len(data))
	m.decrypt(out, data, [blockSize]byte{})
	return out, nil
}

// EncryptMessage encrypts message for key usage usage under the protocol
// key: a random 16-byte confounder is prepended, the result is encrypted
// with Ke and followed by its CMAC under Ki (RFC 6803 section 4), from the
// initial (zero) cipher state. It returns the cipher state afterwards and
// the ciphertext, 32 bytes longer than message. Usage 0 is allowed.
func (e EType) EncryptMessage(key, message []byte, usage uint32) ([]byte, []byte, error) {
	var conf [blockSize]byte
	if _, err := rand.Read(conf[:]); err != nil {
		return nil, nil, fmt.Errorf("rfc6803: confounder: %w", err)
	}
	return e.encryptMessage(key, conf[:], message, usage)
}

// encryptMessage is EncryptMessage with a given confounder.
func (e EType) encryptMessage(key, conf, message []byte, usage uint32) ([]byte, []byte, error) {
	c, err := e.NewMessageCipher(key, usage)
	if err != nil {
		return nil, nil, err
	}
	ct := make([]byte, c.SealLen(len(message)))
	copy(ct[blockSize:], message)
	if err := c.Seal(ct, len(message), fixedReader(conf), true); err != nil {
		return nil, nil, err
	}
	st := c.State()
	return st[:], ct, nil
}

// DecryptMessage verifies and decrypts a ciphertext made by
// EncryptMessage (or MIT's krb5_c_encrypt with a NULL cipher state) and
// returns the message without the confounder. It fails with
// ErrMessageSize for a ciphertext shorter than 32 bytes and with
// ErrIntegrity when the CMAC does not match.
func (e EType) DecryptMessage(key, ciphertext []byte, usage uint32) ([]byte, error) {
	c, err := e.NewMessageCipher(key, usage)
	if err != nil {
		return nil, err
	}
	pt := make([]byte, len(ciphertext))
	msg, err := c.Open(pt, ciphertext, false)
	if err != nil {
		return nil, err
	}
	return msg, nil
}

// DeriveKey derives a key from the protocol key and a derivation
// constant (for instance the usage number and 0x99, 0xAA or 0x55, as
// gokrb5's common.GetUsageKc, GetUsageKe and GetUsageKi build it) with
// KDF-FEEDBACK-CMAC.
func (e EType) DeriveKey(protocolKey, usage []byte) ([]byte, error) {
	if err := e.checkKey(protocolKey); err != nil {
		return nil, err
	}
	return kdfFeedbackCMAC(protocolKey, usage)
}

// DeriveRandom is DeriveKey: random-to-key is the identity.
func (e EType) DeriveRandom(protocolKey, usage []byte) ([]byte, error) {
	return e.DeriveKey(protocolKey, usage)
}

// VerifyIntegrity reports whether the CMAC that ends ct (a whole
// ciphertext from EncryptMessage) matches pt, the decryption of the rest
// of ct including the confounder, for key usage usage.
func (e EType) VerifyIntegrity(protocolKey, ct, pt []byte, usage uint32) bool {
	if len(ct) < 2*blockSize {
		return false
	}
	c := usageConstant(usage, constIntegrity)
	mac, err := e.newCMAC(protocolKey, c[:])
	if err != nil {
		return false
	}
	mac.Write(pt)
	var sum [blockSize]byte
	return subtle.ConstantTimeCompare(mac.Sum(sum[:0]), ct[len(ct)-blockSize:]) == 1
}

// newCMAC returns a CMAC keyed with the key derived from protocolKey and
// constant.
func (e EType) newCMAC(protocolKey, constant []byte) (*CMAC, error) {
	k, err := e.DeriveKey(protocolKey, constant)
	if err != nil {
		return nil, err
	}
	b, err := camellia.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return NewCMAC(b)
}

// GetChecksumHash returns the enctype's checksum (cmac-camellia128 or
// cmac-camellia256, 16 bytes) of data for key usage usage: the CMAC of
// data under Kc (RFC 6803 section 5).
func (e EType) GetChecksumHash(protocolKey, data []byte, usage uint32) ([]byte, error) {
	c := usageConstant(usage, constChecksum)
	mac, err := e.newCMAC(protocolKey, c[:])
	if err != nil {
		return nil, err
	}
	mac.Write(data)
	return mac.Sum(nil), nil
}

// VerifyChecksum reports whether chksum is the checksum of data for key
// usage usage; the comparison takes constant time.
func (e EType) VerifyChecksum(protocolKey, data, chksum []byte, usage uint32) bool {
	sum, err := e.GetChecksumHash(protocolKey, data, usage)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(sum, chksum) == 1
}

// fixedReader hands out its bytes to a read of at most that many bytes.
type fixedReader []byte

func (r fixedReader) Read(p []byte) (int, error) {
	if len(p) > len(r) {
		return 0, fmt.Errorf("rfc6803: fixed confounder of %d bytes, %d wanted", len(r), len(p))
	}
	return copy(p, r), nil
}
