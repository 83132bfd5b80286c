package kpropd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/krb5"
)

func TestACLMatching(t *testing.T) {
	client := krb5.HostPrincipal("host", "kdc1.example.com", "EXAMPLE.COM")
	acl := strings.Join([]string{
		"host/kdc1.example.com@EXAMPLE.COM.extra",            // longer name: partial match only
		"# host/kdc1.example.com@EXAMPLE.COM",                // no comments in MIT's format, and no match
		" host/kdc1.example.com@EXAMPLE.COM",                 // leading blank: no match
		"host/kdc1.example.com@EXAMPLE.COM\tcamellia128-cts", // enctype column, other enctype
	}, "\n")
	tests := []struct {
		extra   string
		etype   krb5.Enctype
		allowed bool
	}{
		{"", 18, false},
		{"\nhost/kdc1.example.com@EXAMPLE.COM", 18, true},
		{"\nhost/kdc1.example.com@EXAMPLE.COM   ", 18, true},
		{"\nhost/kdc1.example.com@EXAMPLE.COM\r", 18, true},
		{"\nhost/kdc1.example.com@EXAMPLE.COM aes256-cts-hmac-sha1-96", 18, true},
		{"\nhost/kdc1.example.com@EXAMPLE.COM aes256-cts", 18, true},
		{"\nhost/kdc1.example.com@EXAMPLE.COM aes256-cts", 17, false},
		{"\nhost/kdc1.example.com@EXAMPLE.COM 18", 18, false},
		{"\nhost/kdc1.example.com@EXAMPLE.COM aes256-cts ", 18, false}, // MIT fails to parse a trailing blank
		{"\nhost/kdc1.example.com@EXAMPLE.COM bogus", 18, false},
		{"\nhost/kdc1.example.com@EXAMPLE.COM camellia128-cts", 25, true},
	}
	for _, tt := range tests {
		a, err := ParseACL(strings.NewReader(acl + tt.extra))
		if err != nil {
			t.Fatal(err)
		}
		err = a.Authorize(context.Background(), &Peer{Client: client, TicketEnctype: tt.etype})
		if (err == nil) != tt.allowed {
			t.Errorf("extra line %q etype %d: err = %v, want allowed %v", tt.extra, tt.etype, err, tt.allowed)
		}
		if err != nil && !errors.Is(err, ErrNotAuthorized) {
			t.Errorf("refusal does not wrap ErrNotAuthorized: %v", err)
		}
	}
}

func TestACLFileReadEachTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kpropd.acl")
	client := krb5.HostPrincipal("host", "a", "R")
	f := ACLFile(path)
	if err := f.Authorize(context.Background(), &Peer{Client: client, TicketEnctype: 18}); err == nil {
		t.Fatal("missing ACL file authorized a client")
	}
	if err := os.WriteFile(path, []byte("host/a@R\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Authorize(context.Background(), &Peer{Client: client, TicketEnctype: 18}); err != nil {
		t.Fatalf("after adding the client: %v", err)
	}
	if err := os.WriteFile(path, []byte("host/b@R\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Authorize(context.Background(), &Peer{Client: client, TicketEnctype: 18}); err == nil {
		t.Fatal("edit of the ACL not honoured")
	}
}

// An ended context refuses even a listed client: the ACL honours it.
func TestACLHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kpropd.acl")
	if err := os.WriteFile(path, []byte("host/a@R\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	peer := &Peer{Client: krb5.HostPrincipal("host", "a", "R"), TicketEnctype: 18}
	acl, err := ParseACL(strings.NewReader("host/a@R\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, a := range map[string]Authorizer{"ACL": acl, "ACLFile": ACLFile(path)} {
		if err := a.Authorize(context.Background(), peer); err != nil {
			t.Errorf("%s: listed client refused: %v", name, err)
		}
		if err := a.Authorize(ctx, peer); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", name, err)
		}
	}
}
