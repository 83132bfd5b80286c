package kcrypto

import (
	"errors"

	"github.com/gokprop/gokprop/internal/liberr"
)

// Errors of the crypto layer. Those that are MIT library errors carry
// MIT's texts (src/lib/krb5/error_tables/krb5_err.et).
var (
	// ErrUnsupported: an encryption type that is unknown, unimplemented or
	// not permitted. Callers wrap it with the enctype's name.
	ErrUnsupported = errors.New("encryption type not supported")
	// ErrBadEnctype is MIT's KRB5_BAD_ENCTYPE: an EncryptedData's etype
	// differs from its key's, or the enctype is not implemented. It also
	// matches ErrUnsupported.
	ErrBadEnctype error = &liberr.Error{Text: "Bad encryption type", Err: ErrUnsupported}
	// ErrBadKeysize is MIT's KRB5_BAD_KEYSIZE.
	ErrBadKeysize error = &liberr.Error{Text: "Key size is incompatible with encryption type"}
	// ErrBadMsize is MIT's KRB5_BAD_MSIZE.
	ErrBadMsize error = &liberr.Error{Text: "Message size is incompatible with encryption type"}
	// ErrSumtypeNosupp is MIT's KRB5_PROG_SUMTYPE_NOSUPP.
	ErrSumtypeNosupp error = &liberr.Error{Text: "Program lacks support for checksum type"}
	// ErrIntegrity is a failed integrity check. It stands for the protocol
	// code KRB_AP_ERR_BAD_INTEGRITY, which this package cannot name (the
	// error codes live above it, in package krb5): callers report it as
	// krb5.ErrBadIntegrity.
	ErrIntegrity = errors.New("Decrypt integrity check failed")
)
