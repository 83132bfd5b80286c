package kprop

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// The shared pass's ring: ringSlots buffers of ringChunk bytes, 4 MiB in
// all whatever the dump's size and the number of replicas.
const (
	ringChunk = 256 << 10
	ringSlots = 16
)

// errReaderDone is what a ringReader returns after detach.
var errReaderDone = errors.New("kprop: shared dump reader detached")

// ring is one pass over a dump, read once by a producer goroutine into a
// ring of chunk buffers and consumed by several readers, each at its own
// pace. Chunk k lives in slot k%len(slots) and is overwritten by chunk
// k+len(slots) only when every attached reader has read past it, so the
// memory is the ring's whatever the readers do, and the readers stay
// within a ring's length of each other: the slowest one sets the pace. A
// reader that is detached (its replica failed or finished) no longer holds
// anybody back; one that holds the others back without taking anything
// for stall is evicted (see newRing).
type ring struct {
	src   io.Reader
	size  int64
	chunk int64
	slots [][]byte
	stall time.Duration
	now   func() time.Time

	mu sync.Mutex
	// wake is the producer's: notify leaves a token in it (and in each
	// reader's changed) whenever the state below changes. Tokens, not a
	// closed-and-replaced channel, so that a change allocates nothing.
	wake    chan struct{}
	watch   chan struct{} // a token on every change too, for an observer (the tests)
	filled  int64         // chunks read into the ring so far
	err     error         // the producer's read error, after filled chunks
	readers []*ringReader
	done    chan struct{} // closed once every reader is detached
	nActive int
}

// ringReader is one replica's view of a ring: an io.Reader of the dump.
type ringReader struct {
	r        *ring
	pos      int64 // bytes read
	released int64 // chunks read to their end
	last     time.Time
	detached bool
	evicted  error         // why the producer evicted it
	cancel   func()        // called on eviction
	wake     chan struct{} // closed on eviction, to unblock Read
	changed  chan struct{} // a token whenever the ring's state changes (see notify)
}

// newRing prepares a pass over size bytes of src with n readers. A reader
// that has taken nothing for stall while the ring waits for it, and while
// at least one other reader is attached, is evicted: its cancel function
// is called and its Reads fail with the error stalled returns. A zero
// stall never evicts.
func newRing(src io.Reader, size int64, n int, chunk int64, slots int, stall time.Duration) *ring {
	r := &ring{
		src:     src,
		size:    size,
		chunk:   chunk,
		stall:   stall,
		now:     time.Now,
		wake:    make(chan struct{}, 1),
		watch:   make(chan struct{}, 1),
		done:    make(chan struct{}),
		nActive: n,
	}
	nChunks := (size + chunk - 1) / chunk
	for i := 0; i < slots && int64(i) < nChunks; i++ {
		r.slots = append(r.slots, make([]byte, chunk))
	}
	start := r.now()
	for range n {
		r.readers = append(r.readers, &ringReader{r: r, last: start, cancel: func() {}, wake: make(chan struct{}), changed: make(chan struct{}, 1)})
	}
	if n == 0 {
		close(r.done)
	}
	return r
}

// notify wakes every goroutine waiting on the ring; r.mu must be held.
// A waiter checks the state under r.mu before it waits on its channel,
// and the token left here (at most one is pending per channel) makes it
// look again, so no change is missed; an extra wake-up only costs a look.
func (r *ring) notify() {
	poke(r.wake)
	poke(r.watch)
	for _, rd := range r.readers {
		poke(rd.changed)
	}
}

// poke leaves a token in c unless one is already there.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// chunkLen is the length of chunk k.
func (r *ring) chunkLen(k int64) int64 {
	return min(r.chunk, r.size-k*r.chunk)
}

// run is the producer: it reads the dump chunk by chunk into the ring
// until the end, a read error, or until no reader is attached.
func (r *ring) run() {
	nChunks := (r.size + r.chunk - 1) / r.chunk
	for k := int64(0); k < nChunks; k++ {
		if !r.waitSlot(k) {
			return
		}
		buf := r.slots[k%int64(len(r.slots))][:r.chunkLen(k)]
		// The slot is free: no reader will look at it until filled says
		// so, which the lock below publishes.
		_, err := io.ReadFull(r.src, buf)
		r.mu.Lock()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			r.err = err
		} else {
			r.filled = k + 1
		}
		r.notify()
		r.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// waitSlot waits until chunk k may be read into its slot: every attached
// reader has released chunk k-len(slots). It evicts stalled readers on
// the way and reports false when no reader is left.
func (r *ring) waitSlot(k int64) bool {
	need := k - int64(len(r.slots)) + 1 // chunks every reader must have released
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if r.nActive == 0 {
			return false
		}
		var timeout <-chan time.Time
		waiting, evicted := false, false
		now := r.now()
		oldest := now
		for _, rd := range r.readers {
			if rd.detached || rd.released >= need {
				continue
			}
			if r.stall > 0 && r.nActive > 1 && now.Sub(rd.last) >= r.stall {
				r.evict(rd)
				evicted = true
				continue
			}
			waiting = true
			oldest = minTime(oldest, rd.last)
		}
		if evicted {
			continue
		}
		if !waiting {
			return true
		}
		if r.stall > 0 && r.nActive > 1 {
			wait := max(r.stall-now.Sub(oldest), time.Millisecond)
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			timeout = timer.C
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-timeout:
		}
		r.mu.Lock()
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// evict detaches rd because it stalled; r.mu must be held.
func (r *ring) evict(rd *ringReader) {
	rd.evicted = ErrStalled
	close(rd.wake)
	r.detachLocked(rd)
	rd.cancel()
}

func (r *ring) detachLocked(rd *ringReader) {
	if rd.detached {
		return
	}
	rd.detached = true
	r.nActive--
	if r.nActive == 0 {
		close(r.done)
	}
	r.notify()
}

// Read copies the next bytes of the dump. It blocks until the producer
// has read them, ctx ends, or the reader is evicted or detached.
func (rd *ringReader) read(ctx context.Context, p []byte) (int, error) {
	r := rd.r
	r.mu.Lock()
	var k int64
	for {
		switch {
		case rd.evicted != nil:
			r.mu.Unlock()
			return 0, rd.evicted
		case rd.pos >= r.size:
			r.mu.Unlock()
			return 0, io.EOF
		case rd.detached:
			r.mu.Unlock()
			return 0, errReaderDone
		}
		k = rd.pos / r.chunk
		if k < r.filled {
			break
		}
		if r.err != nil {
			err := r.err
			r.mu.Unlock()
			return 0, err
		}
		r.mu.Unlock()
		select {
		case <-rd.changed:
		case <-rd.wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		r.mu.Lock()
	}
	off := rd.pos - k*r.chunk
	end := r.chunkLen(k)
	r.mu.Unlock()
	// Chunk k stays in its slot until this reader releases it below.
	n := copy(p, r.slots[k%int64(len(r.slots))][off:end])
	r.mu.Lock()
	rd.pos += int64(n)
	rd.last = r.now()
	if off+int64(n) == end {
		rd.released = k + 1
		r.notify()
	}
	if rd.pos == r.size {
		// All read: this reader holds the ring back no more.
		r.detachLocked(rd)
	}
	r.mu.Unlock()
	return n, nil
}

// detach tells the ring that rd will read no more.
func (rd *ringReader) detach() {
	rd.r.mu.Lock()
	rd.r.detachLocked(rd)
	rd.r.mu.Unlock()
}

// stalled reports whether the ring evicted rd.
func (rd *ringReader) stalled() bool {
	rd.r.mu.Lock()
	defer rd.r.mu.Unlock()
	return rd.evicted != nil
}

// dumpReader is one replica's reader of the dump in a Fanout: a
// ringReader, or a soloReader for a replica alone in its group.
type dumpReader interface {
	read(ctx context.Context, p []byte) (int, error)
	detach()          // the replica reads no more
	stalled() bool    // whether it was evicted for holding the others back
	setCancel(func()) // what eviction calls
}

func (rd *ringReader) setCancel(cancel func()) { rd.cancel = cancel }

// ctxReader adapts a dumpReader to io.Reader under a context.
type ctxReader struct {
	ctx context.Context
	rd  dumpReader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return c.rd.read(c.ctx, p)
}

// soloReader is the dump of a replica alone in its group: read from the
// source straight into the caller's buffer (no ring, so no copy and no
// producer). done is closed once the dump is read to its end or the
// replica is done with it.
type soloReader struct {
	src  io.Reader
	left int64
	done chan struct{}
	once sync.Once
}

func newSoloReader(src io.Reader, size int64) *soloReader {
	return &soloReader{src: src, left: size, done: make(chan struct{})}
}

func (s *soloReader) read(ctx context.Context, p []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.left <= 0 {
		s.detach()
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.src.Read(p)
	if s.left -= int64(n); s.left == 0 {
		s.detach()
	}
	return n, err
}

func (s *soloReader) detach()          { s.once.Do(func() { close(s.done) }) }
func (s *soloReader) stalled() bool    { return false }
func (s *soloReader) setCancel(func()) {}
