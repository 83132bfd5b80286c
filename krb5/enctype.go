package krb5

import (
	"fmt"

	"github.com/gokprop/gokprop/internal/kcrypto"
)

// Enctype is a Kerberos encryption type number. Its facts come from the
// module's one table of enctypes (MIT 1.20's list: names, aliases, key
// length, checksum type, the libdefaults switch that gates it, and whether
// the module implements it).
type Enctype int32

// Encryption type numbers (RFC 3961 section 8, RFC 8009, RFC 6803).
const (
	EnctypeDES3CBCRaw         Enctype = 6
	EnctypeDES3CBCSHA1        Enctype = 16
	EnctypeAES128CTSSHA1      Enctype = 17
	EnctypeAES256CTSSHA1      Enctype = 18
	EnctypeAES128CTSSHA256    Enctype = 19
	EnctypeAES256CTSSHA384    Enctype = 20
	EnctypeRC4HMAC            Enctype = 23
	EnctypeRC4HMACExp         Enctype = 24
	EnctypeCamellia128CTSCMAC Enctype = 25
	EnctypeCamellia256CTSCMAC Enctype = 26
)

// ErrUnsupportedEnctype: an encryption type that is unknown, unimplemented
// or not permitted by the configuration. It is wrapped with the enctype's
// name.
var ErrUnsupportedEnctype = kcrypto.ErrUnsupported

// String returns MIT's name for the enctype, or "etype N" when MIT has
// none.
func (e Enctype) String() string {
	if s := kcrypto.Lookup(int32(e)); s != nil {
		return s.Name
	}
	return fmt.Sprintf("etype %d", int32(e))
}

// ParseEnctype looks up an enctype by MIT name or alias, without regard to
// case, as MIT's krb5_string_to_enctype does. Numbers are not names.
func ParseEnctype(name string) (Enctype, bool) {
	if s := kcrypto.ByName(name); s != nil {
		return Enctype(s.ID), true
	}
	return 0, false
}

// EnctypeFamily returns the enctypes a family name of an MIT enctype list
// stands for ("aes", "des3", "rc4", "camellia", compared without regard
// to case), in MIT's order, or nil for any other word. The slice is the
// caller's.
func EnctypeFamily(name string) []Enctype {
	var out []Enctype
	for _, id := range kcrypto.ListFamily(name) {
		out = append(out, Enctype(id))
	}
	return out
}

// Known reports whether MIT 1.20 knows the enctype (krb5_c_valid_enctype).
func (e Enctype) Known() bool { return kcrypto.Lookup(int32(e)) != nil }

// Implemented reports whether this module can use the enctype for keys
// and messages: every enctype of MIT's default list is; of the others MIT
// knows, des3-cbc-raw and arcfour-hmac-exp (weak) are not.
func (e Enctype) Implemented() bool { return kcrypto.Lookup(int32(e)).Implemented() }

// Weak reports whether MIT drops the enctype from enctype lists unless
// allow_weak_crypto is set.
func (e Enctype) Weak() bool {
	s := kcrypto.Lookup(int32(e))
	return s != nil && s.Weak
}

// Gate returns the [libdefaults] boolean that must be true before this
// module uses the enctype for a session key ("allow_des3" for
// des3-cbc-sha1, "allow_rc4" for arcfour-hmac, which MIT 1.21's and
// Debian's 1.20.1 KDC require before issuing one), or "". Long-term keys
// of those enctypes are used without it, as in MIT.
func (e Enctype) Gate() string {
	if s := kcrypto.Lookup(int32(e)); s != nil {
		return s.Gate
	}
	return ""
}

// KeySize returns the length in bytes of the enctype's protocol keys, or 0
// for an unknown enctype.
func (e Enctype) KeySize() int {
	if s := kcrypto.Lookup(int32(e)); s != nil {
		return s.KeyLen
	}
	return 0
}

// ChecksumType returns the enctype's mandatory checksum type (the one
// KRB-SAFE messages carry), or 0.
func (e Enctype) ChecksumType() int32 {
	if s := kcrypto.Lookup(int32(e)); s != nil {
		return s.CksumType
	}
	return 0
}

// DefaultEnctypes returns MIT 1.20's built-in enctype list, what "DEFAULT"
// means in permitted_enctypes, default_tkt_enctypes and
// default_tgs_enctypes. The slice is the caller's.
func DefaultEnctypes() []Enctype {
	var out []Enctype
	for _, s := range kcrypto.Specs() {
		if s.Default {
			out = append(out, Enctype(s.ID))
		}
	}
	return out
}
