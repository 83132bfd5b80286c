package camellia

import (
	"crypto/cipher"
	"encoding/binary"
	"math/bits"
	"strconv"
)

// BlockSize is the Camellia block size in bytes.
const BlockSize = 16

// KeySizeError is returned by NewCipher for a key that is not 16, 24 or 32
// bytes long; its value is the length given.
type KeySizeError int

// Error says which key length was refused.
func (k KeySizeError) Error() string {
	return "camellia: invalid key size " + strconv.Itoa(int(k))
}

// Cipher is an expanded Camellia key. It implements cipher.Block; its
// methods may be called concurrently, and Encrypt and Decrypt allocate
// nothing.
//
// Timing side channel: like every table-driven software block cipher (the
// classic AES "T-table" implementations, and the C implementations MIT
// krb5 and OpenSSL ship for Camellia), each round looks up eight 64-bit
// table entries indexed by bytes of (round key XOR data). Which cache
// lines those loads touch depends on key and data, so an attacker who
// shares a CPU cache with the process (another process or VM on the same
// core or socket) and can time it or probe the cache may learn key bits;
// see Bernstein, "Cache-timing attacks on AES" (2005) and Tromer, Osvik,
// Shamir, "Efficient cache attacks on AES, and countermeasures" (2010).
// There are no secret-dependent branches, and the running time of one
// call does not depend on the key or the data. The eight tables fill 16
// KiB, half of a typical 32 KiB L1 data cache, so they stay resident while
// a message is processed and remote timing over a network is not a
// realistic threat; a hostile co-tenant is. Camellia exists here only for
// Kerberos interoperability (RFC 6803 enctypes); prefer the AES enctypes,
// which the standard library runs in constant time with AES-NI.
type Cipher struct {
	enc, dec schedule
}

var _ cipher.Block = (*Cipher)(nil)

// schedule holds the subkeys of RFC 3713 section 2.2 in the order one
// direction uses them: kw1..kw4, k1..k24 and ke1..ke6. The decryption
// schedule is the encryption schedule reversed (section 2.3.3).
type schedule struct {
	kw     [4]uint64
	k      [24]uint64
	ke     [6]uint64
	groups int // groups of six rounds: 3 for 128-bit keys, 4 otherwise
}

// The key schedule constants Sigma1..Sigma6 (RFC 3713 section 2.2).
const (
	sigma1 = 0xA09E667F3BCC908B
	sigma2 = 0xB67AE8584CAA73B2
	sigma3 = 0xC6EF372FE94F82BE
	sigma4 = 0x54FF53A5F1D36F1C
	sigma5 = 0x10E527FADE682D1D
	sigma6 = 0xB05688C2B3E6C1FD
)

// NewCipher expands a 16-, 24- or 32-byte key (Camellia-128, -192, -256).
func NewCipher(key []byte) (*Cipher, error) {
	var klH, klL, krH, krL uint64
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, KeySizeError(len(key))
	}
	klH, klL = binary.BigEndian.Uint64(key), binary.BigEndian.Uint64(key[8:])
	switch len(key) {
	case 24:
		krH = binary.BigEndian.Uint64(key[16:])
		krL = ^krH
	case 32:
		krH, krL = binary.BigEndian.Uint64(key[16:]), binary.BigEndian.Uint64(key[24:])
	}

	// KA and KB (section 2.2).
	d1, d2 := klH^krH, klL^krL
	d2 ^= f(d1 ^ sigma1)
	d1 ^= f(d2 ^ sigma2)
	d1 ^= klH
	d2 ^= klL
	d2 ^= f(d1 ^ sigma3)
	d1 ^= f(d2 ^ sigma4)
	kaH, kaL := d1, d2
	d1, d2 = kaH^krH, kaL^krL
	d2 ^= f(d1 ^ sigma5)
	d1 ^= f(d2 ^ sigma6)
	kbH, kbL := d1, d2

	c := new(Cipher)
	e := &c.enc
	kl := [2]uint64{klH, klL}
	kr := [2]uint64{krH, krL}
	ka := [2]uint64{kaH, kaL}
	kb := [2]uint64{kbH, kbL}
	if len(key) == 16 {
		e.groups = 3
		e.kw[0], e.kw[1] = rot128(kl, 0)
		e.k[0], e.k[1] = rot128(ka, 0)
		e.k[2], e.k[3] = rot128(kl, 15)
		e.k[4], e.k[5] = rot128(ka, 15)
		e.ke[0], e.ke[1] = rot128(ka, 30)
		e.k[6], e.k[7] = rot128(kl, 45)
		e.k[8], _ = rot128(ka, 45)
		_, e.k[9] = rot128(kl, 60)
		e.k[10], e.k[11] = rot128(ka, 60)
		e.ke[2], e.ke[3] = rot128(kl, 77)
		e.k[12], e.k[13] = rot128(kl, 94)
		e.k[14], e.k[15] = rot128(ka, 94)
		e.k[16], e.k[17] = rot128(kl, 111)
		e.kw[2], e.kw[3] = rot128(ka, 111)
	} else {
		e.groups = 4
		e.kw[0], e.kw[1] = rot128(kl, 0)
		e.k[0], e.k[1] = rot128(kb, 0)
		e.k[2], e.k[3] = rot128(kr, 15)
		e.k[4], e.k[5] = rot128(ka, 15)
		e.ke[0], e.ke[1] = rot128(kr, 30)
		e.k[6], e.k[7] = rot128(kb, 30)
		e.k[8], e.k[9] = rot128(kl, 45)
		e.k[10], e.k[11] = rot128(ka, 45)
		e.ke[2], e.ke[3] = rot128(kl, 60)
		e.k[12], e.k[13] = rot128(kr, 60)
		e.k[14], e.k[15] = rot128(kb, 60)
		e.k[16], e.k[17] = rot128(kl, 77)
		e.ke[4], e.ke[5] = rot128(ka, 77)
		e.k[18], e.k[19] = rot128(kr, 94)
		e.k[20], e.k[21] = rot128(ka, 94)
		e.k[22], e.k[23] = rot128(kl, 111)
		e.kw[2], e.kw[3] = rot128(kb, 111)
	}

	// Decryption runs the same network with the subkeys in reverse order.
	d := &c.dec
	d.groups = e.groups
	d.kw = [4]uint64{e.kw[2], e.kw[3], e.kw[0], e.kw[1]}
	nk, nke := 6*e.groups, 2*(e.groups-1)
	for i := 0; i < nk; i++ {
		d.k[i] = e.k[nk-1-i]
	}
	for i := 0; i < nke; i++ {
		d.ke[i] = e.ke[nke-1-i]
	}
	return c, nil
}

// rot128 rotates the 128-bit value x (high word first) left by n bits and
// returns its two halves.
func rot128(x [2]uint64, n uint) (hi, lo uint64) {
	hi, lo = x[0], x[1]
	if n >= 64 {
		hi, lo = lo, hi
		n -= 64
	}
	if n == 0 {
		return hi, lo
	}
	return hi<<n | lo>>(64-n), lo<<n | hi>>(64-n)
}

// BlockSize returns BlockSize.
func (c *Cipher) BlockSize() int { return BlockSize }

// Encrypt encrypts the first block of src into dst. dst and src may
// overlap entirely or not at all (partial overlap gives garbage, as with
// every cipher.Block). It panics if either is shorter than a block.
func (c *Cipher) Encrypt(dst, src []byte) { c.enc.crypt(dst, src) }

// Decrypt decrypts the first block of src into dst, with Encrypt's rules.
func (c *Cipher) Decrypt(dst, src []byte) { c.dec.crypt(dst, src) }

// crypt runs the data randomizing part (RFC 3713 section 2.3.2 for
// encryption, 2.3.3 with the reversed schedule for decryption).
func (s *schedule) crypt(dst, src []byte) {
	if len(src) < BlockSize {
		panic("camellia: input not full block")
	}
	if len(dst) < BlockSize {
		panic("camellia: output not full block")
	}
	d1 := binary.BigEndian.Uint64(src) ^ s.kw[0]
	d2 := binary.BigEndian.Uint64(src[8:]) ^ s.kw[1]
	t := &spTables
	for g := 0; ; g++ {
		r := s.k[6*g : 6*g+6 : 6*g+6]
		// Six rounds, two at a time; each line is f (below) written out,
		// which the compiler would not inline.
		for i := 0; i < 6; i += 2 {
			x := d1 ^ r[i]
			d2 ^= t[0][byte(x>>56)] ^ t[1][byte(x>>48)] ^ t[2][byte(x>>40)] ^ t[3][byte(x>>32)] ^
				t[4][byte(x>>24)] ^ t[5][byte(x>>16)] ^ t[6][byte(x>>8)] ^ t[7][byte(x)]
			x = d2 ^ r[i+1]
			d1 ^= t[0][byte(x>>56)] ^ t[1][byte(x>>48)] ^ t[2][byte(x>>40)] ^ t[3][byte(x>>32)] ^
				t[4][byte(x>>24)] ^ t[5][byte(x>>16)] ^ t[6][byte(x>>8)] ^ t[7][byte(x)]
		}
		if g == s.groups-1 {
			break
		}
		d1 = fl(d1, s.ke[2*g])
		d2 = flInv(d2, s.ke[2*g+1])
	}
	d2 ^= s.kw[2]
	d1 ^= s.kw[3]
	binary.BigEndian.PutUint64(dst, d2)
	binary.BigEndian.PutUint64(dst[8:], d1)
}

// f is the F-function of section 2.4.1 applied to x = F_IN XOR KE: the
// S-function followed by the P-function, as eight lookups in tables that
// hold P applied to each S-box output in its byte position.
func f(x uint64) uint64 {
	t := &spTables
	return t[0][byte(x>>56)] ^ t[1][byte(x>>48)] ^ t[2][byte(x>>40)] ^ t[3][byte(x>>32)] ^
		t[4][byte(x>>24)] ^ t[5][byte(x>>16)] ^ t[6][byte(x>>8)] ^ t[7][byte(x)]
}

// fl is the FL-function of section 2.4.2.
func fl(x, ke uint64) uint64 {
	x1, x2 := uint32(x>>32), uint32(x)
	k1, k2 := uint32(ke>>32), uint32(ke)
	x2 ^= bits.RotateLeft32(x1&k1, 1)
	x1 ^= x2 | k2
	return uint64(x1)<<32 | uint64(x2)
}

// flInv is the FLINV-function of section 2.4.3.
func flInv(y, ke uint64) uint64 {
	y1, y2 := uint32(y>>32), uint32(y)
	k1, k2 := uint32(ke>>32), uint32(ke)
	y1 ^= y2 | k2
	y2 ^= bits.RotateLeft32(y1&k1, 1)
	return uint64(y1)<<32 | uint64(y2)
}
