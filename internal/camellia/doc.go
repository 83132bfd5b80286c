// Package camellia implements the Camellia block cipher of RFC 3713 for
// 128-, 192- and 256-bit keys, as a crypto/cipher.Block.
//
// It exists for the Kerberos enctypes camellia128-cts-cmac and
// camellia256-cts-cmac (RFC 6803, package internal/rfc6803), which MIT
// krb5 supports and kprop must therefore speak. Neither the standard
// library nor golang.org/x/crypto has Camellia, and no Go module found was
// both maintained and allowed as a dependency, so it is written from the
// RFC and checked against the RFC's Appendix A examples and against
// vectors made with OpenSSL (testdata/openssl-ecb.sh).
//
// It is not a general-purpose recommendation: the implementation is
// table-driven and not constant-time with respect to cache behaviour (see
// Cipher). Use AES where the protocol leaves a choice.
package camellia
