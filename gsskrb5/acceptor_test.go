package gsskrb5

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// testAcceptor is the acceptor side of a context, built for the tests
// from the service key: it reads the AP-REQ as an acceptor would and
// answers with an AP-REP, then protects and checks tokens with the same
// token code, in the acceptor's role.
type testAcceptor struct {
	serviceKey types.EncryptionKey
	// subkeyType is the acceptor subkey's enctype; 0 means none is
	// asserted (the initiator's subkey protects everything).
	subkeyType int32
	seq        uint32

	// What the AP-REQ carried.
	apOptions     asn1.BitString
	authenticator types.Authenticator
	flags         Flags
	tok           tokenCtx
}

// newPair mints credentials for a ticket of the given session enctype and
// returns an initiator asking for flags and an acceptor that answers with
// an acceptor subkey of subkeyType (0: none).
func newPair(t testing.TB, session, subkeyType int32, flags Flags) (*Context, *testAcceptor) {
	t.Helper()
	svcKey, err := krbtest.SessionKey(krb5.Enctype(session))
	if err != nil {
		t.Fatal(err)
	}
	sk, err := krbtest.SessionKey(krb5.Enctype(session))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	client := krb5.HostPrincipal("kiprop", "replica.example", "EXAMPLE.TEST")
	server := krb5.HostPrincipal("kiprop", "primary.example", "EXAMPLE.TEST")
	creds, err := krbtest.CredentialsOf[krbauth.Credentials](krbtest.Ticket{
		Client: client, Server: server, ServiceKey: svcKey, KVNO: 1, SessionKey: sk,
		AuthTime: now, EndTime: now.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	ini, err := NewInitiator(creds, &Config{Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	return ini, &testAcceptor{serviceKey: svcKey, subkeyType: subkeyType, seq: 0x12345678}
}

// establish runs the context establishment between the pair.
func establish(t testing.TB, ini *Context, acc *testAcceptor) {
	t.Helper()
	tok, done, err := ini.InitSecContext(nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := acc.accept(tok)
	if err != nil {
		t.Fatal(err)
	}
	if done {
		if rep != nil {
			t.Fatal("AP-REP without mutual authentication")
		}
		return
	}
	if out, done, err := ini.InitSecContext(rep); err != nil || !done || out != nil {
		t.Fatalf("second InitSecContext: %x %v %v", out, done, err)
	}
}

// accept reads an initial token and returns the AP-REP token (nil
// without mutual authentication).
func (a *testAcceptor) accept(in []byte) ([]byte, error) {
	id, body, err := parseFramed(in)
	if err != nil {
		return nil, err
	}
	if id != tokAPReq {
		return nil, fmt.Errorf("token id %#x", id)
	}
	var req messages.APReq
	if err := req.Unmarshal(body); err != nil {
		return nil, err
	}
	a.apOptions = req.APOptions
	etp, err := kcrypto.Decrypt(req.Ticket.EncPart, a.serviceKey, 2)
	if err != nil {
		return nil, err
	}
	var part messages.EncTicketPart
	if err := part.Unmarshal(etp); err != nil {
		return nil, err
	}
	ap, err := kcrypto.Decrypt(req.EncryptedAuthenticator, part.Key, 11)
	if err != nil {
		return nil, err
	}
	if err := a.authenticator.Unmarshal(ap); err != nil {
		return nil, err
	}
	au := a.authenticator
	if au.Cksum.CksumType != checksumType || len(au.Cksum.Checksum) != 24 || binary.LittleEndian.Uint32(au.Cksum.Checksum) != 16 {
		return nil, fmt.Errorf("authenticator checksum %d %x", au.Cksum.CksumType, au.Cksum.Checksum)
	}
	a.flags = Flags(binary.LittleEndian.Uint32(au.Cksum.Checksum[20:]))
	initKey, err := newTokenKey(au.SubKey)
	if err != nil {
		return nil, err
	}
	replay, sequence := a.flags&FlagReplay != 0, a.flags&FlagSequence != 0
	a.tok = tokenCtx{send: initKey, initKey: initKey, recv: newSeqState(uint64(au.SeqNumber), replay, sequence)}
	if a.flags&FlagMutual == 0 {
		a.tok.sendSeq = uint64(au.SeqNumber)
		return nil, nil
	}
	a.tok.sendSeq = uint64(a.seq)
	rep := messages.EncAPRepPart{CTime: au.CTime, Cusec: au.Cusec, SequenceNumber: int64(a.seq)}
	if a.subkeyType != 0 {
		sub, err := kcrypto.RandomKey(a.subkeyType, rand.Reader)
		if err != nil {
			return nil, err
		}
		rep.Subkey = sub
		k, err := newTokenKey(sub)
		if err != nil {
			return nil, err
		}
		a.tok.acceptorKey, a.tok.send = k, k
	}
	return a.apRep(part.Key, rep)
}

func (a *testAcceptor) apRep(session types.EncryptionKey, part messages.EncAPRepPart) ([]byte, error) {
	plain, err := asn1.Marshal(part)
	if err != nil {
		return nil, err
	}
	plain = asn1tools.AddASNAppTag(plain, asnAppTag.EncAPRepPart)
	ed, err := kcrypto.Encrypt(session, 12, plain)
	if err != nil {
		return nil, err
	}
	b, err := asn1.Marshal(messages.APRep{PVNO: iana.PVNO, MsgType: msgtype.KRB_AP_REP, EncPart: ed})
	if err != nil {
		return nil, err
	}
	return appendFramed(nil, tokAPRep, asn1tools.AddASNAppTag(b, asnAppTag.APREP)), nil
}

// rfc4121Enctypes lists the enctypes of the table that can protect RFC
// 4121 tokens (camellia appears once the table implements it).
func rfc4121Enctypes() []int32 {
	var out []int32
	for _, s := range kcrypto.Specs() {
		k := types.EncryptionKey{KeyType: s.ID, KeyValue: make([]byte, s.KeyLen)}
		if _, err := newTokenKey(k); err == nil {
			out = append(out, s.ID)
		}
	}
	return out
}
