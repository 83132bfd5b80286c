package kprop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// waitRing waits until cond holds of r (checked under r.mu whenever the
// ring changes), failing the test after a generous timeout.
func waitRing(t *testing.T, r *ring, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		ok, ch := cond(), r.watch
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func testDump(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// A reader that takes nothing holds the producer to one ring's length
// ahead of it: the dump is not read further, whatever the fast reader
// does, and each chunk the slow one takes lets exactly one more in.
func TestRingMemoryIsBounded(t *testing.T) {
	const chunk, slots = 1000, 4
	dump := testDump(50*chunk + 123)
	src := &countingReader{r: bytes.NewReader(dump)}
	r := newRing(src, int64(len(dump)), 2, chunk, slots, 0)
	go r.run()
	fast, slow := r.readers[0], r.readers[1]
	ctx := context.Background()

	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(ctxReader{ctx, fast})
		got <- b
	}()
	waitRing(t, r, "the ring to fill", func() bool { return r.filled == slots })
	waitRing(t, r, "the fast reader to catch up", func() bool { return fast.pos == slots*chunk })
	if n := src.n.Load(); n != slots*chunk {
		t.Fatalf("with one reader at 0, %d bytes were read from the dump, want the ring's %d", n, slots*chunk)
	}
	if len(r.slots) != slots {
		t.Fatalf("%d slots allocated, want %d", len(r.slots), slots)
	}

	buf := make([]byte, chunk)
	for i := 1; i <= 10; i++ {
		if _, err := io.ReadFull(ctxReader{ctx, slow}, buf); err != nil {
			t.Fatal(err)
		}
		want := int64(slots+i) * chunk
		waitRing(t, r, "the next chunk", func() bool { return r.filled*chunk == want })
		if n := src.n.Load(); n != want {
			t.Fatalf("after the slow reader took %d chunks, %d bytes read, want %d", i, n, want)
		}
	}
	rest, err := io.ReadAll(ctxReader{ctx, slow})
	if err != nil {
		t.Fatal(err)
	}
	if all := append(append([]byte(nil), dump[:10*chunk]...), rest...); !bytes.Equal(all, dump) {
		t.Error("the slow reader read other bytes than the dump's")
	}
	if b := <-got; !bytes.Equal(b, dump) {
		t.Error("the fast reader read other bytes than the dump's")
	}
	if n := src.n.Load(); n != int64(len(dump)) {
		t.Errorf("the dump was read %d bytes for %d", n, len(dump))
	}
}

// A detached reader (its replica failed) holds nobody back.
func TestRingDetachedReaderDoesNotBlock(t *testing.T) {
	dump := testDump(100_000)
	r := newRing(bytes.NewReader(dump), int64(len(dump)), 3, 1000, 2, 0)
	go r.run()
	r.readers[1].detach()
	var wg sync.WaitGroup
	for _, i := range []int{0, 2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := io.ReadAll(ctxReader{context.Background(), r.readers[i]})
			if err != nil || !bytes.Equal(b, dump) {
				t.Errorf("reader %d: %d bytes, %v", i, len(b), err)
			}
		}()
	}
	wg.Wait()
	if _, err := r.readers[1].read(context.Background(), make([]byte, 1)); !errors.Is(err, errReaderDone) {
		t.Errorf("a detached reader reads: %v", err)
	}
	select {
	case <-r.done:
	default:
		t.Error("every reader read the dump or detached, but the ring is not done")
	}
}

// A reader that takes nothing for the stall timeout while another waits
// is evicted: cancelled, its reads fail with ErrStalled, the other goes on.
// Alone, a reader is never evicted.
func TestRingEvictsStalledReader(t *testing.T) {
	dump := testDump(20_000)
	r := newRing(bytes.NewReader(dump), int64(len(dump)), 2, 1000, 2, 50*time.Millisecond)
	cancelled := make(chan struct{})
	r.readers[1].cancel = func() { close(cancelled) }
	go r.run()
	b, err := io.ReadAll(ctxReader{context.Background(), r.readers[0]})
	if err != nil || !bytes.Equal(b, dump) {
		t.Fatalf("the live reader: %d bytes, %v", len(b), err)
	}
	<-cancelled
	if _, err := r.readers[1].read(context.Background(), make([]byte, 10)); !errors.Is(err, ErrStalled) {
		t.Errorf("the stalled reader reads: %v", err)
	}

	alone := newRing(bytes.NewReader(dump), int64(len(dump)), 1, 1000, 2, time.Millisecond)
	alone.readers[0].cancel = func() { t.Error("a reader alone was evicted") }
	go alone.run()
	waitRing(t, alone, "the ring to fill", func() bool { return alone.filled == 2 })
	time.Sleep(20 * time.Millisecond) // well past the stall timeout
	b, err = io.ReadAll(ctxReader{context.Background(), alone.readers[0]})
	if err != nil || !bytes.Equal(b, dump) {
		t.Fatalf("the lone reader: %d bytes, %v", len(b), err)
	}
}

// A dump shorter than announced fails every reader at the point where it
// ends, as io.ErrUnexpectedEOF (which Send reports as a premature EOF).
func TestRingShortDump(t *testing.T) {
	dump := testDump(5500)
	r := newRing(bytes.NewReader(dump), 9000, 2, 1000, 3, 0)
	go r.run()
	var wg sync.WaitGroup
	for i, rd := range r.readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := io.ReadAll(ctxReader{context.Background(), rd})
			if !errors.Is(err, io.ErrUnexpectedEOF) || !bytes.Equal(b, dump[:5000]) {
				t.Errorf("reader %d: %d bytes, %v", i, len(b), err)
			}
		}()
	}
	wg.Wait()
}

// A reader waiting for data returns when its context ends.
func TestRingReadHonoursContext(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	r := newRing(pr, 100, 1, 10, 2, 0)
	go r.run()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.readers[0].read(ctx, make([]byte, 10))
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("read = %v, want context.Canceled", err)
	}
}

// A pass over the ring allocates nothing per chunk: a dump ten times as
// long costs the same allocations (the ring, its readers, the goroutine),
// so the heap of a long propagation stays where a short one's is.
func TestRingAllocatesNothingPerChunk(t *testing.T) {
	const chunk, slots = 512, 4
	buf := make([]byte, chunk)
	pass := func(chunks int) float64 {
		dump := testDump(chunks * chunk)
		return testing.AllocsPerRun(5, func() {
			r := newRing(bytes.NewReader(dump), int64(len(dump)), 2, chunk, slots, 0)
			go r.run()
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					if _, err := r.readers[1].read(context.Background(), buf[:chunk/2]); err != nil {
						return
					}
				}
			}()
			own := make([]byte, chunk)
			for {
				if _, err := r.readers[0].read(context.Background(), own); err != nil {
					break
				}
			}
			<-done
		})
	}
	short, long := pass(40), pass(400)
	if long > short+2 {
		t.Fatalf("a pass of 40 chunks made %.0f allocations, of 400 chunks %.0f: the ring allocates per chunk", short, long)
	}
}
