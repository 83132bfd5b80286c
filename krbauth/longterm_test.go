package krbauth

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gokprop/gokprop/krb5"
)

// noDeprecatedSessionKeys is kpropd's SessionEnctypeAllowed without
// allow_des3 and allow_rc4.
func noDeprecatedSessionKeys(e krb5.Enctype) error {
	if e.Gate() != "" {
		return fmt.Errorf("%s is deprecated and disabled: %w", e, krb5.ErrUnsupportedEnctype)
	}
	return nil
}

// Long-term keys are used as MIT uses them: a ticket encrypted in a des3,
// rc4 or camellia service key decrypts wherever its enctype is permitted,
// whatever SessionEnctypeAllowed says; only the session key is gated.
func TestRecvAuthLongTermKeys(t *testing.T) {
	session := krb5.EnctypeAES256CTSSHA1
	for _, et := range implementedEnctypes() {
		for _, anyHost := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/anyhost=%v", et, anyHost), func(t *testing.T) {
				svc := randomKey(t, et)
				kt := newKeytab(t, ktEntry{Principal: serverPrinc, KVNO: 3, Key: svc})
				creds := mintCreds(t, ticketSpec{Client: clientPrinc, Server: serverPrinc, ServiceKey: svc, KVNO: 3, SessionKey: randomKey(t, session)})
				scfg := func(permitted ...krb5.Enctype) *ServerConfig {
					return &ServerConfig{GetKeytab: keytabFunc(kt), ApplVersion: testApplVersion, Principal: serverPrinc,
						AcceptAnyHostPrincipal: anyHost, PermittedEnctypes: permitted, SessionEnctypeAllowed: noDeprecatedSessionKeys}
				}
				ccfg := &ClientConfig{Credentials: creds, ApplVersion: testApplVersion}
				cli, srv := runHandshake(t, ccfg, scfg(et, session))
				if cli.err != nil || srv.err != nil {
					t.Fatalf("%s ticket, %s session key: client %v, server %v", et, session, cli.err, srv.err)
				}
				if srv.sess.ticketEtype != int32(et) || srv.sess.key.KeyType != int32(session) {
					t.Errorf("ticket %d, session key %d", srv.sess.ticketEtype, srv.sess.key.KeyType)
				}
				if et == session {
					return
				}
				// A ticket enctype missing from permitted_enctypes is refused
				// before decryption, as MIT's krb5_decrypt_tkt_part does; the
				// keytab scan of ignore_acceptor_hostname turns that into its
				// "cannot decrypt" error, as MIT's iteration_error does.
				cli, srv = runHandshake(t, ccfg, scfg(session))
				want := ErrEnctypeNotPermitted
				if anyHost {
					want = krb5.ErrBadIntegrity
				}
				if !errors.Is(srv.err, want) {
					t.Errorf("%s ticket not permitted: server %v, want %v", et, srv.err, want)
				}
				var re *RemoteError
				if !errors.As(cli.err, &re) {
					t.Fatalf("client %v", cli.err)
				}
				if wantText := want.Error(); re.Text != wantText {
					t.Errorf("KRB-ERROR text %q, want %q", re.Text, wantText)
				}
			})
		}
	}
}

// Session keys are what SessionEnctypeAllowed gates: a des3 or rc4 session
// key is refused with MIT's "Encryption type not permitted" even when
// permitted_enctypes lists it; the other enctypes pass.
func TestRecvAuthSessionEnctypeAllowed(t *testing.T) {
	svcType := krb5.EnctypeAES256CTSSHA1
	svc := randomKey(t, svcType)
	kt := newKeytab(t, ktEntry{Principal: serverPrinc, KVNO: 3, Key: svc})
	for _, et := range implementedEnctypes() {
		creds := mintCreds(t, ticketSpec{Client: clientPrinc, Server: serverPrinc, ServiceKey: svc, KVNO: 3, SessionKey: randomKey(t, et)})
		scfg := &ServerConfig{GetKeytab: keytabFunc(kt), ApplVersion: testApplVersion, Principal: serverPrinc,
			SessionEnctypeAllowed: noDeprecatedSessionKeys}
		cli, srv := runHandshake(t, &ClientConfig{Credentials: creds, ApplVersion: testApplVersion}, scfg)
		if et.Gate() == "" {
			if cli.err != nil || srv.err != nil {
				t.Errorf("%s session key: client %v, server %v", et, cli.err, srv.err)
			}
			continue
		}
		var re *RemoteError
		if !errors.Is(srv.err, ErrEnctypeNotPermitted) || !errors.As(cli.err, &re) || re.Text != "Encryption type not permitted" {
			t.Errorf("%s session key: server %v, client %v", et, srv.err, cli.err)
		}
	}
}
