package krb5_test

import (
	"errors"
	"fmt"

	"github.com/gokprop/gokprop/krb5"
)

// Principals, enctypes and error codes, with MIT's spellings.
func Example() {
	p, _ := krb5.ParsePrincipal("host/kdc1.example.com", "EXAMPLE.COM")
	fmt.Println(p)

	e, _ := krb5.ParseEnctype("aes256-sha2")
	fmt.Println(int32(e), e, e.KeySize(), e.Gate() == "")
	fmt.Println(krb5.EnctypeRC4HMAC.Gate(), krb5.EnctypeCamellia128CTSCMAC.Implemented())

	err := fmt.Errorf("reading chunk: %w", krb5.ErrBadIntegrity)
	fmt.Println(errors.Is(err, krb5.ErrBadIntegrity), krb5.ErrBadIntegrity)
	// Output:
	// host/kdc1.example.com@EXAMPLE.COM
	// 20 aes256-cts-hmac-sha384-192 32 true
	// allow_rc4 true
	// true Decrypt integrity check failed
}
