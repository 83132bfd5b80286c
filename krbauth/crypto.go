package krbauth

import (
	"errors"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
)

// Key usage numbers (RFC 4120 section 7.5.1) of the protected messages.
const (
	usagePrivEncPart = 13 // KRB-PRIV enc-part
	usageSafeCksum   = 15 // KRB-SAFE checksum
)

// errLocalAddrRequired is MIT's KRB5_LOCAL_ADDR_REQUIRED.
var errLocalAddrRequired = &liberr.Error{Text: "Auth context must contain local address"}

// encrypt encrypts plaintext under key for usage as MIT's
// krb5_encrypt_helper does: etype = key type, no kvno.
func encrypt(key types.EncryptionKey, usage uint32, plaintext []byte) (types.EncryptedData, error) {
	return kcrypto.Encrypt(key, usage, plaintext)
}

// decrypt decrypts and integrity-checks ed with key for usage (see
// kcrypto.Decrypt). A failed integrity check is krb5.ErrBadIntegrity.
func decrypt(ed types.EncryptedData, key types.EncryptionKey, usage uint32) ([]byte, error) {
	pt, err := kcrypto.Decrypt(ed, key, usage)
	return pt, cryptoErr(err)
}

// cryptoErr gives the crypto layer's integrity failure its protocol code,
// KRB_AP_ERR_BAD_INTEGRITY, keeping its text.
func cryptoErr(err error) error {
	if err == kcrypto.ErrIntegrity {
		return krb5.ErrBadIntegrity
	}
	if errors.Is(err, kcrypto.ErrIntegrity) {
		return &integrityError{err}
	}
	return err
}

// integrityError is a detailed integrity failure of the crypto layer,
// reported as krb5.ErrBadIntegrity.
type integrityError struct{ err error }

func (e *integrityError) Error() string   { return e.err.Error() }
func (e *integrityError) Unwrap() []error { return []error{krb5.ErrBadIntegrity, e.err} }

// validKey reports whether k is a key of an implemented enctype with that
// enctype's length.
func validKey(k types.EncryptionKey) bool {
	e := kcrypto.Lookup(k.KeyType)
	return e.Implemented() && len(k.KeyValue) == e.KeyLen
}
