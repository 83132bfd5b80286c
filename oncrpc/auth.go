package oncrpc

// Auth supplies the authentication of calls: a credential and verifier
// for each call, protection of its arguments, and the checks of its reply.
// A Client takes an Auth per call, so one connection can carry calls of
// different flavors, as RPCSEC_GSS needs for its context-creation calls.
//
// AuthNone is the AUTH_NONE flavor. RPCSEC_GSS (RFC 2203) fits this shape:
// its credential carries the sequence number, its verifier is a GSS MIC
// over the header, WrapArgs and UnwrapResults seal and open the bodies,
// and Validate verifies the MIC over the sequence number.
type Auth interface {
	// Begin starts the authentication of one call to procedure proc and
	// returns its state. It is called with the Client's lock held and must
	// not make calls on the same Client; an Auth that needs a round trip
	// first (context creation) does it before the call.
	Begin(proc uint32) (CallAuth, error)
}

// CallAuth authenticates one call. The Client calls its methods in this
// order: Credential, Verifier, WrapArgs; then, once a reply accepted with
// SUCCESS arrives, Validate and UnwrapResults. Replies with any other
// status are returned as errors without calling Validate, as MIT's client
// does. No method is called again after one fails.
type CallAuth interface {
	// Credential returns the call's credential.
	Credential() (OpaqueAuth, error)
	// Verifier returns the call's verifier. header is the encoded call
	// from the xid through the end of the credential, the bytes
	// RPCSEC_GSS computes its MIC over; it must not be retained.
	Verifier(header []byte) (OpaqueAuth, error)
	// WrapArgs returns the call body for the XDR-encoded arguments args
	// (args itself for flavors that do not protect bodies).
	WrapArgs(args []byte) ([]byte, error)
	// Validate checks the verifier of the reply.
	Validate(verf OpaqueAuth) error
	// UnwrapResults returns the XDR-encoded results from the reply body
	// that follows the accept status.
	UnwrapResults(body []byte) ([]byte, error)
}

// AuthNone is the AUTH_NONE flavor: empty credential and verifier,
// unprotected bodies, and any reply verifier accepted.
var AuthNone Auth = authNone{}

type authNone struct{}

func (authNone) Begin(uint32) (CallAuth, error)            { return authNone{}, nil }
func (authNone) Credential() (OpaqueAuth, error)           { return OpaqueAuth{Flavor: FlavorNone}, nil }
func (authNone) Verifier([]byte) (OpaqueAuth, error)       { return OpaqueAuth{Flavor: FlavorNone}, nil }
func (authNone) WrapArgs(args []byte) ([]byte, error)      { return args, nil }
func (authNone) Validate(OpaqueAuth) error                 { return nil }
func (authNone) UnwrapResults(body []byte) ([]byte, error) { return body, nil }
