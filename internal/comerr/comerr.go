package comerr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
	"github.com/gokprop/gokprop/krbkdc"
)

// Message returns the text MIT's error_message() gives for the cause of
// err: for a system error the C library's strerror text (Go's with the
// first letter in upper case, as glibc writes them), for a Kerberos code
// MIT's table entry, otherwise err's own text.
func Message(err error) string {
	if err == nil {
		return ""
	}
	if msg, ok := kerberosMessage(err); ok {
		return msg
	}
	if errors.Is(err, krbauth.ErrConnAborted) {
		return krbauth.ErrConnAborted.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return capitalize(syscall.ETIMEDOUT.Error())
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return capitalize(errno.Error())
	}
	return err.Error()
}

// Line formats one com_err line without its newline: whoami, then the
// message of err (if any), then the context text.
func Line(whoami string, err error, context string) string {
	s := ""
	if whoami != "" {
		s = whoami + ": "
	}
	if err != nil {
		s += Message(err) + " "
	}
	return s + context
}

// Print writes one com_err line to w. Debian's MIT uses e2fsprogs'
// com_err, which ends lines with a plain newline.
func Print(w io.Writer, whoami string, err error, format string, args ...any) {
	fmt.Fprintln(w, Line(whoami, err, fmt.Sprintf(format, args...)))
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// kerberosMessage returns the text an MIT program prints for the cause of err: for
// an MIT library error its error_message() text, for a KRB-ERROR received
// from a KDC or peer MIT's text for it, for a protocol code MIT's table
// entry. ok is false when err carries none of these.
func kerberosMessage(err error) (msg string, ok bool) {
	for e := err; e != nil; {
		switch v := e.(type) {
		case *liberr.Error:
			return v.Text, true
		case *krbkdc.KDCError:
			return v.Error(), true
		case *krbauth.RemoteError:
			return v.Error(), true
		case krb5.ErrorCode:
			return v.Error(), true
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				if m, ok := kerberosMessage(x); ok {
					return m, true
				}
			}
			return "", false
		default:
			return "", false
		}
	}
	return "", false
}
