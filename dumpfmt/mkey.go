package dumpfmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
)

// Errors from master key handling.
var (
	// ErrStash: a stash file is in neither of MIT's formats.
	ErrStash = errors.New("unrecognised master key stash")
	// ErrMasterKey: the stashed key does not decrypt the K/M principal.
	ErrMasterKey = errors.New("master key does not match the database")
	// ErrDecrypt: key data does not decrypt (wrong master key or damaged).
	ErrDecrypt = errors.New("cannot decrypt key data")
)

// MasterKey is one version of a realm's master key.
type MasterKey struct {
	// Kvno is the master key version; 0 when the stash format does not
	// record it (MIT's old binary stash).
	Kvno uint32
	Key  types.EncryptionKey
}

// ReadStashFile reads a master key stash file (kdb5_util create -s or
// kdb5_util stash) in either format MIT reads: a keytab holding K/M
// entries, or the old binary stash (2-byte enctype, 4-byte length, key,
// in the host's byte order, which this reads as little-endian).
func ReadStashFile(path string) ([]MasterKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	keys, err := ReadStash(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// ReadStash decodes the contents of a stash file; see ReadStashFile.
func ReadStash(b []byte) ([]MasterKey, error) {
	if len(b) > 0 && b[0] == 5 {
		return readKeytabStash(b)
	}
	// Old format: enctype, length (at most 1024 as MIT requires), key.
	if len(b) < 6 {
		return nil, fmt.Errorf("%w: %d bytes", ErrStash, len(b))
	}
	etype := binary.LittleEndian.Uint16(b)
	n := binary.LittleEndian.Uint32(b[2:])
	if n == 0 || n > 1024 || uint64(len(b)) < 6+uint64(n) {
		return nil, fmt.Errorf("%w: old-format key length %d in %d bytes", ErrStash, n, len(b))
	}
	key := types.EncryptionKey{KeyType: int32(etype), KeyValue: append([]byte(nil), b[6:6+n]...)}
	return []MasterKey{{Kvno: 0, Key: key}}, nil
}

func readKeytabStash(b []byte) (keys []MasterKey, err error) {
	defer func() {
		// gokrb5's keytab parser trusts lengths in the file; a damaged
		// stash must not take the caller down.
		if r := recover(); r != nil {
			keys, err = nil, fmt.Errorf("%w: damaged keytab (%v)", ErrStash, r)
		}
	}()
	kt := keytab.New()
	if err := kt.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStash, err)
	}
	for _, e := range kt.Entries {
		c := e.Principal.Components
		if len(c) == 2 && c[0] == "K" && c[1] == "M" {
			keys = append(keys, MasterKey{Kvno: e.KVNO, Key: e.Key})
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: keytab has no K/M entry", ErrStash)
	}
	return keys, nil
}

// DecryptKeyData decrypts one key with a master key as MIT's
// krb5_dbe_def_decrypt_key_data does: Key holds the key's length as a
// 2-byte little-endian number, then the key encrypted with the master key
// (key usage 0), which may be padded. The result has the key data's
// enctype.
func DecryptKeyData(mkey types.EncryptionKey, kd *KeyData) (key types.EncryptionKey, err error) {
	if len(kd.Key) < 2 {
		return key, fmt.Errorf("%w: key contents of %d bytes", ErrDecrypt, len(kd.Key))
	}
	n := int16(binary.LittleEndian.Uint16(kd.Key))
	if n < 0 {
		return key, fmt.Errorf("%w: negative key length", ErrDecrypt)
	}
	spec := kcrypto.Lookup(mkey.KeyType)
	if !spec.Implemented() {
		return key, fmt.Errorf("%w: master key enctype %d: unknown or unsupported EType: %d", ErrDecrypt, mkey.KeyType, mkey.KeyType)
	}
	et := spec.EType
	ct := kd.Key[2:]
	// (Not checked: the key's length against gokrb5's GetKeyByteSize,
	// which for aes256-cts-hmac-sha384-192 is not the 32-byte key size.)
	if len(ct) < et.GetConfounderByteSize()+et.GetHMACBitLength()/8+1 {
		return key, fmt.Errorf("%w: %d bytes of ciphertext too short for enctype %d", ErrDecrypt, len(ct), mkey.KeyType)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrDecrypt, r)
		}
	}()
	plain, err := et.DecryptMessage(mkey.KeyValue, ct, 0)
	if err != nil {
		return key, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	if int(n) > len(plain) {
		return key, fmt.Errorf("%w: key length %d exceeds %d decrypted bytes", ErrDecrypt, n, len(plain))
	}
	return types.EncryptionKey{KeyType: int32(kd.Enctype), KeyValue: plain[:n:n]}, nil
}

// Keyring is a realm's list of master keys, built from a stash and the K/M
// principal as MIT's KDC does at start-up (krb5_def_fetch_mkey_list).
type Keyring struct {
	keys []MasterKey // newest first, as in K/M's key data
}

// NewKeyring finds the stashed key that decrypts the newest key of the K/M
// principal (directly, or through K/M's KRB5_TL_MKEY_AUX), then decrypts
// all of K/M's keys with it. It returns ErrMasterKey when no stashed key
// fits, which is how a stash is verified against a dump.
func NewKeyring(km *Principal, stash []MasterKey) (*Keyring, error) {
	if len(km.KeyData) == 0 {
		return nil, fmt.Errorf("%w: %s has no keys", ErrMasterKey, km.Name)
	}
	var cur types.EncryptionKey
	found := false
	for _, sk := range stash {
		if int32(km.KeyData[0].Enctype) != sk.Key.KeyType {
			continue
		}
		if k, err := DecryptKeyData(sk.Key, &km.KeyData[0]); err == nil {
			cur, found = k, true
			break
		}
	}
	if !found {
		aux, err := km.MkeyAux()
		if err != nil {
			return nil, err
		}
		for _, a := range aux {
			for _, sk := range stash {
				if k, err := DecryptKeyData(sk.Key, &a.Latest); err == nil {
					cur, found = k, true
					break
				}
			}
			if found {
				break
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no stashed key decrypts %s", ErrMasterKey, km.Name)
	}
	kr := &Keyring{keys: []MasterKey{{Kvno: uint32(km.KeyData[0].Kvno), Key: cur}}}
	for i := 1; i < len(km.KeyData); i++ {
		k, err := DecryptKeyData(cur, &km.KeyData[i])
		if err != nil {
			return nil, fmt.Errorf("%s key-data[%d]: %w", km.Name, i, err)
		}
		kr.keys = append(kr.keys, MasterKey{Kvno: uint32(km.KeyData[i].Kvno), Key: k})
	}
	return kr, nil
}

// Keys returns the master keys, newest first.
func (kr *Keyring) Keys() []MasterKey { return kr.keys }

// DecryptKey decrypts one of p's keys with the master key its
// KRB5_TL_MKVNO names (the oldest master key when absent), falling back to
// the other master keys as MIT does.
func (kr *Keyring) DecryptKey(p *Principal, kd *KeyData) (types.EncryptionKey, error) {
	mkvno, err := p.Mkvno()
	if err != nil {
		return types.EncryptionKey{}, err
	}
	want := uint32(mkvno)
	if want == 0 {
		want = ^uint32(0)
		for _, k := range kr.keys {
			want = min(want, k.Kvno)
		}
	}
	var first error
	for _, k := range kr.keys {
		if k.Kvno == want {
			key, err := DecryptKeyData(k.Key, kd)
			if err == nil {
				return key, nil
			}
			first = err
		}
	}
	for _, k := range kr.keys {
		if k.Kvno != want {
			if key, err := DecryptKeyData(k.Key, kd); err == nil {
				return key, nil
			}
		}
	}
	if first == nil {
		first = fmt.Errorf("%w: no master key version %d", ErrDecrypt, want)
	}
	return types.EncryptionKey{}, first
}

// IsMaster reports whether the principal is a K/M master-key principal.
func (p *Principal) IsMaster() bool {
	comps, _ := realmOf(appendCanonical(nil, []byte(p.Name)))
	return bytes.Equal(comps, []byte("K/M"))
}
