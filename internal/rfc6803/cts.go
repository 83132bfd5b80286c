package rfc6803

import (
	"encoding/binary"

	"github.com/gokprop/gokprop/internal/camellia"
)

// blockSize is Camellia's block size, which is also the length of the
// confounder, of the CMAC and of the cipher state.
const blockSize = camellia.BlockSize

// cts is Camellia in CBC mode with ciphertext stealing, RFC 6803 section
// 4 (the RFC 3962 variant: the last two blocks are always swapped, even
// when the input is a whole number of blocks), with the cipher-state rule
// of MIT's builtin enc provider (src/lib/crypto/builtin/enc_provider/
// camellia.c in krb5 1.20.1):
//
//   - input of exactly one block is encrypted with a zero IV whatever the
//     state, and the state is left as it was;
//   - longer input is chained from the state, and the state afterwards is
//     the last full ciphertext block, the one just before the final
//     (possibly short) block. Encryption and decryption leave the same
//     state, so both ends of a connection stay in step.
//
// The scratch blocks live in the struct, not on the stack, so that no
// call allocates.
type cts struct {
	b       *camellia.Cipher
	x, y, z [blockSize]byte
}

// xorBlock sets dst to a XOR b.
func xorBlock(dst *[blockSize]byte, a []byte, b *[blockSize]byte) {
	_ = a[blockSize-1]
	binary.LittleEndian.PutUint64(dst[:8], binary.LittleEndian.Uint64(a[:8])^binary.LittleEndian.Uint64(b[:8]))
	binary.LittleEndian.PutUint64(dst[8:], binary.LittleEndian.Uint64(a[8:16])^binary.LittleEndian.Uint64(b[8:]))
}

// tail splits an input of n > blockSize bytes: full is the length of
// the part before the last two blocks, last the length of the final block
// (1 to blockSize).
func tail(n int) (full, last int) {
	full = (n+blockSize-1)/blockSize*blockSize - 2*blockSize
	return full, n - full - blockSize
}

// encrypt encrypts src into dst from cipher state iv and returns the next
// state. len(dst) == len(src) >= blockSize; dst and src are the same slice
// or do not overlap.
func (m *cts) encrypt(dst, src []byte, iv [blockSize]byte) [blockSize]byte {
	n := len(src)
	if n == blockSize {
		m.b.Encrypt(dst, src)
		return iv
	}
	full, last := tail(n)
	prev := iv
	for off := 0; off < full; off += blockSize {
		xorBlock(&m.x, src[off:off+blockSize], &prev)
		m.b.Encrypt(dst[off:], m.x[:])
		copy(prev[:], dst[off:off+blockSize])
	}
	// CBC on the last two blocks, the final one padded with zeros; then
	// the second is written first and the first is cut to the final
	// block's length.
	xorBlock(&m.x, src[full:full+blockSize], &prev)
	m.b.Encrypt(m.x[:], m.x[:])
	m.y = [blockSize]byte{}
	copy(m.y[:], src[full+blockSize:])
	xorBlock(&m.y, m.y[:], &m.x)
	m.b.Encrypt(m.y[:], m.y[:])
	copy(dst[full:], m.y[:])
	copy(dst[full+blockSize:], m.x[:last])
	return m.y
}

// decrypt is the inverse of encrypt, from any state iv; it returns the
// same next state as encrypt did. dst and src as for encrypt.
func (m *cts) decrypt(dst, src []byte, iv [blockSize]byte) [blockSize]byte {
	n := len(src)
	if n == blockSize {
		m.b.Decrypt(dst, src)
		return iv
	}
	full, last := tail(n)
	prev := iv
	for off := 0; off < full; off += blockSize {
		copy(m.z[:], src[off:off+blockSize])
		m.b.Decrypt(m.x[:], m.z[:])
		xorBlock(&m.x, m.x[:], &prev)
		copy(dst[off:], m.x[:])
		prev = m.z
	}
	// src[full:] is E(p_final XOR c) followed by the head of c, where c
	// is the CBC output of the second-to-last block. Decrypting the first
	// gives p_final XOR c, whose tail past the final block's length is
	// c's stolen tail (p_final was zero there).
	copy(m.x[:], src[full:full+blockSize])
	next := m.x
	m.y = [blockSize]byte{}
	copy(m.y[:], src[full+blockSize:])
	m.b.Decrypt(m.z[:], m.x[:])
	copy(m.y[last:], m.z[last:])
	for i := 0; i < last; i++ {
		m.z[i] ^= m.y[i]
	}
	m.b.Decrypt(m.y[:], m.y[:])
	xorBlock(&m.y, m.y[:], &prev)
	copy(dst[full:], m.y[:])
	copy(dst[full+blockSize:], m.z[:last])
	return next
}
