package oncrpc

import (
	"errors"
	"fmt"
)

// AcceptStat is the status of an accepted reply (RFC 5531 accept_stat).
type AcceptStat uint32

// The accept_stat values of RFC 5531.
const (
	Success      AcceptStat = 0 // SUCCESS
	ProgUnavail  AcceptStat = 1 // PROG_UNAVAIL: the program is not served
	ProgMismatch AcceptStat = 2 // PROG_MISMATCH: the version is not served
	ProcUnavail  AcceptStat = 3 // PROC_UNAVAIL: the procedure is unknown
	GarbageArgs  AcceptStat = 4 // GARBAGE_ARGS: the arguments did not decode
	SystemErr    AcceptStat = 5 // SYSTEM_ERR: the server failed
)

// String returns the RFC name of s, or its number.
func (s AcceptStat) String() string {
	switch s {
	case Success:
		return "SUCCESS"
	case ProgUnavail:
		return "PROG_UNAVAIL"
	case ProgMismatch:
		return "PROG_MISMATCH"
	case ProcUnavail:
		return "PROC_UNAVAIL"
	case GarbageArgs:
		return "GARBAGE_ARGS"
	case SystemErr:
		return "SYSTEM_ERR"
	}
	return fmt.Sprintf("accept_stat %d", uint32(s))
}

// AcceptError is an accepted reply whose status is not SUCCESS. Low and
// High are the versions the server supports, for PROG_MISMATCH.
//
// errors.Is matches it against the Err* values below by status alone:
// errors.Is(err, oncrpc.ErrProcUnavail).
type AcceptError struct {
	Stat      AcceptStat
	Low, High uint32
}

// Error renders the status, and for PROG_MISMATCH the supported versions.
func (e *AcceptError) Error() string {
	if e.Stat == ProgMismatch {
		return fmt.Sprintf("oncrpc: server replied PROG_MISMATCH (versions %d to %d served)", e.Low, e.High)
	}
	return "oncrpc: server replied " + e.Stat.String()
}

// Is reports whether target is an *AcceptError with the same status.
func (e *AcceptError) Is(target error) bool {
	t, ok := target.(*AcceptError)
	return ok && t.Stat == e.Stat
}

// Values to test an error against with errors.Is.
var (
	ErrProgUnavail  error = &AcceptError{Stat: ProgUnavail}
	ErrProgMismatch error = &AcceptError{Stat: ProgMismatch}
	ErrProcUnavail  error = &AcceptError{Stat: ProcUnavail}
	ErrGarbageArgs  error = &AcceptError{Stat: GarbageArgs}
	ErrSystemErr    error = &AcceptError{Stat: SystemErr}
)

// AuthStat says why a server rejected a call's authentication (RFC 5531
// auth_stat, with the RPCSEC_GSS values of RFC 2203).
type AuthStat uint32

// The auth_stat values.
const (
	AuthOK               AuthStat = 0
	AuthBadCred          AuthStat = 1  // AUTH_BADCRED: bad credential (seal broken)
	AuthRejectedCred     AuthStat = 2  // AUTH_REJECTEDCRED: begin a new session
	AuthBadVerf          AuthStat = 3  // AUTH_BADVERF: bad verifier (seal broken)
	AuthRejectedVerf     AuthStat = 4  // AUTH_REJECTEDVERF: verifier expired or replayed
	AuthTooWeak          AuthStat = 5  // AUTH_TOOWEAK: refused for security reasons
	AuthInvalidResp      AuthStat = 6  // AUTH_INVALIDRESP: bogus response verifier
	AuthFailed           AuthStat = 7  // AUTH_FAILED: unknown reason
	AuthKerbGeneric      AuthStat = 8  // AUTH_KERB_GENERIC
	AuthTimeExpire       AuthStat = 9  // AUTH_TIMEEXPIRE
	AuthTktFile          AuthStat = 10 // AUTH_TKT_FILE
	AuthDecode           AuthStat = 11 // AUTH_DECODE
	AuthNetAddr          AuthStat = 12 // AUTH_NET_ADDR
	RPCSECGSSCredProblem AuthStat = 13 // RPCSEC_GSS_CREDPROBLEM: no usable context
	RPCSECGSSCtxProblem  AuthStat = 14 // RPCSEC_GSS_CTXPROBLEM: bad sequence or context
)

var authStatNames = [...]string{
	"AUTH_OK", "AUTH_BADCRED", "AUTH_REJECTEDCRED", "AUTH_BADVERF",
	"AUTH_REJECTEDVERF", "AUTH_TOOWEAK", "AUTH_INVALIDRESP", "AUTH_FAILED",
	"AUTH_KERB_GENERIC", "AUTH_TIMEEXPIRE", "AUTH_TKT_FILE", "AUTH_DECODE",
	"AUTH_NET_ADDR", "RPCSEC_GSS_CREDPROBLEM", "RPCSEC_GSS_CTXPROBLEM",
}

// String returns the RFC name of s, or its number.
func (s AuthStat) String() string {
	if int(s) < len(authStatNames) {
		return authStatNames[s]
	}
	return fmt.Sprintf("auth_stat %d", uint32(s))
}

// AuthError is a call the server denied for its authentication
// (MSG_DENIED with AUTH_ERROR). errors.Is matches it against another
// *AuthError with the same Stat, such as ErrAuthTooWeak.
type AuthError struct {
	Stat AuthStat
}

// Error names the auth_stat.
func (e *AuthError) Error() string {
	return "oncrpc: server rejected the call's authentication: " + e.Stat.String()
}

// Is reports whether target is an *AuthError with the same status.
func (e *AuthError) Is(target error) bool {
	t, ok := target.(*AuthError)
	return ok && t.Stat == e.Stat
}

// Values to test an error against with errors.Is; any other AuthStat can
// be matched with &oncrpc.AuthError{Stat: s}.
var (
	ErrAuthBadCred      error = &AuthError{Stat: AuthBadCred}
	ErrAuthRejectedCred error = &AuthError{Stat: AuthRejectedCred}
	ErrAuthTooWeak      error = &AuthError{Stat: AuthTooWeak}
	ErrGSSCredProblem   error = &AuthError{Stat: RPCSECGSSCredProblem}
	ErrGSSCtxProblem    error = &AuthError{Stat: RPCSECGSSCtxProblem}
)

// RPCMismatchError is a call denied because the server does not speak
// RPC version 2 (MSG_DENIED with RPC_MISMATCH).
type RPCMismatchError struct {
	Low, High uint32
}

// Error reports the RPC versions the server supports.
func (e *RPCMismatchError) Error() string {
	return fmt.Sprintf("oncrpc: server replied RPC_MISMATCH (RPC versions %d to %d)", e.Low, e.High)
}

// ReplyError reports a reply to the call that does not decode as an RFC
// 5531 reply message. The connection stays usable: the record was read
// whole.
type ReplyError struct {
	Err error
}

// Error describes the malformed reply.
func (e *ReplyError) Error() string { return "oncrpc: malformed reply: " + e.Err.Error() }

// Unwrap returns the decoding error.
func (e *ReplyError) Unwrap() error { return e.Err }

var errBadReply = errors.New("unknown discriminant")

// ErrRecordTooLarge reports a reply longer than the client's
// MaxRecordSize. The connection is unusable afterwards.
var ErrRecordTooLarge = errors.New("oncrpc: record exceeds the size limit")

// AuthHookError reports a failure of the call's Auth: building the
// credential, verifier or arguments, or checking the reply's verifier or
// unwrapping its results. Op says which.
type AuthHookError struct {
	Op  string // "begin", "credential", "verifier", "wrap", "validate" or "unwrap"
	Err error
}

// Error names the step and its error.
func (e *AuthHookError) Error() string { return "oncrpc: auth " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the Auth's error.
func (e *AuthHookError) Unwrap() error { return e.Err }
