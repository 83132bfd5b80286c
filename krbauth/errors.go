package krbauth

import (
	"errors"
	"strings"

	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
)

// Errors that have no protocol code of their own. When one of them must be
// reported to a peer it travels as krb5.ErrGeneric with its text.
var (
	// ErrBadAuthVersion: the peer rejected (or sent) a sendauth version other than KRB5_SENDAUTH_V1.0.
	ErrBadAuthVersion error = &liberr.Error{Text: "Bad sendauth version was sent"}
	// ErrBadApplVersion: the application version string (kprop5_01) did not match.
	ErrBadApplVersion error = &liberr.Error{Text: "Bad application version was sent (via sendauth)"}
	// ErrBadResponse: the sendauth answer byte was neither 0, 1 nor 2.
	ErrBadResponse error = &liberr.Error{Text: "Bad response (during sendauth exchange)"}
	// ErrMessageTooLarge: a frame announced a length above the configured maximum.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrConnAborted: the connection ended in the middle of a frame (MIT's ECONNABORTED).
	ErrConnAborted = errors.New("Software caused connection abort")
)

// CodeOf returns the protocol error code to report to a peer for err: the
// first krb5.ErrorCode in err's chain, or krb5.ErrGeneric when there is none.
func CodeOf(err error) krb5.ErrorCode {
	var c krb5.ErrorCode
	if errors.As(err, &c) {
		return c
	}
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	return krb5.ErrGeneric
}

// RemoteError is a KRB-ERROR received from the peer. Code and Text are the
// error-code and e-text (without MIT's trailing NUL).
type RemoteError struct {
	Code krb5.ErrorCode
	Text string
}

// Error formats the remote error the way MIT kprop reports it:
// "Generic remote error: TEXT" for code 60, otherwise the code's message
// followed by the server's text.
func (e *RemoteError) Error() string {
	if e.Code == krb5.ErrGeneric {
		return "Generic remote error: " + e.Text
	}
	if e.Text == "" {
		return e.Code.Error()
	}
	return e.Code.Error() + "\nError text from server: " + e.Text
}

// trimNUL removes the trailing NUL MIT puts in e-text and version strings.
func trimNUL(s string) string { return strings.TrimSuffix(s, "\x00") }
