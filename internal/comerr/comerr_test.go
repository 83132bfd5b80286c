package comerr

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

func TestMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&net.OpError{Op: "dial", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, "Connection refused"},
		{fmt.Errorf("x: %w", syscall.EPIPE), "Broken pipe"},
		{&os.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}, "No such file or directory"},
		{fmt.Errorf("read: %w", krbauth.ErrConnAborted), "Software caused connection abort"},
		{fmt.Errorf("seal: %w", krb5.ErrBadIntegrity), "Decrypt integrity check failed"},
		{&krbauth.RemoteError{Code: krb5.ErrGeneric, Text: "boom"}, "Generic remote error: boom"},
		{context.DeadlineExceeded, "Connection timed out"},
	}
	for _, tt := range tests {
		if got := Message(tt.err); got != tt.want {
			t.Errorf("Message(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestPrint(t *testing.T) {
	var b bytes.Buffer
	Print(&b, "kprop", syscall.ECONNREFUSED, "while connecting to server")
	Print(&b, "kprop", nil, "database locked")
	want := "kprop: Connection refused while connecting to server\nkprop: database locked\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
