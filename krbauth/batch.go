package krbauth

import (
	"net"
	"time"
)

// batchSize is how much a batchReader asks the kernel to gather before
// waking it, and the size of its buffer.
const batchSize = 256 << 10

// batchFallback is how long a batchReader waits for a batch before it
// takes whatever has arrived (a variable for the tests).
var batchFallback = 10 * time.Millisecond

// batchReader reads a connection through a buffer, a batch at a time,
// while the stream is known to hold at least expect more bytes: where the
// kernel allows it (SO_RCVLOWAT), a read that finds nothing waits until
// min(batchSize, expect) bytes have arrived instead of waking for each
// segment. A sender on the same machine pays for every wakeup of a
// sleeping receiver in its own time, and MIT's kprop, one thread, sets the
// pace of the transfer. If a batch takes longer than batchFallback (a
// peer that stopped short and waits for an answer), the read takes what
// has arrived, so nothing waits on data that may never come.
type batchReader struct {
	conn   net.Conn
	buf    []byte
	r, w   int   // buf[r:w] is unread
	expect int64 // the stream holds at least this much after buf[w]
	lowat  int   // the low-water mark as last set, 0 if not known
	timer  *time.Timer
	fired  chan struct{} // the fallback has tried to drop the mark to 1
}

func newBatchReader(conn net.Conn) *batchReader {
	b := &batchReader{conn: conn, buf: make([]byte, batchSize), fired: make(chan struct{}, 1)}
	b.timer = time.AfterFunc(time.Hour, b.fallback)
	b.timer.Stop()
	return b
}

// fallback runs when a batch is late: the read in progress then takes
// what has arrived.
func (b *batchReader) fallback() {
	_ = setLowat(b.conn, 1)
	b.fired <- struct{}{}
}

// Read implements io.Reader.
func (b *batchReader) Read(p []byte) (int, error) {
	if b.r == b.w {
		if len(p) >= len(b.buf) {
			return b.fill(p)
		}
		n, err := b.fill(b.buf)
		b.r, b.w = 0, n
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// fill reads once into p, waiting for a batch if the stream is known to
// hold one.
func (b *batchReader) fill(p []byte) (int, error) {
	mark := max(int(min(b.expect, int64(len(p)))), 1)
	if mark != b.lowat && setLowat(b.conn, mark) == nil {
		b.lowat = mark
	}
	waiting := b.lowat > 1
	if waiting {
		b.timer.Reset(batchFallback)
	}
	n, err := b.conn.Read(p)
	if waiting && !b.timer.Stop() {
		// The fallback ran or is running: wait for it, so that its
		// change of the mark comes before the next read's.
		<-b.fired
		b.lowat = 0
	}
	b.expect = max(b.expect-int64(n), 0)
	return n, err
}

// release restores the connection's low-water mark.
func (b *batchReader) release() {
	if b.lowat != 1 {
		_ = setLowat(b.conn, 1)
	}
	b.lowat = 1
}
