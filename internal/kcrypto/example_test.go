package kcrypto_test

import (
	"crypto/rand"
	"fmt"

	"github.com/gokprop/gokprop/internal/kcrypto"
)

// An enctype's row, and an EncryptedData made and opened with it.
func Example() {
	e := kcrypto.ByName("aes256-sha2")
	fmt.Println(e.ID, e.Name, e.KeyLen, e.CksumType, e.Implemented())

	key, _ := kcrypto.RandomKey(e.ID, rand.Reader)
	ed, _ := kcrypto.Encrypt(key, 13, []byte("hello"))
	pt, err := kcrypto.Decrypt(ed, key, 13)
	fmt.Printf("%s %v\n", pt, err)

	ed.Cipher[0] ^= 1
	_, err = kcrypto.Decrypt(ed, key, 13)
	fmt.Println(err != nil)
	// Output:
	// 20 aes256-cts-hmac-sha384-192 32 20 true
	// hello <nil>
	// true
}
