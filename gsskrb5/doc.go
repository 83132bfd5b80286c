// Package gsskrb5 is the initiator side of the GSS-API Kerberos V5
// mechanism (RFC 1964 framing, RFC 4121 per-message tokens), as MIT's
// libgssapi_krb5 speaks it: enough for a client to authenticate to an MIT
// service over GSS-API and protect its messages, for example RPCSEC_GSS
// calls to MIT kadmind's incremental-propagation service (package
// rpcsecgss).
//
// NewInitiator takes a service ticket and its session key
// (krbauth.Credentials, as krbkdc's AS exchange returns them).
// InitSecContext then makes the initial token: an AP-REQ with
// ap-options mutual-required, a fresh initiator subkey and a random
// initial sequence number, and the 0x8003 authenticator checksum carrying
// zero channel bindings and the context flags — the flags MIT's initiator
// sends, the requested ones plus conf, integ and trans (0x136 for
// mutual|replay). With FlagMutual, a second call takes the acceptor's
// AP-REP, which gives the acceptor's initial sequence number and usually
// an acceptor subkey; from then on that subkey protects every token in
// both directions and tokens carry the AcceptorSubkey flag.
//
// An established Context makes and checks RFC 4121 tokens with key usages
// 22 to 25: GetMIC and VerifyMIC, and Wrap and Unwrap, sealed
// (confidential) or integrity-only. Wrap sends what MIT's gss_wrap sends,
// EC = 0 and RRC = 0; Unwrap accepts any RRC and EC. Received tokens are
// checked for direction (a reflected token is refused), for the key that
// protects them, and for their sequence number: with FlagReplay a repeat
// is refused, with FlagSequence a gap or reordering too, over MIT's
// 64-number window. Every enctype of the module's table that has RFC 4121
// tokens works: aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96,
// aes256-cts-hmac-sha384-192 and aes128-cts-hmac-sha256-128, and the
// camellia enctypes once the table implements them.
//
// Not implemented: the acceptor side, credential delegation, channel
// bindings, DCE style, context export, and RFC 1964's DES3 and RC4 token
// formats (a des3-cbc-sha1 or arcfour-hmac session key is refused).
package gsskrb5
