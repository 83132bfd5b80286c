package rfc6803

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/internal/camellia"
)

func newTestCTS(t testing.TB, key []byte) *cts {
	t.Helper()
	b, err := camellia.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	return &cts{b: b}
}

// testdata/openssl-cts.txt: OpenSSL's Camellia-CBC-CTS (CS1 order) for
// many lengths and IVs; see testdata/openssl-cts.sh.
func TestCTSAgainstOpenSSL(t *testing.T) {
	f, err := os.Open("testdata/openssl-cts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	count := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fl := strings.Fields(line)
		if len(fl) != 5 {
			t.Fatalf("bad line %q", line)
		}
		key, iv, pt, cs1 := unhex(t, fl[1]), unhex(t, fl[2]), unhex(t, fl[3]), unhex(t, fl[4])
		n := len(pt)
		full, last := tail(n)
		// CS3 (Kerberos): the full final block before the short one.
		want := append(append(append([]byte(nil), cs1[:full]...), cs1[n-blockSize:]...), cs1[full:full+last]...)

		m := newTestCTS(t, key)
		var state [blockSize]byte
		copy(state[:], iv)
		got := make([]byte, n)
		next := m.encrypt(got, pt, state)
		if !bytes.Equal(got, want) {
			t.Fatalf("%d-bit key, %d bytes:\n got %x\nwant %x", len(key)*8, n, got, want)
		}
		// MIT's next state: the last full ciphertext block.
		if !bytes.Equal(next[:], got[full:full+blockSize]) {
			t.Fatalf("%d bytes: next state %x, want %x", n, next, got[full:full+blockSize])
		}
		back := append([]byte(nil), got...)
		if dnext := m.decrypt(back, back, state); dnext != next || !bytes.Equal(back, pt) {
			t.Fatalf("%d bytes: decrypt gave %x (state %x)", n, back, dnext)
		}
		count++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if count < 30 {
		t.Fatalf("only %d vectors", count)
	}
}

// One block is encrypted with a zero IV whatever the state, and the state
// stays (MIT's builtin provider).
func TestCTSOneBlock(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	m := newTestCTS(t, key)
	pt := []byte("sixteen bytes!!!")
	want := make([]byte, 16)
	m.b.Encrypt(want, pt)
	state := [blockSize]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	got := make([]byte, 16)
	if next := m.encrypt(got, pt, state); next != state || !bytes.Equal(got, want) {
		t.Fatalf("encrypt: %x state %x, want %x state %x", got, next, want, state)
	}
	if next := m.decrypt(got, got, state); next != state || !bytes.Equal(got, pt) {
		t.Fatalf("decrypt: %q state %x", got, next)
	}
}

// In place and into another buffer give the same result, for every length
// from 16 to 100 bytes, and the state chains as CBC would: two messages
// of whole blocks, the second started from the first's state, decrypt
// with that state.
func TestCTSInPlaceAndChaining(t *testing.T) {
	m := newTestCTS(t, bytes.Repeat([]byte{9}, 16))
	src := make([]byte, 100)
	for i := range src {
		src[i] = byte(i * 7)
	}
	var state [blockSize]byte
	for n := 16; n <= len(src); n++ {
		out := make([]byte, n)
		s1 := m.encrypt(out, src[:n], state)
		in := append([]byte(nil), src[:n]...)
		s2 := m.encrypt(in, in, state)
		if s1 != s2 || !bytes.Equal(out, in) {
			t.Fatalf("%d bytes: in place differs", n)
		}
		dec := make([]byte, n)
		if s3 := m.decrypt(dec, out, state); s3 != s1 || !bytes.Equal(dec, src[:n]) {
			t.Fatalf("%d bytes: decrypt into another buffer", n)
		}
		state = s1 // chain into the next length
	}
}
