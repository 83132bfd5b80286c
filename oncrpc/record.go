package oncrpc

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// lastFragment is the record-marking bit of a fragment header that ends
// its record (RFC 5531 section 11).
const lastFragment = 1 << 31

// maxFragment is the largest fragment a header can describe.
const maxFragment = lastFragment - 1

// readChunk bounds how much a read grows the record buffer at a time, so
// that the buffer grows with the bytes that actually arrive and not with
// a fragment header's claim.
const readChunk = 64 << 10

// appendRecord appends msg as one record: fragments of at most frag bytes
// (frag <= 0 or above maxFragment means maxFragment), each after its
// 4-byte header. An empty message is one empty last fragment.
func appendRecord(b, msg []byte, frag int) []byte {
	if frag <= 0 || frag > maxFragment {
		frag = maxFragment
	}
	for {
		n := min(len(msg), frag)
		h := uint32(n)
		if n == len(msg) {
			h |= lastFragment
		}
		b = binary.BigEndian.AppendUint32(b, h)
		b = append(b, msg[:n]...)
		msg = msg[n:]
		if len(msg) == 0 {
			return b
		}
	}
}

// readRecord reads one record of at most max bytes, fragment headers
// included, and returns its reassembled data.
func readRecord(r io.Reader, max int) ([]byte, error) {
	var rec []byte
	total := 0
	for {
		var h [4]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			if err == io.ErrUnexpectedEOF || (err == io.EOF && total > 0) {
				err = fmt.Errorf("oncrpc: record cut short: %w", io.ErrUnexpectedEOF)
			}
			return nil, err
		}
		v := binary.BigEndian.Uint32(h[:])
		n := int(v &^ lastFragment)
		total += 4
		if n > max-total {
			return nil, fmt.Errorf("%w (%d bytes)", ErrRecordTooLarge, max)
		}
		total += n
		for n > 0 {
			k := min(n, readChunk)
			rec = slices.Grow(rec, k)
			m, err := io.ReadFull(r, rec[len(rec):len(rec)+k])
			rec = rec[:len(rec)+m]
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, fmt.Errorf("oncrpc: record cut short: %w", err)
			}
			n -= k
		}
		if v&lastFragment != 0 {
			return rec, nil
		}
	}
}
