package rpcsecgss

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/gokprop/gokprop/oncrpc"
	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// Version is the RPCSEC_GSS protocol version (RPCSEC_GSS_VERS_1).
const Version = 1

// Control procedures of RFC 2203 (rpc_gss_proc_t), carried in the
// credential.
const (
	procData         = 0
	procInit         = 1
	procContinueInit = 2
	procDestroy      = 3
)

// Service is the protection RPCSEC_GSS gives call and reply bodies
// (rpc_gss_service_t).
type Service uint32

// The services of RFC 2203.
const (
	ServiceNone      Service = 1 // rpc_gss_svc_none: header verifiers only
	ServiceIntegrity Service = 2 // rpc_gss_svc_integrity: bodies carry a MIC
	ServicePrivacy   Service = 3 // rpc_gss_svc_privacy: bodies are sealed
)

// String returns the RFC name of the service.
func (s Service) String() string {
	switch s {
	case ServiceNone:
		return "none"
	case ServiceIntegrity:
		return "integrity"
	case ServicePrivacy:
		return "privacy"
	}
	return fmt.Sprintf("service %d", uint32(s))
}

// MaxSeq is the largest sequence number a call may carry (MIT's MAXSEQ,
// RFC 2203's MAXSEQ); a context that has used it up must be replaced.
const MaxSeq = 0x80000000

// Bounds of what a context-creation reply may carry.
const (
	// MaxHandle is the longest context handle accepted: the credential
	// that repeats it must fit in oncrpc.MaxAuthBytes.
	MaxHandle = oncrpc.MaxAuthBytes - 5*4
	// MaxInitToken is the longest GSS token accepted in, or sent as, a
	// context-creation message: MIT's RPC layer carries no more
	// (MAX_NETOBJ_SZ).
	MaxInitToken = 2048
	// maxInitRounds bounds the context-creation round trips (Kerberos
	// needs one).
	maxInitRounds = 8
)

// GSS major status codes that matter here (RFC 2744).
const (
	gssComplete       = 0
	gssContinueNeeded = 1
)

// SecContext is the initiator side of a GSS-API security context, which
// RPCSEC_GSS runs over. *gsskrb5.Context implements it for Kerberos.
type SecContext interface {
	// InitSecContext takes the acceptor's last token (nil at first) and
	// returns the next token to send, if any, and whether the context is
	// established.
	InitSecContext(in []byte) (out []byte, done bool, err error)
	GetMIC(msg []byte) ([]byte, error)
	VerifyMIC(msg, mic []byte) error
	Wrap(msg []byte, conf bool) ([]byte, error)
	Unwrap(tok []byte) (msg []byte, conf bool, err error)
}

// Config configures an Auth.
type Config struct {
	// Service protects the bodies of data calls; zero means
	// ServicePrivacy, the only service MIT kadmind's iprop and kadmin
	// clients use.
	Service Service
}

// Errors of an Auth.
var (
	// ErrDestroyed: the context was destroyed (Destroy), or a failure
	// left it unusable.
	ErrDestroyed = errors.New("rpcsecgss: context destroyed")
	// ErrSequenceExhausted: the context has used every sequence number up
	// to MaxSeq and must be replaced.
	ErrSequenceExhausted = errors.New("rpcsecgss: sequence numbers exhausted")
	// ErrBadReply: a reply's verifier or body failed its checks (a MIC
	// that does not verify, a body not sealed as the service requires, or
	// a sequence number that is not the call's). Failures of the GSS
	// checks also match the GSS mechanism's own errors.
	ErrBadReply = errors.New("rpcsecgss: reply failed verification")
)

// InitError is a context-creation reply whose GSS major status is an
// error: the acceptor refused the token. Major and Minor are the GSS
// status codes it returned.
type InitError struct {
	Major, Minor uint32
}

// Error renders the status codes.
func (e *InitError) Error() string {
	return fmt.Sprintf("rpcsecgss: context creation failed: GSS major status %#x, minor status %d", e.Major, e.Minor)
}

// An Auth is an RPCSEC_GSS context (RFC 2203) for an oncrpc.Client: made
// by Create over one connection, used as the oncrpc.Auth of its data
// calls, and ended by Destroy. MIT's server keeps one context per
// connection, so the Auth belongs to the Client it was created with. It
// is safe for concurrent use.
type Auth struct {
	rpc *oncrpc.Client
	sec SecContext
	svc Service

	mu        sync.Mutex
	handle    []byte
	window    uint32
	seq       uint32 // the last sequence number used
	destroyed bool
}

// Create makes an RPCSEC_GSS context on rpc with the GSS context sec, as
// MIT's authgss_refresh does: RPCSEC_GSS_INIT calls on procedure 0 carry
// sec's tokens (then RPCSEC_GSS_CONTINUE_INIT, if the mechanism needs more
// rounds), each reply's rpc_gss_init_res gives the handle, the GSS status,
// the sequence window and the acceptor's token, and once sec is
// established the reply verifier, a MIC over the window, is verified. A
// reply the server refuses is returned as the oncrpc error (kadmind
// answers a token it rejects with AUTH_REJECTEDCRED); a GSS failure
// status as *InitError.
func Create(ctx context.Context, rpc *oncrpc.Client, sec SecContext, cfg *Config) (*Auth, error) {
	a := &Auth{rpc: rpc, sec: sec, svc: ServicePrivacy}
	if cfg != nil && cfg.Service != 0 {
		a.svc = cfg.Service
	}
	if a.svc < ServiceNone || a.svc > ServicePrivacy {
		return nil, fmt.Errorf("rpcsecgss: unknown %v", a.svc)
	}
	out, done, err := sec.InitSecContext(nil)
	if err != nil {
		return nil, err
	}
	proc := uint32(procInit)
	var verf oncrpc.OpaqueAuth
	var res initRes
	for round := 0; ; round++ {
		if round == maxInitRounds {
			return nil, fmt.Errorf("rpcsecgss: context not established after %d rounds", round)
		}
		if len(out) > 0 {
			if len(out) > MaxInitToken {
				return nil, fmt.Errorf("rpcsecgss: GSS token of %d bytes exceeds %d", len(out), MaxInitToken)
			}
			call := &initCall{a: a, proc: proc, handle: a.handle}
			body, err := rpc.Call(ctx, 0, call, xdr.AppendOpaque(nil, out))
			if err != nil {
				return nil, err
			}
			verf = call.verf
			if res, err = decodeInitRes(body); err != nil {
				return nil, err
			}
			if res.major != gssComplete && res.major != gssContinueNeeded {
				return nil, &InitError{Major: res.major, Minor: res.minor}
			}
			if len(res.handle) > 0 {
				a.handle = res.handle
			}
			if len(res.token) > 0 && done {
				return nil, fmt.Errorf("rpcsecgss: %w: a token for an established context", ErrBadReply)
			}
			proc = procContinueInit
		}
		if done {
			break
		}
		if res.major == gssComplete && len(res.token) == 0 && len(out) > 0 {
			return nil, fmt.Errorf("rpcsecgss: %w: the server completed the context without the token this side needs", ErrBadReply)
		}
		if out, done, err = sec.InitSecContext(res.token); err != nil {
			return nil, err
		}
		res.token = nil
	}
	if res.major != gssComplete {
		return nil, fmt.Errorf("rpcsecgss: %w: server status %#x for an established context", ErrBadReply, res.major)
	}
	if res.window == 0 {
		return nil, fmt.Errorf("rpcsecgss: %w: sequence window 0", ErrBadReply)
	}
	if verf.Flavor != oncrpc.FlavorRPCSECGSS {
		return nil, fmt.Errorf("rpcsecgss: %w: %v verifier on the context-creation reply", ErrBadReply, verf.Flavor)
	}
	if err := sec.VerifyMIC(be32(res.window), verf.Body); err != nil {
		return nil, fmt.Errorf("rpcsecgss: %w: window verifier: %w", ErrBadReply, err)
	}
	a.window = res.window
	return a, nil
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// initRes is rpc_gss_init_res.
type initRes struct {
	handle       []byte
	major, minor uint32
	window       uint32
	token        []byte
}

func decodeInitRes(b []byte) (initRes, error) {
	d := xdr.NewDecoder(b)
	var r initRes
	r.handle = d.Opaque(MaxHandle)
	r.major = d.Uint32()
	r.minor = d.Uint32()
	r.window = d.Uint32()
	r.token = d.Opaque(MaxInitToken)
	if err := d.End(); err != nil {
		return initRes{}, fmt.Errorf("rpcsecgss: context-creation reply: %w", err)
	}
	return r, nil
}

// appendCred appends the body of an RPCSEC_GSS credential
// (rpc_gss_cred_vers_1_t).
func appendCred(b []byte, proc, seq uint32, svc Service, handle []byte) []byte {
	b = xdr.AppendUint32(b, Version)
	b = xdr.AppendUint32(b, proc)
	b = xdr.AppendUint32(b, seq)
	b = xdr.AppendUint32(b, uint32(svc))
	return xdr.AppendOpaque(b, handle)
}

// initCall authenticates a context-creation call: sequence number 0, an
// AUTH_NONE verifier, the token as the arguments; the reply's verifier is
// kept for the final check.
type initCall struct {
	a      *Auth
	proc   uint32
	handle []byte
	verf   oncrpc.OpaqueAuth
}

func (c *initCall) Begin(uint32) (oncrpc.CallAuth, error) { return c, nil }
func (c *initCall) Credential() (oncrpc.OpaqueAuth, error) {
	return oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorRPCSECGSS, Body: appendCred(nil, c.proc, 0, c.a.svc, c.handle)}, nil
}
func (c *initCall) Verifier([]byte) (oncrpc.OpaqueAuth, error) {
	return oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorNone}, nil
}
func (c *initCall) WrapArgs(args []byte) ([]byte, error) { return args, nil }
func (c *initCall) Validate(v oncrpc.OpaqueAuth) error {
	c.verf = v
	return nil
}
func (c *initCall) UnwrapResults(body []byte) ([]byte, error) { return body, nil }

// Window returns the sequence window the server granted: how many calls
// may be outstanding at once.
func (a *Auth) Window() uint32 { return a.window }

// Service returns the service data calls use.
func (a *Auth) Service() Service { return a.svc }

// Handle returns the context handle the server assigned (MIT's kadmind
// always answers "xxxx").
func (a *Auth) Handle() []byte { return append([]byte(nil), a.handle...) }

// Begin starts a data call (it implements oncrpc.Auth): it takes the next
// sequence number, and the call's credential, header verifier, body
// protection and reply checks follow from it.
func (a *Auth) Begin(uint32) (oncrpc.CallAuth, error) {
	return a.next(procData)
}

func (a *Auth) next(proc uint32) (*dataCall, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.destroyed {
		return nil, ErrDestroyed
	}
	if a.seq >= MaxSeq {
		return nil, ErrSequenceExhausted
	}
	a.seq++
	return &dataCall{a: a, proc: proc, seq: a.seq, handle: a.handle}, nil
}

// dataCall authenticates one call with an established context.
type dataCall struct {
	a      *Auth
	proc   uint32
	seq    uint32
	handle []byte
}

func (c *dataCall) Credential() (oncrpc.OpaqueAuth, error) {
	return oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorRPCSECGSS, Body: appendCred(nil, c.proc, c.seq, c.a.svc, c.handle)}, nil
}

// Verifier is a MIC over the call header from the xid through the
// credential, the bytes MIT's svcauth_gss_validate rebuilds.
func (c *dataCall) Verifier(header []byte) (oncrpc.OpaqueAuth, error) {
	mic, err := c.a.sec.GetMIC(header)
	if err != nil {
		return oncrpc.OpaqueAuth{}, err
	}
	return oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorRPCSECGSS, Body: mic}, nil
}

// WrapArgs protects the arguments with the sequence number in front
// (rpc_gss_data_t): sealed as one opaque for privacy, as an opaque and
// its MIC for integrity. MIT's client wraps even void arguments.
func (c *dataCall) WrapArgs(args []byte) ([]byte, error) {
	switch c.a.svc {
	case ServiceNone:
		return args, nil
	case ServiceIntegrity:
		data := append(be32(c.seq), args...)
		mic, err := c.a.sec.GetMIC(data)
		if err != nil {
			return nil, err
		}
		return xdr.AppendOpaque(xdr.AppendOpaque(nil, data), mic), nil
	default:
		tok, err := c.a.sec.Wrap(append(be32(c.seq), args...), true)
		if err != nil {
			return nil, err
		}
		return xdr.AppendOpaque(nil, tok), nil
	}
}

// Validate verifies the reply verifier, a MIC over the call's sequence
// number.
func (c *dataCall) Validate(v oncrpc.OpaqueAuth) error {
	if v.Flavor != oncrpc.FlavorRPCSECGSS {
		return fmt.Errorf("%w: %v reply verifier", ErrBadReply, v.Flavor)
	}
	if err := c.a.sec.VerifyMIC(be32(c.seq), v.Body); err != nil {
		return fmt.Errorf("%w: reply verifier: %w", ErrBadReply, err)
	}
	return nil
}

// UnwrapResults opens the reply body and checks that it carries the
// call's sequence number, as MIT's xdr_rpc_gss_unwrap_data does; for
// privacy the body must have been sealed.
func (c *dataCall) UnwrapResults(body []byte) ([]byte, error) {
	if c.a.svc == ServiceNone {
		return body, nil
	}
	if c.proc == procDestroy && len(body) == 0 {
		return nil, nil
	}
	d := xdr.NewDecoder(body)
	var data []byte
	if c.a.svc == ServiceIntegrity {
		data = d.Opaque(len(body))
		mic := d.Opaque(len(body))
		if err := d.End(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadReply, err)
		}
		if err := c.a.sec.VerifyMIC(data, mic); err != nil {
			return nil, fmt.Errorf("%w: reply body: %w", ErrBadReply, err)
		}
	} else {
		tok := d.Opaque(len(body))
		if err := d.End(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadReply, err)
		}
		msg, conf, err := c.a.sec.Unwrap(tok)
		if err != nil {
			return nil, fmt.Errorf("%w: reply body: %w", ErrBadReply, err)
		}
		if !conf {
			return nil, fmt.Errorf("%w: reply body not sealed", ErrBadReply)
		}
		data = msg
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("%w: reply body of %d bytes has no sequence number", ErrBadReply, len(data))
	}
	if got := binary.BigEndian.Uint32(data); got != c.seq {
		return nil, fmt.Errorf("%w: reply body carries sequence number %d, call %d", ErrBadReply, got, c.seq)
	}
	return data[4:], nil
}

// destroyCall is a dataCall with the RPCSEC_GSS_DESTROY procedure.
type destroyCall struct{ c *dataCall }

func (d destroyCall) Begin(uint32) (oncrpc.CallAuth, error) { return d.c, nil }

// Destroy ends the context, as MIT's authgss_destroy_context does: an
// RPCSEC_GSS_DESTROY call on procedure 0, authenticated like a data call.
// The Auth is unusable afterwards, whatever the outcome.
func (a *Auth) Destroy(ctx context.Context) error {
	c, err := a.next(procDestroy)
	a.mu.Lock()
	a.destroyed = true
	a.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = a.rpc.Call(ctx, 0, destroyCall{c}, nil)
	return err
}

// NeedsNewContext reports whether err, from a call made with an Auth,
// means the context can no longer be used: the server lost or refuses it
// (RPCSEC_GSS_CREDPROBLEM, RPCSEC_GSS_CTXPROBLEM, AUTH_REJECTEDCRED,
// AUTH_BADCRED), a reply failed verification, or the Auth is destroyed or
// out of sequence numbers. MIT's clients then destroy the handle and make
// a new context, on a new connection.
func NeedsNewContext(err error) bool {
	for _, e := range []error{oncrpc.ErrGSSCredProblem, oncrpc.ErrGSSCtxProblem, oncrpc.ErrAuthRejectedCred,
		oncrpc.ErrAuthBadCred, ErrBadReply, ErrDestroyed, ErrSequenceExhausted} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
