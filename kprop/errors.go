package kprop

import (
	"errors"
	"fmt"

	"github.com/gokprop/gokprop/krbauth"
)

// ErrPrematureEOF is reported when the dump ends before the size announced.
var ErrPrematureEOF = errors.New("Premature EOF found for database file!")

// Step names a step of a propagation, for errors.
type Step int

// The steps of a propagation, in order.
const (
	StepAuthenticate      Step = iota + 1 // the sendauth handshake
	StepEncodeSize                        // building the size KRB-SAFE
	StepSendSize                          // sending it
	StepReadBlock                         // reading a block of the dump (Offset)
	StepEncodeBlock                       // building its KRB-PRIV (Offset)
	StepSendBlock                         // sending it (Offset)
	StepReadResponse                      // reading the replica's acknowledgement
	StepDecodeResponse                    // checking it (a KRB-ERROR from the replica fails here)
	StepMalformedResponse                 // decoding the size it carries
)

// steps holds, for each Step, a short name and MIT kprop's words for it
// (com_err's context text), with %d for the offset where one applies.
var steps = [...]struct{ name, mit string }{
	StepAuthenticate:      {"authenticate", "while authenticating to server"},
	StepEncodeSize:        {"encode size", "while encoding database size"},
	StepSendSize:          {"send size", "while sending database size"},
	StepReadBlock:         {"read block", "while reading database block starting at %d"},
	StepEncodeBlock:       {"encode block", "while encoding database block starting at %d"},
	StepSendBlock:         {"send block", "while sending database block starting at %d"},
	StepReadResponse:      {"read response", "while reading response from server"},
	StepDecodeResponse:    {"decode response", "while decoding final size packet from server"},
	StepMalformedResponse: {"malformed response", "malformed sent database size message"},
}

// String returns a short name of the step ("send block").
func (s Step) String() string {
	if s > 0 && int(s) < len(steps) {
		return steps[s].name
	}
	return fmt.Sprintf("Step(%d)", int(s))
}

// OpError is a failure of one step of a propagation.
type OpError struct {
	Step Step
	// Offset is the dump offset of the block for the block steps.
	Offset int64
	// Err is the cause: a network error, a *krbauth.RemoteError sent by
	// the replica, a krb5.ErrorCode, ErrPrematureEOF, ...
	Err error
}

// Context returns MIT kprop's words for the failed step, as its com_err
// line puts them after the error's text: "while sending database block
// starting at 32768".
func (e *OpError) Context() string {
	if e.Step <= 0 || int(e.Step) >= len(steps) {
		return ""
	}
	s := steps[e.Step].mit
	switch e.Step {
	case StepReadBlock, StepEncodeBlock, StepSendBlock:
		return fmt.Sprintf(s, e.Offset)
	}
	return s
}

// Error returns the text MIT kprop prints for the failure: a KRB-ERROR
// from the replica as MIT reports it, anything else as the cause followed
// by Context.
func (e *OpError) Error() string {
	var re *krbauth.RemoteError
	if errors.As(e.Err, &re) {
		return re.Error()
	}
	return e.Err.Error() + " " + e.Context()
}

// Unwrap returns Err.
func (e *OpError) Unwrap() error { return e.Err }

// SizeMismatchError: the replica acknowledged a size other than the one
// sent.
type SizeMismatchError struct {
	Sent, Acknowledged uint64
}

func (e *SizeMismatchError) Error() string {
	return fmt.Sprintf("Kpropd sent database size %d, expecting %d", e.Acknowledged, e.Sent)
}
