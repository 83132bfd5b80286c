package dumpfmt

import (
	"math/rand/v2"
	"testing"
)

func TestIsHex(t *testing.T) {
	// Compare the word-at-a-time check with a byte-at-a-time one on every
	// byte value at every position of strings of several lengths.
	slow := func(b []byte) bool {
		for _, c := range b {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
		return true
	}
	rnd := rand.New(rand.NewPCG(1, 1))
	for n := 0; n < 40; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = "0123456789abcdef"[rnd.IntN(16)]
		}
		if !isHex(b) {
			t.Fatalf("%q rejected", b)
		}
		for i := 0; i < n; i++ {
			orig := b[i]
			for c := 0; c < 256; c++ {
				b[i] = byte(c)
				if isHex(b) != slow(b) {
					t.Fatalf("%q: isHex %v", b, isHex(b))
				}
			}
			b[i] = orig
		}
	}
}

func TestParseNumbers(t *testing.T) {
	for _, tc := range []struct {
		in       string
		min, max int64
		ok       bool
		want     int64
	}{
		{"0", 0, 10, true, 0}, {"10", 0, 10, true, 10}, {"11", 0, 10, false, 0},
		{"2147483647", -1 << 31, 1<<31 - 1, true, 1<<31 - 1}, {"-2147483648", -1 << 31, 1<<31 - 1, true, -1 << 31},
		{"2147483648", -1 << 31, 1<<31 - 1, false, 0}, {"-2147483649", -1 << 31, 1<<31 - 1, false, 0},
		{"4294967295", 0, 1<<32 - 1, true, 1<<32 - 1}, {"4294967296", 0, 1<<32 - 1, false, 0},
		{"-1", 0, 10, false, 0}, {"0", 1, 2, false, 0}, {"-0", -5, 5, false, 0}, {"01", 0, 10, false, 0}, {"+1", 0, 10, false, 0},
		{"", 0, 10, false, 0}, {"1 ", 0, 10, false, 0}, {"99999999999999999999999", 0, 1<<32 - 1, false, 0},
	} {
		v, err := parseInt([]byte(tc.in), tc.min, tc.max)
		if (err == nil) != tc.ok || v != tc.want {
			t.Errorf("parseInt(%q, %d, %d) = %d, %v", tc.in, tc.min, tc.max, v, err)
		}
	}
}

func TestCheckHexDecodes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 2))
	for n := 0; n < 64; n++ {
		want := make([]byte, n)
		for i := range want {
			want[i] = byte(rnd.Uint32())
		}
		enc := appendHex(nil, want)
		if n == 0 {
			enc = nil
		}
		got := make([]byte, n)
		if err := checkHex(enc, got); err != nil || string(got) != string(want) {
			t.Fatalf("%x: got %x, %v", want, got, err)
		}
	}
}

// TestFastIntAgrees checks the one-pass number parser against parseInt:
// whenever it accepts a field, parseInt must accept it with the same value.
func TestFastIntAgrees(t *testing.T) {
	inputs := []string{"0", "7", "-7", "10", "-0", "00", "01", "2147483647", "2147483648", "-2147483648",
		"-2147483649", "4294967295", "4294967296", "999999999999999999", "12a", "", "-", "5;", "65535", "65536"}
	ranges := [][2]int64{{0, 1<<32 - 1}, {-1 << 31, 1<<31 - 1}, {0, 1<<16 - 1}, {1, 2}}
	for _, in := range inputs {
		for _, tail := range []string{"", "\t", "\tx"} {
			for _, rg := range ranges {
				s := fieldScanner{b: []byte(in + tail)}
				v, ok := s.fastInt(rg[0], rg[1])
				want, err := parseInt([]byte(in), rg[0], rg[1])
				if ok && (err != nil || v != want) {
					t.Errorf("fastInt(%q, %v) = %d; parseInt = %d, %v", in+tail, rg, v, want, err)
				}
				if !ok && err == nil && in != "" {
					t.Errorf("fastInt(%q, %v) refused what parseInt takes", in+tail, rg)
				}
			}
		}
	}
}
