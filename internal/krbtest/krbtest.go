// Package krbtest mints Kerberos material for tests that run without a
// KDC: keytabs from passwords and service tickets encrypted in a keytab's
// key, packaged as the krbauth.Credentials an AS exchange would return.
// It is for tests only; interop tests use real MIT KDCs instead.
package krbtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krbauth"
)

// Key describes one keytab entry; the key is derived from Password.
type Key struct {
	Principal krbauth.Principal
	KVNO      uint8
	Enctype   int32
	Password  string
}

// Keytab builds an in-memory keytab holding keys.
func Keytab(keys ...Key) (*keytab.Keytab, error) {
	kt := keytab.New()
	for _, k := range keys {
		name := strings.Join(k.Principal.Name.NameString, "/")
		if err := kt.AddEntry(name, k.Principal.Realm, k.Password, time.Now(), k.KVNO, k.Enctype); err != nil {
			return nil, fmt.Errorf("krbtest: key for %s: %w", k.Principal, err)
		}
		kt.Entries[len(kt.Entries)-1].Principal.NameType = k.Principal.Name.NameType
	}
	return kt, nil
}

// Credentials mints a ticket for server, encrypted in server's key of the
// given enctype and kvno from kt, for client, valid from now for lifetime,
// with a session key of the same enctype.
func Credentials(kt *keytab.Keytab, client, server krbauth.Principal, enctype int32, kvno int, now time.Time, lifetime time.Duration) (*krbauth.Credentials, error) {
	f := types.NewKrbFlags()
	types.SetFlag(&f, flags.Initial)
	types.SetFlag(&f, flags.PreAuthent)
	tkt, key, err := messages.NewTicket(client.Name, client.Realm, server.Name, server.Realm, f, kt, enctype, kvno, now, now, now.Add(lifetime), now.Add(lifetime))
	if err != nil {
		return nil, fmt.Errorf("krbtest: minting ticket for %s: %w", server, err)
	}
	return &krbauth.Credentials{
		Client:     client,
		Server:     server,
		Ticket:     tkt,
		SessionKey: key,
		AuthTime:   now,
		StartTime:  now,
		EndTime:    now.Add(lifetime),
	}, nil
}
