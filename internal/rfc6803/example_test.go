package rfc6803_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/gokprop/gokprop/internal/rfc6803"
)

// String-to-key and a checksum, with the inputs of RFC 6803's test
// vectors (one PBKDF2 iteration; real keys use the default 32768).
func ExampleEType() {
	e, _ := rfc6803.Lookup(rfc6803.EnctypeCamellia128CTSCMAC)
	key, err := e.StringToKeyIter("password", "ATHENA.MIT.EDUraeburn", 1)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Name(), hex.EncodeToString(key))

	key, _ = hex.DecodeString("1dc46a8d763f4f93742bcba3387576c3")
	sum, _ := e.GetChecksumHash(key, []byte("abcdefghijk"), 7)
	fmt.Println("checksum type", e.GetHashID(), hex.EncodeToString(sum))
	// Output:
	// camellia128-cts-cmac 57d0297298ffd9d35de5a47fb4bde24b
	// checksum type 17 1178e6c5c47a8c1ae0c4b9c7d4eb7b6b
}

// Two ends of a connection encrypt a run of messages with chained cipher
// state, as kprop and kpropd do for KRB-PRIV (key usage 13).
func ExampleMessageCipher() {
	session := make([]byte, 32) // a camellia256-cts-cmac session key
	if _, err := rand.Read(session); err != nil {
		panic(err)
	}
	send, _ := rfc6803.NewMessageCipher(session, 13)
	recv, _ := rfc6803.NewMessageCipher(session, 13)

	for _, msg := range []string{"first block of the dump", "second block"} {
		ct := make([]byte, send.SealLen(len(msg)))
		copy(ct[send.PrefixLen():], msg)
		if err := send.Seal(ct, len(msg), rand.Reader, true); err != nil {
			panic(err)
		}

		got, err := recv.Open(make([]byte, len(ct)), ct, true)
		if err != nil {
			panic(err)
		}
		recv.Commit() // the message passed every other check too
		fmt.Printf("%q, states agree: %v\n", got, recv.State() == send.State())
	}
	// Output:
	// "first block of the dump", states agree: true
	// "second block", states agree: true
}
