package kcrypto

import (
	"strings"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"

	"github.com/gokprop/gokprop/internal/rfc6803"
)

// Encryption type numbers of the table (RFC 3961 section 8, RFC 8009, RFC
// 6803). Package krb5 exports them as krb5.Enctype constants.
const (
	des3CBCRaw   int32 = 6
	des3SHA1     int32 = 16
	aes128SHA1   int32 = 17
	aes256SHA1   int32 = 18
	aes128SHA256 int32 = 19
	aes256SHA384 int32 = 20
	rc4HMAC      int32 = 23
	rc4HMACExp   int32 = 24
	camellia128  int32 = 25
	camellia256  int32 = 26
)

// EnctypeUnknown is MIT's ENCTYPE_UNKNOWN: an EncryptedData carrying it
// passes krb5_k_decrypt's enctype check.
const EnctypeUnknown int32 = 0x1ff

// Family names the cipher behind an enctype (MIT's enc provider). MIT
// accepts a KRB-SAFE checksum type only when it belongs to the same family
// as the key (crypto_int.h:verify_key).
type Family int

// The cipher families.
const (
	FamAny Family = iota // a checksum usable with any key (hmac-md5-rc4)
	FamDES3
	FamRC4
	FamAES128
	FamAES256
	FamCamellia128
	FamCamellia256
)

// Spec is the one row of facts about an encryption type that the module
// uses: names, key length, checksum, cipher family, the libdefaults gate,
// and the implementations. A Spec is read-only.
type Spec struct {
	ID      int32
	Name    string   // MIT's canonical name (src/lib/crypto/krb/etypes.c)
	Aliases []string // other names krb5.conf accepts
	// Weak enctypes are dropped from enctype lists unless
	// allow_weak_crypto is set.
	Weak bool
	// Default marks the members of MIT 1.20's built-in enctype list (what
	// "DEFAULT" means in permitted_enctypes); the table lists them first,
	// in MIT's order.
	Default bool
	// Gate is the [libdefaults] boolean that must be true before this
	// module uses the enctype for a session key ("allow_des3",
	// "allow_rc4", which MIT 1.21's and Debian's 1.20.1 KDC require before
	// issuing such a session key), or "". Long-term keys are never gated.
	Gate      string
	KeyLen    int    // protocol key length in bytes
	Family    Family // for MIT's checksum-family rule
	CksumType int32  // the mandatory checksum type, used for KRB-SAFE
	// EType is the RFC 3961 profile (encryption of EncryptedData, checksums,
	// key derivation); nil when the enctype is not implemented. gokrb5's
	// reports 24 bytes as the key size of aes256-cts-hmac-sha384-192, whose
	// keys are 32 bytes: use KeyLen.
	EType etype.EType
	// newCipher derives the chained KRB-PRIV cipher for a key and usage;
	// nil when the enctype is not implemented.
	newCipher func(e etype.EType, key []byte, usage uint32) (MessageCipher, error)
}

// table lists every enctype MIT 1.20 knows, in one place: MIT's default
// list first, in its order, then the weak ones. Adding an enctype's
// implementation means filling in its EType and newCipher (and its
// checksum row's function in checksum.go); nothing else in the module
// names enctypes.
var table = [...]Spec{
	{ID: aes256SHA1, Name: "aes256-cts-hmac-sha1-96", Aliases: []string{"aes256-cts", "aes256-sha1"},
		Default: true, KeyLen: 32, Family: FamAES256, CksumType: 16,
		EType: crypto.Aes256CtsHmacSha96{}, newCipher: newAESSHA1Priv},
	{ID: aes128SHA1, Name: "aes128-cts-hmac-sha1-96", Aliases: []string{"aes128-cts", "aes128-sha1"},
		Default: true, KeyLen: 16, Family: FamAES128, CksumType: 15,
		EType: crypto.Aes128CtsHmacSha96{}, newCipher: newAESSHA1Priv},
	{ID: aes256SHA384, Name: "aes256-cts-hmac-sha384-192", Aliases: []string{"aes256-sha2"},
		Default: true, KeyLen: 32, Family: FamAES256, CksumType: 20,
		EType: crypto.Aes256CtsHmacSha384192{}, newCipher: newAESSHA2Priv},
	{ID: aes128SHA256, Name: "aes128-cts-hmac-sha256-128", Aliases: []string{"aes128-sha2"},
		Default: true, KeyLen: 16, Family: FamAES128, CksumType: 19,
		EType: crypto.Aes128CtsHmacSha256128{}, newCipher: newAESSHA2Priv},
	{ID: des3SHA1, Name: "des3-cbc-sha1", Aliases: []string{"des3-hmac-sha1", "des3-cbc-sha1-kd"},
		Default: true, Gate: "allow_des3", KeyLen: 24, Family: FamDES3, CksumType: 12,
		EType: crypto.Des3CbcSha1Kd{}, newCipher: newDES3Priv},
	{ID: rc4HMAC, Name: "arcfour-hmac", Aliases: []string{"rc4-hmac", "arcfour-hmac-md5"},
		Default: true, Gate: "allow_rc4", KeyLen: 16, Family: FamRC4, CksumType: -138,
		EType: crypto.RC4HMAC{}, newCipher: newRC4Priv},
	{ID: camellia128, Name: "camellia128-cts-cmac", Aliases: []string{"camellia128-cts"},
		Default: true, KeyLen: 16, Family: FamCamellia128, CksumType: 17,
		EType: rfc6803.Camellia128CTSCMAC, newCipher: newCamelliaPriv},
	{ID: camellia256, Name: "camellia256-cts-cmac", Aliases: []string{"camellia256-cts"},
		Default: true, KeyLen: 32, Family: FamCamellia256, CksumType: 18,
		EType: rfc6803.Camellia256CTSCMAC, newCipher: newCamelliaPriv},
	{ID: des3CBCRaw, Name: "des3-cbc-raw", Weak: true, KeyLen: 24, Family: FamDES3},
	{ID: rc4HMACExp, Name: "arcfour-hmac-exp", Aliases: []string{"rc4-hmac-exp", "arcfour-hmac-md5-exp"},
		Weak: true, KeyLen: 16, Family: FamRC4, CksumType: -138},
}

// listFamilies are the family names MIT's enctype lists accept besides
// DEFAULT (krb5int_parse_enctype_list in src/lib/krb5/krb/init_ctx.c),
// each with its members in MIT's order.
var listFamilies = [...]struct {
	name string
	ids  []int32
}{
	{"des3", []int32{des3SHA1}},
	{"aes", []int32{aes256SHA1, aes128SHA1, aes256SHA384, aes128SHA256}},
	{"rc4", []int32{rc4HMAC}},
	{"camellia", []int32{camellia256, camellia128}},
}

// ListFamily returns the members of an enctype family named in an MIT
// enctype list ("aes", "des3", "rc4" or "camellia", without regard to
// case), in MIT's order, or nil. The result must not be modified.
func ListFamily(name string) []int32 {
	for _, f := range listFamilies {
		if strings.EqualFold(f.name, name) {
			return f.ids
		}
	}
	return nil
}

// Lookup returns the row for id, or nil when MIT does not know the enctype.
func Lookup(id int32) *Spec {
	for i := range table {
		if table[i].ID == id {
			return &table[i]
		}
	}
	return nil
}

// ByName returns the row whose MIT name or alias is name, compared without
// regard to case as MIT's krb5_string_to_enctype does, or nil.
func ByName(name string) *Spec {
	for i := range table {
		e := &table[i]
		if strings.EqualFold(e.Name, name) {
			return e
		}
		for _, a := range e.Aliases {
			if strings.EqualFold(a, name) {
				return e
			}
		}
	}
	return nil
}

// Specs returns the rows in table order. The result must not be modified.
func Specs() []Spec { return table[:] }

// Implemented reports whether the module can use the enctype for keys and
// messages. It is false for a nil Spec.
func (s *Spec) Implemented() bool {
	return s != nil && s.EType != nil && s.newCipher != nil
}

// NewCipher derives the chained KRB-PRIV cipher for key and key usage. It
// fails with ErrUnsupported for an unimplemented enctype and ErrBadKeysize
// for a key of the wrong length.
func (s *Spec) NewCipher(key []byte, usage uint32) (MessageCipher, error) {
	if !s.Implemented() {
		return nil, ErrUnsupported
	}
	if len(key) != s.KeyLen {
		return nil, ErrBadKeysize
	}
	return s.newCipher(s.EType, key, usage)
}

// TagSize is the length of the integrity tag at the end of the enctype's
// ciphertexts (krb5_c_crypto_length CHECKSUM), or 0 when it is not
// implemented.
func (s *Spec) TagSize() int {
	if !s.Implemented() {
		return 0
	}
	return s.EType.GetHMACBitLength() / 8
}
