package krbauth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// DefaultMaxMessageSize is the largest frame ReadMessage accepts when the
// caller passes a limit of 0. It comfortably holds a KRB-PRIV carrying
// MIT's 32 KiB chunk (and much larger chunks) while refusing absurd lengths
// before any allocation.
const DefaultMaxMessageSize = 16 << 20

// WriteMessage writes msg as one frame: a 4-byte big-endian length followed
// by msg, in a single write when the writer allows it.
func WriteMessage(w io.Writer, msg []byte) error {
	var hdr [4]byte
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

// ReadMessage reads one frame and returns its payload. A length above max
// (DefaultMaxMessageSize when max <= 0) fails with ErrMessageTooLarge before
// anything is allocated; a connection that ends inside the frame fails with
// ErrConnAborted.
func ReadMessage(r io.Reader, max int) ([]byte, error) {
	return ReadMessageInto(r, nil, max)
}

// ReadMessageInto is ReadMessage reusing buf's storage when it is large
// enough. A loop reading many frames is better served by a FrameReader.
func ReadMessageInto(r io.Reader, buf []byte, max int) ([]byte, error) {
	f := FrameReader{r: r, max: max, buf: buf}
	if f.max <= 0 {
		f.max = DefaultMaxMessageSize
	}
	return f.Next()
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

// FrameHeaderLen is the size of a frame's length prefix.
const FrameHeaderLen = 4

// StartFrame appends room for a frame header to dst. Append the message
// after it (for example with Session.SealPriv) and call FinishFrame: the
// frame then goes out in one write without copying or allocating.
func StartFrame(dst []byte) []byte {
	return append(dst, 0, 0, 0, 0)
}

// FinishFrame fills in the header of a frame begun with StartFrame, whose
// message is everything after the first FrameHeaderLen bytes.
func FinishFrame(frame []byte) error {
	n := len(frame) - FrameHeaderLen
	if n < 0 {
		return fmt.Errorf("finish frame: %d bytes is shorter than a header", len(frame))
	}
	if uint64(n) > 1<<31-1 {
		return fmt.Errorf("write message: %w (%d bytes)", ErrMessageTooLarge, n)
	}
	binary.BigEndian.PutUint32(frame, uint32(n))
	return nil
}

// FrameReader reads frames from one stream, reusing its buffer: the
// message Next returns is valid until the following call. It does not
// allocate once its buffer has grown to the largest frame seen.
type FrameReader struct {
	r   io.Reader
	max int
	hdr [FrameHeaderLen]byte
	buf []byte
}

// NewFrameReader reads frames from r, refusing any longer than max bytes
// (DefaultMaxMessageSize when max <= 0).
func NewFrameReader(r io.Reader, max int) *FrameReader {
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	return &FrameReader{r: r, max: max}
}

// Next reads the next frame, with ReadMessage's errors.
func (f *FrameReader) Next() ([]byte, error) {
	if _, err := io.ReadFull(f.r, f.hdr[:]); err != nil {
		return nil, readErr(err)
	}
	n := binary.BigEndian.Uint32(f.hdr[:])
	if uint64(n) > uint64(f.max) {
		return nil, fmt.Errorf("read message: %w (%d bytes, limit %d)", ErrMessageTooLarge, n, f.max)
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
