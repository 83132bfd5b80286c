package kpropd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/krb5"
)

// FuzzACL: any kpropd.acl parses, and authorizing against it never
// panics; a line that is exactly the client's name authorizes it.
func FuzzACL(f *testing.F) {
	f.Add("host/primary.test@R\n", "host/primary.test@R")
	f.Add("host/primary.test@R aes256-cts-hmac-sha1-96\nhost/x@R\t\n", "host/x@R")
	f.Add("host/primary.test@RX\n\x00\xff\n", "host/primary.test@R")
	f.Fuzz(func(t *testing.T, acl, name string) {
		p, err := krb5.ParsePrincipal(name, "R")
		if err != nil {
			return
		}
		a, err := ParseACL(strings.NewReader(acl))
		if err != nil {
			return
		}
		peer := &Peer{Client: p, TicketEnctype: krb5.EnctypeAES256CTSSHA1}
		_ = a.Authorize(context.Background(), peer)
		withLine := append([]byte(acl), '\n')
		withLine = append(withLine, p.String()...)
		a, err = ParseACL(bytes.NewReader(withLine))
		if err != nil {
			return // a line longer than bufio's limit
		}
		if err := a.Authorize(context.Background(), peer); err != nil && !strings.ContainsAny(p.String(), "\n\r") {
			t.Fatalf("ACL with the line %q refuses %s: %v", p.String(), p, err)
		}
	})
}
