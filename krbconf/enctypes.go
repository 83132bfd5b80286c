package krbconf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gokprop/gokprop/krb5"
)

// ParseEnctypeList interprets an MIT enctype list string as krb5.conf's
// permitted_enctypes and friends do: words separated by spaces or commas,
// "DEFAULT", family names (aes, des3, rc4, camellia), enctype names, and a
// leading "+" or "-" to add or remove. Weak enctypes are dropped unless
// allowWeak. Unknown words are ignored, like MIT; an empty result is an
// error. (Unlike MIT 1.20, the decimal number of a known enctype is also
// accepted.)
func ParseEnctypeList(s string, allowWeak bool) ([]krb5.Enctype, error) {
	var list []krb5.Enctype
	mod := func(id krb5.Enctype, add bool) {
		if !allowWeak && id.Weak() {
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
		var ids []krb5.Enctype
		if strings.EqualFold(tok, "default") {
			ids = krb5.DefaultEnctypes()
		} else if ids = krb5.EnctypeFamily(tok); ids == nil {
			if id, ok := enctypeByNameOrNumber(tok); ok {
				ids = []krb5.Enctype{id}
			}
		}
		for _, id := range ids {
			mod(id, add)
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("enctype list %q: %w", s, krb5.ErrUnsupportedEnctype)
	}
	return list, nil
}

// enctypeByNameOrNumber is krb5.ParseEnctype, or the decimal number of a
// known enctype.
func enctypeByNameOrNumber(tok string) (krb5.Enctype, bool) {
	if e, ok := krb5.ParseEnctype(tok); ok {
		return e, true
	}
	n, err := strconv.ParseInt(tok, 10, 32)
	if err != nil || strconv.FormatInt(n, 10) != tok || !krb5.Enctype(n).Known() {
		return 0, false
	}
	return krb5.Enctype(n), true
}
