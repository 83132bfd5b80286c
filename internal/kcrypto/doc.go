// Package kcrypto is the module's one table of encryption types and the
// cryptography behind it: for every enctype MIT 1.20 knows, one Spec row
// with its names, key length, mandatory checksum, cipher family,
// libdefaults gate and, when the module implements it, its RFC 3961
// profile and its chained KRB-PRIV cipher (MIT's cipher state across
// messages, which gokrb5 lacks). Encrypt and Decrypt handle EncryptedData
// for any implemented row, and LookupChecksum gives MIT's checksum types.
//
// Everything in the module that needs a fact about an enctype reads its
// row: package krb5's Enctype methods, krbconf's enctype lists and gates,
// krbauth's messages, krbkdc's AS exchange, the test helpers. Adding an
// enctype's implementation means filling in its row's EType and cipher
// constructor and its checksum row's function, as camellia's rows do with
// internal/rfc6803; nothing else in the module names an enctype.
//
// It imports nothing of the module but internal/liberr, so the error codes
// of package krb5 are out of its reach: a failed integrity check is
// ErrIntegrity, which callers report as krb5.ErrBadIntegrity.
package kcrypto
