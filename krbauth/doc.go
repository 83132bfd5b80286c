// Package krbauth is the Kerberos of MIT's kprop protocol, built on
// gokrb5: everything a kprop client or kpropd server needs between a TCP
// connection and a stream of protected dump chunks, byte-compatible with
// MIT krb5.
//
// The parts follow the protocol, as crypto/tls's do:
//
//   - framing.go: the 4-byte big-endian length framing of every message,
//     with a size cap checked before any allocation.
//   - keytab.go: the acceptor's keytab key selection by MIT's rules
//     (highest kvno, not newest timestamp).
//   - sendauth.go, recvauth.go: the sendauth/recvauth handshake with
//     mutual authentication, replay cache and clock-skew checks. Each
//     returns a Session.
//   - session.go, safe.go, priv.go: the Session owns the
//     key, the sequence numbers and the KRB-PRIV cipher state chained
//     across messages as MIT's krb5_auth_con_initivector does (the one table of
//     enctypes is in internal/kcrypto); it alone builds and checks KRB-SAFE, KRB-PRIV and
//     KRB-ERROR messages. Sealing and opening a chunk does not allocate.
//   - errors.go, krberror.go: protocol error codes with MIT's texts, and
//     KRB-ERROR messages filled in as MIT's kprop and kpropd fill them.
//
// Supported session enctypes are aes256-cts-hmac-sha1-96,
// aes128-cts-hmac-sha1-96, aes256-cts-hmac-sha384-192 and
// aes128-cts-hmac-sha256-128, plus des3-cbc-sha1 and arcfour-hmac where
// the configuration allows them (allow_des3, allow_rc4, as Debian's MIT).
//
// krbauth is not a general Kerberos client: it has no credential caches,
// TGS exchanges or GSS-API, and it reads no configuration (package
// krbconf) and talks to no KDC (package krbkdc). Packages kprop and kpropd
// build the two ends of propagation on it.
package krbauth
