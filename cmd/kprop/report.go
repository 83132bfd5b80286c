package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/gokprop/gokprop/internal/comerr"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// stage is where a replica's propagation failed, which decides MIT's
// words for it.
type stage int

const (
	stageServerPrincipal stage = iota + 1 // canonicalizing host/REPLICA
	stageCredentials                      // the AS exchange
	stagePropagate                        // connecting, or the propagation itself
)

// failure is a replica's failure, for a reporter.
type failure struct {
	stage stage
	err   error
}

// mitText is what MIT kprop prints on standard error for the failure of
// a propagation to host (its lines, each ending in a newline).
func mitText(prog, host string, f failure) string {
	var b bytes.Buffer
	switch f.stage {
	case stageServerPrincipal:
		comerr.Print(&b, prog, f.err, "while setting server principal name")
	case stageCredentials:
		comerr.Print(&b, prog, f.err, "while getting initial credentials\n")
	default:
		writePropagateError(&b, prog, host, f.err)
	}
	return b.String()
}

// writePropagateError words a failed connection or propagation as MIT
// kprop does: a resolution failure as "HOST: gai text", a connection
// failure as "MESSAGE while connecting to server", a KRB-ERROR from the
// replica as "Generic remote error: TEXT" or as the code's message
// "signalled from server" with the server's text, anything else as
// "MESSAGE while STEP".
func writePropagateError(w io.Writer, prog, host string, err error) {
	var ce *kprop.ConnectError
	if errors.As(err, &ce) {
		var dnsErr *net.DNSError
		if errors.As(ce.Err, &dnsErr) {
			comerr.Print(w, prog, nil, "%s: %s", host, gaiText(dnsErr))
			return
		}
		comerr.Print(w, prog, ce.Err, "while connecting to server")
		return
	}
	if errors.Is(err, kprop.ErrStalled) {
		var op *kprop.OpError
		ctx := "while sending database"
		if errors.As(err, &op) {
			ctx = op.Context()
		}
		comerr.Print(w, prog, nil, "Replica took no data for too long %s", ctx)
		return
	}
	var re *krbauth.RemoteError
	if errors.As(err, &re) {
		var op *kprop.OpError
		if errors.As(err, &op) && op.Step == kprop.StepAuthenticate {
			comerr.Print(w, prog, krbauth.ErrSendauthRejected, "%s", op.Context())
		}
		if re.Code == krb5.ErrGeneric {
			fmt.Fprintf(w, "Generic remote error: %s\n", re.Text)
		} else {
			comerr.Print(w, prog, re.Code, "signalled from server")
			if re.Text != "" {
				fmt.Fprintf(w, "Error text from server: %s\n", re.Text)
			}
		}
		return
	}
	var sm *kprop.SizeMismatchError
	if errors.As(err, &sm) {
		comerr.Print(w, prog, nil, "%s", sm.Error())
		return
	}
	var op *kprop.OpError
	if errors.As(err, &op) {
		if errors.Is(op.Err, kprop.ErrPrematureEOF) {
			comerr.Print(w, prog, nil, "%s", kprop.ErrPrematureEOF.Error())
			return
		}
		comerr.Print(w, prog, op.Err, "%s", op.Context())
		return
	}
	comerr.Print(w, prog, err, "")
}

// stepName names where a replica's propagation failed, for a log
// record: "server principal", "credentials", "connect", "stalled" or the
// kprop.Step ("authenticate", "send block", ...).
func stepName(f failure) string {
	switch f.stage {
	case stageServerPrincipal:
		return "server principal"
	case stageCredentials:
		return "credentials"
	}
	var ce *kprop.ConnectError
	var op *kprop.OpError
	var sm *kprop.SizeMismatchError
	switch {
	case errors.As(f.err, &ce):
		return "connect"
	case errors.Is(f.err, kprop.ErrStalled):
		return "stalled"
	case errors.As(f.err, &op):
		return op.Step.String()
	case errors.As(f.err, &sm):
		return "size mismatch"
	}
	return "other"
}

// dumpErrorText words a failure to open the dump as MIT kprop does.
func dumpErrorText(err error) string {
	if errors.Is(err, kprop.ErrDatabaseLocked) {
		return "database locked"
	}
	var stale *kprop.StaleDumpError
	if errors.As(err, &stale) {
		return err.Error()
	}
	return capitalizeErr(err)
}

// prefixLines puts prefix before every non-empty line of s.
func prefixLines(prefix, s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" && line != "\n" {
			b.WriteString(prefix)
		}
		b.WriteString(line)
	}
	return b.String()
}

// gaiText words a resolution failure as glibc's gai_strerror does.
func gaiText(e *net.DNSError) string {
	switch {
	case e.Err == "Servname not supported for ai_socktype":
		return e.Err
	case e.IsNotFound:
		return "Name or service not known"
	case e.IsTemporary:
		return "Temporary failure in name resolution"
	}
	return e.Err
}

// capitalizeErr gives an error text the capital initial of glibc's
// strerror, which MIT's messages start with.
func capitalizeErr(err error) string {
	s := err.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
