package wire

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestSizeCodec(t *testing.T) {
	tests := []struct {
		size uint64
		hex  string
	}{
		{175277, "0002acad"},
		{1, "00000001"},
		{1<<32 - 1, "ffffffff"},
		{0, "000000000000000000000000"},
		{1 << 32, "000000000000000100000000"},
		{5 << 40, "000000000000050000000000"},
	}
	for _, tt := range tests {
		got := AppendSize(nil, tt.size)
		if hex.EncodeToString(got) != tt.hex {
			t.Errorf("AppendSize(%d) = %x, want %s", tt.size, got, tt.hex)
		}
		back, err := DecodeSize(got)
		if err != nil || back != tt.size {
			t.Errorf("DecodeSize(%x) = %d, %v", got, back, err)
		}
	}
}

func TestDecodeSizeRejects(t *testing.T) {
	bad := []string{
		"",
		"00",
		"0000000000",
		"000000000000000000000001",         // small size in the long form
		"000000000000000000abcdef",         // likewise
		"000000010000000100000000",         // non-zero prefix
		"00000000000000000000000000000000", // 16 bytes
	}
	for _, h := range bad {
		b, _ := hex.DecodeString(h)
		if _, err := DecodeSize(b); err == nil {
			t.Errorf("DecodeSize(%s) accepted", h)
		}
	}
	if got := AppendSize([]byte{0xff}, 2); !bytes.Equal(got, []byte{0xff, 0, 0, 0, 2}) {
		t.Errorf("AppendSize does not append: %x", got)
	}
}

func TestLookupPort(t *testing.T) {
	if p, err := LookupPort("7754"); err != nil || p != 7754 {
		t.Errorf("numeric: %d, %v", p, err)
	}
	// krb5_prop from services(5), or 754 where it is missing.
	if p, err := LookupPort(""); err != nil || p != 754 {
		t.Errorf("default: %d, %v", p, err)
	}
	if _, err := LookupPort("no-such-service-name"); err == nil {
		t.Error("unknown service name accepted")
	}
}

// FuzzDecodeSize: DecodeSize accepts exactly MIT's encodings, and what it
// accepts AppendSize encodes back the same way.
func FuzzDecodeSize(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		size, err := DecodeSize(b)
		if err != nil {
			return
		}
		if len(b) == 4 && size == 0 {
			return // MIT accepts a short zero, but writes a long one
		}
		if got := AppendSize(nil, size); !bytes.Equal(got, b) {
			t.Fatalf("DecodeSize(%x) = %d, which encodes as %x", b, size, got)
		}
	})
}
