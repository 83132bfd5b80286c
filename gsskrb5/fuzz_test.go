package gsskrb5

import (
	"testing"

	"github.com/gokprop/gokprop/krb5"
)

// FuzzUnwrap feeds arbitrary tokens to an established initiator: Unwrap
// and VerifyMIC must refuse or accept without panicking, and never
// return a message from a token the acceptor did not make.
func FuzzUnwrap(f *testing.F) {
	ini, acc := newPair(f, int32(krb5.EnctypeAES256CTSSHA1), int32(krb5.EnctypeAES256CTSSHA1), mitFlags)
	establish(f, ini, acc)
	for _, n := range []int{0, 5, 40} {
		w, _ := acc.tok.wrap(message(n), true)
		f.Add(w)
		w, _ = acc.tok.wrap(message(n), false)
		f.Add(w)
		m, _ := acc.tok.getMIC(message(n))
		f.Add(m)
	}
	f.Add([]byte{5, 4, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, tok []byte) {
		ini.Unwrap(tok)
		ini.VerifyMIC(nil, tok)
		ini.VerifyMIC(message(5), tok)
	})
}

// FuzzReply feeds arbitrary acceptor replies to a context awaiting one.
func FuzzReply(f *testing.F) {
	ini, acc := newPair(f, int32(krb5.EnctypeAES128CTSSHA1), int32(krb5.EnctypeAES128CTSSHA1), mitFlags)
	tok, _, _ := ini.InitSecContext(nil)
	rep, err := acc.accept(tok)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rep)
	f.Add(appendFramed(nil, tokError, []byte{0x7e, 0x03, 0x02, 0x01, 0x05}))
	creds := ini.creds
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := NewInitiator(creds, &Config{Flags: mitFlags})
		if err != nil {
			t.Fatal(err)
		}
		c.InitSecContext(nil)
		c.InitSecContext(in)
		parseFramed(in)
	})
}
