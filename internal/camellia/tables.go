package camellia

import "math/bits"

// sbox1 is SBOX1 of RFC 3713 section 2.4.4, in the RFC's decimal layout
// (row i holds SBOX1[16*i .. 16*i+15]) so that it can be compared with
// the RFC line by line.
var sbox1 = [256]byte{
	112, 130, 44, 236, 179, 39, 192, 229, 228, 133, 87, 53, 234, 12, 174, 65,
	35, 239, 107, 147, 69, 25, 165, 33, 237, 14, 79, 78, 29, 101, 146, 189,
	134, 184, 175, 143, 124, 235, 31, 206, 62, 48, 220, 95, 94, 197, 11, 26,
	166, 225, 57, 202, 213, 71, 93, 61, 217, 1, 90, 214, 81, 86, 108, 77,
	139, 13, 154, 102, 251, 204, 176, 45, 116, 18, 43, 32, 240, 177, 132, 153,
	223, 76, 203, 194, 52, 126, 118, 5, 109, 183, 169, 49, 209, 23, 4, 215,
	20, 88, 58, 97, 222, 27, 17, 28, 50, 15, 156, 22, 83, 24, 242, 34,
	254, 68, 207, 178, 195, 181, 122, 145, 36, 8, 232, 168, 96, 252, 105, 80,
	170, 208, 160, 125, 161, 137, 98, 151, 84, 91, 30, 149, 224, 255, 100, 210,
	16, 196, 0, 72, 163, 247, 117, 219, 138, 3, 230, 218, 9, 63, 221, 148,
	135, 92, 131, 2, 205, 74, 144, 51, 115, 103, 246, 243, 157, 127, 191, 226,
	82, 155, 216, 38, 200, 55, 198, 59, 129, 150, 111, 75, 19, 190, 99, 46,
	233, 121, 167, 140, 159, 110, 188, 142, 41, 245, 249, 182, 47, 253, 180, 89,
	120, 152, 6, 106, 231, 70, 113, 186, 212, 37, 171, 66, 136, 162, 141, 250,
	114, 7, 185, 85, 248, 238, 172, 10, 54, 73, 42, 104, 60, 56, 241, 164,
	64, 40, 211, 123, 187, 201, 67, 193, 21, 227, 173, 244, 119, 199, 128, 158,
}

// The other three S-boxes are defined from SBOX1 (section 2.4.4).
func s1(x byte) byte { return sbox1[x] }
func s2(x byte) byte { return bits.RotateLeft8(sbox1[x], 1) }
func s3(x byte) byte { return bits.RotateLeft8(sbox1[x], 7) }
func s4(x byte) byte { return sbox1[bits.RotateLeft8(x, 1)] }

// sFunc is the S-function of section 2.4.1: t1..t8 through SBOX1, SBOX2,
// SBOX3, SBOX4, SBOX2, SBOX3, SBOX4, SBOX1.
func sFunc(t [8]byte) [8]byte {
	return [8]byte{s1(t[0]), s2(t[1]), s3(t[2]), s4(t[3]), s2(t[4]), s3(t[5]), s4(t[6]), s1(t[7])}
}

// pFunc is the P-function of section 2.4.1; it returns y1..y8 as a
// big-endian 64-bit word.
func pFunc(t [8]byte) uint64 {
	t1, t2, t3, t4, t5, t6, t7, t8 := t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]
	y := [8]byte{
		t1 ^ t3 ^ t4 ^ t6 ^ t7 ^ t8,
		t1 ^ t2 ^ t4 ^ t5 ^ t7 ^ t8,
		t1 ^ t2 ^ t3 ^ t5 ^ t6 ^ t8,
		t2 ^ t3 ^ t4 ^ t5 ^ t6 ^ t7,
		t1 ^ t2 ^ t6 ^ t7 ^ t8,
		t2 ^ t3 ^ t5 ^ t7 ^ t8,
		t3 ^ t4 ^ t5 ^ t6 ^ t8,
		t1 ^ t4 ^ t5 ^ t6 ^ t7,
	}
	var w uint64
	for _, b := range y {
		w = w<<8 | uint64(b)
	}
	return w
}

// spTables[j][v] is P applied to the byte string that is zero except for
// S_j(v) in position j. P is linear, so P(S(t)) is the XOR of
// spTables[j][t_j] over j: that is how f computes the F-function. The
// tables are computed once from sbox1 and never written again.
var spTables = makeSPTables()

func makeSPTables() (t [8][256]uint64) {
	for v := 0; v < 256; v++ {
		for j := 0; j < 8; j++ {
			var in [8]byte
			in[j] = byte(v)
			out := sFunc(in)
			var only [8]byte
			only[j] = out[j]
			t[j][v] = pFunc(only)
		}
	}
	return t
}
