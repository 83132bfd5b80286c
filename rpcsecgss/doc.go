// Package rpcsecgss is the client side of RPCSEC_GSS (RFC 2203), the
// ONC RPC authentication flavor built on a GSS-API context, as MIT's
// gssrpc library speaks it to kadmind: an oncrpc.Auth whose calls carry
// a sequence number, a MIC over the call header and protected bodies.
//
// Create makes the context over an oncrpc.Client: RPCSEC_GSS_INIT calls
// on procedure 0 carry the GSS tokens of a SecContext (package gsskrb5
// provides the Kerberos one), the server's rpc_gss_init_res gives the
// handle, the GSS status, the sequence window and its token, and the
// reply verifier, a MIC over the window, is checked. The returned *Auth is
// then the oncrpc.Auth of data calls: each takes the next sequence number
// (1, 2, ... up to MaxSeq), its verifier is a MIC over the header from
// the xid through the credential, and the body is protected as the
// service says — sealed with the sequence number in front for
// ServicePrivacy (what MIT's iprop and kadmin clients use), with a MIC for
// ServiceIntegrity, or not at all for ServiceNone. A reply's verifier must
// be a MIC over the call's sequence number, and its body must open and
// carry that number again; anything else fails with ErrBadReply. Destroy
// sends RPCSEC_GSS_DESTROY.
//
// MIT's server keeps one context per connection and answers a context it
// does not know, a replayed or out-of-window sequence number or a bad
// header MIC with RPCSEC_GSS_CREDPROBLEM or RPCSEC_GSS_CTXPROBLEM;
// NeedsNewContext tells such errors apart, and the caller then makes a new
// connection and context, as MIT's clients do. Nothing is retried here.
//
// Bounds: handles of at most MaxHandle bytes, context tokens of at most
// MaxInitToken bytes, at most a few context-creation rounds; bodies are
// bounded by the oncrpc.Client's record limit.
package rpcsecgss
