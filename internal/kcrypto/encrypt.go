package kcrypto

import (
	"fmt"
	"io"

	"github.com/jcmturner/gokrb5/v8/types"
)

// Encrypt encrypts plaintext under key for a key usage as MIT's
// krb5_encrypt_helper does: the EncryptedData's etype is the key's and it
// carries no kvno. An enctype that is not implemented, or a key of the
// wrong length, is ErrBadEnctype.
func Encrypt(key types.EncryptionKey, usage uint32, plaintext []byte) (types.EncryptedData, error) {
	e := Lookup(key.KeyType)
	if !e.Implemented() || len(key.KeyValue) != e.KeyLen {
		return types.EncryptedData{}, fmt.Errorf("%w: %s key of %d bytes", ErrBadEnctype, name(key.KeyType), len(key.KeyValue))
	}
	_, ct, err := e.EType.EncryptMessage(key.KeyValue, plaintext, usage)
	if err != nil {
		return types.EncryptedData{}, fmt.Errorf("encrypt with %s: %w", e.Name, err)
	}
	return types.EncryptedData{EType: key.KeyType, Cipher: ct}, nil
}

// Decrypt decrypts and integrity-checks ed with key for a key usage. It
// checks, as MIT's krb5_c_decrypt does, that ed's etype is the key's
// (ErrBadEnctype otherwise, or for an enctype that is not implemented or a
// key of the wrong length), and it refuses ciphertexts too short to hold a
// confounder and checksum before handing them to the decryptor. A failed
// integrity check wraps ErrIntegrity.
func Decrypt(ed types.EncryptedData, key types.EncryptionKey, usage uint32) ([]byte, error) {
	if ed.EType != key.KeyType {
		return nil, fmt.Errorf("%w: %s data, %s key", ErrBadEnctype, name(ed.EType), name(key.KeyType))
	}
	e := Lookup(key.KeyType)
	if !e.Implemented() {
		return nil, fmt.Errorf("%w: %s", ErrBadEnctype, name(key.KeyType))
	}
	if len(key.KeyValue) != e.KeyLen {
		return nil, fmt.Errorf("%w: %s key of %d bytes", ErrBadEnctype, e.Name, len(key.KeyValue))
	}
	return e.Decrypt(key.KeyValue, ed.Cipher, usage)
}

// Decrypt decrypts and integrity-checks a raw ciphertext (an EncryptedData's
// cipher) with key for a key usage. A ciphertext too short to hold a
// confounder and checksum, or one that fails the integrity check, wraps
// ErrIntegrity; the decryptors' assumptions about well-formed input are
// not trusted.
func (s *Spec) Decrypt(key, ct []byte, usage uint32) (pt []byte, err error) {
	if !s.Implemented() {
		return nil, ErrBadEnctype
	}
	if len(ct) < s.EType.GetConfounderByteSize()+s.EType.GetHMACBitLength()/8 {
		return nil, fmt.Errorf("%w: %d-byte ciphertext", ErrIntegrity, len(ct))
	}
	defer func() {
		// Defence in depth: the decryptors assume well-formed input.
		if r := recover(); r != nil {
			pt, err = nil, fmt.Errorf("%w: decryption failed on malformed ciphertext", ErrIntegrity)
		}
	}()
	pt, err = s.EType.DecryptMessage(key, ct, usage)
	if err != nil {
		return nil, fmt.Errorf("%w: error decrypting: %v", ErrIntegrity, err)
	}
	return pt, nil
}

// RandomKey returns a key of enctype id with bytes from r, as a
// random-to-key would make it (DES parity bits fixed for des3).
func RandomKey(id int32, r io.Reader) (types.EncryptionKey, error) {
	e := Lookup(id)
	if !e.Implemented() {
		return types.EncryptionKey{}, fmt.Errorf("%w: %s", ErrUnsupported, name(id))
	}
	k := types.EncryptionKey{KeyType: id, KeyValue: make([]byte, e.KeyLen)}
	if _, err := io.ReadFull(r, k.KeyValue); err != nil {
		return types.EncryptionKey{}, err
	}
	if e.Family == FamDES3 {
		for i, b := range k.KeyValue {
			b &^= 1
			p := b ^ b>>4
			p ^= p >> 2
			p ^= p >> 1
			k.KeyValue[i] = b | (^p & 1)
		}
	}
	return k, nil
}

// StringToKey derives the key of a password and salt (for a principal's
// normal salt: the realm followed by the name components) with the row's
// string-to-key and MIT's default parameters, as kadmin and ktutil do. It
// fails with ErrUnsupported for an unimplemented enctype.
func (s *Spec) StringToKey(password, salt string) (types.EncryptionKey, error) {
	if !s.Implemented() {
		return types.EncryptionKey{}, ErrUnsupported
	}
	k, err := s.EType.StringToKey(password, salt, s.EType.GetDefaultStringToKeyParams())
	if err != nil {
		return types.EncryptionKey{}, fmt.Errorf("%s string-to-key: %w", s.Name, err)
	}
	return types.EncryptionKey{KeyType: s.ID, KeyValue: k}, nil
}

// name is MIT's name for id, or "etype N".
func name(id int32) string {
	if e := Lookup(id); e != nil {
		return e.Name
	}
	return fmt.Sprintf("etype %d", id)
}
