package rfc6803

import (
	"crypto/cipher"
	"fmt"
	"hash"
)

// CMAC is the CMAC message authentication code of NIST SP 800-38B (RFC
// 4493 for AES) over a 128-bit block cipher, as a hash.Hash. RFC 6803
// uses it with Camellia for checksums, for the integrity part of
// encryption and inside the key derivation function.
//
// Writing and Sum allocate nothing once the CMAC exists (Sum appends to
// its argument, so give it room for Size bytes). A CMAC is not safe for
// concurrent use.
type CMAC struct {
	b      cipher.Block
	k1, k2 [blockSize]byte // the subkeys of SP 800-38B section 6.1
	x      [blockSize]byte // the chaining value
	buf    [blockSize]byte // the last block so far, not yet processed
	n      int             // bytes in buf
	t      [blockSize]byte // scratch for Sum
}

var _ hash.Hash = (*CMAC)(nil)

// NewCMAC returns a CMAC keyed with the block cipher b, whose block size
// must be 16 bytes.
func NewCMAC(b cipher.Block) (*CMAC, error) {
	if b.BlockSize() != blockSize {
		return nil, fmt.Errorf("rfc6803: CMAC needs a %d-byte block cipher, not %d", blockSize, b.BlockSize())
	}
	h := &CMAC{b: b}
	// L = E(0^128); K1 = dbl(L); K2 = dbl(K1).
	b.Encrypt(h.t[:], h.t[:])
	dbl(&h.k1, &h.t)
	dbl(&h.k2, &h.k1)
	h.t = [blockSize]byte{}
	return h, nil
}

// dbl sets dst to src shifted left one bit, XOR 0x87 in the last byte if
// the bit shifted out was set (doubling in GF(2^128)).
func dbl(dst, src *[blockSize]byte) {
	carry := src[0] >> 7
	for i := 0; i < blockSize-1; i++ {
		dst[i] = src[i]<<1 | src[i+1]>>7
	}
	dst[blockSize-1] = src[blockSize-1]<<1 ^ 0x87*carry
}

// block runs one block that is known not to be the last through the CBC
// chain.
func (h *CMAC) block(m []byte) {
	xorBlock(&h.x, m, &h.x)
	h.b.Encrypt(h.x[:], h.x[:])
}

// Write adds p to the message. It never fails.
func (h *CMAC) Write(p []byte) (int, error) {
	total := len(p)
	c := copy(h.buf[h.n:], p)
	h.n += c
	p = p[c:]
	if len(p) == 0 {
		return total, nil
	}
	// More data follows a full buffer, so the buffer is not the last
	// block. Of p, keep the last block (full or not) back for Sum.
	h.block(h.buf[:])
	for len(p) > blockSize {
		h.block(p[:blockSize])
		p = p[blockSize:]
	}
	h.n = copy(h.buf[:], p)
	return total, nil
}

// Sum appends the 16-byte CMAC of the message so far to b. It does not
// change the state.
func (h *CMAC) Sum(b []byte) []byte {
	// The last block: complete, XOR K1; or padded with 0x80 0x00..., XOR
	// K2 (also for the empty message).
	if h.n == blockSize {
		xorBlock(&h.t, h.buf[:], &h.k1)
	} else {
		h.t = [blockSize]byte{}
		copy(h.t[:], h.buf[:h.n])
		h.t[h.n] = 0x80
		xorBlock(&h.t, h.t[:], &h.k2)
	}
	xorBlock(&h.t, h.t[:], &h.x)
	h.b.Encrypt(h.t[:], h.t[:])
	return append(b, h.t[:]...)
}

// Reset starts a new message with the same key.
func (h *CMAC) Reset() {
	h.x = [blockSize]byte{}
	h.n = 0
}

// Size returns 16, the length of a CMAC.
func (h *CMAC) Size() int { return blockSize }

// BlockSize returns 16, the cipher's block size.
func (h *CMAC) BlockSize() int { return blockSize }
