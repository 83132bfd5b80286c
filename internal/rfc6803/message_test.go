package rfc6803

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"
)

// privShape is the method set a KRB-PRIV cipher of this project has (the
// per-enctype cipher state of the krbauth package, with exported names);
// MessageCipher must fit it so that a thin adapter can put it in the
// enctype table.
type privShape interface {
	PrefixLen() int
	SealLen(n int) int
	Seal(ct []byte, n int, rand io.Reader, chained bool) error
	Open(pt, ct []byte, chained bool) ([]byte, error)
	Commit()
	Reset()
}

var _ privShape = (*MessageCipher)(nil)

// countReader produces 0, 1, 2, ... and never allocates.
type countReader struct{ n byte }

func (r *countReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func newPair(t testing.TB, e EType, usage uint32) (send, recv *MessageCipher) {
	t.Helper()
	key := make([]byte, e.GetKeyByteSize())
	for i := range key {
		key[i] = byte(3*i + 1)
	}
	var err error
	if send, err = e.NewMessageCipher(key, usage); err != nil {
		t.Fatal(err)
	}
	if recv, err = NewMessageCipher(key, usage); err != nil {
		t.Fatal(err)
	}
	if recv.EType() != e {
		t.Fatalf("NewMessageCipher picked %s for a %d-byte key", recv.EType().Name(), len(key))
	}
	return send, recv
}

// seal seals msg with c and returns the ciphertext.
func seal(t testing.TB, c *MessageCipher, msg []byte, rand io.Reader, chained bool) []byte {
	t.Helper()
	ct := make([]byte, c.SealLen(len(msg)))
	copy(ct[c.PrefixLen():], msg)
	if err := c.Seal(ct, len(msg), rand, chained); err != nil {
		t.Fatal(err)
	}
	return ct
}

var etypes = []EType{Camellia128CTSCMAC, Camellia256CTSCMAC}

// A run of chained messages of many lengths opens in order at the other
// end, and both ends keep the same state, which is MIT's: the last full
// ciphertext block, unchanged by an empty message.
func TestMessageChainedRoundTrip(t *testing.T) {
	for _, e := range etypes {
		send, recv := newPair(t, e, 13)
		for n := 0; n <= 100; n++ {
			msg := bytes.Repeat([]byte{byte(n + 1)}, n)
			before := send.State()
			ct := seal(t, send, msg, rand.Reader, true)
			after := send.State()
			switch full, _ := tail(16 + n); {
			case n == 0:
				if after != before {
					t.Fatalf("%s: an empty message moved the state", e.Name())
				}
			case !bytes.Equal(after[:], ct[full:full+16]):
				t.Fatalf("%s %d bytes: state %x, want ciphertext block %x", e.Name(), n, after, ct[full:full+16])
			}
			pt := make([]byte, len(ct))
			got, err := recv.Open(pt, ct, true)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%s %d bytes: Open = %x, %v", e.Name(), n, got, err)
			}
			if recv.State() != before {
				t.Fatalf("%s: Open changed the state before Commit", e.Name())
			}
			recv.Commit()
			if recv.State() != send.State() {
				t.Fatalf("%s %d bytes: receiver state %x, sender %x", e.Name(), n, recv.State(), send.State())
			}
		}
	}
}

// Unchained Seal is EncryptMessage: the same confounder gives the same
// ciphertext, and the kept state does not move.
func TestMessageUnchainedIsEncryptMessage(t *testing.T) {
	for _, e := range etypes {
		send, _ := newPair(t, e, 13)
		key := make([]byte, e.GetKeyByteSize())
		for i := range key {
			key[i] = byte(3*i + 1)
		}
		// Move the kept state away from zero first.
		seal(t, send, []byte("first message, chained"), rand.Reader, true)
		kept := send.State()
		for _, n := range []int{0, 1, 15, 16, 17, 40, 1000} {
			msg := bytes.Repeat([]byte("m"), n)
			conf := bytes.Repeat([]byte{byte(n)}, 16)
			got := seal(t, send, msg, bytes.NewReader(conf), false)
			_, want, err := e.encryptMessage(key, conf, msg, 13)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s %d bytes: unchained Seal %x, EncryptMessage %x", e.Name(), n, got, want)
			}
			if send.State() != kept {
				t.Fatalf("%s: unchained Seal moved the state", e.Name())
			}
			if pt, err := e.DecryptMessage(key, got, 13); err != nil || !bytes.Equal(pt, msg) {
				t.Fatalf("%s: DecryptMessage of an unchained Seal: %v", e.Name(), err)
			}
		}
	}
}

// A chained message needs the state its sender had: opened with a fresh
// state, unchained, or without committing the previous message, it fails;
// a failed Open leaves the state, so the right message still opens.
func TestMessageChainingIsRequired(t *testing.T) {
	for _, e := range etypes {
		send, recv := newPair(t, e, 13)
		m1 := seal(t, send, []byte("message one of a chained run"), rand.Reader, true)
		m2 := seal(t, send, []byte("message two, needs the state"), rand.Reader, true)
		pt := make([]byte, 64)

		_, fresh := newPair(t, e, 13)
		if _, err := fresh.Open(pt, m2, true); !errors.Is(err, ErrIntegrity) {
			t.Fatalf("%s: second message with a fresh state: %v", e.Name(), err)
		}
		if _, err := recv.Open(pt, m2, false); !errors.Is(err, ErrIntegrity) {
			t.Fatalf("%s: second message unchained: %v", e.Name(), err)
		}
		if _, err := recv.Open(pt, m1, true); err != nil {
			t.Fatal(err)
		}
		// No Commit: the state is still the initial one.
		if _, err := recv.Open(pt, m2, true); !errors.Is(err, ErrIntegrity) {
			t.Fatalf("%s: second message without Commit: %v", e.Name(), err)
		}
		if _, err := recv.Open(pt, m1, true); err != nil {
			t.Fatal(err)
		}
		recv.Commit()
		bad := append([]byte(nil), m2...)
		bad[20] ^= 0x80
		if _, err := recv.Open(pt, bad, true); !errors.Is(err, ErrIntegrity) {
			t.Fatalf("%s: tampered message: %v", e.Name(), err)
		}
		recv.Commit() // adopts the state of the last successful Open again: no change
		got, err := recv.Open(pt, m2, true)
		if err != nil || string(got) != "message two, needs the state" {
			t.Fatalf("%s: second message after a failure: %q, %v", e.Name(), got, err)
		}
		recv.Commit()
		recv.Reset()
		if recv.State() != [16]byte{} {
			t.Fatal("Reset did not clear the state")
		}
	}
}

// Every flipped bit of a ciphertext is caught, the plaintext buffer is
// cleared, and the state is left alone.
func TestMessageTamper(t *testing.T) {
	for _, e := range etypes {
		send, recv := newPair(t, e, 13)
		msg := []byte("KRB-PRIV payload, 37 bytes long.....")
		for _, chained := range []bool{false, true} {
			ct := seal(t, send, msg, rand.Reader, chained)
			for i := range ct {
				for bit := 0; bit < 8; bit++ {
					bad := append([]byte(nil), ct...)
					bad[i] ^= 1 << bit
					pt := bytes.Repeat([]byte{0xee}, len(bad))
					if _, err := recv.Open(pt, bad, chained); !errors.Is(err, ErrIntegrity) {
						t.Fatalf("%s chained=%v byte %d bit %d: %v", e.Name(), chained, i, bit, err)
					}
					if !bytes.Equal(pt[:len(bad)-16], make([]byte, len(bad)-16)) {
						t.Fatalf("%s: plaintext not cleared after a failed Open", e.Name())
					}
				}
			}
			pt := make([]byte, len(ct))
			if got, err := recv.Open(pt, ct, chained); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%s chained=%v: the intact message: %v", e.Name(), chained, err)
			}
			if chained {
				recv.Commit()
			}
		}
	}
}

func TestMessageSizes(t *testing.T) {
	send, recv := newPair(t, Camellia128CTSCMAC, 13)
	if send.PrefixLen() != 16 || send.SealLen(5) != 37 {
		t.Fatal("PrefixLen/SealLen")
	}
	if err := send.Seal(make([]byte, 36), 5, rand.Reader, true); !errors.Is(err, ErrMessageSize) {
		t.Fatalf("Seal with a short buffer: %v", err)
	}
	if err := send.Seal(make([]byte, 37), 5, failReader{}, true); err == nil || send.State() != [16]byte{} {
		t.Fatalf("Seal with a failing reader: %v, state %x", err, send.State())
	}
	ct := seal(t, send, []byte("hello"), rand.Reader, true)
	if _, err := recv.Open(make([]byte, len(ct)-1), ct, true); !errors.Is(err, ErrMessageSize) {
		t.Fatalf("Open into a short buffer: %v", err)
	}
	if _, err := recv.Open(make([]byte, 64), ct[:31], true); !errors.Is(err, ErrMessageSize) {
		t.Fatalf("Open of 31 bytes: %v", err)
	}
	// In place.
	got, err := recv.Open(ct, ct, true)
	if err != nil || string(got) != "hello" {
		t.Fatalf("Open in place: %q, %v", got, err)
	}
	if _, err := NewMessageCipher(make([]byte, 24), 13); !errors.Is(err, ErrKeySize) {
		t.Fatalf("24-byte key: %v", err)
	}
	if _, err := Camellia256CTSCMAC.NewMessageCipher(make([]byte, 16), 13); !errors.Is(err, ErrKeySize) {
		t.Fatalf("16-byte key for camellia256: %v", err)
	}
}

// Different usages derive different keys.
func TestMessageUsageMatters(t *testing.T) {
	send, _ := newPair(t, Camellia256CTSCMAC, 13)
	_, other := newPair(t, Camellia256CTSCMAC, 14)
	ct := seal(t, send, []byte("usage 13"), rand.Reader, false)
	if _, err := other.Open(make([]byte, len(ct)), ct, false); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("opened with usage 14: %v", err)
	}
}

func TestMessageZeroAllocs(t *testing.T) {
	for _, e := range etypes {
		for _, n := range []int{0, 100, 32 << 10} {
			send, recv := newPair(t, e, 13)
			var c privShape = send
			var r privShape = recv
			ct := make([]byte, c.SealLen(n))
			pt := make([]byte, len(ct))
			rnd := &countReader{}
			allocs := testing.AllocsPerRun(20, func() {
				if err := c.Seal(ct, n, rnd, true); err != nil {
					t.Fatal(err)
				}
				if _, err := r.Open(pt, ct, true); err != nil {
					t.Fatal(err)
				}
				r.Commit()
			})
			if allocs != 0 {
				t.Fatalf("%s, %d bytes: %v allocations per Seal+Open+Commit", e.Name(), n, allocs)
			}
		}
	}
}

func benchmarkPriv(b *testing.B, open bool) {
	for _, e := range etypes {
		for _, n := range []int{32 << 10} {
			b.Run(fmt.Sprintf("%s/%dKiB", e.Name(), n>>10), func(b *testing.B) {
				send, recv := newPair(b, e, 13)
				ct := make([]byte, send.SealLen(n))
				pt := make([]byte, len(ct))
				rnd := &countReader{}
				if open {
					if err := send.Seal(ct, n, rnd, false); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if open {
						if _, err := recv.Open(pt, ct, false); err != nil {
							b.Fatal(err)
						}
						recv.Commit()
					} else if err := send.Seal(ct, n, rnd, true); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSealPriv and BenchmarkOpenPriv measure one KRB-PRIV-sized
// message: a 32 KiB kprop block.
func BenchmarkSealPriv(b *testing.B) { benchmarkPriv(b, false) }

func BenchmarkOpenPriv(b *testing.B) { benchmarkPriv(b, true) }

func BenchmarkStringToKey(b *testing.B) {
	for _, e := range etypes {
		b.Run(e.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.StringToKey("password", "EXAMPLE.COMuser", ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Open takes untrusted bytes: whatever they are it must not panic, and it
// either rejects them or returns a message that seals back to them.
func FuzzOpen(f *testing.F) {
	send, _ := newPair(f, Camellia128CTSCMAC, 13)
	for _, n := range []int{0, 1, 16, 17, 100} {
		f.Add(seal(f, send, bytes.Repeat([]byte{1}, n), rand.Reader, false), false)
	}
	f.Add(make([]byte, 31), true)
	f.Fuzz(func(t *testing.T, ct []byte, chained bool) {
		_, recv := newPair(t, Camellia128CTSCMAC, 13)
		pt := make([]byte, len(ct))
		msg, err := recv.Open(pt, ct, chained)
		if err != nil {
			if !errors.Is(err, ErrIntegrity) && !errors.Is(err, ErrMessageSize) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Only a genuine ciphertext opens; reseal it with its confounder.
		again := seal(t, recv, msg, bytes.NewReader(pt[:16]), chained)
		if !bytes.Equal(again, ct) {
			t.Fatalf("opened %x but reseals to %x", ct, again)
		}
	})
}
