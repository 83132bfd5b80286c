package camellia_test

import (
	"encoding/hex"
	"fmt"

	"github.com/gokprop/gokprop/internal/camellia"
)

// Encrypting RFC 3713's example block with its 128-bit example key.
func Example() {
	key, _ := hex.DecodeString("0123456789abcdeffedcba9876543210")
	block, err := camellia.NewCipher(key)
	if err != nil {
		panic(err)
	}
	buf := append([]byte(nil), key...) // the RFC's plaintext equals its key
	block.Encrypt(buf, buf)
	fmt.Printf("%x\n", buf)
	block.Decrypt(buf, buf)
	fmt.Printf("%x\n", buf)
	// Output:
	// 67673138549669730857065648eabe43
	// 0123456789abcdeffedcba9876543210
}
