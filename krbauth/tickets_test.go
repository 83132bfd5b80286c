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

// handshakeEnctypes are the enctypes the handshake supports, in the order tests
// walk them.
var handshakeEnctypes = []krb5.Enctype{
	krb5.EnctypeAES128CTSSHA1, krb5.EnctypeAES256CTSSHA1,
	krb5.EnctypeAES128CTSSHA256, krb5.EnctypeAES256CTSSHA384,
	krb5.EnctypeDES3CBCSHA1, krb5.EnctypeRC4HMAC,
	krb5.EnctypeCamellia128CTSCMAC, krb5.EnctypeCamellia256CTSCMAC,
}

const testRealm = "EXAMPLE.ORG"

var (
	clientPrinc  = krb5.HostPrincipal("host", "primary.example.org", testRealm)
	serverPrinc  = krb5.HostPrincipal("host", "replica.example.org", testRealm)
	altHostPrinc = krb5.HostPrincipal("host", "replica-alias.example.org", testRealm)
)

// ticketSpec describes a ticket to mint.
type ticketSpec = krbtest.Ticket

// ktEntry is one keytab entry for newKeytab.
type ktEntry = krbtest.Entry

// randomKey returns a fresh random key of the enctype.
func randomKey(t testing.TB, etype krb5.Enctype) types.EncryptionKey {
	t.Helper()
	k, err := krbtest.SessionKey(etype)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newKeytab builds a keytab holding the given entries.
func newKeytab(t testing.TB, entries ...ktEntry) *keytab.Keytab {
	t.Helper()
	kt, err := krbtest.KeytabOf(entries...)
	if err != nil {
		t.Fatal(err)
	}
	return kt
}

// mintCreds mints a ticket per s and returns it as Credentials.
func mintCreds(t testing.TB, s ticketSpec) *Credentials {
	t.Helper()
	c, err := krbtest.CredentialsOf[Credentials](s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testSetup is a client/server pair sharing one service key.
type testSetup struct {
	etype      krb5.Enctype
	serviceKey types.EncryptionKey
	kt         *keytab.Keytab
	creds      *Credentials
}

// newTestSetup mints a kvno-3 service key for serverPrinc, a keytab with
// it, and credentials for clientPrinc with a session key of etype.
func newTestSetup(t testing.TB, etype krb5.Enctype) *testSetup {
	t.Helper()
	svc := randomKey(t, etype)
	return &testSetup{
		etype:      etype,
		serviceKey: svc,
		kt:         newKeytab(t, ktEntry{Principal: serverPrinc, KVNO: 3, Key: svc}),
		creds:      mintCreds(t, ticketSpec{Client: clientPrinc, Server: serverPrinc, ServiceKey: svc, KVNO: 3, SessionKey: randomKey(t, etype)}),
	}
}

// serverConfig is the recvauth configuration matching the setup.
func (s *testSetup) serverConfig() *ServerConfig {
	return &ServerConfig{GetKeytab: keytabFunc(s.kt), Principal: serverPrinc, ReplayCache: NewReplayCache(), ApplVersion: testApplVersion}
}

// clientConfig is the sendauth configuration matching the setup.
func (s *testSetup) clientConfig() *ClientConfig {
	return &ClientConfig{Credentials: s.creds, ApplVersion: testApplVersion}
}
