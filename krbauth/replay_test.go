package krbauth

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gokprop/gokprop/krb5"
)

func TestReplayCache(t *testing.T) {
	skew := 300 * time.Second
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := NewReplayCache()
	if err := c.store([]byte("tag-a"), t0, skew); err != nil {
		t.Fatal(err)
	}
	if err := c.store([]byte("tag-b"), t0.Add(time.Second), skew); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{0, time.Second, skew, 2 * skew} {
		if err := c.store([]byte("tag-a"), t0.Add(at), skew); !errors.Is(err, krb5.ErrReplay) {
			t.Errorf("replay %v after recording: %v", at, err)
		}
	}
	// After twice the skew the entry is forgotten.
	if err := c.store([]byte("tag-a"), t0.Add(2*skew+time.Second), skew); err != nil {
		t.Errorf("expired entry still refused: %v", err)
	}
	if n := c.len(); n != 2 {
		t.Errorf("%d entries, want 2 (tag-a again and tag-b)", n)
	}
	if err := c.store([]byte("tag-b"), t0.Add(2*skew+2*time.Second), skew); err != nil {
		t.Errorf("tag-b: %v", err)
	}

	var zero ReplayCache
	if err := zero.store([]byte("x"), t0, skew); err != nil {
		t.Fatalf("zero value: %v", err)
	}
	if err := zero.store([]byte("x"), t0, skew); !errors.Is(err, krb5.ErrReplay) {
		t.Errorf("zero value: replay not detected: %v", err)
	}
}

func TestReplayCacheBounded(t *testing.T) {
	skew := time.Minute
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &ReplayCache{max: 100}
	for i := range 100 {
		if err := c.store(fmt.Appendf(nil, "tag-%d", i), t0, skew); err != nil {
			t.Fatal(err)
		}
	}
	err := c.store([]byte("one more"), t0.Add(time.Second), skew)
	if !errors.Is(err, ErrReplayCacheFull) || CodeOf(err) != krb5.ErrGeneric {
		t.Fatalf("full cache: %v", err)
	}
	// Live entries are never dropped to make room.
	if err := c.store([]byte("tag-0"), t0.Add(time.Second), skew); !errors.Is(err, krb5.ErrReplay) {
		t.Errorf("tag-0 forgotten: %v", err)
	}
	// Once they expire there is room again, and the queue is compacted.
	for i := range 1000 {
		if err := c.store(fmt.Appendf(nil, "later-%d", i), t0.Add(3*skew+time.Duration(i)*time.Minute), skew); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if n, q := c.len(), len(c.queue)-c.head; n > 100 || q > 100 || cap(c.queue) > 1000 {
		t.Errorf("entries %d, queue %d (cap %d)", n, q, cap(c.queue))
	}
}

func TestReplayCacheConcurrent(t *testing.T) {
	c := NewReplayCache()
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				// Every goroutine offers the same 200 tags.
				if err := c.store(fmt.Appendf(nil, "t%d", i), now, time.Minute); err == nil {
					mu.Lock()
					accepted++
					mu.Unlock()
				} else if !errors.Is(err, krb5.ErrReplay) {
					t.Errorf("goroutine %d: %v", g, err)
				}
			}
		}()
	}
	wg.Wait()
	if accepted != 200 {
		t.Errorf("%d tags accepted, want each of the 200 exactly once", accepted)
	}
}
