package krbauth

import (
	"crypto/rand"
	"encoding/binary"
	"testing"
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

// Test helpers that play the KDC: random keys, keytabs built from them,
// and tickets encrypted with a service key, so that handshakes can run
// without a real KDC.

// hsEnctypes are the enctypes the handshake supports, in the order tests
// walk them.
var hsEnctypes = []krb5.Enctype{
	krb5.EnctypeAES128CTSSHA1, krb5.EnctypeAES256CTSSHA1,
	krb5.EnctypeAES128CTSSHA256, krb5.EnctypeAES256CTSSHA384,
	krb5.EnctypeDES3CBCSHA1, krb5.EnctypeRC4HMAC,
}

const hsRealm = "EXAMPLE.ORG"

var (
	hsClientPrinc  = krb5.HostPrincipal("host", "primary.example.org", hsRealm)
	hsServerPrinc  = krb5.HostPrincipal("host", "replica.example.org", hsRealm)
	hsAltHostPrinc = krb5.HostPrincipal("host", "replica-alias.example.org", hsRealm)
)

// hsRandomKey returns a fresh random key of the enctype.
func hsRandomKey(t testing.TB, etype krb5.Enctype) types.EncryptionKey {
	t.Helper()
	k, err := kcrypto.RandomKey(int32(etype), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// hsKTEntry is one keytab entry for hsKeytab.
type hsKTEntry struct {
	princ krb5.Principal
	kvno  uint32
	key   types.EncryptionKey
}

// hsKeytab builds a keytab in MIT's v2 file format (so that gokrb5 parses
// it exactly as it parses a real file) holding the given entries.
func hsKeytab(t testing.TB, entries ...hsKTEntry) *keytab.Keytab {
	t.Helper()
	b := []byte{5, 2}
	str := func(buf []byte, s string) []byte {
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(s)))
		return append(buf, s...)
	}
	for _, e := range entries {
		var rec []byte
		rec = binary.BigEndian.AppendUint16(rec, uint16(len(e.princ.Name.NameString)))
		rec = str(rec, e.princ.Realm)
		for _, c := range e.princ.Name.NameString {
			rec = str(rec, c)
		}
		rec = binary.BigEndian.AppendUint32(rec, uint32(e.princ.Name.NameType))
		rec = binary.BigEndian.AppendUint32(rec, uint32(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()))
		rec = append(rec, byte(e.kvno))
		rec = binary.BigEndian.AppendUint16(rec, uint16(e.key.KeyType))
		rec = str(rec, string(e.key.KeyValue))
		rec = binary.BigEndian.AppendUint32(rec, e.kvno)
		b = binary.BigEndian.AppendUint32(b, uint32(len(rec)))
		b = append(b, rec...)
	}
	kt := keytab.New()
	if err := kt.Unmarshal(b); err != nil {
		t.Fatalf("keytab: %v", err)
	}
	return kt
}

// hsTicketSpec describes a ticket for hsMintTicket. Zero times mean
// "issued an hour ago, valid for nine more hours".
type hsTicketSpec struct {
	client     krb5.Principal
	server     krb5.Principal // sname/realm written in the ticket
	serviceKey types.EncryptionKey
	kvno       int // enc-part kvno; 0 omits it
	sessionKey types.EncryptionKey
	authTime   time.Time
	startTime  time.Time
	endTime    time.Time
	invalid    bool // set the INVALID flag
}

// hsMintTicket plays the KDC: it builds an EncTicketPart, encrypts it
// with the service key under usage 2 and wraps it in a Ticket.
func hsMintTicket(t testing.TB, s hsTicketSpec) messages.Ticket {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	if s.authTime.IsZero() {
		s.authTime = now.Add(-time.Hour)
	}
	if s.endTime.IsZero() {
		s.endTime = now.Add(9 * time.Hour)
	}
	fl := types.NewKrbFlags()
	types.SetFlag(&fl, flags.Initial)
	types.SetFlag(&fl, flags.PreAuthent)
	if s.invalid {
		types.SetFlag(&fl, flags.Invalid)
	}
	etp := messages.EncTicketPart{
		Flags:     fl,
		Key:       s.sessionKey,
		CRealm:    s.client.Realm,
		CName:     s.client.Name,
		Transited: messages.TransitedEncoding{TRType: 1, Contents: []byte{}},
		AuthTime:  s.authTime.UTC(),
		StartTime: s.startTime.UTC(),
		EndTime:   s.endTime.UTC(),
	}
	if s.startTime.IsZero() {
		etp.StartTime = time.Time{}
	}
	plain, err := asn1.Marshal(etp)
	if err != nil {
		t.Fatalf("encode EncTicketPart: %v", err)
	}
	plain = asn1tools.AddASNAppTag(plain, asnAppTag.EncTicketPart)
	ed, err := encrypt(s.serviceKey, keyusage.KDC_REP_TICKET, plain)
	if err != nil {
		t.Fatalf("encrypt ticket: %v", err)
	}
	ed.KVNO = s.kvno
	return messages.Ticket{TktVNO: iana.PVNO, Realm: s.server.Realm, SName: s.server.Name, EncPart: ed}
}

// hsSetup is a client/server pair sharing one service key.
type hsSetup struct {
	etype      krb5.Enctype
	serviceKey types.EncryptionKey
	kt         *keytab.Keytab
	creds      *Credentials
}

// newHSSetup mints a kvno-3 service key for hsServerPrinc, a keytab with
// it, and credentials for hsClientPrinc with a session key of etype.
func newHSSetup(t testing.TB, etype krb5.Enctype) *hsSetup {
	t.Helper()
	svc := hsRandomKey(t, etype)
	return &hsSetup{
		etype:      etype,
		serviceKey: svc,
		kt:         hsKeytab(t, hsKTEntry{hsServerPrinc, 3, svc}),
		creds:      hsCreds(t, hsTicketSpec{client: hsClientPrinc, server: hsServerPrinc, serviceKey: svc, kvno: 3, sessionKey: hsRandomKey(t, etype)}),
	}
}

// hsCreds mints a ticket per s and returns it as Credentials.
func hsCreds(t testing.TB, s hsTicketSpec) *Credentials {
	t.Helper()
	tkt := hsMintTicket(t, s)
	now := time.Now()
	c := &Credentials{
		Client:     s.client,
		Server:     s.server,
		Ticket:     tkt,
		SessionKey: s.sessionKey,
		AuthTime:   s.authTime,
		StartTime:  s.startTime,
		EndTime:    s.endTime,
	}
	if c.AuthTime.IsZero() {
		c.AuthTime = now.Add(-time.Hour)
	}
	if c.EndTime.IsZero() {
		c.EndTime = now.Add(9 * time.Hour)
	}
	return c
}

// serverConfig is the RecvAuth configuration matching the setup.
func (s *hsSetup) serverConfig() *ServerConfig {
	return &ServerConfig{Keytab: s.kt, Principal: hsServerPrinc, ReplayCache: NewReplayCache()}
}

// clientConfig is the SendAuth configuration matching the setup.
func (s *hsSetup) clientConfig() *ClientConfig {
	return &ClientConfig{Credentials: s.creds}
}
