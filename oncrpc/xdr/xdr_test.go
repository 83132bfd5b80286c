package xdr

import (
	"bytes"
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b []byte
	b = AppendUint32(b, 0xdeadbeef)
	b = AppendInt32(b, -2)
	b = AppendInt16(b, -32768)
	b = AppendBool(b, true)
	b = AppendBool(b, false)
	b = AppendOpaque(b, []byte("abcde"))
	b = AppendOpaque(b, nil)
	b = AppendFixedOpaque(b, []byte{1, 2})
	b = AppendCount(b, 1)
	b = AppendUint32(b, 7)
	want := []byte{
		0xde, 0xad, 0xbe, 0xef,
		0xff, 0xff, 0xff, 0xfe,
		0xff, 0xff, 0x80, 0x00,
		0, 0, 0, 1,
		0, 0, 0, 0,
		0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e', 0, 0, 0,
		0, 0, 0, 0,
		1, 2, 0, 0,
		0, 0, 0, 1,
		0, 0, 0, 7,
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("encoded\n% x\nwant\n% x", b, want)
	}
	d := NewDecoder(b)
	if v := d.Uint32(); v != 0xdeadbeef {
		t.Errorf("Uint32 = %#x", v)
	}
	if v := d.Int32(); v != -2 {
		t.Errorf("Int32 = %d", v)
	}
	if v := d.Int16(); v != -32768 {
		t.Errorf("Int16 = %d", v)
	}
	if !d.Bool() || d.Bool() {
		t.Error("Bool values")
	}
	if v := d.Opaque(5); string(v) != "abcde" {
		t.Errorf("Opaque = %q", v)
	}
	if v := d.Opaque(0); v != nil {
		t.Errorf("empty Opaque = %#v, want nil", v)
	}
	if v := d.FixedOpaque(2); !bytes.Equal(v, []byte{1, 2}) {
		t.Errorf("FixedOpaque = %v", v)
	}
	if n := d.Count(3, 4); n != 1 || d.Uint32() != 7 {
		t.Errorf("Count = %d", n)
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		read func(*Decoder)
		want error
		off  int
	}{
		{"short uint", []byte{0, 0, 1}, func(d *Decoder) { d.Uint32() }, ErrShort, 0},
		{"short range", []byte{0, 1, 0, 0}, func(d *Decoder) { d.Int16() }, ErrRange, 0},
		{"negative short range", []byte{0xff, 0xfe, 0xff, 0xff}, func(d *Decoder) { d.Int16() }, ErrRange, 0},
		{"bool 2", []byte{0, 0, 0, 2}, func(d *Decoder) { d.Bool() }, ErrBool, 0},
		{"opaque bound", []byte{0, 0, 0, 9}, func(d *Decoder) { d.Opaque(8) }, ErrTooLong, 0},
		{"opaque huge", []byte{0xff, 0xff, 0xff, 0xff}, func(d *Decoder) { d.Opaque(1 << 30) }, ErrTooLong, 0},
		{"opaque short", []byte{0, 0, 0, 4, 'a'}, func(d *Decoder) { d.Opaque(8) }, ErrShort, 0},
		{"opaque missing padding", []byte{0, 0, 0, 1, 'a', 0}, func(d *Decoder) { d.Opaque(8) }, ErrShort, 5},
		{"opaque padding", []byte{0, 0, 0, 1, 'a', 0, 1, 0}, func(d *Decoder) { d.Opaque(8) }, ErrPadding, 5},
		{"count bound", []byte{0, 0, 0, 3}, func(d *Decoder) { d.Count(2, 4) }, ErrTooLong, 0},
		{"count vs input", []byte{0, 0, 0, 3, 0, 0, 0, 0}, func(d *Decoder) { d.Count(1000, 4) }, ErrShort, 0},
		{"trailing", []byte{0, 0, 0, 3, 0}, func(d *Decoder) { d.Uint32(); d.End() }, ErrTrailing, 4},
		{"sticky", []byte{0, 0}, func(d *Decoder) { d.Uint32(); d.Bool(); d.Opaque(4) }, ErrShort, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(c.in)
			c.read(d)
			err := d.Err()
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset != c.off {
				t.Fatalf("err = %#v, want offset %d", err, c.off)
			}
		})
	}
}

func TestPanicsOnUnencodableLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("AppendCount(-1) did not panic")
		}
	}()
	AppendCount(nil, -1)
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		p := d.Opaque(64)
		v := d.Bool()
		n := d.Count(16, 4)
		items := make([]int16, 0, n)
		for i := 0; i < n; i++ {
			items = append(items, d.Int16())
		}
		if d.End() != nil {
			return
		}
		// Whatever decodes must re-encode to the input.
		out := AppendOpaque(nil, p)
		out = AppendBool(out, v)
		out = AppendCount(out, len(items))
		for _, it := range items {
			out = AppendInt16(out, it)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoded % x, input % x", out, b)
		}
	})
}
