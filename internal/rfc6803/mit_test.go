package rfc6803_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/internal/rfc6803"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// These tests prove the enctypes against MIT krb5's own programs: keys MIT
// derives from passwords, and a KDC that decrypts and checks what this
// package produces and whose replies and tickets this package decrypts.

// camelliaRealm is a throwaway realm whose keys (krbtgt's too) are
// camellia256-cts-cmac and camellia128-cts-cmac.
func camelliaRealm(t *testing.T) *mitrealm.Host {
	t.Helper()
	mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "ktutil")
	return mitrealm.NewPrimary(t, mitrealm.Options{
		MasterKeyType:     "camellia256-cts-cmac",
		SupportedEnctypes: "camellia256-cts-cmac:normal camellia128-cts-cmac:normal",
		LibDefaults: []string{
			"permitted_enctypes = camellia256-cts-cmac camellia128-cts-cmac",
			"default_tkt_enctypes = camellia256-cts-cmac camellia128-cts-cmac",
			"default_tgs_enctypes = camellia256-cts-cmac camellia128-cts-cmac",
		},
	})
}

// normalSalt is the default salt of a principal: the realm followed by
// the name components.
func normalSalt(realm, name string) string {
	return realm + strings.ReplaceAll(name, "/", "")
}

func etypeOf(t *testing.T, id int32) rfc6803.EType {
	t.Helper()
	e, ok := rfc6803.Lookup(id)
	if !ok {
		t.Fatalf("enctype %d is not camellia", id)
	}
	return e
}

// readKeytab returns the keys of a keytab file by enctype.
func readKeytab(t *testing.T, path string) map[int32][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kt := keytab.New()
	if err := kt.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	keys := map[int32][]byte{}
	for _, e := range kt.Entries {
		keys[e.Key.KeyType] = e.Key.KeyValue
	}
	return keys
}

// MIT's string-to-key, as kadmin.local stores a password's keys in the
// database and as ktutil's addent -password computes them, equals
// EType.StringToKey with the default parameters.
func TestMITStringToKey(t *testing.T) {
	h := camelliaRealm(t)
	for _, tc := range []struct{ name, password string }{
		{"alice", "correct horse battery staple"},
		{"svc/host.example.org", "p\u00e4ssw\u00f6rd-with-UTF-8"},
		{"x", ""}, // ktutil only; kadmin refuses an empty password
	} {
		salt := normalSalt(h.Realm, tc.name)
		want := map[int32][]byte{}
		for _, id := range []int32{rfc6803.EnctypeCamellia128CTSCMAC, rfc6803.EnctypeCamellia256CTSCMAC} {
			k, err := etypeOf(t, id).StringToKey(tc.password, salt, "")
			if err != nil {
				t.Fatal(err)
			}
			want[id] = k
		}
		check := func(what string, got map[int32][]byte) {
			t.Helper()
			for id, k := range want {
				if !bytes.Equal(got[id], k) {
					t.Errorf("%s %s enctype %d: MIT key %x, ours %x", tc.name, what, id, got[id], k)
				}
			}
		}

		if tc.password != "" {
			h.AddPrincipal(t, tc.name, tc.password)
			kt := filepath.Join(h.Dir, "kadmin-"+strings.ReplaceAll(tc.name, "/", "_")+".keytab")
			h.Ktadd(t, kt, tc.name)
			check("kadmin.local addprinc -pw", readKeytab(t, kt))
		}

		kt := filepath.Join(h.Dir, "ktutil-"+strings.ReplaceAll(tc.name, "/", "_")+".keytab")
		script := ""
		for _, e := range []string{"camellia128-cts-cmac", "camellia256-cts-cmac"} {
			script += fmt.Sprintf("addent -password -p %s@%s -k 1 -e %s\n%s\n", tc.name, h.Realm, e, tc.password)
		}
		script += "wkt " + kt + "\nquit\n"
		h.RunInput(t, script, "ktutil")
		check("ktutil addent -password", readKeytab(t, kt))
	}
}

// kdcExchange sends one request to the KDC over TCP and returns the reply.
func kdcExchange(t *testing.T, port int, req []byte) []byte {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(req)))
	if _, err := conn.Write(append(msg, req...)); err != nil {
		t.Fatal(err)
	}
	var n [4]byte
	if _, err := io.ReadFull(conn, n[:]); err != nil {
		t.Fatal(err)
	}
	rep := make([]byte, binary.BigEndian.Uint32(n[:]))
	if _, err := io.ReadFull(conn, rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// failOnKRBError fails the test if rep is a KRB-ERROR.
func failOnKRBError(t *testing.T, h *mitrealm.Host, what string, rep []byte) {
	t.Helper()
	var ke messages.KRBError
	if ke.Unmarshal(rep) == nil {
		t.Fatalf("%s: the KDC answered %v\nKDC log:\n%s", what, ke.Error(), h.KDCLog(t))
	}
}

func nonce(t *testing.T) int {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1<<31-1))
	if err != nil {
		t.Fatal(err)
	}
	return int(n.Int64())
}

// encrypt returns an EncryptedData of plain under key for usage.
func encrypt(t *testing.T, e rfc6803.EType, key, plain []byte, usage uint32) types.EncryptedData {
	t.Helper()
	_, ct, err := e.EncryptMessage(key, plain, usage)
	if err != nil {
		t.Fatal(err)
	}
	return types.EncryptedData{EType: e.GetETypeID(), Cipher: ct}
}

// encryptDER is encrypt, DER-encoded.
func encryptDER(t *testing.T, e rfc6803.EType, key, plain []byte, usage uint32) []byte {
	t.Helper()
	ed := encrypt(t, e, key, plain, usage)
	b, err := ed.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decrypt decrypts an EncryptedData that must be of a camellia enctype.
func decrypt(t *testing.T, what string, ed types.EncryptedData, key []byte, usage uint32) []byte {
	t.Helper()
	pt, err := etypeOf(t, ed.EType).DecryptMessage(key, ed.Cipher, usage)
	if err != nil {
		t.Fatalf("%s (enctype %d, usage %d): %v", what, ed.EType, usage, err)
	}
	return pt
}

// An AS exchange and a TGS exchange with MIT's KDC, for both enctypes,
// built from this package alone:
//
//   - the AS-REQ carries PA-ENC-TIMESTAMP encrypted by EncryptMessage
//     (usage 1) for a principal that requires preauthentication, so the
//     KDC only answers after decrypting it and checking its CMAC;
//   - the AS-REP's enc-part (usage 3) and the TGT (usage 2, krbtgt's key
//     as MIT extracts it) are decrypted by DecryptMessage;
//   - the TGS-REQ's AP-REQ authenticator is encrypted with the TGT session
//     key (usage 7) and carries a cmac-camellia checksum of the request
//     body (usage 6), which the KDC verifies;
//   - the TGS-REP's enc-part (usage 8) and the service ticket, under a key
//     from StringToKey, are decrypted, and the session keys agree.
func TestMITKDCExchanges(t *testing.T) {
	for _, tc := range []struct {
		client, service int32 // enctypes of the client's and the service's keys
	}{
		{rfc6803.EnctypeCamellia256CTSCMAC, rfc6803.EnctypeCamellia128CTSCMAC},
		{rfc6803.EnctypeCamellia128CTSCMAC, rfc6803.EnctypeCamellia256CTSCMAC},
	} {
		t.Run(fmt.Sprintf("client-%d-service-%d", tc.client, tc.service), func(t *testing.T) {
			testKDCExchanges(t, etypeOf(t, tc.client), etypeOf(t, tc.service))
		})
	}
}

func testKDCExchanges(t *testing.T, ce, se rfc6803.EType) {
	h := camelliaRealm(t)
	realm := h.Realm
	const clientPass, servicePass = "client password", "service password"
	h.Kadmin(t,
		fmt.Sprintf("addprinc -pw %q -e %s:normal +requires_preauth -clearpolicy bob", clientPass, ce.Name()),
		fmt.Sprintf("addprinc -pw %q -e %s:normal -clearpolicy svc/localhost", servicePass, se.Name()),
	)
	tgtKeytab := filepath.Join(h.Dir, "krbtgt.keytab")
	h.Ktadd(t, tgtKeytab, "krbtgt/"+realm)
	tgtKeys := readKeytab(t, tgtKeytab)
	h.StartKDC(t)

	clientKey, err := ce.StringToKey(clientPass, normalSalt(realm, "bob"), "")
	if err != nil {
		t.Fatal(err)
	}
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "bob")

	// AS exchange with an encrypted timestamp.
	ts, err := types.GetPAEncTSEncAsnMarshalled()
	if err != nil {
		t.Fatal(err)
	}
	encTS := encryptDER(t, ce, clientKey, ts, 1)
	asNonce := nonce(t)
	asReq := messages.ASReq{KDCReqFields: messages.KDCReqFields{
		PVNO:    5,
		MsgType: msgtype.KRB_AS_REQ,
		PAData:  types.PADataSequence{{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: encTS}},
		ReqBody: messages.KDCReqBody{
			KDCOptions: types.NewKrbFlags(),
			CName:      cname,
			Realm:      realm,
			SName:      types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", realm}},
			Till:       time.Now().Add(time.Hour).UTC().Truncate(time.Second),
			Nonce:      asNonce,
			EType:      []int32{ce.GetETypeID()},
		},
	}}
	req, err := asReq.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	rep := kdcExchange(t, h.KDCPort(), req)
	failOnKRBError(t, h, "AS-REQ with our PA-ENC-TIMESTAMP", rep)
	var asRep messages.ASRep
	if err := asRep.Unmarshal(rep); err != nil {
		t.Fatalf("AS-REP: %v", err)
	}
	if asRep.EncPart.EType != ce.GetETypeID() {
		t.Fatalf("AS-REP enc-part enctype %d, want %d", asRep.EncPart.EType, ce.GetETypeID())
	}
	var asPart messages.EncKDCRepPart
	if err := asPart.Unmarshal(decrypt(t, "AS-REP enc-part", asRep.EncPart, clientKey, 3)); err != nil {
		t.Fatal(err)
	}
	if asPart.Nonce != asNonce {
		t.Fatalf("AS-REP nonce %d, sent %d", asPart.Nonce, asNonce)
	}
	sessKey := asPart.Key
	sessE := etypeOf(t, sessKey.KeyType)
	t.Logf("AS: reply %s, ticket enctype %d, session %s", ce.Name(), asRep.Ticket.EncPart.EType, sessE.Name())

	var tgtPart messages.EncTicketPart
	tgtKey := tgtKeys[asRep.Ticket.EncPart.EType]
	if err := tgtPart.Unmarshal(decrypt(t, "TGT", asRep.Ticket.EncPart, tgtKey, 2)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tgtPart.Key.KeyValue, sessKey.KeyValue) || tgtPart.CName.PrincipalNameString() != "bob" {
		t.Fatalf("TGT holds session key %x for %s; the AS-REP gave %x", tgtPart.Key.KeyValue, tgtPart.CName.PrincipalNameString(), sessKey.KeyValue)
	}

	// TGS exchange: authenticator and checksum made here.
	tgsNonce := nonce(t)
	body := messages.KDCReqBody{
		KDCOptions: types.NewKrbFlags(),
		Realm:      realm,
		SName:      types.PrincipalName{NameType: nametype.KRB_NT_SRV_HST, NameString: []string{"svc", "localhost"}},
		Till:       time.Now().Add(time.Hour).UTC().Truncate(time.Second),
		Nonce:      tgsNonce,
		EType:      []int32{se.GetETypeID()},
	}
	bodyBytes, err := body.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sessE.GetChecksumHash(sessKey.KeyValue, bodyBytes, 6)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	auth := types.Authenticator{
		AVNO:   5,
		CRealm: realm,
		CName:  cname,
		Cksum:  types.Checksum{CksumType: sessE.GetHashID(), Checksum: sum},
		Cusec:  now.Nanosecond() / 1000,
		CTime:  now.Truncate(time.Second),
	}
	authBytes, err := auth.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	apReq := messages.APReq{
		PVNO:                   5,
		MsgType:                msgtype.KRB_AP_REQ,
		APOptions:              types.NewKrbFlags(),
		Ticket:                 asRep.Ticket,
		EncryptedAuthenticator: encrypt(t, sessE, sessKey.KeyValue, authBytes, 7),
	}
	apBytes, err := apReq.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tgsReq := messages.TGSReq{KDCReqFields: messages.KDCReqFields{
		PVNO:    5,
		MsgType: msgtype.KRB_TGS_REQ,
		PAData:  types.PADataSequence{{PADataType: patype.PA_TGS_REQ, PADataValue: apBytes}},
		ReqBody: body,
	}}
	if req, err = tgsReq.Marshal(); err != nil {
		t.Fatal(err)
	}
	rep = kdcExchange(t, h.KDCPort(), req)
	failOnKRBError(t, h, "TGS-REQ with our authenticator and checksum", rep)
	var tgsRep messages.TGSRep
	if err := tgsRep.Unmarshal(rep); err != nil {
		t.Fatalf("TGS-REP: %v", err)
	}
	var tgsPart messages.EncKDCRepPart
	if err := tgsPart.Unmarshal(decrypt(t, "TGS-REP enc-part", tgsRep.EncPart, sessKey.KeyValue, 8)); err != nil {
		t.Fatal(err)
	}
	if tgsPart.Nonce != tgsNonce {
		t.Fatalf("TGS-REP nonce %d, sent %d", tgsPart.Nonce, tgsNonce)
	}
	if tgsRep.Ticket.EncPart.EType != se.GetETypeID() {
		t.Fatalf("service ticket enctype %d, want %d", tgsRep.Ticket.EncPart.EType, se.GetETypeID())
	}
	serviceKey, err := se.StringToKey(servicePass, normalSalt(realm, "svc/localhost"), "")
	if err != nil {
		t.Fatal(err)
	}
	var svcPart messages.EncTicketPart
	if err := svcPart.Unmarshal(decrypt(t, "service ticket", tgsRep.Ticket.EncPart, serviceKey, 2)); err != nil {
		t.Fatal(err)
	}
	if svcPart.Key.KeyType != tgsPart.Key.KeyType || !bytes.Equal(svcPart.Key.KeyValue, tgsPart.Key.KeyValue) ||
		svcPart.CName.PrincipalNameString() != "bob" || svcPart.CRealm != realm {
		t.Fatalf("service ticket for %s@%s with key %d/%x; TGS-REP key %d/%x",
			svcPart.CName.PrincipalNameString(), svcPart.CRealm, svcPart.Key.KeyType, svcPart.Key.KeyValue,
			tgsPart.Key.KeyType, tgsPart.Key.KeyValue)
	}
	t.Logf("TGS: reply %s, ticket %s, session enctype %d", sessE.Name(), se.Name(), tgsPart.Key.KeyType)

	// A timestamp under the wrong key is refused: the KDC really checks.
	wrong := append([]byte(nil), clientKey...)
	wrong[0] ^= 1
	asReq.PAData[0].PADataValue = encryptDER(t, ce, wrong, ts, 1)
	if req, err = asReq.Marshal(); err != nil {
		t.Fatal(err)
	}
	var ke messages.KRBError
	if err := ke.Unmarshal(kdcExchange(t, h.KDCPort(), req)); err != nil {
		t.Fatalf("AS-REQ with a timestamp under the wrong key was not refused: %v", err)
	}
	t.Logf("wrong key: %v", ke.Error())
}
