package dumpfmt_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

func readMIT(t *testing.T, name string) map[string]*dumpfmt.Principal {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dumpfmt.Principal{}
	r := dumpfmt.NewReader(bytes.NewReader(data))
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := rec.(*dumpfmt.Principal); ok {
			out[p.Name] = p
		}
	}
}

// TestDecryptMIT decrypts alice's keys from an MIT dump with the MIT stash
// and compares them with the keytab MIT's kadmin.local extracted with
// -norandkey (testdata/mkmit.sh).
func TestDecryptMIT(t *testing.T) {
	stash, err := dumpfmt.ReadStashFile("testdata/mit/stash")
	if err != nil {
		t.Fatal(err)
	}
	if len(stash) != 1 || stash[0].Kvno != 1 || stash[0].Key.KeyType != 18 {
		t.Fatalf("stash %+v", stash)
	}
	princs := readMIT(t, "testdata/mit/dump-r111")
	kr, err := dumpfmt.NewKeyring(princs["K/M@DUMPFMT.TEST"], stash)
	if err != nil {
		t.Fatal(err)
	}
	if keys := kr.Keys(); len(keys) != 1 || !bytes.Equal(keys[0].Key.KeyValue, stash[0].Key.KeyValue) {
		t.Fatalf("keyring %+v", keys)
	}
	ktData, err := os.ReadFile("testdata/mit/alice.keytab")
	if err != nil {
		t.Fatal(err)
	}
	kt := keytab.New()
	if err := kt.Unmarshal(ktData); err != nil {
		t.Fatal(err)
	}
	alice := princs["alice@DUMPFMT.TEST"]
	matched := 0
	for i := range alice.KeyData {
		kd := &alice.KeyData[i]
		key, err := kr.DecryptKey(alice, kd)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range kt.Entries {
			if e.KVNO == uint32(kd.Kvno) && e.Key.KeyType == key.KeyType {
				if !bytes.Equal(e.Key.KeyValue, key.KeyValue) {
					t.Errorf("kvno %d enctype %d: decrypted %x, keytab %x", kd.Kvno, key.KeyType, key.KeyValue, e.Key.KeyValue)
				}
				matched++
			}
		}
	}
	if matched != 4 {
		t.Errorf("%d keys compared with the keytab, want 4", matched)
	}
	// Every principal's keys decrypt.
	for _, p := range princs {
		for i := range p.KeyData {
			if _, err := kr.DecryptKey(p, &p.KeyData[i]); err != nil {
				t.Errorf("%s key %d: %v", p.Name, i, err)
			}
		}
	}
}

func TestStashFormats(t *testing.T) {
	keys, err := dumpfmt.ReadStashFile("testdata/mit/stash")
	if err != nil {
		t.Fatal(err)
	}
	k := keys[0].Key
	// MIT's old binary stash: enctype (2 bytes), length (4), key, in host
	// order, little-endian on the machines MIT supports today.
	old := binary.LittleEndian.AppendUint16(nil, uint16(k.KeyType))
	old = binary.LittleEndian.AppendUint32(old, uint32(len(k.KeyValue)))
	old = append(old, k.KeyValue...)
	got, err := dumpfmt.ReadStash(old)
	if err != nil || len(got) != 1 || got[0].Key.KeyType != k.KeyType || !bytes.Equal(got[0].Key.KeyValue, k.KeyValue) {
		t.Fatalf("old stash: %+v %v", got, err)
	}
	princs := readMIT(t, "testdata/mit/dump-r111")
	if _, err := dumpfmt.NewKeyring(princs["K/M@DUMPFMT.TEST"], got); err != nil {
		t.Errorf("old-format stash does not verify: %v", err)
	}
	for _, bad := range [][]byte{nil, {5}, {5, 2, 0, 0}, {18, 0, 0, 0, 0, 0}, {18, 0, 0xff, 0xff, 0, 0, 1}} {
		if _, err := dumpfmt.ReadStash(bad); !errors.Is(err, dumpfmt.ErrStash) {
			t.Errorf("ReadStash(%x): %v", bad, err)
		}
	}
}

func TestWrongMasterKey(t *testing.T) {
	keys, err := dumpfmt.ReadStashFile("testdata/mit/stash")
	if err != nil {
		t.Fatal(err)
	}
	wrong := keys[0]
	wrong.Key.KeyValue = append([]byte(nil), wrong.Key.KeyValue...)
	wrong.Key.KeyValue[0] ^= 1
	princs := readMIT(t, "testdata/mit/dump-r111")
	if _, err := dumpfmt.NewKeyring(princs["K/M@DUMPFMT.TEST"], []dumpfmt.MasterKey{wrong}); !errors.Is(err, dumpfmt.ErrMasterKey) {
		t.Fatalf("wrong key: %v", err)
	}
	// Damaged key data fails cleanly.
	kd := princs["alice@DUMPFMT.TEST"].KeyData[0]
	for _, k := range [][]byte{nil, {1}, {32, 0, 1, 2, 3}, append([]byte{0xff, 0xff}, kd.Key[2:]...)} {
		d := kd
		d.Key = k
		if _, err := dumpfmt.DecryptKeyData(keys[0].Key, &d); !errors.Is(err, dumpfmt.ErrDecrypt) {
			t.Errorf("key %x: %v", k, err)
		}
	}
}
