// Package krbtest mints Kerberos material for tests that run without a
// KDC: keytabs from passwords and service tickets encrypted in a keytab's
// key, packaged as the krbauth.Credentials an AS exchange would return.
// It is for tests only; interop tests use real MIT KDCs instead.
package krbtest

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
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

// keyLength is the protocol key size of each enctype (gokrb5 reports 24
// bytes for aes256-cts-hmac-sha384-192, whose keys are 32).
var keyLength = map[int32]int{16: 24, 17: 16, 18: 32, 19: 16, 20: 32, 23: 16}

// SessionKey returns a random key of the enctype.
func SessionKey(enctype int32) (types.EncryptionKey, error) {
	n, ok := keyLength[enctype]
	if !ok {
		return types.EncryptionKey{}, fmt.Errorf("krbtest: no key length for enctype %d", enctype)
	}
	k := types.EncryptionKey{KeyType: enctype, KeyValue: make([]byte, n)}
	_, err := rand.Read(k.KeyValue)
	if enctype == 16 {
		// Fix the DES parity bits, as a random-to-key would.
		for i, b := range k.KeyValue {
			b &^= 1
			p := b ^ b>>4
			p ^= p >> 2
			p ^= p >> 1
			k.KeyValue[i] = b | (^p & 1)
		}
	}
	return k, err
}

// Credentials mints a ticket for server, encrypted in server's key of the
// given enctype and kvno from kt, for client, valid from now for lifetime,
// with a session key of the same enctype.
func Credentials(kt *keytab.Keytab, client, server krbauth.Principal, enctype int32, kvno int, now time.Time, lifetime time.Duration) (*krbauth.Credentials, error) {
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
	ed, err := crypto.GetEncryptedData(b, entry.Key, keyusage.KDC_REP_TICKET, kvno)
	if err != nil {
		return nil, fmt.Errorf("krbtest: encrypting ticket: %w", err)
	}
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
