// Package krbtest mints Kerberos material for tests that run without a
// KDC: keytabs from passwords or given keys, random session keys, and
// service tickets encrypted in a keytab's key, packaged as the
// krbauth.Credentials an AS exchange would return. It imports no
// Kerberos protocol package, so krbauth's own tests use it too.
//
// It is for tests only; interop tests use real MIT KDCs instead.
package krbtest
