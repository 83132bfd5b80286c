package krbauth

import (
	"encoding/hex"
	"errors"
	"net"
	"testing"

	"github.com/gokprop/gokprop/krb5"
)

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// implementedEnctypes are the enctypes the module implements, in the
// order of MIT's default list.
func implementedEnctypes() []krb5.Enctype {
	var ids []krb5.Enctype
	for _, e := range krb5.DefaultEnctypes() {
		if e.Implemented() {
			ids = append(ids, e)
		}
	}
	return ids
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
