package krbauth

import (
	"fmt"
	"strings"
)

// Encryption type numbers (RFC 3961 section 8, RFC 8009, RFC 6803).
const (
	EnctypeDES3CBCRaw         int32 = 6
	EnctypeDES3CBCSHA1        int32 = 16
	EnctypeAES128CTSSHA1      int32 = 17
	EnctypeAES256CTSSHA1      int32 = 18
	EnctypeAES128CTSSHA256    int32 = 19
	EnctypeAES256CTSSHA384    int32 = 20
	EnctypeRC4HMAC            int32 = 23
	EnctypeRC4HMACExp         int32 = 24
	EnctypeCamellia128CTSCMAC int32 = 25
	EnctypeCamellia256CTSCMAC int32 = 26
)

// enctypeInfo describes one encryption type as MIT names it.
type enctypeInfo struct {
	id      int32
	name    string   // MIT's canonical name
	aliases []string // other names krb5.conf accepts
	weak    bool     // filtered out unless allow_weak_crypto
}

// enctypeNames is MIT's enctype name table (src/lib/crypto/krb/etypes.c).
var enctypeNames = []enctypeInfo{
	{EnctypeDES3CBCRaw, "des3-cbc-raw", nil, true},
	{EnctypeDES3CBCSHA1, "des3-cbc-sha1", []string{"des3-hmac-sha1", "des3-cbc-sha1-kd"}, false},
	{EnctypeRC4HMAC, "arcfour-hmac", []string{"rc4-hmac", "arcfour-hmac-md5"}, false},
	{EnctypeRC4HMACExp, "arcfour-hmac-exp", []string{"rc4-hmac-exp", "arcfour-hmac-md5-exp"}, true},
	{EnctypeAES128CTSSHA1, "aes128-cts-hmac-sha1-96", []string{"aes128-cts", "aes128-sha1"}, false},
	{EnctypeAES256CTSSHA1, "aes256-cts-hmac-sha1-96", []string{"aes256-cts", "aes256-sha1"}, false},
	{EnctypeCamellia128CTSCMAC, "camellia128-cts-cmac", []string{"camellia128-cts"}, false},
	{EnctypeCamellia256CTSCMAC, "camellia256-cts-cmac", []string{"camellia256-cts"}, false},
	{EnctypeAES128CTSSHA256, "aes128-cts-hmac-sha256-128", []string{"aes128-sha2"}, false},
	{EnctypeAES256CTSSHA384, "aes256-cts-hmac-sha384-192", []string{"aes256-sha2"}, false},
}

// DefaultEnctypes is MIT 1.20's built-in enctype list, what "DEFAULT" means
// in permitted_enctypes, default_tkt_enctypes and default_tgs_enctypes.
var DefaultEnctypes = []int32{
	EnctypeAES256CTSSHA1, EnctypeAES128CTSSHA1,
	EnctypeAES256CTSSHA384, EnctypeAES128CTSSHA256,
	EnctypeDES3CBCSHA1, EnctypeRC4HMAC,
	EnctypeCamellia128CTSCMAC, EnctypeCamellia256CTSCMAC,
}

// EnctypeName returns MIT's name for an enctype, or "etype N" when unknown.
func EnctypeName(id int32) string {
	for _, e := range enctypeNames {
		if e.id == id {
			return e.name
		}
	}
	return fmt.Sprintf("etype %d", id)
}

// EnctypeByName looks up an enctype by MIT name or alias (case-insensitive),
// or by decimal number as MIT accepts.
func EnctypeByName(name string) (int32, bool) {
	for _, e := range enctypeNames {
		if strings.EqualFold(e.name, name) {
			return e.id, true
		}
		for _, a := range e.aliases {
			if strings.EqualFold(a, name) {
				return e.id, true
			}
		}
	}
	var n int32
	if _, err := fmt.Sscanf(name, "%d", &n); err == nil && fmt.Sprint(n) == name {
		for _, e := range enctypeNames {
			if e.id == n {
				return n, true
			}
		}
	}
	return 0, false
}

func isWeak(id int32) bool {
	for _, e := range enctypeNames {
		if e.id == id {
			return e.weak
		}
	}
	return false
}

// ParseEnctypeList interprets an MIT enctype list string as krb5.conf's
// permitted_enctypes and friends do: words separated by spaces or commas,
// "DEFAULT", family names (aes, des3, rc4, camellia), enctype names, and a
// leading "+" or "-" to add or remove. Weak enctypes are dropped unless
// allowWeak. Unknown words are ignored, like MIT; an empty result is an
// error.
func ParseEnctypeList(s string, allowWeak bool) ([]int32, error) {
	var list []int32
	mod := func(id int32, add bool) {
		if !allowWeak && isWeak(id) {
			return
		}
		for i, have := range list {
			if have == id {
				if !add {
					list = append(list[:i], list[i+1:]...)
				}
				return
			}
		}
		if add {
			list = append(list, id)
		}
	}
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == ','
	}) {
		add := true
		if tok[0] == '+' || tok[0] == '-' {
			add = tok[0] == '+'
			tok = tok[1:]
		}
		var ids []int32
		switch strings.ToLower(tok) {
		case "default":
			ids = DefaultEnctypes
		case "des3":
			ids = []int32{EnctypeDES3CBCSHA1}
		case "aes":
			ids = []int32{EnctypeAES256CTSSHA1, EnctypeAES128CTSSHA1, EnctypeAES256CTSSHA384, EnctypeAES128CTSSHA256}
		case "rc4":
			ids = []int32{EnctypeRC4HMAC}
		case "camellia":
			ids = []int32{EnctypeCamellia256CTSCMAC, EnctypeCamellia128CTSCMAC}
		default:
			if id, ok := EnctypeByName(tok); ok {
				ids = []int32{id}
			}
		}
		for _, id := range ids {
			mod(id, add)
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("enctype list %q: %w", s, ErrUnsupportedEnctype)
	}
	return list, nil
}
