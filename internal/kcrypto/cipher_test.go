package kcrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/rc4"
	"encoding/hex"
	"errors"
	"io"
	mathrand "math/rand/v2"
	"testing"

	"github.com/jcmturner/aescts/v2"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/common"
	"github.com/jcmturner/gokrb5/v8/crypto/rfc4757"
)

// implementedEnctypes are the implemented enctypes of the table, in table
// order.
func implementedEnctypes() []int32 {
	var ids []int32
	for i := range table {
		if table[i].Implemented() {
			ids = append(ids, table[i].ID)
		}
	}
	return ids
}

// detRand is a deterministic byte source for keys and confounders.
func detRand(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return mathrand.NewChaCha8(s)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3962 Appendix B: AES-128 key "chicken teriyaki", zero IV, six inputs,
// with the output and the next IV.
func TestCTSRFC3962Vectors(t *testing.T) {
	key := []byte("chicken teriyaki")
	vectors := []struct{ in, out, next string }{
		{"4920776f756c64206c696b652074686520",
			"c6353568f2bf8cb4d8a580362da7ff7f97",
			"c6353568f2bf8cb4d8a580362da7ff7f"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320",
			"fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5",
			"fc00783e0efdb2c1d445d4c8eff7ed22"},
		{"4920776f756c64206c696b65207468652047656e6572616c2047617527732043",
			"39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584",
			"39312523a78662d5be7fcbcc98ebf5a8"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c",
			"97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5",
			"b3fffd940c16a18c1b5549d2f838029e"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20",
			"97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8",
			"9dad8bbb96c4cdc03bc103e1a194bbd8"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20616e6420776f6e746f6e20736f75702e",
			"97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8",
			"4807efe836ee89a526730dbc2f7bc840"},
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	m := newCBCMode(b)
	for _, v := range vectors {
		in, out, next := mustHex(t, v.in), mustHex(t, v.out), mustHex(t, v.next)
		got := make([]byte, len(in))
		gotNext := m.ctsEncrypt(got, in, [16]byte{})
		if !bytes.Equal(got, out) || !bytes.Equal(gotNext[:], next) {
			t.Errorf("encrypt %d bytes: got %x next %x, want %x next %x", len(in), got, gotNext, out, next)
		}
		plain := make([]byte, len(out))
		decNext := m.ctsDecrypt(plain, out, [16]byte{})
		if !bytes.Equal(plain, in) || !bytes.Equal(decNext[:], next) {
			t.Errorf("decrypt %d bytes: got %x next %x", len(in), plain, decNext)
		}
		// In place.
		buf := bytes.Clone(in)
		m.ctsEncrypt(buf, buf, [16]byte{})
		if !bytes.Equal(buf, out) {
			t.Errorf("in-place encrypt %d bytes: got %x", len(in), buf)
		}
	}
}

// With a non-zero cipher state, CBC-CTS is CBC-CTS from a zero state with
// the state XORed into the first plaintext block; gokrb5's aescts.Encrypt
// (correct for any IV) must agree, and decryption must invert.
func TestCTSNonZeroState(t *testing.T) {
	r := detRand(1)
	for _, keyLen := range []int{16, 32} {
		key := make([]byte, keyLen)
		io.ReadFull(r, key)
		b, _ := aes.NewCipher(key)
		m := newCBCMode(b)
		for n := 17; n <= 100; n++ {
			var iv [16]byte
			io.ReadFull(r, iv[:])
			in := make([]byte, n)
			io.ReadFull(r, in)
			got := make([]byte, n)
			next := m.ctsEncrypt(got, in, iv)

			wantNext, want, err := aescts.Encrypt(key, iv[:], in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) || !bytes.Equal(next[:], wantNext) {
				t.Fatalf("n=%d: got %x next %x, aescts %x next %x", n, got, next, want, wantNext)
			}
			shifted := bytes.Clone(in)
			for i := range 16 {
				shifted[i] ^= iv[i]
			}
			zeroIV := make([]byte, n)
			m.ctsEncrypt(zeroIV, shifted, [16]byte{})
			if !bytes.Equal(zeroIV, got) {
				t.Fatalf("n=%d: state is not equivalent to a first-block XOR", n)
			}
			back := make([]byte, n)
			decNext := m.ctsDecrypt(back, got, iv)
			if !bytes.Equal(back, in) || decNext != next {
				t.Fatalf("n=%d: decrypt with state: got %x next %x", n, back, decNext)
			}
		}
	}
}

// RFC 8009 Appendix A: encryption with a given confounder (key usage 2,
// no cipher state), both enctypes.
func TestRFC8009EncryptionVectors(t *testing.T) {
	vectors := []struct {
		key                     string
		plain, conf, ciphertext string
	}{
		{"3705d96080c17728a0e800eab6e0d23c", "", "7e5895eaf2672435bad817f545a37148",
			"ef85fb890bb8472f4dab20394dca781dad877eda39d50c870c0d5a0a8e48c718"},
		{"3705d96080c17728a0e800eab6e0d23c", "000102030405", "7bca285e2fd4130fb55b1a5c83bc5b24",
			"84d7f30754ed987bab0bf3506beb09cfb55402cef7e6877ce99e247e52d16ed4421dfdf8976c"},
		{"3705d96080c17728a0e800eab6e0d23c", "000102030405060708090a0b0c0d0e0f", "56ab21713ff62c0a1457200f6fa9948f",
			"3517d640f50ddc8ad3628722b3569d2ae07493fa8263254080ea65c1008e8fc295fb4852e7d83e1e7c48c37eebe6b0d3"},
		{"3705d96080c17728a0e800eab6e0d23c", "000102030405060708090a0b0c0d0e0f1011121314", "a7a4e29a4728ce10664fb64e49ad3fac",
			"720f73b18d9859cd6ccb4346115cd336c70f58edc0c4437c5573544c31c813bce1e6d072c186b39a413c2f92ca9b8334a287ffcbfc"},
		{"6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52", "", "f764e9fa15c276478b2c7d0c4e5f58e4",
			"41f53fa5bfe7026d91faf9be959195a058707273a96a40f0a01960621ac612748b9bbfbe7eb4ce3c"},
		{"6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52", "000102030405", "b80d3251c1f6471494256ffe712d0b9a",
			"4ed7b37c2bcac8f74f23c1cf07e62bc7b75fb3f637b9f559c7f664f69eab7b6092237526ea0d1f61cb20d69d10f2"},
		{"6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52", "000102030405060708090a0b0c0d0e0f", "53bf8a0d105265d4e276428624ce5e63",
			"bc47ffec7998eb91e8115cf8d19dac4bbbe2e163e87dd37f49beca92027764f68cf51f14d798c2273f35df574d1f932e40c4ff255b36a266"},
		{"6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52", "000102030405060708090a0b0c0d0e0f1011121314", "763e65367e864f02f55153c7e3b58af1",
			"40013e2df58e8751957d2878bcd2d6fe101ccfd556cb1eae79db3c3ee86429f2b2a602ac86fef6ecb647d6295fae077a1feb517508d2c16b4192e01f62"},
	}
	for _, v := range vectors {
		key, plain, conf, want := mustHex(t, v.key), mustHex(t, v.plain), mustHex(t, v.conf), mustHex(t, v.ciphertext)
		id := aes128SHA256
		if len(key) == 32 {
			id = aes256SHA384
		}
		c, err := Lookup(id).NewCipher(key, 2)
		if err != nil {
			t.Fatal(err)
		}
		ct := make([]byte, c.SealLen(len(plain)))
		copy(ct[c.PrefixLen():], plain)
		if err := c.Seal(ct, len(plain), bytes.NewReader(conf), false); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ct, want) {
			t.Errorf("key %d bytes, %d-byte plaintext:\n got %x\nwant %x", len(key), len(plain), ct, want)
		}
		pt := make([]byte, len(want))
		got, err := c.Open(pt, want, false)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("open vector: %x, %v", got, err)
		}
	}
}

// refState is the cipher state of refOpen.
type refState struct {
	iv      []byte
	stream  *rc4.Cipher
	started bool
}

// refOpen decrypts one KRB-PRIV ciphertext following MIT's cipher-state
// chaining literally (MIT's krb5_auth_con_initivector semantics), built from gokrb5 and standard-library pieces rather than
// the code under test. It returns the DER (plus padding) and updates st.
func refOpen(t *testing.T, id int32, key []byte, st *refState, ct []byte) ([]byte, error) {
	t.Helper()
	const usage = 13
	if id == camellia128 || id == camellia256 {
		return refOpenCamellia(t, Lookup(id).EType, key, st, ct)
	}
	e, err := crypto.GetEtype(id)
	if err != nil {
		t.Fatal(err)
	}
	switch id {
	case aes128SHA1, aes256SHA1, aes128SHA256, aes256SHA384:
		if st.iv == nil {
			st.iv = make([]byte, 16)
		}
		hl := e.GetHMACBitLength() / 8
		body, tag := ct[:len(ct)-hl], ct[len(ct)-hl:]
		etm := id == aes128SHA256 || id == aes256SHA384
		if etm {
			h, _ := common.GetIntegrityHash(append(bytes.Clone(st.iv), body...), key, usage, e)
			if !hmac.Equal(h, tag) {
				return nil, errors.New("ref: integrity")
			}
		}
		ke, _ := e.DeriveKey(key, common.GetUsageKe(usage))
		pt, err := aescts.Decrypt(ke, make([]byte, 16), body) // zero IV: correct there
		if err != nil {
			return nil, err
		}
		for i := range 16 {
			pt[i] ^= st.iv[i]
		}
		if !etm {
			h, _ := common.GetIntegrityHash(pt, key, usage, e)
			if !hmac.Equal(h, tag) {
				return nil, errors.New("ref: integrity")
			}
		}
		n := (len(body) + 15) / 16
		st.iv = bytes.Clone(body[16*(n-2) : 16*(n-1)])
		return pt[16:], nil
	case des3SHA1:
		if st.iv == nil {
			st.iv = make([]byte, 8)
		}
		body, tag := ct[:len(ct)-20], ct[len(ct)-20:]
		ke, _ := e.DeriveKey(key, common.GetUsageKe(usage))
		b, _ := des.NewTripleDESCipher(ke)
		pt := make([]byte, len(body))
		cipher.NewCBCDecrypter(b, st.iv).CryptBlocks(pt, body)
		h, _ := common.GetIntegrityHash(pt, key, usage, e)
		if !hmac.Equal(h, tag) {
			return nil, errors.New("ref: integrity")
		}
		st.iv = bytes.Clone(body[len(body)-8:])
		return pt[8:], nil
	case rc4HMAC:
		k1 := rfc4757.HMAC(key, rfc4757.UsageToMSMsgType(usage))
		ck, body := ct[:16], ct[16:]
		if !st.started {
			st.stream, _ = rc4.NewCipher(rfc4757.HMAC(k1, ck))
			st.started = true
		}
		pt := make([]byte, len(body))
		st.stream.XORKeyStream(pt, body)
		if !hmac.Equal(rfc4757.HMAC(k1, pt), ck) {
			return nil, errors.New("ref: integrity")
		}
		return pt[8:], nil
	}
	t.Fatalf("no reference for %d", id)
	return nil, nil
}

// sealRaw runs c.seal on arbitrary plaintext and returns the ciphertext.
func sealRaw(t testing.TB, c MessageCipher, plain []byte, r io.Reader, chained bool) []byte {
	t.Helper()
	ct := make([]byte, c.SealLen(len(plain)))
	copy(ct[c.PrefixLen():], plain)
	if err := c.Seal(ct, len(plain), r, chained); err != nil {
		t.Fatal(err)
	}
	return ct
}

// Chained ciphertexts from every enctype decrypt with the reference, and
// the reference fails on message #2 with a fresh state (negative control).
func TestPrivCipherAgainstReference(t *testing.T) {
	sizes := []int{1, 15, 16, 17, 31, 32, 33, 100, 32768 + 40, 32769 + 40, 5}
	for _, id := range implementedEnctypes() {
		t.Run(name(id), func(t *testing.T) {
			spec := Lookup(id)
			key := make([]byte, spec.KeyLen)
			io.ReadFull(detRand(uint64(id)), key)
			c, err := spec.NewCipher(key, 13)
			if err != nil {
				t.Fatal(err)
			}
			r := detRand(99)
			c.Reset()
			var ref refState
			var cts [][]byte
			for i, n := range sizes {
				plain := make([]byte, n)
				io.ReadFull(r, plain)
				ct := sealRaw(t, c, plain, r, true)
				cts = append(cts, ct)
				got, err := refOpen(t, id, key, &ref, ct)
				if err != nil {
					t.Fatalf("message %d (%d bytes): %v", i+1, n, err)
				}
				if !bytes.Equal(got[:n], plain) || bytes.ContainsFunc(got[n:], func(r rune) bool { return r != 0 }) {
					t.Fatalf("message %d: plaintext mismatch", i+1)
				}
			}
			var fresh refState
			if _, err := refOpen(t, id, key, &fresh, cts[1]); err == nil {
				t.Fatal("message #2 decrypted with a fresh state; chaining is not in effect")
			}
			// Message #1 is what a stateless implementation produces, so
			// gokrb5's own DecryptMessage must accept it.
			// (camellia's EType is internal/rfc6803's, gokrb5 has none).
			e := spec.EType
			if _, err := e.DecryptMessage(key, cts[0], 13); err != nil {
				t.Fatalf("the stateless DecryptMessage rejects message #1: %v", err)
			}
			if _, err := e.DecryptMessage(key, cts[1], 13); err == nil {
				t.Fatal("the stateless DecryptMessage accepts message #2")
			}
		})
	}
}

// gokrb5's stateless encryption is a valid first message (fresh state).
func TestPrivCipherOpensGokrb5(t *testing.T) {
	for _, id := range implementedEnctypes() {
		spec := Lookup(id)
		key := make([]byte, spec.KeyLen)
		io.ReadFull(detRand(uint64(id)+7), key)
		c, err := spec.NewCipher(key, 13)
		if err != nil {
			t.Fatal(err)
		}
		e := spec.EType
		for _, n := range []int{0, 1, 16, 17, 1000} {
			plain := bytes.Repeat([]byte{0x5a}, n)
			_, ct, err := e.EncryptMessage(key, plain, 13)
			if err != nil {
				t.Fatal(err)
			}
			pt := make([]byte, len(ct))
			got, err := c.Open(pt, ct, false)
			if err != nil {
				t.Fatalf("%s, %d bytes: %v", name(id), n, err)
			}
			if !bytes.Equal(got[:n], plain) {
				t.Fatalf("%s, %d bytes: plaintext mismatch", name(id), n)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	for _, id := range []int32{rc4HMACExp, des3CBCRaw} {
		if e := Lookup(id); e == nil || e.Implemented() {
			t.Errorf("enctype %d: %+v, want a known, unimplemented row", id, e)
		}
		if _, err := Lookup(id).NewCipher(make([]byte, 32), 13); !errors.Is(err, ErrUnsupported) {
			t.Errorf("enctype %d: NewCipher: %v", id, err)
		}
	}
	for _, id := range []int32{1, 3, 999} {
		if e := Lookup(id); e != nil || e.Implemented() {
			t.Errorf("enctype %d: %+v", id, e)
		}
	}
	// Every enctype of MIT's default list is implemented.
	for _, s := range Specs() {
		if s.Default && !s.Implemented() {
			t.Errorf("%s: in MIT's default list but not implemented", s.Name)
		}
	}
	if len(implementedEnctypes()) != 8 {
		t.Errorf("table has %d implemented rows", len(implementedEnctypes()))
	}
	for _, tt := range []struct {
		name string
		id   int32
	}{{"AES256-CTS", aes256SHA1}, {"des3-cbc-sha1-kd", des3SHA1}, {"arcfour-hmac", rc4HMAC}, {"camellia128-cts", camellia128}} {
		if e := ByName(tt.name); e == nil || e.ID != tt.id {
			t.Errorf("ByName(%q) = %+v", tt.name, e)
		}
	}
	if ByName("18") != nil || ByName("bogus") != nil {
		t.Error("ByName accepts a number or an unknown name")
	}
}
