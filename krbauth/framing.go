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
// enough, so a loop that reads many frames need not allocate.
func ReadMessageInto(r io.Reader, buf []byte, max int) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, readErr(err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("read message: %w (%d bytes, limit %d)", ErrMessageTooLarge, n, max)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, readErr(err)
	}
	return buf, nil
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
