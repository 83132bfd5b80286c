package krbauth

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
)

// serveOne starts recvauth with scfg on the server end of a loopback
// connection and returns the client end and the server's result.
func serveOne(t *testing.T, scfg *ServerConfig) (net.Conn, <-chan handshakeResult) {
	t.Helper()
	cc, sc := tcpLoopback(t)
	ch := make(chan handshakeResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := recvAuth(ctx, sc, scfg)
		if err != nil {
			sc.Close()
		}
		ch <- handshakeResult{s, err}
	}()
	cc.SetDeadline(time.Now().Add(10 * time.Second))
	return cc, ch
}

// sendAPReq does the version exchange on cc, sends apreq and returns
// the server's answer frame.
func sendAPReq(t *testing.T, cc net.Conn, apreq []byte) []byte {
	t.Helper()
	if err := writeVersions(cc, testApplVersion); err != nil {
		t.Fatal(err)
	}
	var ans [1]byte
	if _, err := io.ReadFull(cc, ans[:]); err != nil || ans[0] != 0 {
		t.Fatalf("version answer %d, %v", ans[0], err)
	}
	if err := writeFrame(cc, apreq); err != nil {
		t.Fatal(err)
	}
	reply, err := readFrame(cc, 0)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

// makeAPReq builds an AP-REQ for creds whose authenticator mod may alter.
func makeAPReq(t testing.TB, creds *Credentials, now time.Time, mod func(*types.Authenticator)) ([]byte, types.Authenticator) {
	t.Helper()
	a := newAuthenticator(creds.Client, now, 0x1234567)
	if mod != nil {
		mod(&a)
	}
	b, err := buildAPReq(creds, a)
	if err != nil {
		t.Fatal(err)
	}
	return b, a
}

// checkRecvauthError checks a KRB-ERROR against MIT recvauth's
// conventions (MIT's recvauth.c).
func checkRecvauthError(t *testing.T, msg []byte, server krb5.Principal, code krb5.ErrorCode, text string) {
	t.Helper()
	re, ok := parseKRBError(msg)
	if !ok {
		t.Fatalf("answer is not a KRB-ERROR: % x", msg[:min(len(msg), 16)])
	}
	if re.Code != code || re.Text != text {
		t.Errorf("KRB-ERROR %d %q, want %d %q", re.Code, re.Text, code, text)
	}
	var e messages.KRBError
	if err := e.Unmarshal(msg); err != nil {
		t.Fatal(err)
	}
	if !e.CTime.IsZero() || e.Cusec != 0 || e.CRealm != "" || len(e.CName.NameString) != 0 {
		t.Errorf("KRB-ERROR has client fields: ctime %v cusec %d client %v@%s", e.CTime, e.Cusec, e.CName, e.CRealm)
	}
	if d := time.Since(e.STime); d < -2*time.Second || d > 10*time.Second {
		t.Errorf("stime %v", e.STime)
	}
	if got := (krb5.Principal{Name: e.SName, Realm: e.Realm}); !got.Equal(server) || e.SName.NameType != 3 {
		t.Errorf("server %v (name-type %d)", got, e.SName.NameType)
	}
	if !strings.HasSuffix(e.EText, "\x00") {
		t.Errorf("e-text %q lacks the NUL", e.EText)
	}
}

func TestRecvAuthRejects(t *testing.T) {
	et := krb5.EnctypeAES256CTSSHA1
	svc := randomKey(t, et)
	kt := newKeytab(t, ktEntry{Principal: serverPrinc, KVNO: 3, Key: svc})
	now := time.Now()
	good := ticketSpec{Client: clientPrinc, Server: serverPrinc, ServiceKey: svc, KVNO: 3, SessionKey: randomKey(t, et)}
	with := func(f func(*ticketSpec)) ticketSpec {
		s := good
		f(&s)
		return s
	}
	otherClient := krb5.HostPrincipal("host", "intruder.example.org", testRealm)

	for _, tc := range []struct {
		name      string
		ticket    ticketSpec
		client    *krb5.Principal // authenticator client, if not the ticket's
		now       time.Time       // authenticator time, if not now
		mod       func(*types.Authenticator)
		raw       []byte // sent instead of an AP-REQ
		permitted []krb5.Enctype
		server    *krb5.Principal
		code      krb5.ErrorCode
		text      string
		is        error
	}{
		{name: "wrong service key", ticket: with(func(s *ticketSpec) { s.ServiceKey = randomKey(t, et) }),
			code: krb5.ErrBadIntegrity, text: "Decrypt integrity check failed", is: krb5.ErrBadIntegrity},
		{name: "wrong key, ticket for another server", ticket: with(func(s *ticketSpec) {
			s.ServiceKey = randomKey(t, et)
			s.Server = altHostPrinc
		}), code: krb5.ErrNotUs, text: "The ticket isn't for us", is: krb5.ErrNotUs},
		{name: "kvno not in keytab", ticket: with(func(s *ticketSpec) { s.KVNO = 9 }),
			code: krb5.ErrBadKeyVer, text: "Key version is not available", is: krb5.ErrBadKeyVer},
		{name: "kvno not in keytab, ticket for another server", ticket: with(func(s *ticketSpec) { s.KVNO = 9; s.Server = altHostPrinc }),
			code: krb5.ErrNotUs, text: "The ticket isn't for us", is: krb5.ErrNotUs},
		{name: "no key for our principal", ticket: good, server: &altHostPrinc,
			code: krb5.ErrNoKey, text: "Service key not available", is: krb5.ErrNoKey},
		{name: "enctype not in keytab", ticket: with(func(s *ticketSpec) { s.ServiceKey = randomKey(t, krb5.EnctypeAES128CTSSHA1) }),
			code: krb5.ErrNoKey, text: "Service key not available", is: krb5.ErrNoKey},
		{name: "expired ticket", ticket: with(func(s *ticketSpec) { s.EndTime = now.Add(-301 * time.Second) }),
			code: krb5.ErrTktExpired, text: "Ticket expired", is: krb5.ErrTktExpired},
		{name: "ticket not yet valid", ticket: with(func(s *ticketSpec) { s.StartTime = now.Add(302 * time.Second) }),
			code: krb5.ErrTktNotYetValid, text: "Ticket not yet valid", is: krb5.ErrTktNotYetValid},
		{name: "clock skew", ticket: good, now: now.Add(-302 * time.Second),
			code: krb5.ErrSkew, text: "Clock skew too great", is: krb5.ErrSkew},
		{name: "clock skew ahead", ticket: good, now: now.Add(302 * time.Second),
			code: krb5.ErrSkew, text: "Clock skew too great", is: krb5.ErrSkew},
		{name: "invalid flag", ticket: with(func(s *ticketSpec) { s.Invalid = true }),
			code: krb5.ErrGeneric, text: "Ticket has invalid flag set", is: ErrTicketInvalid},
		{name: "enctype not permitted", ticket: good, permitted: []krb5.Enctype{krb5.EnctypeAES128CTSSHA1, krb5.EnctypeAES256CTSSHA384},
			code: krb5.ErrGeneric, text: "Encryption type not permitted", is: ErrEnctypeNotPermitted},
		{name: "subkey enctype not permitted", ticket: good, permitted: []krb5.Enctype{et},
			mod:  func(a *types.Authenticator) { a.SubKey = randomKey(t, krb5.EnctypeRC4HMAC) },
			code: krb5.ErrGeneric, text: "Encryption type not permitted", is: krb5.ErrUnsupportedEnctype},
		{name: "client mismatch", ticket: good, client: &otherClient,
			code: krb5.ErrBadMatch, text: "Ticket/authenticator don't match", is: krb5.ErrBadMatch},
		{name: "realm mismatch", ticket: good, mod: func(a *types.Authenticator) { a.CRealm = "OTHER.ORG" },
			code: krb5.ErrBadMatch, text: "Ticket/authenticator don't match", is: krb5.ErrBadMatch},
		{name: "authenticator vno", ticket: good, mod: func(a *types.Authenticator) { a.AVNO = 4 },
			code: krb5.ErrBadPVNO, text: "Requested protocol version not supported", is: krb5.ErrBadPVNO},
		{name: "not an AP-REQ", raw: []byte{0x30, 0x00},
			code: krb5.ErrMsgType, text: "Invalid message type", is: krb5.ErrMsgType},
		{name: "empty AP-REQ", raw: []byte{},
			code: krb5.ErrMsgType, text: "Invalid message type", is: krb5.ErrMsgType},
		{name: "undecodable AP-REQ", raw: []byte{0x6e, 0x03, 0x02, 0x01, 0x05},
			code: krb5.ErrGeneric, text: "ASN.1 identifier doesn't match expected value", is: ErrMalformed},
		{name: "truncated AP-REQ", raw: []byte{0x6e, 0x10, 0x30, 0x0e},
			code: krb5.ErrGeneric, text: "ASN.1 encoding ended unexpectedly", is: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scfg := &ServerConfig{GetKeytab: keytabFunc(kt), ApplVersion: testApplVersion, Principal: serverPrinc, ReplayCache: NewReplayCache(), PermittedEnctypes: tc.permitted}
			if tc.server != nil {
				scfg.Principal = *tc.server
			}
			msg := tc.raw
			if msg == nil {
				creds := mintCreds(t, tc.ticket)
				if tc.client != nil {
					creds.Client = *tc.client
				}
				at := tc.now
				if at.IsZero() {
					at = time.Now()
				}
				msg, _ = makeAPReq(t, creds, at, tc.mod)
			}
			cc, res := serveOne(t, scfg)
			reply := sendAPReq(t, cc, msg)
			r := <-res
			if !errors.Is(r.err, tc.is) || r.sess != nil {
				t.Errorf("server error %v, want %v", r.err, tc.is)
			}
			checkRecvauthError(t, reply, scfg.Principal, tc.code, tc.text)
			if _, err := cc.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("server did not hang up after the KRB-ERROR: %v", err)
			}
		})
	}
}

// TestRecvAuthRejectsThroughSendAuth runs the real client against a
// server that must refuse it: both sides get typed errors.
func TestRecvAuthRejectsThroughSendAuth(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA1)
	scfg := setup.serverConfig()
	scfg.GetKeytab = keytabFunc(newKeytab(t, ktEntry{Principal: serverPrinc, KVNO: 3, Key: randomKey(t, krb5.EnctypeAES128CTSSHA1)}))
	cli, srv := runHandshake(t, setup.clientConfig(), scfg)
	if !errors.Is(srv.err, krb5.ErrBadIntegrity) {
		t.Errorf("server: %v", srv.err)
	}
	var re *RemoteError
	if !errors.As(cli.err, &re) || re.Code != krb5.ErrBadIntegrity || re.Text != "Decrypt integrity check failed" {
		t.Fatalf("client: %v", cli.err)
	}
	if !errors.Is(cli.err, ErrSendauthRejected) || CodeOf(cli.err) != krb5.ErrBadIntegrity {
		t.Errorf("client error %v does not match ErrSendauthRejected/code 31", cli.err)
	}

	// Session enctype not permitted: generic code, MIT's text.
	scfg = setup.serverConfig()
	scfg.PermittedEnctypes = []krb5.Enctype{krb5.EnctypeAES256CTSSHA1}
	cli, srv = runHandshake(t, setup.clientConfig(), scfg)
	if !errors.Is(srv.err, ErrEnctypeNotPermitted) || !errors.As(cli.err, &re) || re.Code != krb5.ErrGeneric || re.Text != "Encryption type not permitted" {
		t.Errorf("server %v; client %v", srv.err, cli.err)
	}

	// Client clock skewed by ten minutes.
	ccfg := setup.clientConfig()
	ccfg.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
	cli, srv = runHandshake(t, ccfg, setup.serverConfig())
	if !errors.Is(srv.err, krb5.ErrSkew) || !errors.As(cli.err, &re) || re.Code != krb5.ErrSkew {
		t.Errorf("server %v; client %v", srv.err, cli.err)
	}
}

// recConn records what is written through it.
type recConn struct {
	net.Conn
	buf    bytes.Buffer
	writes []int // size of each Write
}

func (c *recConn) Write(p []byte) (int, error) {
	c.buf.Write(p)
	c.writes = append(c.writes, len(p))
	return c.Conn.Write(p)
}

func TestRecvAuthReplay(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES256CTSSHA384)
	scfg := setup.serverConfig()

	// A genuine exchange, recorded.
	cc, sc := tcpLoopback(t)
	rec := &recConn{Conn: cc}
	res := make(chan handshakeResult, 1)
	go func() {
		s, err := recvAuth(context.Background(), sc, scfg)
		res <- handshakeResult{s, err}
	}()
	if _, err := sendAuth(context.Background(), rec, setup.clientConfig()); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.err != nil {
		t.Fatal(r.err)
	}
	if len(rec.writes) == 0 || rec.writes[0] != 37 {
		t.Errorf("writes %v: the two version frames must go out in one 37-byte write", rec.writes)
	}
	if scfg.ReplayCache.len() != 1 {
		t.Errorf("replay cache holds %d entries", scfg.ReplayCache.len())
	}
	apreq, err := readFrame(bytes.NewReader(rec.buf.Bytes()[37:]), 0)
	if err != nil {
		t.Fatal(err)
	}

	// The cache is keyed, like MIT's, by the authenticator's integrity tag:
	// the last bytes of its ciphertext (24 for aes256-cts-hmac-sha384-192).
	req, err := parseAPReq(apreq)
	if err != nil {
		t.Fatal(err)
	}
	tail := req.authenticator.Cipher[len(req.authenticator.Cipher)-24:]
	if _, ok := scfg.ReplayCache.entries[string(tail)]; !ok {
		t.Error("replay cache not keyed by the authenticator checksum")
	}

	// The same AP-REQ again, to a server sharing the cache.
	cc2, res2 := serveOne(t, scfg)
	reply := sendAPReq(t, cc2, apreq)
	if r := <-res2; !errors.Is(r.err, krb5.ErrReplay) {
		t.Errorf("server: %v", r.err)
	}
	checkRecvauthError(t, reply, serverPrinc, krb5.ErrReplay, "Request is a replay")
	if re, _ := parseKRBError(reply); re == nil || re.Code != 34 {
		t.Errorf("client sees %v", re)
	}

	// Without a replay cache the replay is accepted (documented).
	scfg.ReplayCache = nil
	cc3, res3 := serveOne(t, scfg)
	if reply := sendAPReq(t, cc3, apreq); len(reply) != 0 {
		t.Errorf("without a replay cache: %x", reply)
	}
	if r := <-res3; r.err != nil {
		t.Error(r.err)
	}
}

// TestRecvAuthAPRep checks the AP-REP recvauth sends against MIT's
// (MIT's mk_rep.c), and that a subkey is echoed and used.
func TestRecvAuthAPRep(t *testing.T) {
	for _, withSubkey := range []bool{false, true} {
		setup := newTestSetup(t, krb5.EnctypeDES3CBCSHA1)
		sub := randomKey(t, krb5.EnctypeAES128CTSSHA1)
		apreq, auth := makeAPReq(t, setup.creds, time.Now(), func(a *types.Authenticator) {
			if withSubkey {
				a.SubKey = sub
			}
		})
		cc, res := serveOne(t, setup.serverConfig())
		if reply := sendAPReq(t, cc, apreq); len(reply) != 0 {
			t.Fatalf("AP-REQ refused: %v", reply)
		}
		rep, err := readFrame(cc, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := <-res
		if r.err != nil {
			t.Fatal(r.err)
		}
		var w struct {
			PVNO    int           `asn1:"explicit,tag:0"`
			MsgType int           `asn1:"explicit,tag:1"`
			EncPart asn1.RawValue `asn1:"explicit,tag:2"`
		}
		if _, err := asn1.UnmarshalWithParams(rep, &w, "application,explicit,tag:15"); err != nil {
			t.Fatal(err)
		}
		if w.PVNO != 5 || w.MsgType != 15 {
			t.Errorf("pvno %d msg-type %d", w.PVNO, w.MsgType)
		}
		checkNoKVNO(t, "AP-REP", w.EncPart.Bytes)
		var ed types.EncryptedData
		if _, err := asn1.Unmarshal(w.EncPart.Bytes, &ed); err != nil {
			t.Fatal(err)
		}
		if ed.EType != int32(krb5.EnctypeDES3CBCSHA1) {
			t.Errorf("enc-part etype %d", ed.EType)
		}
		plain, err := decrypt(ed, setup.creds.SessionKey, keyusage.AP_REP_ENCPART)
		if err != nil {
			t.Fatalf("AP-REP does not decrypt with the ticket session key under usage 12: %v", err)
		}
		var raw asn1.RawValue
		if _, err := asn1.UnmarshalWithParams(plain, &raw, "application,tag:27"); err != nil {
			t.Fatal(err)
		}
		wantTags := "0 1 3"
		if withSubkey {
			wantTags = "0 1 2 3"
		}
		if got := fieldTags(t, raw.Bytes); got != wantTags {
			t.Errorf("EncAPRepPart fields %q, want %q", got, wantTags)
		}
		f, err := readAPRep(rep, setup.creds.SessionKey, auth)
		if err != nil {
			t.Fatal(err)
		}
		if f.seq != r.sess.localSeq || f.seq == 0 || f.seq > 0x3fffffff {
			t.Errorf("AP-REP seq %d, server local seq %d", f.seq, r.sess.localSeq)
		}
		if r.sess.remoteSeq != 0x1234567 {
			t.Errorf("server remote seq %#x", r.sess.remoteSeq)
		}
		wantKey := setup.creds.SessionKey
		if withSubkey {
			wantKey = sub
			if f.subkey == nil || !bytes.Equal(f.subkey.KeyValue, sub.KeyValue) {
				t.Errorf("subkey not echoed: %v", f.subkey)
			}
		}
		if !bytes.Equal(r.sess.key.KeyValue, wantKey.KeyValue) || r.sess.key.KeyType != wantKey.KeyType {
			t.Errorf("server session key %v, want %v", r.sess.key, wantKey)
		}
		if krb5.Enctype(r.sess.ticketEtype) != krb5.EnctypeDES3CBCSHA1 {
			t.Errorf("ticket enctype %d", r.sess.ticketEtype)
		}
	}
}

// TestRecvAuthWithoutMutual: no AP-REP, and the server's local sequence
// number is the client's (MIT XORs it into its zero local number).
func TestRecvAuthWithoutMutual(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA1)
	a := newAuthenticator(setup.creds.Client, time.Now(), 4242)
	plain, _ := a.Marshal()
	ed, err := encrypt(setup.creds.SessionKey, keyusage.AP_REQ_AUTHENTICATOR, plain)
	if err != nil {
		t.Fatal(err)
	}
	req := messages.APReq{PVNO: iana.PVNO, MsgType: msgtype.KRB_AP_REQ, APOptions: types.NewKrbFlags(), Ticket: setup.creds.Ticket, EncryptedAuthenticator: ed}
	apreq, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cc, res := serveOne(t, setup.serverConfig())
	if reply := sendAPReq(t, cc, apreq); len(reply) != 0 {
		t.Fatalf("refused: %x", reply)
	}
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sess.localSeq != 4242 || r.sess.remoteSeq != 4242 {
		t.Errorf("seqs %d/%d", r.sess.localSeq, r.sess.remoteSeq)
	}
	cc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := cc.Read(make([]byte, 1)); n != 0 || !isTimeout(err) {
		t.Errorf("server sent something after accepting (n=%d, %v)", n, err)
	}
}

func TestRecvAuthVersionAnswers(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA1)
	frame := func(s string) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(s)))
		return append(b, s...)
	}
	long := strings.Repeat("x", 1000)
	for _, tc := range []struct {
		name   string
		sent   []byte
		answer byte
		want   error
	}{
		{"ok", append(frame("KRB5_SENDAUTH_V1.0\x00"), frame("kprop5_01\x00")...), 0, ErrConnAborted},
		{"bad sendauth version", append(frame("KRB5_SENDAUTH_V1.1\x00"), frame("kprop5_01\x00")...), 1, ErrBadAuthVersion},
		{"bad application version", append(frame("KRB5_SENDAUTH_V1.0\x00"), frame("kprop5_02\x00")...), 2, ErrBadApplVersion},
		{"both bad", append(frame("KRB5_SENDAUTH_V1.1\x00"), frame("kprop5_02\x00")...), 1, ErrBadAuthVersion},
		{"no NULs", append(frame("KRB5_SENDAUTH_V1.0"), frame("kprop5_01")...), 1, ErrBadAuthVersion},
		{"application version without NUL", append(frame("KRB5_SENDAUTH_V1.0\x00"), frame("kprop5_01")...), 2, ErrBadApplVersion},
		{"long sendauth version", append(frame(long), frame("kprop5_01\x00")...), 1, ErrBadAuthVersion},
		{"long application version", append(frame("KRB5_SENDAUTH_V1.0\x00"), frame(long)...), 2, ErrBadApplVersion},
		{"empty frames", append(frame(""), frame("")...), 1, ErrBadAuthVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc, res := serveOne(t, setup.serverConfig())
			// Byte by byte: the server must not rely on segmentation.
			for i := range tc.sent {
				if _, err := cc.Write(tc.sent[i : i+1]); err != nil {
					t.Fatal(err)
				}
			}
			var ans [1]byte
			if _, err := io.ReadFull(cc, ans[:]); err != nil {
				t.Fatal(err)
			}
			if ans[0] != tc.answer {
				t.Errorf("answer %d, want %d", ans[0], tc.answer)
			}
			if tc.answer == 0 {
				cc.Close()
			}
			r := <-res
			if !errors.Is(r.err, tc.want) {
				t.Errorf("server error %v, want %v", r.err, tc.want)
			}
			if tc.answer != 0 {
				if n, err := cc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
					t.Errorf("after a refusal: %d bytes, %v", n, err)
				}
			}
		})
	}
	// A version frame of absurd length is not read at all.
	cc, res := serveOne(t, setup.serverConfig())
	cc.Write([]byte{0x7f, 0xff, 0xff, 0xff})
	if r := <-res; !errors.Is(r.err, ErrMessageTooLarge) {
		t.Errorf("huge version frame: %v", r.err)
	}
}

func TestRecvAuthAcceptAnyHostPrincipal(t *testing.T) {
	et := krb5.EnctypeAES128CTSSHA256
	aliasKey := randomKey(t, et)
	kt := newKeytab(t,
		ktEntry{Principal: krb5.HostPrincipal("host", "other.example.org", "OTHER.ORG"), KVNO: 3, Key: randomKey(t, et)},
		ktEntry{Principal: krb5.HostPrincipal("ldap", "replica-alias.example.org", testRealm), KVNO: 3, Key: randomKey(t, et)},
		ktEntry{Principal: altHostPrinc, KVNO: 5, Key: randomKey(t, krb5.EnctypeAES256CTSSHA1)},
		ktEntry{Principal: altHostPrinc, KVNO: 4, Key: randomKey(t, et)},
		ktEntry{Principal: altHostPrinc, KVNO: 3, Key: aliasKey},
	)
	creds := mintCreds(t, ticketSpec{Client: clientPrinc, Server: altHostPrinc, ServiceKey: aliasKey, KVNO: 3, SessionKey: randomKey(t, et)})

	// Our own principal has no key: one exact lookup fails.
	cli, srv := runHandshake(t, &ClientConfig{Credentials: creds, ApplVersion: testApplVersion}, &ServerConfig{GetKeytab: keytabFunc(kt), ApplVersion: testApplVersion, Principal: serverPrinc})
	if !errors.Is(srv.err, krb5.ErrNoKey) || CodeOf(cli.err) != krb5.ErrNoKey {
		t.Errorf("exact lookup: server %v; client %v", srv.err, cli.err)
	}
	// With MIT's ignore_acceptor_hostname every host/*@REALM key is tried.
	cli, srv = runHandshake(t, &ClientConfig{Credentials: creds, ApplVersion: testApplVersion}, &ServerConfig{GetKeytab: keytabFunc(kt), ApplVersion: testApplVersion, Principal: serverPrinc, AcceptAnyHostPrincipal: true})
	if cli.err != nil || srv.err != nil {
		t.Fatalf("any host: server %v; client %v", srv.err, cli.err)
	}
	if !srv.sess.server.Equal(serverPrinc) || !srv.sess.client.Equal(clientPrinc) {
		t.Errorf("session %s→%s", srv.sess.client, srv.sess.server)
	}
	// But only in our realm and for our service name.
	for _, p := range []krb5.Principal{krb5.HostPrincipal("host", "replica.example.org", "OTHER.ORG"), krb5.HostPrincipal("ldap", "replica.example.org", testRealm)} {
		cli, srv = runHandshake(t, &ClientConfig{Credentials: creds, ApplVersion: testApplVersion}, &ServerConfig{GetKeytab: keytabFunc(kt), ApplVersion: testApplVersion, Principal: p, AcceptAnyHostPrincipal: true})
		if srv.err == nil || cli.err == nil {
			t.Errorf("principal %s accepted a ticket for %s", p, altHostPrinc)
		}
	}
	// A wildcard search that finds nothing reports like MIT's iteration_error.
	bad := mintCreds(t, ticketSpec{Client: clientPrinc, Server: altHostPrinc, ServiceKey: randomKey(t, et), KVNO: 3, SessionKey: randomKey(t, et)})
	_, srv = runHandshake(t, &ClientConfig{Credentials: bad, ApplVersion: testApplVersion}, &ServerConfig{GetKeytab: keytabFunc(kt), ApplVersion: testApplVersion, Principal: serverPrinc, AcceptAnyHostPrincipal: true})
	if !errors.Is(srv.err, krb5.ErrBadIntegrity) {
		t.Errorf("undecryptable ticket: %v", srv.err)
	}
	bad = mintCreds(t, ticketSpec{Client: clientPrinc, Server: altHostPrinc, ServiceKey: randomKey(t, et), KVNO: 7, SessionKey: randomKey(t, et)})
	_, srv = runHandshake(t, &ClientConfig{Credentials: bad, ApplVersion: testApplVersion}, &ServerConfig{GetKeytab: keytabFunc(kt), ApplVersion: testApplVersion, Principal: serverPrinc, AcceptAnyHostPrincipal: true})
	if !errors.Is(srv.err, krb5.ErrBadKeyVer) {
		t.Errorf("unknown kvno: %v", srv.err)
	}
}

// TestRecvAuthKVNOSelection: the key is looked up at the ticket's kvno
// and enctype through FindKey.
func TestRecvAuthKVNOSelection(t *testing.T) {
	et := krb5.EnctypeAES256CTSSHA1
	k1, k2, k2rc4 := randomKey(t, et), randomKey(t, et), randomKey(t, krb5.EnctypeRC4HMAC)
	kt := newKeytab(t,
		ktEntry{Principal: serverPrinc, KVNO: 1, Key: k1},
		ktEntry{Principal: serverPrinc, KVNO: 2, Key: k2rc4},
		ktEntry{Principal: serverPrinc, KVNO: 2, Key: k2},
	)
	for _, tc := range []struct {
		name string
		key  types.EncryptionKey
		kvno int
		want error
	}{
		{"kvno 1", k1, 1, nil},
		{"kvno 2", k2, 2, nil},
		{"kvno 2 rc4", k2rc4, 2, nil},
		{"no kvno: newest", k2, 0, nil},
		{"kvno 258 matches 2 by its low byte", k2, 258, nil},
		{"kvno 2 with the kvno 1 key", k1, 2, krb5.ErrBadIntegrity},
		{"kvno 3", k2, 3, krb5.ErrBadKeyVer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			creds := mintCreds(t, ticketSpec{Client: clientPrinc, Server: serverPrinc, ServiceKey: tc.key, KVNO: tc.kvno, SessionKey: randomKey(t, et)})
			cli, srv := runHandshake(t, &ClientConfig{Credentials: creds, ApplVersion: testApplVersion}, &ServerConfig{GetKeytab: keytabFunc(kt), ApplVersion: testApplVersion, Principal: serverPrinc})
			if tc.want == nil {
				if cli.err != nil || srv.err != nil {
					t.Errorf("server %v; client %v", srv.err, cli.err)
				}
				return
			}
			if !errors.Is(srv.err, tc.want) || CodeOf(cli.err) != CodeOf(tc.want) {
				t.Errorf("server %v; client %v; want %v", srv.err, cli.err, tc.want)
			}
		})
	}
}

// discardConn is a net.Conn reading from a fixed input and discarding what
// is written, for fuzzing without goroutines.
type discardConn struct {
	r       io.Reader
	written int
}

func (c *discardConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *discardConn) Write(p []byte) (int, error) { c.written += len(p); return len(p), nil }
func (c *discardConn) Close() error                { return nil }
func (c *discardConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 754}
}
func (c *discardConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *discardConn) SetDeadline(time.Time) error { return nil }
func (c *discardConn) SetReadDeadline(time.Time) error {
	return nil
}
func (c *discardConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzRecvAuth feeds recvauth arbitrary bytes after a correct version
// exchange: it must return (never panic) and never allocate beyond its
// frame limits.
func FuzzRecvAuth(f *testing.F) {
	setup := newTestSetup(f, krb5.EnctypeAES128CTSSHA1)
	apreq, _ := makeAPReq(f, setup.creds, time.Now(), nil)
	f.Add(binary.BigEndian.AppendUint32(nil, uint32(len(apreq))), apreq)
	f.Add([]byte{0, 0, 0, 2}, []byte{0x30, 0x00})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, []byte{})
	f.Add([]byte{0, 0, 0, 5}, []byte{0x6e, 0x03, 0x02, 0x01, 0x05})
	for _, cut := range []int{10, 100, len(apreq) - 20} {
		b := bytes.Clone(apreq)
		b[cut] ^= 0xff
		f.Add(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b)
	}
	var versions bytes.Buffer
	writeVersions(&versions, testApplVersion)
	scfg := setup.serverConfig()
	f.Fuzz(func(t *testing.T, hdr, body []byte) {
		in := io.MultiReader(bytes.NewReader(versions.Bytes()), bytes.NewReader(hdr), bytes.NewReader(body))
		s, err := recvAuth(context.Background(), &discardConn{r: in}, scfg)
		if err == nil && s == nil {
			t.Fatal("no session and no error")
		}
	})
}
