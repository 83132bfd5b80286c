package krbtest

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// Key describes one keytab entry; the key is derived from Password.
type Key struct {
	Principal krb5.Principal
	KVNO      uint8
	Enctype   krb5.Enctype
	Password  string
}

// Keytab builds an in-memory keytab holding keys.
func Keytab(keys ...Key) (*keytab.Keytab, error) {
	kt := keytab.New()
	for _, k := range keys {
		name := strings.Join(k.Principal.Name.NameString, "/")
		if err := kt.AddEntry(name, k.Principal.Realm, k.Password, time.Now(), k.KVNO, int32(k.Enctype)); err != nil {
			return nil, fmt.Errorf("krbtest: key for %s: %w", k.Principal, err)
		}
		kt.Entries[len(kt.Entries)-1].Principal.NameType = k.Principal.Name.NameType
	}
	return kt, nil
}

// SessionKey returns a random key of the enctype.
func SessionKey(enctype krb5.Enctype) (types.EncryptionKey, error) {
	return kcrypto.RandomKey(int32(enctype), rand.Reader)
}

// Credentials mints a ticket for server, encrypted in server's key of the
// given enctype and kvno from kt, for client, valid from now for lifetime,
// with a session key of the same enctype.
func Credentials(kt *keytab.Keytab, client, server krb5.Principal, enctype krb5.Enctype, kvno int, now time.Time, lifetime time.Duration) (*krbauth.Credentials, error) {
	entry, err := krbauth.FindKey(kt, server, uint32(kvno), enctype)
	if err != nil {
		return nil, fmt.Errorf("krbtest: %w", err)
	}
	sessionKey, err := SessionKey(enctype)
	if err != nil {
		return nil, err
	}
	f := types.NewKrbFlags()
	types.SetFlag(&f, flags.Initial)
	types.SetFlag(&f, flags.PreAuthent)
	now = now.UTC().Truncate(time.Second)
	etp := messages.EncTicketPart{
		Flags:     f,
		Key:       sessionKey,
		CRealm:    client.Realm,
		CName:     client.Name,
		Transited: messages.TransitedEncoding{},
		AuthTime:  now,
		StartTime: now,
		EndTime:   now.Add(lifetime),
		RenewTill: now.Add(lifetime),
	}
	b, err := asn1.Marshal(etp)
	if err != nil {
		return nil, fmt.Errorf("krbtest: encoding ticket: %w", err)
	}
	b = asn1tools.AddASNAppTag(b, asnAppTag.EncTicketPart)
	ed, err := kcrypto.Encrypt(entry.Key, keyusage.KDC_REP_TICKET, b)
	if err != nil {
		return nil, fmt.Errorf("krbtest: encrypting ticket: %w", err)
	}
	ed.KVNO = kvno
	return &krbauth.Credentials{
		Client:     client,
		Server:     server,
		Ticket:     messages.Ticket{TktVNO: iana.PVNO, Realm: server.Realm, SName: server.Name, EncPart: ed},
		SessionKey: sessionKey,
		AuthTime:   now,
		StartTime:  now,
		EndTime:    now.Add(lifetime),
	}, nil
}
