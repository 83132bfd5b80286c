package krbauth

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
)

func TestFramingRoundTrip(t *testing.T) {
	var b bytes.Buffer
	for _, m := range [][]byte{{}, []byte("KRB5_SENDAUTH_V1.0\x00"), bytes.Repeat([]byte{7}, 40000)} {
		if err := writeFrame(&b, m); err != nil {
			t.Fatal(err)
		}
	}
	want := []int{0, 19, 40000}
	fr := frameReader{r: &b}
	for _, n := range want {
		buf, err := fr.next()
		if err != nil || len(buf) != n {
			t.Fatalf("next = %d bytes, %v; want %d", len(buf), err, n)
		}
	}
	if _, err := readFrame(&b, 0); !errors.Is(err, ErrConnAborted) {
		t.Errorf("read at EOF: %v, want ErrConnAborted", err)
	}
}

func TestFramingExactBytes(t *testing.T) {
	var b bytes.Buffer
	writeFrame(&b, []byte("kprop5_01\x00"))
	if got := b.Bytes(); !bytes.Equal(got, append([]byte{0, 0, 0, 10}, "kprop5_01\x00"...)) {
		t.Errorf("frame = % x", got)
	}
}

// countingReader records how much was read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestFramingOversizedRejectedBeforeAllocation(t *testing.T) {
	// A length of 2 GiB - 1 followed by nothing: the cap must refuse it
	// after reading only the header (no allocation, no waiting for data).
	cr := &countingReader{r: bytes.NewReader([]byte{0x7f, 0xff, 0xff, 0xff, 1, 2, 3})}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := readFrame(cr, 1<<20); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("err = %v, want ErrMessageTooLarge", err)
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
		t.Errorf("refusing an oversized frame allocated %d bytes", d)
	}
	if cr.n != 4 {
		t.Errorf("read %d bytes, want only the 4-byte header", cr.n)
	}
	// The limit itself is accepted.
	var b bytes.Buffer
	writeFrame(&b, make([]byte, 100))
	if _, err := readFrame(&b, 100); err != nil {
		t.Errorf("frame at the limit: %v", err)
	}
	b.Reset()
	writeFrame(&b, make([]byte, 101))
	if _, err := readFrame(&b, 100); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("frame over the limit: %v", err)
	}
}

func TestFramingTruncated(t *testing.T) {
	for _, in := range [][]byte{{0}, {0, 0, 0}, {0, 0, 0, 5, 1, 2}} {
		if _, err := readFrame(bytes.NewReader(in), 0); !errors.Is(err, ErrConnAborted) {
			t.Errorf("readFrame(% x) = %v, want ErrConnAborted", in, err)
		}
	}
}

func TestWriteFrameOneWriteOnConn(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go writeFrame(a, []byte("hello"))
	got := make([]byte, 9)
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, []byte("\x00\x00\x00\x05hello")) {
		t.Fatalf("got % x, %v", got, err)
	}
}

func FuzzReadMessage(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 'x'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := readFrame(bytes.NewReader(in), 1<<16)
		if err == nil && len(m)+4 > len(in) {
			t.Fatalf("read %d bytes from %d", len(m), len(in))
		}
	})
}

func TestFrameWriteReadWithoutAllocating(t *testing.T) {
	var stream bytes.Buffer
	frame := make([]byte, 0, 40000)
	msg := bytes.Repeat([]byte{0xab}, 32800)
	fr := frameReader{r: &stream}
	allocs := testing.AllocsPerRun(50, func() {
		frame = append(startFrame(frame[:0]), msg...)
		if err := finishFrame(frame); err != nil {
			t.Fatal(err)
		}
		stream.Write(frame)
		got, err := fr.next()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("next = %d bytes, %v", len(got), err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame written and read", allocs)
	}
}
