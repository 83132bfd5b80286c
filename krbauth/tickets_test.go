package krbauth

import (
	"testing"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/krb5"
)

// Test helpers that play the KDC, through krbtest, so that handshakes can
// run without a real KDC.

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

// hsTicketSpec describes a ticket to mint.
type hsTicketSpec = krbtest.Ticket

// hsKTEntry is one keytab entry for hsKeytab.
type hsKTEntry = krbtest.Entry

// hsRandomKey returns a fresh random key of the enctype.
func hsRandomKey(t testing.TB, etype krb5.Enctype) types.EncryptionKey {
	t.Helper()
	k, err := krbtest.SessionKey(etype)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// hsKeytab builds a keytab holding the given entries.
func hsKeytab(t testing.TB, entries ...hsKTEntry) *keytab.Keytab {
	t.Helper()
	kt, err := krbtest.KeytabOf(entries...)
	if err != nil {
		t.Fatal(err)
	}
	return kt
}

// hsCreds mints a ticket per s and returns it as Credentials.
func hsCreds(t testing.TB, s hsTicketSpec) *Credentials {
	t.Helper()
	c, err := krbtest.CredentialsOf[Credentials](s)
	if err != nil {
		t.Fatal(err)
	}
	return c
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
		kt:         hsKeytab(t, hsKTEntry{Principal: hsServerPrinc, KVNO: 3, Key: svc}),
		creds:      hsCreds(t, hsTicketSpec{Client: hsClientPrinc, Server: hsServerPrinc, ServiceKey: svc, KVNO: 3, SessionKey: hsRandomKey(t, etype)}),
	}
}

// serverConfig is the RecvAuth configuration matching the setup.
func (s *hsSetup) serverConfig() *ServerConfig {
	return &ServerConfig{GetKeytab: keytabFunc(s.kt), Principal: hsServerPrinc, ReplayCache: NewReplayCache(), ApplVersion: testApplVersion}
}

// clientConfig is the SendAuth configuration matching the setup.
func (s *hsSetup) clientConfig() *ClientConfig {
	return &ClientConfig{Credentials: s.creds, ApplVersion: testApplVersion}
}
