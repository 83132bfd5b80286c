package krbauth

import (
	"crypto/rand"
	"runtime"
	"testing"

	"github.com/gokprop/gokprop/internal/cputime"
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
			cpu0 := cputime.Now()
			for range b.N {
				if buf, err = c.sealPriv(buf[:0], data); err != nil {
					b.Fatal(err)
				}
			}
			cputime.ReportRate(b, cpu0, int64(kpropChunk))
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
			cpu0 := cputime.Now()
			for i := range b.N {
				if i%run == 0 {
					s.initCipherState()
					s.remoteSeq = testSc
				}
				if out, err = s.openPriv(out[:0], msgs[i%run]); err != nil {
					b.Fatal(err)
				}
			}
			cputime.ReportRate(b, cpu0, int64(kpropChunk))
		})
	}
}

// sinkConn is a connection whose writes go nowhere.
type sinkConn struct{ memConn }

func (c *sinkConn) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkPrivWriter measures a pipelined stream of 32 KiB KRB-PRIVs
// (kprop's sender) into a connection that discards them: MB/s of user
// data, and allocations per message.
func BenchmarkPrivWriter(b *testing.B) {
	const msgs = 2048
	for _, id := range implementedEnctypes() {
		b.Run(krb5.Enctype(id).String(), func(b *testing.B) {
			chunks := repeated(pattern(kpropChunk, 1), msgs)
			b.SetBytes(msgs * kpropChunk)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			cpu0 := cputime.Now()
			for range b.N {
				c := handshakenConn(b, &sinkConn{}, sessionParams{role: roleClient, key: testKey(id, 1),
					localSeq: testSc, localAddr: clientAddr, rand: rand.Reader})
				c.StartChaining()
				if err := sendStream(b, c, PrivWriterOptions{MaxData: kpropChunk}, chunks); err != nil {
					b.Fatal(err)
				}
			}
			cputime.ReportRate(b, cpu0, int64(msgs*kpropChunk))
			runtime.ReadMemStats(&m1)
			// Setup included: the buffers, goroutines and session of each
			// stream, spread over its messages.
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N*msgs), "allocs/msg")
		})
	}
}

// BenchmarkPrivReader measures a pipelined stream of 32 KiB KRB-PRIVs
// (kpropd's receiver) read from memory, verified and decrypted with
// GOMAXPROCS workers: MB/s of user data, and allocations per message.
func BenchmarkPrivReader(b *testing.B) {
	const msgs = 2048
	for _, id := range implementedEnctypes() {
		b.Run(krb5.Enctype(id).String(), func(b *testing.B) {
			c, _ := sessionPair(b, id)
			c.initCipherState()
			var stream []byte
			for i := range msgs {
				msg, err := c.sealPriv(nil, pattern(kpropChunk, byte(i)))
				if err != nil {
					b.Fatal(err)
				}
				stream = append(stream, framed(msg)...)
			}
			b.SetBytes(msgs * kpropChunk)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			cpu0 := cputime.Now()
			for range b.N {
				s := handshakenConn(b, newMemConn(stream), sessionParams{role: roleServer, key: testKey(id, uint64(id)),
					localSeq: testSs, remoteSeq: testSc, localAddr: serverAddr})
				s.StartChaining()
				if _, err := readStreamDiscard(s, msgs*kpropChunk); err != nil {
					b.Fatal(err)
				}
			}
			cputime.ReportRate(b, cpu0, int64(msgs*kpropChunk))
			runtime.ReadMemStats(&m1)
			// Setup included: the buffers, goroutines and session of each
			// stream, spread over its messages.
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N*msgs), "allocs/msg")
		})
	}
}

// readStreamDiscard reads total bytes through a PrivReader and drops them.
func readStreamDiscard(c *Conn, total int64) (int64, error) {
	r, err := c.NewPrivReader(PrivReaderOptions{Total: total})
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var n int64
	for n < total {
		data, err := r.Next()
		if err != nil {
			return n, err
		}
		n += int64(len(data))
	}
	return n, nil
}
