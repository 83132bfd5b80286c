package camellia

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3713 Appendix A: the three example data.
func TestRFC3713AppendixA(t *testing.T) {
	const pt = "0123456789abcdeffedcba9876543210"
	for _, tc := range []struct{ key, ct string }{
		{"0123456789abcdeffedcba9876543210", "67673138549669730857065648eabe43"},
		{"0123456789abcdeffedcba98765432100011223344556677", "b4993401b3e996f84ee5cee7d79b09b9"},
		{"0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff", "9acc237dff16d76c20ef7c919e3a7509"},
	} {
		checkVector(t, unhex(t, tc.key), unhex(t, pt), unhex(t, tc.ct))
	}
}

// checkVector encrypts and decrypts every block of pt, also in place.
func checkVector(t *testing.T, key, pt, ct []byte) {
	t.Helper()
	c, err := NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(pt))
	for i := 0; i < len(pt); i += BlockSize {
		c.Encrypt(got[i:], pt[i:])
	}
	if !bytes.Equal(got, ct) {
		t.Fatalf("key %x: Encrypt(%x) = %x, want %x", key, pt, got, ct)
	}
	for i := 0; i < len(ct); i += BlockSize {
		c.Decrypt(got[i:], got[i:]) // in place
	}
	if !bytes.Equal(got, pt) {
		t.Fatalf("key %x: Decrypt(%x) = %x, want %x", key, ct, got, pt)
	}
}

// testdata/openssl-ecb.txt holds vectors made with OpenSSL's Camellia
// (see testdata/openssl-ecb.sh).
func TestOpenSSLVectors(t *testing.T) {
	f, err := os.Open("testdata/openssl-ecb.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := map[int]int{}
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fl := strings.Fields(line)
		if len(fl) != 4 {
			t.Fatalf("bad line %q", line)
		}
		bits, _ := strconv.Atoi(fl[0])
		key := unhex(t, fl[1])
		if len(key)*8 != bits {
			t.Fatalf("line %q: key is not %d bits", line, bits)
		}
		checkVector(t, key, unhex(t, fl[2]), unhex(t, fl[3]))
		n[bits]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n[128] == 0 || n[192] == 0 || n[256] == 0 {
		t.Fatalf("vectors per key size: %v", n)
	}
}

// The S-boxes are permutations, and spot values of SBOX1 and of SBOX2..4
// derived from it by RFC 3713 section 2.4.4's rules are right.
func TestSBoxes(t *testing.T) {
	for name, s := range map[string]func(byte) byte{"SBOX1": s1, "SBOX2": s2, "SBOX3": s3, "SBOX4": s4} {
		var seen [256]bool
		for v := 0; v < 256; v++ {
			o := s(byte(v))
			if seen[o] {
				t.Fatalf("%s is not a permutation: %d repeats", name, o)
			}
			seen[o] = true
		}
	}
	if s1(0) != 112 || s1(0xff) != 158 || s1(0x92) != 0 {
		t.Fatalf("SBOX1 values: %d %d %d", s1(0), s1(0xff), s1(0x92))
	}
	if s2(0) != 224 || s3(0) != 56 || s4(0) != 112 || s4(1) != 44 {
		t.Fatalf("derived S-boxes: %d %d %d %d", s2(0), s3(0), s4(0), s4(1))
	}
}

// f (table lookups) equals P(S(x)) computed from the RFC's definitions.
func TestFFunctionMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		x := r.Uint64()
		if i < 256*8 { // every byte value in every position
			x = uint64(i%256) << (8 * uint(i/256))
		}
		var in [8]byte
		binary.BigEndian.PutUint64(in[:], x)
		if want, got := pFunc(sFunc(in)), f(x); got != want {
			t.Fatalf("f(%016x) = %016x, want %016x", x, got, want)
		}
	}
}

func TestFLInverse(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		x, k := r.Uint64(), r.Uint64()
		if got := flInv(fl(x, k), k); got != x {
			t.Fatalf("FLINV(FL(%x, %x)) = %x", x, k, got)
		}
	}
}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{16, 24, 32} {
		key := make([]byte, n)
		for i := 0; i < 200; i++ {
			for j := range key {
				key[j] = byte(r.Uint32())
			}
			c, err := NewCipher(key)
			if err != nil {
				t.Fatal(err)
			}
			var pt, ct, back [16]byte
			binary.LittleEndian.PutUint64(pt[:], r.Uint64())
			binary.LittleEndian.PutUint64(pt[8:], r.Uint64())
			c.Encrypt(ct[:], pt[:])
			c.Decrypt(back[:], ct[:])
			if back != pt || ct == pt {
				t.Fatalf("key %x: %x -> %x -> %x", key, pt, ct, back)
			}
		}
	}
}

func TestKeySize(t *testing.T) {
	for _, n := range []int{0, 1, 8, 15, 17, 23, 25, 31, 33, 64} {
		_, err := NewCipher(make([]byte, n))
		var ks KeySizeError
		if !errors.As(err, &ks) || int(ks) != n {
			t.Fatalf("NewCipher(%d bytes) error = %v", n, err)
		}
	}
}

func TestShortBlockPanics(t *testing.T) {
	c, _ := NewCipher(make([]byte, 16))
	for name, fn := range map[string]func(){
		"short src": func() { c.Encrypt(make([]byte, 16), make([]byte, 15)) },
		"short dst": func() { c.Decrypt(make([]byte, 15), make([]byte, 16)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			fn()
		}()
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, n := range []int{16, 32} {
		c, _ := NewCipher(make([]byte, n))
		var b cipher.Block = c
		buf := make([]byte, 16)
		if a := testing.AllocsPerRun(100, func() { b.Encrypt(buf, buf); b.Decrypt(buf, buf) }); a != 0 {
			t.Fatalf("%d-byte key: %v allocations per block", n, a)
		}
	}
}

func BenchmarkEncrypt(b *testing.B) {
	for _, n := range []int{16, 32} {
		b.Run(strconv.Itoa(n*8), func(b *testing.B) {
			c, _ := NewCipher(make([]byte, n))
			buf := make([]byte, BlockSize)
			b.SetBytes(BlockSize)
			b.ReportAllocs()
			for b.Loop() {
				c.Encrypt(buf, buf)
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, n := range []int{16, 32} {
		b.Run(strconv.Itoa(n*8), func(b *testing.B) {
			c, _ := NewCipher(make([]byte, n))
			buf := make([]byte, BlockSize)
			b.SetBytes(BlockSize)
			b.ReportAllocs()
			for b.Loop() {
				c.Decrypt(buf, buf)
			}
		})
	}
}

func BenchmarkNewCipher(b *testing.B) {
	key := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewCipher(key); err != nil {
			b.Fatal(err)
		}
	}
}
