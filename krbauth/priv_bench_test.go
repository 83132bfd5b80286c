package krbauth

import (
	"crypto/rand"
	"testing"

	"github.com/gokprop/gokprop/krb5"
)

// kpropChunk is MIT kprop's KPROP_BUFSIZ: the user data of one KRB-PRIV.
const kpropChunk = 32768

// BenchmarkSealPriv measures chained KRB-PRIV construction of 32 KiB chunks
// (confounders from crypto/rand, as in production).
func BenchmarkSealPriv(b *testing.B) {
	for _, id := range implementedEnctypes() {
		b.Run(krb5.Enctype(id).String(), func(b *testing.B) {
			c, _ := sessionPair(b, id)
			c.rand = rand.Reader
			c.initCipherState()
			data := pattern(kpropChunk, 1)
			buf, err := c.sealPriv(make([]byte, 0, kpropChunk+256), data) // warm up
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(kpropChunk)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if buf, err = c.sealPriv(buf[:0], data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenPriv measures chained KRB-PRIV verification and decryption
// of 32 KiB chunks. It cycles through a fixed run of messages, resetting
// the receiver's cipher state and sequence number at the start of each
// cycle.
func BenchmarkOpenPriv(b *testing.B) {
	const run = 16
	for _, id := range implementedEnctypes() {
		b.Run(krb5.Enctype(id).String(), func(b *testing.B) {
			c, s := sessionPair(b, id)
			c.initCipherState()
			msgs := make([][]byte, run)
			for i := range msgs {
				var err error
				if msgs[i], err = c.sealPriv(nil, pattern(kpropChunk, byte(i))); err != nil {
					b.Fatal(err)
				}
			}
			// Warm up (HMAC precomputation, scratch buffer) with a throwaway
			// receiver state, then start the cycle afresh.
			out, err := s.openPriv(make([]byte, 0, kpropChunk), msgs[0])
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(kpropChunk)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i%run == 0 {
					s.initCipherState()
					s.remoteSeq = testSc
				}
				if out, err = s.openPriv(out[:0], msgs[i%run]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
