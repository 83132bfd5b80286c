package rfc6803

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"

	"github.com/gokprop/gokprop/internal/camellia"
)

// Key derivation constants (RFC 6803 section 4, as RFC 3961): the usage
// number in four big-endian bytes followed by one of these.
const (
	constChecksum   = 0x99 // Kc
	constEncryption = 0xAA // Ke
	constIntegrity  = 0x55 // Ki
)

// usageConstant returns the five-byte derivation constant for usage.
func usageConstant(usage uint32, kind byte) [5]byte {
	var c [5]byte
	binary.BigEndian.PutUint32(c[:4], usage)
	c[4] = kind
	return c
}

// kdfFeedbackCMAC is KDF-FEEDBACK-CMAC of RFC 6803 section 3 (NIST SP
// 800-108 feedback mode with CMAC as the PRF and no context), followed by
// random-to-key, which is the identity:
//
//	K(0) = 16 zero bytes
//	K(i) = CMAC(key, K(i-1) | [i]4 | constant | 0x00 | [k]4)
//	key' = the first k bits of K(1) | K(2) | ...
//
// where k is the key length in bits and [x]4 is x as four big-endian
// bytes. As in MIT krb5 (k5_sp800_108_feedback_cmac), the output is as
// long as the key, which must be 16 or 32 bytes.
func kdfFeedbackCMAC(key, constant []byte) ([]byte, error) {
	if len(key) != 16 && len(key) != 32 {
		return nil, ErrKeySize
	}
	b, err := camellia.NewCipher(key)
	if err != nil {
		return nil, err
	}
	mac, _ := NewCMAC(b)
	var k [blockSize]byte
	var i, bits [4]byte
	binary.BigEndian.PutUint32(bits[:], uint32(len(key)*8))
	out := make([]byte, 0, len(key))
	for n := uint32(1); len(out) < len(key); n++ {
		binary.BigEndian.PutUint32(i[:], n)
		mac.Reset()
		mac.Write(k[:])
		mac.Write(i[:])
		mac.Write(constant)
		mac.Write([]byte{0})
		mac.Write(bits[:])
		mac.Sum(k[:0])
		out = append(out, k[:]...)
	}
	return out, nil
}

// DefaultIterations is the PBKDF2 iteration count of string-to-key when
// the KDC sends no parameters (RFC 6803 section 4; MIT's
// krb5int_camellia_string_to_key). It is also the smallest count MIT
// accepts from a KDC.
const DefaultIterations = 32768

// maxIterations is MIT's implementation limit: a count from 0x1000000 up
// is refused (src/lib/crypto/krb/s2k_pbkdf2.c).
const maxIterations = 0x1000000

// parseS2KParams reads s2kparams as a gokrb5 etype passes it: the
// four-byte big-endian iteration count in hex, or "" for the default. It
// applies MIT's checks for parameters that come from a KDC: four bytes,
// not zero (which would mean 2^32), not below DefaultIterations, below
// 2^24.
func parseS2KParams(s2kparams string) (int, error) {
	if s2kparams == "" {
		return DefaultIterations, nil
	}
	p, err := hex.DecodeString(s2kparams)
	if err != nil || len(p) != 4 {
		return 0, ErrBadS2KParams
	}
	n := binary.BigEndian.Uint32(p)
	if n < DefaultIterations || n >= maxIterations {
		return 0, ErrBadS2KParams
	}
	return int(n), nil
}

// stringToKey is RFC 6803 section 4's string-to-key:
//
//	saltp = enctype-name | 0x00 | salt
//	tkey  = random-to-key(PBKDF2-HMAC-SHA1(secret, saltp, iterations, keylength))
//	key   = KDF-FEEDBACK-CMAC(tkey, "kerberos")
//
// MIT uses HMAC-SHA1 here (the camellia enctypes have no hash provider,
// and pbkdf2_string_to_key falls back to SHA-1), as the RFC says.
func stringToKey(s *spec, secret, salt string, iterations int) ([]byte, error) {
	if iterations < 1 || iterations >= maxIterations {
		return nil, ErrBadS2KParams
	}
	saltp := make([]byte, 0, len(s.name)+1+len(salt))
	saltp = append(append(append(saltp, s.name...), 0), salt...)
	tkey, err := pbkdf2.Key(sha1.New, secret, saltp, iterations, s.keyLen)
	if err != nil {
		return nil, err
	}
	return kdfFeedbackCMAC(tkey, []byte("kerberos"))
}
