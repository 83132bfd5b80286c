package krbauth

import (
	"io"
	"net"
)

// readAheadSize is the buffer in which a PrivReader reads several small
// frames at once (MIT's 32 KiB KRB-PRIV messages); larger frames are read
// straight into their slot.
const readAheadSize = 256 << 10

// frameSource is what a PrivReader's reading goroutine reads frames from:
// the connection, through a buffer that may hold bytes of the frames after
// the one being read, but never more than the stream is sure to hold (see
// read), so that nothing after the stream is taken from the connection.
//
// On Linux it also sets the socket's receive low-water mark (SO_RCVLOWAT)
// to what it is about to read, at most readAheadSize: a slow sender's
// frames then wake the reader once per buffer rather than once per frame,
// and a fast sender's large records once per record rather than once per
// segment. The mark never exceeds what the stream is sure to hold, so a
// well-behaved peer always fills it; one that stops short is bounded by
// the connection's deadlines, and its closing wakes the reader anyway.
type frameSource struct {
	conn       net.Conn
	buf        []byte // buffered: buf[start:end]
	start, end int
	lowat      func(int) bool // sets SO_RCVLOWAT; nil when the connection has none
	mark       int            // the mark last set (1, the default, at first)
}

func newFrameSource(conn net.Conn) *frameSource {
	return &frameSource{conn: conn, lowat: lowatSetter(conn), mark: 1}
}

// read fills dst with the next bytes of the stream. sure is how many bytes,
// from the start of dst on, the stream is sure to hold (at least
// len(dst)); the buffer never holds more than that.
func (f *frameSource) read(dst []byte, sure int64) error {
	n := copy(dst, f.buf[f.start:f.end])
	f.start += n
	dst = dst[n:]
	sure -= int64(n)
	if len(dst) == 0 {
		return nil
	}
	// The buffer is empty now.
	f.start, f.end = 0, 0
	if len(dst) >= readAheadSize/2 {
		// A large frame: straight into dst, waking up (with the mark)
		// only when the rest of it is there or the mark is reached.
		for len(dst) > 0 {
			f.setMark(len(dst))
			m, err := f.conn.Read(dst)
			dst = dst[m:]
			if err != nil && len(dst) > 0 {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		return nil
	}
	if f.buf == nil {
		f.buf = make([]byte, readAheadSize)
	}
	// Read what dst needs and, as far as the stream is sure to hold more,
	// what the buffer has room for.
	want := int(min(int64(len(f.buf)), max(sure, int64(len(dst)))))
	for f.end < len(dst) {
		f.setMark(want - f.end)
		m, err := f.conn.Read(f.buf[f.end:want])
		f.end += m
		if err != nil && f.end < len(dst) {
			if err == io.EOF && f.end > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	f.start = copy(dst, f.buf[:f.end])
	return nil
}

// setMark sets the low-water mark to n bytes (at most readAheadSize).
func (f *frameSource) setMark(n int) {
	n = max(1, min(n, readAheadSize))
	if f.lowat == nil || n == f.mark {
		return
	}
	if !f.lowat(n) {
		f.lowat = nil // not supported after all: leave it
		return
	}
	f.mark = n
}

// reset puts the low-water mark back to the default, for whoever reads
// the connection after the stream.
func (f *frameSource) reset() {
	f.setMark(1)
}
