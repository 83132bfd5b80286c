// Package oncrpc is an ONC RPC version 2 client (RFC 5531) for stream
// connections with record marking, written for MIT Kerberos's kadmind
// services (incremental propagation, program 100423) but not tied to them.
//
// A Client wraps one net.Conn and one remote program and version. Call
// sends XDR-encoded arguments and returns XDR-encoded results; package
// oncrpc/xdr encodes and decodes them. Replies are reassembled from any
// number of fragments (MIT's servers send 4000-byte ones) up to a size
// limit, without allocating from a fragment header's claim; replies to
// other transaction ids are skipped. Each call takes a context for its
// deadline and cancellation.
//
// Authentication is pluggable per call through the Auth interface: an
// Auth supplies the credential, computes the verifier over the encoded
// call header, wraps the arguments, checks the reply verifier and unwraps
// the results, which is what RPCSEC_GSS (RFC 2203) needs. AuthNone is
// provided; RPCSEC_GSS itself, which needs a GSS-API Kerberos initiator,
// is not part of this package.
//
// Server-reported failures are typed: *AcceptError (PROG_UNAVAIL,
// PROG_MISMATCH with the versions served, PROC_UNAVAIL, GARBAGE_ARGS,
// SYSTEM_ERR), *AuthError with its auth_stat (including RPCSEC_GSS's
// CREDPROBLEM and CTXPROBLEM) and *RPCMismatchError. Use errors.Is with
// ErrProcUnavail and friends.
//
// The package has no server side, no UDP transport, no portmapper and no
// automatic retries: MIT's client re-sends a call after some failed
// replies (AUTH_REFRESH); a caller that wants that decides so itself.
package oncrpc
