package kpropd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/filelock"
	"github.com/gokprop/gokprop/internal/wire"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// ErrBusy is matched (errors.Is) by the error of a transfer that waited
// for its turn, while another transfer to the same server was receiving or
// loading, until its Timeout ran out.
var ErrBusy = errors.New("another propagation is in progress")

// busyError is a transfer that gave up waiting for its turn.
type busyError struct{ waited time.Duration }

func (e *busyError) Error() string {
	return fmt.Sprintf("Busy: %v (waited %v for it to finish)", ErrBusy, e.waited)
}

func (e *busyError) Unwrap() error { return ErrBusy }

// ErrNotAuthorized is the cause of every authorization refusal; its text
// completes MIT's log line "Rejected connection from unauthorized
// principal NAME".
var ErrNotAuthorized = errors.New("unauthorized principal")

// TooMuchDataError: the client sent more bytes than it announced.
type TooMuchDataError struct{ Received, Expected uint64 }

func (e *TooMuchDataError) Error() string {
	return fmt.Sprintf("Received %d bytes, expected %d bytes for database file", e.Received, e.Expected)
}

// Step names a step of a transfer, for errors.
type Step int

// The steps of a transfer, in order.
const (
	StepReadKeytab    Step = iota + 1 // Auth.GetKeytab
	StepAuthenticate                  // the recvauth handshake
	StepAuthorize                     // the Authorizer
	StepLock                          // locking File.temp (also: another transfer is running)
	StepOpen                          // opening and truncating File.temp
	StepReadSize                      // reading the size KRB-SAFE
	StepDecodeSize                    // checking it
	StepMalformedSize                 // decoding the size it carries
	StepReadBlock                     // reading a KRB-PRIV (Offset)
	StepDecodeBlock                   // checking and decrypting it (Offset)
	StepTooMuchData                   // more data than announced
	StepWriteBlock                    // writing its data to File.temp (Offset)
	StepSync                          // flushing File.temp to stable storage
	StepVerify                        // the Verifier
	StepRename                        // renaming File.temp over File
	StepDowngradeLock                 // sharing the lock for the load
	StepLoad                          // the Loader
	StepEncodeAck                     // building the acknowledgement
	StepSendAck                       // sending it
)

// steps holds, for each Step, a short name and MIT kpropd's words for it
// (com_err's context text): %d stands for the offset, %[1]s for
// File.temp and %[2]s for File.
//
// peer is what the client is told instead, for the steps whose words name
// a local file: the same words without the file.
var steps = [...]struct{ name, mit, peer string }{
	StepReadKeytab:    {"read keytab", "while reading keytab", ""},
	StepAuthenticate:  {"authenticate", "in krb5_recvauth", ""},
	StepAuthorize:     {"authorize", "", ""},
	StepLock:          {"lock", "while trying to lock '%[1]s'", "while trying to lock the database file"},
	StepOpen:          {"open", "while opening database file, '%[1]s'", "while opening the database file"},
	StepReadSize:      {"read size", "while reading database size", ""},
	StepDecodeSize:    {"decode size", "while decoding database size", ""},
	StepMalformedSize: {"malformed size", "", ""},
	StepReadBlock:     {"read block", "while reading database block starting at offset %d", ""},
	StepDecodeBlock:   {"decode block", "while decoding database block starting at offset %d", ""},
	StepTooMuchData:   {"too much data", "", ""},
	StepWriteBlock:    {"write block", "while writing database block starting at offset %d", ""},
	StepSync:          {"sync", "while writing database file '%[1]s'", "while writing the database file"},
	StepVerify:        {"verify", "while verifying the received database", ""},
	StepRename:        {"rename", "while renaming %[1]s to %[2]s", "while renaming the received database into place"},
	StepDowngradeLock: {"downgrade lock", "while downgrading lock on '%[1]s'", "while downgrading the lock on the database file"},
	StepLoad:          {"load", "while loading the database", ""},
	StepEncodeAck:     {"encode ack", "while encoding # of received bytes", ""},
	StepSendAck:       {"send ack", "while sending # of received bytes", ""},
}

// String returns a short name of the step ("decode block").
func (s Step) String() string {
	if s > 0 && int(s) < len(steps) {
		return steps[s].name
	}
	return fmt.Sprintf("Step(%d)", int(s))
}

// TransferError is a failed transfer: the step that failed and the cause.
type TransferError struct {
	Step Step
	// Offset is the dump offset of the block for the block steps.
	Offset int64
	// File is the server's dump file (Server.File) for the steps on files;
	// the temporary file is File+".temp".
	File string
	// Err is the cause.
	Err error
}

// Context returns MIT kpropd's words for the failed step, as its com_err
// line puts them after the error's text ("while decoding database block
// starting at offset 32768"), or "" for the steps MIT reports with the
// error alone.
func (e *TransferError) Context() string {
	if e.Step <= 0 || int(e.Step) >= len(steps) {
		return ""
	}
	s := steps[e.Step].mit
	switch e.Step {
	case StepReadBlock, StepDecodeBlock, StepWriteBlock:
		return fmt.Sprintf(s, e.Offset)
	case StepLock, StepOpen, StepSync, StepRename, StepDowngradeLock:
		return fmt.Sprintf(s, e.File+".temp", e.File)
	}
	return s
}

// Error returns the text MIT kpropd logs for the failure: the cause
// followed by Context, or for a refused client "Rejected connection from"
// and the Authorizer's reason.
func (e *TransferError) Error() string {
	if e.Step == StepAuthorize {
		return "Rejected connection from " + e.Err.Error()
	}
	if c := e.Context(); c != "" {
		return e.Err.Error() + " " + c
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *TransferError) Unwrap() error { return e.Err }

// peerText is the e-text of the KRB-ERROR that tells the client why its
// transfer failed: MIT's words for the step (without local file names)
// after a short reason, as MIT kpropd's send_error puts them. A protocol
// code (a checksum that failed, say) carries the reason itself, so only
// the step is sent, as MIT does. The reason never holds a local path, a
// loader's output or an error's chain: those are logged, not sent.
func peerText(err error, p *Peer) string {
	var te *TransferError
	if !errors.As(err, &te) {
		return peerReason(err, 0)
	}
	if te.Step == StepAuthorize {
		return "Rejected connection from " + ErrNotAuthorized.Error() + " " + p.Client.String()
	}
	ctx := te.peerContext()
	if krbauth.CodeOf(err) != krb5.ErrGeneric {
		return ctx
	}
	r := peerReason(te.Err, te.Step)
	var be *busyError
	if ctx == "" || errors.As(err, &be) {
		return r
	}
	return r + " " + ctx
}

// peerReason is the short reason sent for the cause of a failed step.
func peerReason(err error, step Step) string {
	var be *busyError
	var tm *TooMuchDataError
	var le *LoadError
	var errno syscall.Errno
	var pe *dumpfmt.ParseError
	switch {
	case step == StepVerify && errors.As(err, &pe):
		// The line and field that are wrong, under the file's base
		// name: what the sender needs to find the problem.
		return pe.Error()
	case errors.As(err, &be):
		return be.Error()
	case errors.Is(err, filelock.ErrLocked):
		// What MIT's krb5_lock_file reports (EAGAIN).
		return capitalize(syscall.EAGAIN.Error())
	case errors.As(err, &tm):
		return tm.Error()
	case errors.As(err, &errno):
		// MIT's error_message() of an errno is strerror's text.
		return capitalize(errno.Error())
	case errors.Is(err, krbauth.ErrConnAborted):
		return krbauth.ErrConnAborted.Error()
	case errors.Is(err, krbauth.ErrMessageTooLarge):
		return capitalize(krbauth.ErrMessageTooLarge.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return capitalize(syscall.ETIMEDOUT.Error())
	case errors.As(err, &le), step == StepLoad:
		return "Load failed"
	case step == StepVerify:
		return "Invalid database dump"
	case errors.Is(err, wire.ErrMalformedSize):
		return err.Error()
	}
	return "Internal error"
}

// peerContext is Context without local file names.
func (e *TransferError) peerContext() string {
	if e.Step <= 0 || int(e.Step) >= len(steps) {
		return ""
	}
	if p := steps[e.Step].peer; p != "" {
		return p
	}
	if steps[e.Step].mit != "" && (e.Step == StepReadBlock || e.Step == StepDecodeBlock || e.Step == StepWriteBlock) {
		return fmt.Sprintf(steps[e.Step].mit, e.Offset)
	}
	return steps[e.Step].mit
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
