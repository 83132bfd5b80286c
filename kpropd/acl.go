package kpropd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gokprop/gokprop/krb5"
)

// Authorizer decides whether an authenticated client may propagate a
// database to this replica. It is asked after mutual authentication and
// before any data is accepted. An error refuses the client; an error that
// wraps ErrNotAuthorized is logged as a refusal rather than a failure.
type Authorizer interface {
	Authorize(ctx context.Context, p *Peer) error
}

// AuthorizerFunc adapts a function to the Authorizer interface.
type AuthorizerFunc func(ctx context.Context, p *Peer) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, p *Peer) error { return f(ctx, p) }

// ACLFile is the Authorizer of MIT kpropd (what cmd/kpropd uses): the path
// of a kpropd.acl file, read on every connection as MIT kpropd does, so
// edits apply without a restart. A missing or unreadable file authorizes
// nobody.
type ACLFile string

// Authorize reads the file and checks the client against it, as
// ACL.Authorize does.
func (p ACLFile) Authorize(ctx context.Context, peer *Peer) error {
	f, err := os.Open(string(p))
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrNotAuthorized, peer.Client, err)
	}
	defer f.Close()
	a, err := ParseACL(f)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrNotAuthorized, peer.Client, err)
	}
	return a.Authorize(ctx, peer)
}

// ACL is a parsed kpropd.acl: one principal per line, optionally followed
// by whitespace and an enctype name that the client's ticket must use
// (Peer.TicketEnctype).
type ACL struct {
	lines []string
}

// ParseACL reads a kpropd.acl.
func ParseACL(r io.Reader) (*ACL, error) {
	var a ACL
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		a.lines = append(a.lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return &a, nil
}

// Authorize checks the client against the parsed lines. It refuses every
// client once ctx has ended.
func (a *ACL) Authorize(ctx context.Context, p *Peer) error {
	name := p.Client.String()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for _, line := range a.lines {
		if aclLineMatches(line, name, p.TicketEnctype) {
			return nil
		}
	}
	return fmt.Errorf("%w %s", ErrNotAuthorized, name)
}

// aclLineMatches applies MIT kpropd's rule (kpropd.c authorized_principal):
// the line starts with the unparsed principal, which is followed by the
// end of the line or whitespace; whatever follows the whitespace, if
// anything, must be an enctype name equal to the ticket's enctype. There
// are no comments: a line that does not match is simply skipped.
func aclLineMatches(line, name string, ticketEnctype krb5.Enctype) bool {
	rest, ok := strings.CutPrefix(line, name)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	if !isCSpace(rest[0]) {
		return false
	}
	rest = strings.TrimLeftFunc(rest, func(r rune) bool { return r < 0x80 && isCSpace(byte(r)) })
	if rest == "" {
		return true
	}
	// MIT passes the rest of the line, trailing blanks included, to
	// krb5_string_to_enctype, which knows names and aliases only.
	id, ok := krb5.ParseEnctype(rest)
	return ok && id == ticketEnctype
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}
