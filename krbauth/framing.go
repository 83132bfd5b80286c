package krbauth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// DefaultMaxMessageSize is the largest message a Conn accepts when its
// configuration's MaxMessageSize is 0. It comfortably holds a KRB-PRIV
// carrying MIT's 32 KiB chunk (and much larger chunks) while refusing
// absurd lengths before any allocation.
const DefaultMaxMessageSize = 16 << 20

// Every message of the protocol travels as a frame: a 4-byte big-endian
// length followed by the message (MIT's krb5_write_message). Frames are
// private to this package; the Conn reads and writes them.

// frameHeaderLen is the size of a frame's length prefix.
const frameHeaderLen = 4

// writeFrame writes msg as one frame, in a single write when w is a
// net.Conn.
func writeFrame(w io.Writer, msg []byte) error {
	var hdr [frameHeaderLen]byte
	if uint64(len(msg)) > 1<<31-1 {
		return fmt.Errorf("write message: %w (%d bytes)", ErrMessageTooLarge, len(msg))
	}
	binary.BigEndian.PutUint32(hdr[:], uint32(len(msg)))
	if c, ok := w.(net.Conn); ok {
		bufs := net.Buffers{hdr[:], msg}
		_, err := bufs.WriteTo(c)
		return err
	}
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(msg)
	return err
}

// readFrame reads one frame of at most max bytes into a new buffer.
func readFrame(r io.Reader, max int) ([]byte, error) {
	f := frameReader{r: r, max: max}
	return f.next()
}

// readErr maps an end of stream inside or before a frame to ErrConnAborted
// (what MIT's krb5_read_message reports), keeping timeouts and other
// network errors as they are.
func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", ErrConnAborted, err)
	}
	return err
}

// startFrame appends room for a frame header to dst; append the message
// after it and call finishFrame, and the frame goes out in one write
// without copying or allocating.
func startFrame(dst []byte) []byte {
	return append(dst, 0, 0, 0, 0)
}

// finishFrame fills in the header of a frame begun with startFrame, whose
// message is everything after the header.
func finishFrame(frame []byte) error {
	n := len(frame) - frameHeaderLen
	if uint64(n) > 1<<31-1 {
		return fmt.Errorf("write message: %w (%d bytes)", ErrMessageTooLarge, n)
	}
	binary.BigEndian.PutUint32(frame, uint32(n))
	return nil
}

// frameReader reads frames from one stream, reusing its buffer: the
// message next returns is valid until the following call. It does not
// allocate once its buffer has grown to the largest frame seen. A length
// above max (DefaultMaxMessageSize when max <= 0) fails with
// ErrMessageTooLarge before anything is allocated; a stream that ends
// inside the frame fails with ErrConnAborted.
type frameReader struct {
	r   io.Reader
	max int
	hdr [frameHeaderLen]byte
	buf []byte
}

func (f *frameReader) next() ([]byte, error) {
	max := f.max
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	if _, err := io.ReadFull(f.r, f.hdr[:]); err != nil {
		return nil, readErr(err)
	}
	n := binary.BigEndian.Uint32(f.hdr[:])
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("read message: %w (%d bytes, limit %d)", ErrMessageTooLarge, n, max)
	}
	if cap(f.buf) < int(n) {
		f.buf = make([]byte, n)
	}
	f.buf = f.buf[:n]
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		return nil, readErr(err)
	}
	return f.buf, nil
}
