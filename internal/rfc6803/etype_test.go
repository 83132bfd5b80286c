package rfc6803

import (
	"bytes"
	"errors"
	"testing"

	"github.com/jcmturner/gokrb5/v8/crypto/common"
)

func TestETypeConstants(t *testing.T) {
	for _, tc := range []struct {
		e                EType
		id, cksum        int32
		name             string
		keyLen, seedBits int
	}{
		{Camellia128CTSCMAC, 25, 17, "camellia128-cts-cmac", 16, 128},
		{Camellia256CTSCMAC, 26, 18, "camellia256-cts-cmac", 32, 256},
	} {
		e := tc.e
		if e.GetETypeID() != tc.id || e.GetHashID() != tc.cksum || e.Name() != tc.name ||
			e.GetKeyByteSize() != tc.keyLen || e.GetKeySeedBitLength() != tc.seedBits ||
			e.GetHMACBitLength() != 128 || e.GetMessageBlockByteSize() != 1 ||
			e.GetCypherBlockBitLength() != 128 || e.GetConfounderByteSize() != 16 ||
			e.GetDefaultStringToKeyParams() != "00008000" || e.GetHashFunc() != nil {
			t.Errorf("%s: wrong constants", tc.name)
		}
		if got, ok := Lookup(tc.id); !ok || got != e {
			t.Errorf("Lookup(%d) = %v, %v", tc.id, got, ok)
		}
		if k := []byte("0123456789abcdef"); !bytes.Equal(e.RandomToKey(k), k) {
			t.Error("RandomToKey is not the identity")
		}
	}
	for _, id := range []int32{0, 17, 18, 23, 24, 27} {
		if _, ok := Lookup(id); ok {
			t.Errorf("Lookup(%d) succeeded", id)
		}
	}
}

// StringToKey applies MIT's rules to the parameters; the default is 32768
// iterations.
func TestStringToKeyParams(t *testing.T) {
	for _, e := range []EType{Camellia128CTSCMAC, Camellia256CTSCMAC} {
		want, err := e.StringToKeyIter("secret", "EXAMPLE.COMuser", DefaultIterations)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"", "00008000"} {
			got, err := e.StringToKey("secret", "EXAMPLE.COMuser", p)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s StringToKey params %q = %x, %v; want %x", e.Name(), p, got, err, want)
			}
		}
		if k, err := e.StringToKey("secret", "EXAMPLE.COMuser", "00010000"); err != nil || bytes.Equal(k, want) {
			t.Errorf("65536 iterations: %x, %v", k, err)
		}
		for _, p := range []string{"00000000", "00000001", "00007fff", "01000000", "ffffffff", "8000", "0000800000", "zzzzzzzz"} {
			if _, err := e.StringToKey("secret", "EXAMPLE.COMuser", p); !errors.Is(err, ErrBadS2KParams) {
				t.Errorf("%s StringToKey params %q: err %v, want ErrBadS2KParams", e.Name(), p, err)
			}
		}
		for _, n := range []int{0, -1, maxIterations} {
			if _, err := e.StringToKeyIter("secret", "salt", n); !errors.Is(err, ErrBadS2KParams) {
				t.Errorf("StringToKeyIter(%d): %v", n, err)
			}
		}
	}
}

// The gokrb5 helpers that build derivation constants give the keys that
// the checksum and message code derive.
func TestDeriveKeyWithGokrb5Constants(t *testing.T) {
	e := Camellia256CTSCMAC
	base := unhex(t, base256)
	kc, err := e.DeriveKey(base, common.GetUsageKc(2))
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "E4 67 F9 A9 55 2B C7 D3 15 5A 62 20 AF 9C 19 22 0E EE D4 FF 78 B0 D1 E6 A1 54 49 91 46 1A 9E 50")
	if !bytes.Equal(kc, want) {
		t.Fatalf("Kc = %x", kc)
	}
	if r, _ := e.DeriveRandom(base, common.GetUsageKc(2)); !bytes.Equal(r, want) {
		t.Fatal("DeriveRandom differs from DeriveKey")
	}
	if _, err := e.DeriveKey(base[:16], common.GetUsageKc(2)); !errors.Is(err, ErrKeySize) {
		t.Fatalf("DeriveKey with a 16-byte key for camellia256: %v", err)
	}
}

func TestEncryptDecryptMessage(t *testing.T) {
	for _, e := range []EType{Camellia128CTSCMAC, Camellia256CTSCMAC} {
		key := bytes.Repeat([]byte{0x5a}, e.GetKeyByteSize())
		for n := 0; n <= 70; n++ {
			msg := bytes.Repeat([]byte{byte(n)}, n)
			state, ct, err := e.EncryptMessage(key, msg, 13)
			if err != nil {
				t.Fatal(err)
			}
			if len(ct) != n+32 {
				t.Fatalf("%d-byte message: %d-byte ciphertext", n, len(ct))
			}
			if n > 0 {
				full, _ := tail(16 + n)
				if !bytes.Equal(state, ct[full:full+16]) {
					t.Fatalf("%d bytes: returned state %x is not ciphertext block %x", n, state, ct[full:full+16])
				}
			} else if !bytes.Equal(state, make([]byte, 16)) {
				t.Fatalf("empty message moved the state to %x", state)
			}
			pt, err := e.DecryptMessage(key, ct, 13)
			if err != nil || !bytes.Equal(pt, msg) {
				t.Fatalf("%s %d bytes: DecryptMessage = %x, %v", e.Name(), n, pt, err)
			}
			_, ct2, _ := e.EncryptMessage(key, msg, 13)
			if bytes.Equal(ct, ct2) {
				t.Fatal("two encryptions are equal: no random confounder")
			}
			for i := range ct {
				bad := append([]byte(nil), ct...)
				bad[i] ^= 0x01
				if _, err := e.DecryptMessage(key, bad, 13); !errors.Is(err, ErrIntegrity) {
					t.Fatalf("%d bytes, byte %d flipped: %v", n, i, err)
				}
			}
		}
		if _, err := e.DecryptMessage(key, make([]byte, 31), 13); !errors.Is(err, ErrMessageSize) {
			t.Errorf("31-byte ciphertext: %v", err)
		}
		if _, _, err := e.EncryptMessage(key[:8], nil, 13); !errors.Is(err, ErrKeySize) {
			t.Errorf("8-byte key: %v", err)
		}
	}
}

// EncryptData/DecryptData use the key directly, and VerifyIntegrity checks
// a ciphertext's CMAC against its decryption; together they are how
// gokrb5's generic code decrypts a message in steps.
func TestEncryptDataAndVerifyIntegrity(t *testing.T) {
	e := Camellia128CTSCMAC
	key := unhex(t, base128)
	_, ct, err := e.EncryptMessage(key, []byte("a message for the steps"), 3)
	if err != nil {
		t.Fatal(err)
	}
	ke, _ := e.DeriveKey(key, common.GetUsageKe(3))
	pt, err := e.DecryptData(ke, ct[:len(ct)-16])
	if err != nil {
		t.Fatal(err)
	}
	if string(pt[16:]) != "a message for the steps" {
		t.Fatalf("DecryptData: %q", pt)
	}
	if !e.VerifyIntegrity(key, ct, pt, 3) {
		t.Fatal("VerifyIntegrity rejects a good ciphertext")
	}
	pt[20] ^= 1
	if e.VerifyIntegrity(key, ct, pt, 3) || e.VerifyIntegrity(key, ct[:31], pt, 3) {
		t.Fatal("VerifyIntegrity accepts a changed plaintext or a short ciphertext")
	}
	state, ct2, err := e.EncryptData(ke, pt)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := e.DecryptData(ke, ct2)
	full, _ := tail(len(pt))
	if !bytes.Equal(back, pt) || !bytes.Equal(state, ct2[full:full+16]) {
		t.Fatal("EncryptData/DecryptData")
	}
	if _, _, err := e.EncryptData(ke, make([]byte, 15)); !errors.Is(err, ErrMessageSize) {
		t.Fatalf("EncryptData of 15 bytes: %v", err)
	}
	if _, err := e.DecryptData(ke[:5], ct2); !errors.Is(err, ErrKeySize) {
		t.Fatalf("DecryptData with a 5-byte key: %v", err)
	}
}
