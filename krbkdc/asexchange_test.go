package krbkdc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
	"github.com/gokprop/gokprop/krbconf"
)

const testRealm = "TEST.REALM"

// asKDC is a fake KDC answering AS requests with keys it shares with the
// test's keytabs. Its knobs let tests produce the replies a client must
// accept or reject.
type asKDC struct {
	t       *testing.T
	srv     *testServer
	clients *keytab.Keytab // client keys
	servers *keytab.Keytab // service keys

	mu    sync.Mutex
	knobs asKnobs
	reqs  []*messages.ASReq
	raws  [][]byte
}

// asKnobs are the fake KDC's behaviours; tests change them with set.
type asKnobs struct {
	requirePreauth bool
	offerEtypes    []int32 // ETYPE-INFO2 order in the preauth-required error (default: client's keys)
	tooBigOverUDP  bool
	rejectInfoPA   bool           // answer PREAUTH_FAILED to requests carrying padata 149/150
	errorCode      krb5.ErrorCode // answer every request with this error
	sessionEtype   int32          // force the session key enctype
	allowDES3      bool           // the KDC issues des3 session keys (allow_des3)
	allowRC4       bool           // the KDC issues rc4 session keys (allow_rc4)
	tamper         func(*messages.EncKDCRepPart, *messages.ASRep)
	replyKey       *types.EncryptionKey // encrypt the reply with this key instead
	encPARep       string               // "" (honour 149), "none", "badsum", "noflagdata"
	clockOffset    time.Duration
}

func (k *asKDC) set(f func(*asKnobs)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f(&k.knobs)
}

func newASKDC(t *testing.T, clients, servers *keytab.Keytab) *asKDC {
	k := &asKDC{t: t, clients: clients, servers: servers}
	k.srv = startTestServer(t, k.handle)
	return k
}

func (k *asKDC) conf(extra string) string {
	return "[libdefaults]\n" + extra + "\n[realms]\n" + testRealm + " = {\n" + k.srv.kdcLine("") + "}\n"
}

func (k *asKDC) requests() []*messages.ASReq {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.reqs)
}

func principalOf(n types.PrincipalName, realm string) krb5.Principal {
	return krb5.Principal{Name: n, Realm: realm}
}

func keysOf(kt *keytab.Keytab, p krb5.Principal) []types.EncryptionKey {
	var out []types.EncryptionKey
	for _, e := range keytabEnctypes(kt, p) {
		if ke, err := krbauth.FindKey(kt, p, krbauth.AnyKVNO, e); err == nil {
			out = append(out, ke.Key)
		}
	}
	return out
}

func (k *asKDC) fail(code krb5.ErrorCode, edata []byte) []byte {
	k.mu.Lock()
	off := k.knobs.clockOffset
	k.mu.Unlock()
	e := messages.KRBError{
		PVNO:      iana.PVNO,
		MsgType:   msgtype.KRB_ERROR,
		STime:     time.Now().Add(off).UTC().Truncate(time.Second),
		Susec:     123456,
		ErrorCode: int32(code),
		Realm:     testRealm,
		SName:     types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", testRealm}},
		EText:     "fake KDC says no\x00",
		EData:     edata,
	}
	b, err := e.Marshal()
	if err != nil {
		k.t.Error(err)
	}
	return b
}

func (k *asKDC) handle(proto string, raw []byte) []byte {
	var req messages.ASReq
	if err := req.Unmarshal(raw); err != nil {
		k.t.Errorf("fake KDC: bad AS-REQ: %v", err)
		return k.fail(krb5.ErrGeneric, nil)
	}
	k.mu.Lock()
	k.reqs = append(k.reqs, &req)
	k.raws = append(k.raws, raw)
	kn := k.knobs
	k.mu.Unlock()
	if kn.errorCode != 0 {
		return k.fail(kn.errorCode, nil)
	}
	if kn.tooBigOverUDP && proto == "udp" {
		return k.fail(krb5.ErrResponseTooBig, nil)
	}
	if kn.rejectInfoPA && (req.PAData.Contains(paReqEncPARep) || req.PAData.Contains(paAsFreshness)) {
		return k.fail(krb5.ErrPreauthFailed, nil)
	}
	client := principalOf(req.ReqBody.CName, req.ReqBody.Realm)
	server := principalOf(req.ReqBody.SName, req.ReqBody.Realm)
	ckeys, skeys := keysOf(k.clients, client), keysOf(k.servers, server)
	if len(ckeys) == 0 {
		return k.fail(krb5.ErrClientUnknown, nil)
	}
	if len(skeys) == 0 {
		return k.fail(krb5.ErrServerUnknown, nil)
	}
	keyFor := func(keys []types.EncryptionKey, e int32) *types.EncryptionKey {
		for i := range keys {
			if keys[i].KeyType == e {
				return &keys[i]
			}
		}
		return nil
	}
	if kn.requirePreauth {
		var ts *types.PAData
		for i := range req.PAData {
			if req.PAData[i].PADataType == patype.PA_ENC_TIMESTAMP {
				ts = &req.PAData[i]
			}
		}
		if ts == nil {
			offer := kn.offerEtypes
			if offer == nil {
				for _, key := range ckeys {
					offer = append(offer, key.KeyType)
				}
			}
			var info types.ETypeInfo2
			for _, e := range offer {
				info = append(info, types.ETypeInfo2Entry{EType: e, Salt: testRealm + "hostprimary.example"})
			}
			ib, _ := asn1.Marshal(info)
			md, _ := asn1.Marshal(types.PADataSequence{
				{PADataType: 136, PADataValue: []byte{}}, // PA-FX-FAST, as MIT sends
				{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: []byte{}},
				{PADataType: patype.PA_ETYPE_INFO2, PADataValue: ib},
			})
			return k.fail(krb5.ErrPreauthNeeded, md)
		}
		var ed types.EncryptedData
		if err := ed.Unmarshal(ts.PADataValue); err != nil {
			return k.fail(krb5.ErrPreauthFailed, nil)
		}
		key := keyFor(ckeys, ed.EType)
		if key == nil {
			return k.fail(krb5.ErrPreauthFailed, nil)
		}
		plain, err := kcrypto.Decrypt(ed, *key, keyusage.AS_REQ_PA_ENC_TIMESTAMP)
		if err != nil {
			return k.fail(krb5.ErrPreauthFailed, nil)
		}
		var pts types.PAEncTSEnc
		if _, err := asn1.Unmarshal(plain, &pts); err != nil {
			return k.fail(krb5.ErrPreauthFailed, nil)
		}
		if d := pts.PATimestamp.Sub(time.Now().Add(kn.clockOffset)); d > time.Minute || d < -time.Minute {
			k.t.Errorf("fake KDC: PA-ENC-TIMESTAMP off by %v", d)
			return k.fail(krb5.ErrSkew, nil)
		}
	}
	var replyKey *types.EncryptionKey
	for _, e := range req.ReqBody.EType {
		if replyKey = keyFor(ckeys, e); replyKey != nil {
			break
		}
	}
	if replyKey == nil {
		return k.fail(krb5.ErrEtypeNoSupp, nil)
	}
	sessEtype := kn.sessionEtype
	if sessEtype == 0 {
		// MIT's select_session_keytype: the first requested enctype the
		// KDC allows (des3 and rc4 only with allow_des3 / allow_rc4, as in
		// MIT 1.21 and Debian's 1.20.1) that the server supports, which
		// aes256-cts-hmac-sha1-96 always is assumed to.
		for _, e := range req.ReqBody.EType {
			if e == int32(krb5.EnctypeDES3CBCSHA1) && !kn.allowDES3 || e == int32(krb5.EnctypeRC4HMAC) && !kn.allowRC4 {
				continue
			}
			if keyFor(skeys, e) != nil || e == int32(krb5.EnctypeAES256CTSSHA1) {
				sessEtype = e
				break
			}
		}
		if sessEtype == 0 {
			return k.fail(krb5.ErrEtypeNoSupp, nil)
		}
	}
	sess, err := kcrypto.RandomKey(sessEtype, rand.Reader)
	if err != nil {
		sess = types.EncryptionKey{KeyType: sessEtype, KeyValue: make([]byte, 32)}
	}
	skey := skeys[0]
	now := time.Now().Add(kn.clockOffset).UTC().Truncate(time.Second)
	end := req.ReqBody.Till
	if lim := now.Add(10 * time.Hour); end.After(lim) {
		end = lim
	}
	tflags := types.NewKrbFlags()
	types.SetFlag(&tflags, flags.Initial)
	etp := messages.EncTicketPart{
		Flags: tflags, Key: sess, CRealm: req.ReqBody.Realm, CName: req.ReqBody.CName,
		AuthTime: now, StartTime: now, EndTime: end,
	}
	tb, err := asn1.Marshal(etp)
	if err != nil {
		k.t.Fatal(err)
	}
	tb = asn1tools.AddASNAppTag(tb, asnAppTag.EncTicketPart)
	ted, err := kcrypto.Encrypt(skey, keyusage.KDC_REP_TICKET, tb)
	ted.KVNO = 3
	if err != nil {
		k.t.Fatal(err)
	}
	tkt := messages.Ticket{TktVNO: iana.PVNO, Realm: req.ReqBody.Realm, SName: req.ReqBody.SName, EncPart: ted}

	rflags := types.NewKrbFlags()
	types.SetFlag(&rflags, flags.Initial)
	enc := messages.EncKDCRepPart{
		Key:      sess,
		LastReqs: []messages.LastReq{{LRType: 0, LRValue: now}},
		Nonce:    req.ReqBody.Nonce,
		Flags:    rflags,
		AuthTime: now, StartTime: now, EndTime: end,
		SRealm: req.ReqBody.Realm, SName: req.ReqBody.SName,
	}
	if req.PAData.Contains(paReqEncPARep) && kn.encPARep != "none" {
		types.SetFlag(&enc.Flags, flags.EncPARep)
		et := kcrypto.Lookup(replyKey.KeyType).EType
		sum, err := et.GetChecksumHash(replyKey.KeyValue, raw, keyusage.KEY_USAGE_AS_REQ)
		if err != nil {
			k.t.Fatal(err)
		}
		if kn.encPARep == "badsum" {
			sum[0] ^= 1
		}
		cb, _ := asn1.Marshal(types.PAReqEncPARep{ChksumType: et.GetHashID(), Chksum: sum})
		if kn.encPARep != "noflagdata" {
			enc.EncPAData = types.PADataSequence{
				{PADataType: paReqEncPARep, PADataValue: cb},
				{PADataType: 136, PADataValue: []byte{}},
			}
		}
	}
	rep := messages.ASRep{KDCRepFields: messages.KDCRepFields{
		PVNO: iana.PVNO, MsgType: msgtype.KRB_AS_REP, CRealm: req.ReqBody.Realm, CName: req.ReqBody.CName, Ticket: tkt,
	}}
	if kn.tamper != nil {
		kn.tamper(&enc, &rep)
	}
	eb, err := enc.Marshal()
	if err != nil {
		k.t.Fatal(err)
	}
	key := *replyKey
	if kn.replyKey != nil {
		key = *kn.replyKey
	}
	if rep.EncPart, err = kcrypto.Encrypt(key, keyusage.AS_REP_ENCPART, eb); err != nil {
		k.t.Fatal(err)
	}
	rep.EncPart.KVNO = 2
	out, err := rep.Marshal()
	if err != nil {
		k.t.Fatal(err)
	}
	return out
}

var (
	testClientPrinc = krb5.HostPrincipal("host", "primary.example", testRealm)
	testServerPrinc = krb5.HostPrincipal("host", "replica.example", testRealm)
)

// newKeytab returns a keytab with entries for p: one per enctype at kvno.
func newKeytab(t *testing.T, p krb5.Principal, kvno uint8, etypes ...krb5.Enctype) *keytab.Keytab {
	t.Helper()
	kt := keytab.New()
	addKeys(t, kt, p, kvno, etypes...)
	return kt
}

func addKeys(t *testing.T, kt *keytab.Keytab, p krb5.Principal, kvno uint8, etypes ...krb5.Enctype) {
	t.Helper()
	for _, e := range etypes {
		pw := fmt.Sprintf("secret-%s-%d-%d", p, kvno, e)
		more, err := krbtest.Keytab(krbtest.Key{Principal: p, KVNO: kvno, Enctype: e, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		kt.Entries = append(kt.Entries, more.Entries...)
	}
}

func serverKeytab(t *testing.T) *keytab.Keytab {
	return newKeytab(t, testServerPrinc, 3, 18, 17, 20, 19, 16, 23)
}

// openTestTicket opens a ticket with the service keytab.
func openTestTicket(t *testing.T, kt *keytab.Keytab, tkt messages.Ticket) messages.EncTicketPart {
	t.Helper()
	key, err := krbauth.FindKey(kt, testServerPrinc, krbauth.AnyKVNO, krb5.Enctype(tkt.EncPart.EType))
	if err != nil {
		t.Fatal(err)
	}
	if err := tkt.Decrypt(key.Key); err != nil {
		t.Fatal(err)
	}
	return tkt.DecryptedEncPart
}

func TestGetInitialCredentialsLikeKprop(t *testing.T) {
	ckt := newKeytab(t, testClientPrinc, 2, 17, 20)
	skt := serverKeytab(t)
	kdc := newASKDC(t, ckt, skt)
	k := testClient(t, kdc.conf(""))
	start := time.Now()
	creds, err := k.GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc)
	if err != nil {
		t.Fatal(err)
	}
	reqs := kdc.requests()
	if len(reqs) != 1 || kdc.srv.requests()[0] != "udp" {
		t.Fatalf("requests: %d over %q", len(reqs), kdc.srv.requests())
	}
	body := reqs[0].ReqBody
	if body.CName.NameType != nametype.KRB_NT_SRV_HST || !slices.Equal(body.CName.NameString, []string{"host", "primary.example"}) {
		t.Errorf("cname %+v", body.CName)
	}
	if body.SName.NameType != nametype.KRB_NT_PRINCIPAL || !slices.Equal(body.SName.NameString, []string{"host", "replica.example"}) {
		t.Errorf("sname %+v (MIT re-parses in_tkt_service: NT-PRINCIPAL)", body.SName)
	}
	if body.Realm != testRealm || len(body.Addresses) != 0 || !body.From.IsZero() || !body.RTime.IsZero() {
		t.Errorf("realm %q addresses %v from %v rtime %v", body.Realm, body.Addresses, body.From, body.RTime)
	}
	if got := fmt.Sprintf("% x", body.KDCOptions.Bytes); got != "00 00 00 10" {
		t.Errorf("kdc-options %s, want renewable-ok only", got)
	}
	if d := body.Till.Sub(start); d < 24*time.Hour-2*time.Second || d > 24*time.Hour+2*time.Second {
		t.Errorf("till = now + %v", d)
	}
	// Keytab enctypes first, in default order; des3 and rc4, not allowed
	// as session keys, last.
	if !slices.Equal(body.EType, []int32{17, 20, 18, 19, 25, 26, 16, 23}) {
		t.Errorf("etypes %v", body.EType)
	}
	var pas []int32
	for _, pa := range reqs[0].PAData {
		pas = append(pas, pa.PADataType)
		if len(pa.PADataValue) != 0 {
			t.Errorf("padata %d not empty", pa.PADataType)
		}
	}
	if !slices.Equal(pas, []int32{150, 149}) {
		t.Errorf("padata types %v, want PA-AS-FRESHNESS, PA-REQ-ENC-PA-REP", pas)
	}
	if body.Nonce < 0 || body.Nonce > 0x7fffffff {
		t.Errorf("nonce %d", body.Nonce)
	}
	// The credentials: the service can open the ticket and finds the same session key.
	if !creds.Client.Equal(testClientPrinc) || !creds.Server.Equal(testServerPrinc) {
		t.Errorf("client %v server %v", creds.Client, creds.Server)
	}
	if creds.SessionKey.KeyType != 17 || creds.Ticket.EncPart.EType != 18 {
		t.Errorf("session etype %d ticket etype %d", creds.SessionKey.KeyType, creds.Ticket.EncPart.EType)
	}
	etp := openTestTicket(t, skt, creds.Ticket)
	if string(etp.Key.KeyValue) != string(creds.SessionKey.KeyValue) {
		t.Error("ticket session key differs from the reply's")
	}
	if creds.EndTime.Before(creds.StartTime) || creds.AuthTime.IsZero() {
		t.Errorf("times %v %v %v", creds.AuthTime, creds.StartTime, creds.EndTime)
	}
}

func TestGetInitialCredentialsPreauth(t *testing.T) {
	ckt := newKeytab(t, testClientPrinc, 5, 17, 18)
	kdc := newASKDC(t, ckt, serverKeytab(t))
	kdc.set(func(n *asKnobs) {
		n.requirePreauth = true
		n.offerEtypes = []int32{17, 18} // request order (18 first) decides, not the KDC's
		n.clockOffset = 3 * time.Hour   // kdc_timesync: the timestamp follows the KDC clock
	})
	k := testClient(t, kdc.conf(""))
	creds, err := k.GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc)
	if err != nil {
		t.Fatal(err)
	}
	reqs := kdc.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	if reqs[0].ReqBody.Nonce == reqs[1].ReqBody.Nonce {
		t.Error("nonce reused")
	}
	var ts *types.PAData
	var types2 []int32
	for i, pa := range reqs[1].PAData {
		types2 = append(types2, pa.PADataType)
		if pa.PADataType == patype.PA_ENC_TIMESTAMP {
			ts = &reqs[1].PAData[i]
		}
	}
	if !slices.Equal(types2, []int32{2, 150, 149}) || ts == nil {
		t.Fatalf("padata %v", types2)
	}
	var ed types.EncryptedData
	if err := ed.Unmarshal(ts.PADataValue); err != nil {
		t.Fatal(err)
	}
	if ed.EType != 18 || ed.KVNO != 0 {
		t.Errorf("PA-ENC-TIMESTAMP etype %d kvno %d", ed.EType, ed.KVNO)
	}
	// The till of the second request also uses the KDC's clock.
	if d := time.Until(reqs[1].ReqBody.Till); d < 27*time.Hour-time.Minute {
		t.Errorf("till after preauth = now + %v, want KDC time + 24h", d)
	}
	if creds.SessionKey.KeyType != 18 {
		t.Errorf("session key %d", creds.SessionKey.KeyType)
	}

	// Without kdc_timesync the local clock is used and the fake KDC complains.
	kdc.set(func(n *asKnobs) { n.clockOffset = 0 })
	k = testClient(t, kdc.conf("kdc_timesync = 0"))
	if _, err := k.GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc); err != nil {
		t.Errorf("kdc_timesync = 0: %v", err)
	}

	// The KDC offers only an enctype not requested.
	kdc.set(func(n *asKnobs) { n.offerEtypes = []int32{int32(krb5.EnctypeRC4HMACExp)} })
	k = testClient(t, kdc.conf(""))
	if _, err := k.GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc); !errors.Is(err, ErrNoSupportedEnctypes) {
		t.Errorf("offer arcfour-hmac-exp only: %v", err)
	}
	// Preauth with a key the KDC does not have.
	kdc.set(func(n *asKnobs) { n.offerEtypes = nil })
	other := newKeytab(t, testClientPrinc, 6, 17, 18)
	_, err = k.GetInitialCredentials(context.Background(), other, testClientPrinc, testServerPrinc)
	var ke *KDCError
	if !errors.As(err, &ke) || ke.Code != krb5.ErrPreauthFailed || err.Error() != "Preauthentication failed" {
		t.Errorf("wrong key: %v", err)
	}
}

func TestGetInitialCredentialsRetriesOverTCP(t *testing.T) {
	ckt := newKeytab(t, testClientPrinc, 1, 18)
	kdc := newASKDC(t, ckt, serverKeytab(t))
	kdc.set(func(n *asKnobs) { n.tooBigOverUDP = true })
	k := testClient(t, kdc.conf(""))
	if _, err := k.GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc); err != nil {
		t.Fatal(err)
	}
	if got := kdc.srv.requests(); !slices.Equal(got, []string{"udp", "tcp"}) {
		t.Errorf("transports %q", got)
	}
	kdc.mu.Lock()
	same := string(kdc.raws[0]) == string(kdc.raws[1])
	kdc.mu.Unlock()
	if !same {
		t.Error("the TCP retry is not the same request")
	}
}

func TestGetInitialCredentialsRetriesWithoutInfoPadata(t *testing.T) {
	ckt := newKeytab(t, testClientPrinc, 1, 18)
	kdc := newASKDC(t, ckt, serverKeytab(t))
	kdc.set(func(n *asKnobs) { n.rejectInfoPA = true })
	k := testClient(t, kdc.conf(""))
	if _, err := k.GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc); err != nil {
		t.Fatal(err)
	}
	if reqs := kdc.requests(); len(reqs) != 2 || len(reqs[1].PAData) != 0 {
		t.Errorf("%d requests", len(reqs))
	}
}

func TestGetInitialCredentialsRejectsBadReplies(t *testing.T) {
	ckt := newKeytab(t, testClientPrinc, 1, 18)
	skt := serverKeytab(t)
	wrongKey, _ := krbauth.FindKey(newKeytab(t, testClientPrinc, 9, 18), testClientPrinc, krbauth.AnyKVNO, 18)
	tests := []struct {
		name  string
		setup func(*asKnobs)
		want  error
	}{
		{"wrong key", func(k *asKnobs) { k.replyKey = &wrongKey.Key }, krb5.ErrBadIntegrity},
		{"nonce mismatch", func(k *asKnobs) {
			k.tamper = func(e *messages.EncKDCRepPart, _ *messages.ASRep) { e.Nonce++ }
		}, ErrKDCReplyModified},
		{"other server in reply", func(k *asKnobs) {
			k.tamper = func(e *messages.EncKDCRepPart, _ *messages.ASRep) { e.SName.NameString = []string{"host", "evil"} }
		}, ErrKDCReplyModified},
		{"other server in ticket", func(k *asKnobs) {
			k.tamper = func(_ *messages.EncKDCRepPart, r *messages.ASRep) {
				r.Ticket.SName.NameString = []string{"host", "evil"}
			}
		}, ErrKDCReplyModified},
		{"other client", func(k *asKnobs) {
			k.tamper = func(_ *messages.EncKDCRepPart, r *messages.ASRep) { r.CName.NameString = []string{"host", "evil"} }
		}, ErrKDCReplyModified},
		{"other realm", func(k *asKnobs) {
			k.tamper = func(e *messages.EncKDCRepPart, _ *messages.ASRep) { e.SRealm = "EVIL" }
		}, ErrKDCReplyModified},
		{"end time beyond till", func(k *asKnobs) {
			k.tamper = func(e *messages.EncKDCRepPart, _ *messages.ASRep) { e.EndTime = e.EndTime.Add(48 * time.Hour) }
		}, ErrKDCReplyModified},
		{"bad enc-pa-rep checksum", func(k *asKnobs) { k.encPARep = "badsum" }, ErrKDCReplyModified},
		{"enc-pa-rep flag without padata", func(k *asKnobs) { k.encPARep = "noflagdata" }, ErrKDCReplyModified},
		{"des3 session key without allow_des3", func(k *asKnobs) { k.sessionEtype = int32(krb5.EnctypeDES3CBCSHA1) }, krb5.ErrUnsupportedEnctype},
		{"unknown session key enctype", func(k *asKnobs) { k.sessionEtype = 1 }, krb5.ErrUnsupportedEnctype},
		{"rc4 session key without allow_rc4", func(k *asKnobs) { k.sessionEtype = int32(krb5.EnctypeRC4HMAC) }, krb5.ErrUnsupportedEnctype},
		{"server unknown", func(k *asKnobs) { k.errorCode = krb5.ErrServerUnknown }, krb5.ErrServerUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kdc := newASKDC(t, ckt, skt)
			kdc.set(tt.setup)
			k := testClient(t, kdc.conf(""))
			creds, err := k.GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, %v; want %v", creds, err, tt.want)
			}
		})
	}
	// Without the enc-pa-rep answer (a KDC older than 1.12) the reply is fine.
	kdc := newASKDC(t, ckt, skt)
	kdc.set(func(n *asKnobs) { n.encPARep = "none" })
	if _, err := testClient(t, kdc.conf("")).GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc); err != nil {
		t.Errorf("no enc-pa-rep: %v", err)
	}
	// With kdc_timesync = 0 a KDC clock far off is a skew error.
	kdc.set(func(n *asKnobs) { n.clockOffset = time.Hour })
	_, err := testClient(t, kdc.conf("kdc_timesync = 0")).GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc)
	if !errors.Is(err, ErrKDCReplySkew) {
		t.Errorf("skew: %v", err)
	}
}

func TestKDCErrorText(t *testing.T) {
	ckt := newKeytab(t, testClientPrinc, 1, 18)
	kdc := newASKDC(t, ckt, keytab.New())
	_, err := testClient(t, kdc.conf("")).GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc)
	var ke *KDCError
	if !errors.As(err, &ke) || ke.Code != krb5.ErrServerUnknown || ke.Text != "fake KDC says no" {
		t.Fatalf("err = %#v", err)
	}
	if err.Error() != "Server not found in Kerberos database" || krbauth.CodeOf(err) != krb5.ErrServerUnknown {
		t.Errorf("text %q code %d", err.Error(), krbauth.CodeOf(err))
	}
	kdc = newASKDC(t, keytab.New(), keytab.New())
	_, err = testClient(t, kdc.conf("")).GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc)
	if err == nil || err.Error() != "Client 'host/primary.example@TEST.REALM' not found in Kerberos database" {
		t.Errorf("client unknown: %v", err)
	}
}

// Long-term keys of every enctype are used as MIT uses them: a des3, rc4
// or camellia keytab gets credentials, the KDC choosing the session key.
// Only the session key is gated (allow_des3, allow_rc4).
func TestGetInitialCredentialsEnctypePolicy(t *testing.T) {
	ctx := context.Background()
	skt := serverKeytab(t)
	for _, tc := range []struct {
		keytab      krb5.Enctype
		conf        string
		allowDES3   bool // the KDC's allow_des3
		allowRC4    bool // the KDC's allow_rc4
		wantEtypes  []int32
		wantSession krb5.Enctype
	}{
		// des3 host keys, no allow_des3 anywhere (MIT 1.21's des3 pass):
		// des3 decrypts the reply, the KDC issues an aes session key.
		{krb5.EnctypeDES3CBCSHA1, "", false, false, []int32{18, 17, 20, 19, 25, 26, 16, 23}, krb5.EnctypeAES256CTSSHA1},
		{krb5.EnctypeRC4HMAC, "", false, false, []int32{18, 17, 20, 19, 25, 26, 23, 16}, krb5.EnctypeAES256CTSSHA1},
		{krb5.EnctypeDES3CBCSHA1, "permitted_enctypes = des3 aes256-sha1", false, false, []int32{18, 16}, krb5.EnctypeAES256CTSSHA1},
		// Our side does not allow des3, the KDC does: it still picks aes.
		{krb5.EnctypeDES3CBCSHA1, "", true, false, []int32{18, 17, 20, 19, 25, 26, 16, 23}, krb5.EnctypeAES256CTSSHA1},
		// Both allow it (MIT 1.22's des3 pass): a des3 session key, the
		// keytab's enctype first as in MIT (rc4, still gated, last).
		{krb5.EnctypeDES3CBCSHA1, "allow_des3 = true", true, false, []int32{16, 18, 17, 20, 19, 25, 26, 23}, krb5.EnctypeDES3CBCSHA1},
		{krb5.EnctypeRC4HMAC, "allow_rc4 = true\npermitted_enctypes = rc4", false, true, []int32{23}, krb5.EnctypeRC4HMAC},
		{krb5.EnctypeCamellia256CTSCMAC, "", false, false, []int32{26, 18, 17, 20, 19, 25, 16, 23}, krb5.EnctypeAES256CTSSHA1},
		{krb5.EnctypeCamellia128CTSCMAC, "permitted_enctypes = camellia", false, false, []int32{25, 26}, krb5.EnctypeCamellia128CTSCMAC},
	} {
		t.Run(fmt.Sprintf("%s/%q/kdc-des3=%v,rc4=%v", tc.keytab, tc.conf, tc.allowDES3, tc.allowRC4), func(t *testing.T) {
			ckt := newKeytab(t, testClientPrinc, 1, tc.keytab)
			srv := skt
			if tc.keytab == krb5.EnctypeCamellia128CTSCMAC || tc.keytab == krb5.EnctypeCamellia256CTSCMAC {
				srv = newKeytab(t, testServerPrinc, 3, 18, krb5.EnctypeCamellia128CTSCMAC)
			}
			kdc := newASKDC(t, ckt, srv)
			kdc.set(func(n *asKnobs) { n.allowDES3, n.allowRC4 = tc.allowDES3, tc.allowRC4 })
			creds, err := testClient(t, kdc.conf(tc.conf)).GetInitialCredentials(ctx, ckt, testClientPrinc, testServerPrinc)
			if err != nil {
				t.Fatal(err)
			}
			if body := kdc.requests()[0].ReqBody; !slices.Equal(body.EType, tc.wantEtypes) {
				t.Errorf("etypes %v, want %v", body.EType, tc.wantEtypes)
			}
			if krb5.Enctype(creds.SessionKey.KeyType) != tc.wantSession {
				t.Errorf("session key %s, want %s", krb5.Enctype(creds.SessionKey.KeyType), tc.wantSession)
			}
		})
	}

	// The KDC can issue nothing but a des3 session key, which this side
	// does not allow: refused, naming the enctype and the switch.
	des3 := newKeytab(t, testClientPrinc, 1, krb5.EnctypeDES3CBCSHA1)
	kdc := newASKDC(t, des3, newKeytab(t, testServerPrinc, 3, krb5.EnctypeDES3CBCSHA1))
	kdc.set(func(n *asKnobs) { n.allowDES3 = true })
	_, err := testClient(t, kdc.conf("permitted_enctypes = des3")).GetInitialCredentials(ctx, des3, testClientPrinc, testServerPrinc)
	if !errors.Is(err, krb5.ErrUnsupportedEnctype) || !strings.Contains(err.Error(), "des3-cbc-sha1") || !strings.Contains(err.Error(), "allow_des3") {
		t.Errorf("des3 session key without allow_des3: %v", err)
	}
	// And a KDC that will not issue it either (Debian's without
	// allow_des3) says so, with MIT's message.
	kdc.set(func(n *asKnobs) { n.allowDES3 = false })
	_, err = testClient(t, kdc.conf("permitted_enctypes = des3")).GetInitialCredentials(ctx, des3, testClientPrinc, testServerPrinc)
	var ke *KDCError
	if !errors.As(err, &ke) || ke.Code != krb5.ErrEtypeNoSupp || err.Error() != "KDC has no support for encryption type" {
		t.Errorf("des3 only, KDC refuses: %v", err)
	}

	// A keytab of an enctype the configuration does not list: the request
	// goes out as MIT's would and the KDC refuses it.
	aes128 := newKeytab(t, testClientPrinc, 1, 17)
	kdc = newASKDC(t, aes128, skt)
	_, err = (&KDCClient{Config: mustParse(t, kdc.conf("default_tkt_enctypes = aes256-cts"))}).GetInitialCredentials(ctx, aes128, testClientPrinc, testServerPrinc)
	if !errors.As(err, &ke) || ke.Code != krb5.ErrEtypeNoSupp {
		t.Errorf("aes128 keytab, aes256-only config: %v", err)
	}
	if _, err := (&KDCClient{Config: mustParse(t, kdc.conf(""))}).GetInitialCredentials(ctx, aes128, krb5.HostPrincipal("host", "nobody", testRealm), testServerPrinc); !errors.Is(err, krbauth.ErrKeyNotFound) || !strings.Contains(err.Error(), "Keytab contains no suitable keys for host/nobody@TEST.REALM") {
		t.Errorf("no keys: %v", err)
	}
}

func TestGetInitialCredentialsHighestKVNO(t *testing.T) {
	ckt := newKeytab(t, testClientPrinc, 1, 18)
	addKeys(t, ckt, testClientPrinc, 2, 17)
	kdc := newASKDC(t, newKeytab(t, testClientPrinc, 2, 17), serverKeytab(t))
	creds, err := testClient(t, kdc.conf("")).GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc)
	if err != nil {
		t.Fatal(err)
	}
	if et := kdc.requests()[0].ReqBody.EType; et[0] != 17 || et[1] != 18 {
		t.Errorf("etypes %v: only kvno 2's aes128 comes first", et)
	}
	if creds.SessionKey.KeyType != 17 {
		t.Errorf("session %d", creds.SessionKey.KeyType)
	}
}

func TestGetInitialCredentialsOptionsFromConfig(t *testing.T) {
	ckt := newKeytab(t, testClientPrinc, 1, 18)
	kdc := newASKDC(t, ckt, serverKeytab(t))
	conf := "forwardable = true\nproxiable = true\nrenew_lifetime = 7d\nticket_lifetime = 10h\n" + testRealm + " = {\n canonicalize = true\n}\n"
	if _, err := testClient(t, kdc.conf(conf)).GetInitialCredentials(context.Background(), ckt, testClientPrinc, testServerPrinc); err != nil {
		t.Fatal(err)
	}
	body := kdc.requests()[0].ReqBody
	// forwardable | proxiable | renewable | canonicalize; renewable-ok cleared.
	if got := fmt.Sprintf("% x", body.KDCOptions.Bytes); got != "50 81 00 00" {
		t.Errorf("kdc-options %s", got)
	}
	if d := body.RTime.Sub(body.Till); d < 7*24*time.Hour-10*time.Hour-time.Minute || d > 7*24*time.Hour {
		t.Errorf("rtime - till = %v", d)
	}
	if d := time.Until(body.Till); d > 10*time.Hour || d < 10*time.Hour-time.Minute {
		t.Errorf("till = now + %v", d)
	}
}

func TestGetInitialCredentialsFallbackClient(t *testing.T) {
	// dns_canonicalize_hostname = fallback: kprop's client name stays raw
	// until the keytab lookup picks the candidate it has keys for.
	real := krb5.HostPrincipal("host", "primary.example", testRealm)
	ckt := newKeytab(t, real, 1, 18)
	kdc := newASKDC(t, ckt, serverKeytab(t))
	k := testClient(t, kdc.conf("dns_canonicalize_hostname = fallback\nqualify_shortname = \"\""))
	res := hostResolver{"PRIMARY": {"primary.example", netip.MustParseAddr("192.0.2.1")}}
	k.Canonicalizer = &krbconf.Canonicalizer{Config: k.Config, Resolver: res}
	raw := krb5.HostPrincipal("host", "PRIMARY", testRealm)
	creds, err := k.GetInitialCredentials(context.Background(), ckt, raw, testServerPrinc)
	if err != nil {
		t.Fatal(err)
	}
	if got := kdc.requests()[0].ReqBody.CName.NameString; !slices.Equal(got, []string{"host", "primary.example"}) {
		t.Errorf("cname %q", got)
	}
	if !creds.Client.Equal(real) {
		t.Errorf("client %v", creds.Client)
	}
}

// hostResolver answers forward lookups from a table and has no reverse
// names.
type hostResolver map[string]struct {
	canon string
	addr  netip.Addr
}

func (r hostResolver) LookupCanonicalName(_ context.Context, host string) (string, []netip.Addr, error) {
	h, ok := r[host]
	if !ok {
		return "", nil, errors.New("no such host")
	}
	return h.canon, []netip.Addr{h.addr}, nil
}

func (r hostResolver) LookupAddrName(context.Context, netip.Addr) (string, error) {
	return "", errors.New("no PTR")
}

func ExampleKDCClient_GetInitialCredentials() {
	cfg, _ := krbconf.ParseConfig(strings.NewReader("[libdefaults]\ndefault_realm = EXAMPLE.ORG\n"), "krb5.conf")
	kt := keytab.New() // normally keytab.Load("/etc/krb5.keytab")
	client := krb5.HostPrincipal("host", "primary.example.org", "EXAMPLE.ORG")
	server := krb5.HostPrincipal("host", "replica.example.org", "EXAMPLE.ORG")
	k := &KDCClient{Config: cfg}
	_, err := k.GetInitialCredentials(context.Background(), kt, client, server)
	fmt.Println(err)
	// Output: Keytab contains no suitable keys for host/primary.example.org@EXAMPLE.ORG: Key table entry not found
}
