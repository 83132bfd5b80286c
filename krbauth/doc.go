// Package krbauth is the Kerberos of MIT's kprop protocol, built on
// gokrb5: a connection that authenticates with sendauth/recvauth and then
// moves protected messages, byte-compatible with MIT krb5.
//
// A Conn is shaped like crypto/tls's: Client or Server wraps a net.Conn
// with a ClientConfig or ServerConfig, HandshakeContext runs the handshake
// with mutual authentication, and the Conn then sends and receives
// KRB-SAFE, chained KRB-PRIV and KRB-ERROR messages in MIT's framing. The
// files follow the protocol's parts:
//
//   - conn.go: the Conn, its state and its message methods; framing.go,
//     the length-prefixed framing only the Conn reads and writes.
//   - sendauth.go, recvauth.go: the client and server handshakes, with
//     apreq.go and aprep.go (AP-REQ and AP-REP as MIT builds and checks
//     them), replay.go (the replay cache) and keytab.go (the acceptor's key
//     choice by MIT's rules: highest kvno, not newest timestamp).
//   - session.go, safe.go, priv.go, krberror.go, der.go: the record state a
//     handshake leaves (key, sequence numbers, the KRB-PRIV cipher state
//     chained across messages as MIT's krb5_auth_con_initivector does) and
//     the hand-written DER of the messages, so that a chunk is sealed and
//     opened without allocating. The per-enctype ciphers live in the
//     module's one enctype table (internal/kcrypto).
//   - stream.go: PrivWriter and PrivReader, pipelined streams of chained
//     KRB-PRIVs (a dump's chunks): the frames of WritePriv and the checks
//     of ReadPriv, with encryption, tags, I/O and, on the receiving side,
//     the decryption of successive messages overlapped, a few messages in
//     flight in buffers allocated once.
//   - fastdata.go: the fast data phase, a departure from MIT's wire that
//     two ends of this module negotiate during the handshake
//     (ClientConfig.FastData offers it in the authenticator, as
//     AD-IF-RELEVANT authorization data MIT ignores;
//     ServerConfig.FastData accepts it with an AP-REP subkey, which MIT
//     never sends; State.FastData tells). PrivWriter and PrivReader then
//     move AES-256-GCM records under a key derived from the subkey,
//     bound to their index, offset and the stream's total. With any MIT
//     peer the connection stays MIT's, byte for byte.
//   - errors.go: the errors of the protocol; their texts are MIT's.
//
// Supported session enctypes are aes256-cts-hmac-sha1-96,
// aes128-cts-hmac-sha1-96, aes256-cts-hmac-sha384-192 and
// aes128-cts-hmac-sha256-128, plus des3-cbc-sha1 and arcfour-hmac where
// the caller permits them.
//
// krbauth is not a general Kerberos client: it has no credential caches,
// TGS exchanges or GSS-API, it reads no configuration (package krbconf;
// the one exception is the directory of MIT's default replay cache,
// which MIT too reads from the environment at every store) and it talks
// to no KDC (package krbkdc). Packages kprop and kpropd build
// the two ends of propagation on it.
package krbauth
