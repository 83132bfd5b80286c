package kcrypto

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"fmt"
)

// Checksum describes a checksum type as MIT's table does
// (src/lib/crypto/krb/cksumtypes.c): whether it is keyed, which key family
// it needs (MIT's enc provider), and its length.
type Checksum struct {
	Type   int32
	Keyed  bool
	Family Family
	Size   int
	// sum computes the checksum of data for a key usage; nil when this
	// package cannot compute it (unkeyed types are never accepted anyway).
	sum func(key []byte, usage uint32, data []byte) ([]byte, error)
}

// checksums is MIT 1.20's list of checksum types. All keyed ones are
// collision-proof.
var checksums = [...]Checksum{
	{2, false, FamAny, 16, nil},  // rsa-md4
	{7, false, FamAny, 16, nil},  // rsa-md5
	{9, false, FamAny, 20, nil},  // nist-sha
	{14, false, FamAny, 20, nil}, // sha1
	{12, true, FamDES3, 20, dkChecksum(des3SHA1)},
	{-138, true, FamAny, 16, hmacMD5Checksum(true)},
	{15, true, FamAES128, 12, dkChecksum(aes128SHA1)},
	{16, true, FamAES256, 12, dkChecksum(aes256SHA1)},
	{-137, true, FamRC4, 16, hmacMD5Checksum(false)},
	{17, true, FamCamellia128, 16, dkChecksum(camellia128)}, // cmac-camellia128
	{18, true, FamCamellia256, 16, dkChecksum(camellia256)}, // cmac-camellia256
	{19, true, FamAES128, 16, dkChecksum(aes128SHA256)},
	{20, true, FamAES256, 24, dkChecksum(aes256SHA384)},
}

// LookupChecksum returns MIT's row for checksum type typ, or nil.
func LookupChecksum(typ int32) *Checksum {
	for i := range checksums {
		if checksums[i].Type == typ {
			return &checksums[i]
		}
	}
	return nil
}

// Implemented reports whether Sum can compute the checksum.
func (c *Checksum) Implemented() bool { return c.sum != nil }

// Sum computes the checksum of data under key for a key usage. The key
// only has to have the family's length: an aes128-sha2 key can make a
// hmac-sha1-96-aes128 checksum, as in MIT.
func (c *Checksum) Sum(key []byte, usage uint32, data []byte) ([]byte, error) {
	if c.sum == nil {
		return nil, fmt.Errorf("%w: %d", ErrSumtypeNosupp, c.Type)
	}
	return c.sum(key, usage, data)
}

// dkChecksum is the keyed checksum of enctype id, computed by its row's
// RFC 3961 profile: HMAC(Kc, data) truncated (RFC 3961, RFC 8009) or
// CMAC(Kc, data) (RFC 6803), Kc derived for usage|0x99.
func dkChecksum(id int32) func(key []byte, usage uint32, data []byte) ([]byte, error) {
	return func(key []byte, usage uint32, data []byte) ([]byte, error) {
		e := Lookup(id)
		if !e.Implemented() {
			return nil, ErrUnsupported
		}
		return e.EType.GetChecksumHash(key, data, usage)
	}
}

// hmacMD5Checksum is RFC 4757's HMAC-MD5 checksum (-138, signing key
// HMAC-MD5(K, "signaturekey\0")) or, with signKey false, Microsoft's
// MD5-HMAC (-137, signing with K itself): HMAC-MD5(Ks, MD5(LE32(usage) |
// data)), usage translated as MIT does.
func hmacMD5Checksum(signKey bool) func(key []byte, usage uint32, data []byte) ([]byte, error) {
	return func(key []byte, usage uint32, data []byte) ([]byte, error) {
		if len(key) > 64 {
			return nil, ErrBadEnctype
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
