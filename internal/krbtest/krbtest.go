package krbtest

import (
	"crypto/rand"
	"encoding/binary"
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
)

// Key describes one keytab entry; the key is derived from Password.
type Key struct {
	Principal krb5.Principal
	KVNO      uint8
	Enctype   krb5.Enctype
	Password  string
}

// Keytab builds an in-memory keytab holding keys, each derived from its
// password with the enctype table's string-to-key and the principal's
// normal salt (the realm followed by the name components), as kadmin and
// ktutil derive them.
func Keytab(keys ...Key) (*keytab.Keytab, error) {
	var entries []Entry
	for _, k := range keys {
		spec := kcrypto.Lookup(int32(k.Enctype))
		if spec == nil {
			return nil, fmt.Errorf("krbtest: key for %s: unknown enctype %d", k.Principal, int32(k.Enctype))
		}
		key, err := spec.StringToKey(k.Password, k.Principal.Realm+strings.Join(k.Principal.Name.NameString, ""))
		if err != nil {
			return nil, fmt.Errorf("krbtest: key for %s: %w", k.Principal, err)
		}
		entries = append(entries, Entry{Principal: k.Principal, KVNO: uint32(k.KVNO), Key: key})
	}
	return KeytabOf(entries...)
}

// Entry is one keytab entry with its key given.
type Entry struct {
	Principal krb5.Principal
	KVNO      uint32
	Key       types.EncryptionKey
}

// KeytabOf builds a keytab holding entries, encoded in MIT's v2 file
// format and parsed back, so that gokrb5 reads it exactly as it reads a
// real file (the 8-bit kvno field holds the low byte, the 32-bit one the
// whole kvno).
func KeytabOf(entries ...Entry) (*keytab.Keytab, error) {
	b := []byte{5, 2}
	str := func(buf []byte, s string) []byte {
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(s)))
		return append(buf, s...)
	}
	for _, e := range entries {
		var rec []byte
		rec = binary.BigEndian.AppendUint16(rec, uint16(len(e.Principal.Name.NameString)))
		rec = str(rec, e.Principal.Realm)
		for _, c := range e.Principal.Name.NameString {
			rec = str(rec, c)
		}
		rec = binary.BigEndian.AppendUint32(rec, uint32(e.Principal.Name.NameType))
		rec = binary.BigEndian.AppendUint32(rec, uint32(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()))
		rec = append(rec, byte(e.KVNO))
		rec = binary.BigEndian.AppendUint16(rec, uint16(e.Key.KeyType))
		rec = str(rec, string(e.Key.KeyValue))
		rec = binary.BigEndian.AppendUint32(rec, e.KVNO)
		b = binary.BigEndian.AppendUint32(b, uint32(len(rec)))
		b = append(b, rec...)
	}
	kt := keytab.New()
	if err := kt.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("krbtest: keytab: %w", err)
	}
	return kt, nil
}

// SessionKey returns a random key of the enctype.
func SessionKey(enctype krb5.Enctype) (types.EncryptionKey, error) {
	return kcrypto.RandomKey(int32(enctype), rand.Reader)
}

// Ticket describes a ticket for Mint: what a KDC would put in it.
type Ticket struct {
	Client     krb5.Principal
	Server     krb5.Principal      // sname and realm written in the ticket
	ServiceKey types.EncryptionKey // the key the ticket is encrypted in
	KVNO       int                 // enc-part kvno; 0 omits it
	SessionKey types.EncryptionKey
	// Zero AuthTime means an hour ago, zero EndTime nine hours from now;
	// a zero StartTime or RenewTill is left out of the ticket.
	AuthTime, StartTime, EndTime, RenewTill time.Time
	// Invalid sets the INVALID flag.
	Invalid bool
}

func (t Ticket) withDefaults() Ticket {
	now := time.Now().UTC().Truncate(time.Second)
	if t.AuthTime.IsZero() {
		t.AuthTime = now.Add(-time.Hour)
	}
	if t.EndTime.IsZero() {
		t.EndTime = now.Add(9 * time.Hour)
	}
	return t
}

// Mint plays the KDC: it builds the EncTicketPart (flags initial and
// pre-authent), encrypts it in the service key under key usage 2 and
// wraps it in a Ticket.
func (t Ticket) Mint() (messages.Ticket, error) {
	t = t.withDefaults()
	fl := types.NewKrbFlags()
	types.SetFlag(&fl, flags.Initial)
	types.SetFlag(&fl, flags.PreAuthent)
	if t.Invalid {
		types.SetFlag(&fl, flags.Invalid)
	}
	etp := messages.EncTicketPart{
		Flags:     fl,
		Key:       t.SessionKey,
		CRealm:    t.Client.Realm,
		CName:     t.Client.Name,
		Transited: messages.TransitedEncoding{TRType: 1, Contents: []byte{}},
		AuthTime:  t.AuthTime.UTC(),
		StartTime: t.StartTime.UTC(),
		EndTime:   t.EndTime.UTC(),
		RenewTill: t.RenewTill.UTC(),
	}
	if t.StartTime.IsZero() {
		etp.StartTime = time.Time{}
	}
	if t.RenewTill.IsZero() {
		etp.RenewTill = time.Time{}
	}
	b, err := asn1.Marshal(etp)
	if err != nil {
		return messages.Ticket{}, fmt.Errorf("krbtest: encoding ticket: %w", err)
	}
	b = asn1tools.AddASNAppTag(b, asnAppTag.EncTicketPart)
	ed, err := kcrypto.Encrypt(t.ServiceKey, keyusage.KDC_REP_TICKET, b)
	if err != nil {
		return messages.Ticket{}, fmt.Errorf("krbtest: encrypting ticket: %w", err)
	}
	ed.KVNO = t.KVNO
	return messages.Ticket{TktVNO: iana.PVNO, Realm: t.Server.Realm, SName: t.Server.Name, EncPart: ed}, nil
}

// credentials is the shape of krbauth.Credentials, the type the
// Credentials functions return: a type parameter, so that this package
// need not import krbauth, whose own tests use it.
type credentials interface {
	~struct {
		Client     krb5.Principal
		Server     krb5.Principal
		Ticket     messages.Ticket
		SessionKey types.EncryptionKey
		AuthTime   time.Time
		StartTime  time.Time
		EndTime    time.Time
	}
}

// CredentialsOf mints t and returns it with its session key and times as
// the C an AS exchange would return; C is krbauth.Credentials.
func CredentialsOf[C credentials](t Ticket) (*C, error) {
	t = t.withDefaults()
	tkt, err := t.Mint()
	if err != nil {
		return nil, err
	}
	c := C{
		Client:     t.Client,
		Server:     t.Server,
		Ticket:     tkt,
		SessionKey: t.SessionKey,
		AuthTime:   t.AuthTime,
		StartTime:  t.StartTime,
		EndTime:    t.EndTime,
	}
	return &c, nil
}

// Credentials mints a ticket for server, encrypted in server's key of the
// given enctype and kvno from kt, for client, valid from now for lifetime,
// with a fresh session key of the same enctype. C is krbauth.Credentials:
//
//	creds, err := krbtest.Credentials[krbauth.Credentials](kt, client, server, enctype, 1, time.Now(), time.Hour)
func Credentials[C credentials](kt *keytab.Keytab, client, server krb5.Principal, enctype krb5.Enctype, kvno int, now time.Time, lifetime time.Duration) (*C, error) {
	var svc *types.EncryptionKey
	for i := range kt.Entries {
		e := &kt.Entries[i]
		p := krb5.Principal{Name: types.PrincipalName{NameString: e.Principal.Components}, Realm: e.Principal.Realm}
		if p.Equal(server) && int(e.KVNO) == kvno && e.Key.KeyType == int32(enctype) {
			svc = &e.Key
			break
		}
	}
	if svc == nil {
		return nil, fmt.Errorf("krbtest: no %s key of kvno %d for %s in the keytab", enctype, kvno, server)
	}
	sessionKey, err := SessionKey(enctype)
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Second)
	return CredentialsOf[C](Ticket{
		Client: client, Server: server, ServiceKey: *svc, KVNO: kvno, SessionKey: sessionKey,
		AuthTime: now, StartTime: now, EndTime: now.Add(lifetime), RenewTill: now.Add(lifetime),
	})
}
