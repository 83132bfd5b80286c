package gsskrb5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

const mitFlags = FlagMutual | FlagReplay

var messageSizes = []int{0, 1, 4, 15, 16, 17, 31, 100, 4000, 70000}

func message(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + n)
	}
	return b
}

func TestEnctypesCovered(t *testing.T) {
	got := rfc4121Enctypes()
	for _, want := range []krb5.Enctype{krb5.EnctypeAES256CTSSHA1, krb5.EnctypeAES128CTSSHA1, krb5.EnctypeAES256CTSSHA384, krb5.EnctypeAES128CTSSHA256} {
		found := false
		for _, e := range got {
			found = found || e == int32(want)
		}
		if !found {
			t.Errorf("%s cannot protect tokens", want)
		}
	}
	for _, e := range []krb5.Enctype{krb5.EnctypeDES3CBCSHA1, krb5.EnctypeRC4HMAC} {
		k := types.EncryptionKey{KeyType: int32(e), KeyValue: make([]byte, e.KeySize())}
		if _, err := newTokenKey(k); !errors.Is(err, krb5.ErrUnsupportedEnctype) {
			t.Errorf("%s: %v, want unsupported", e, err)
		}
	}
	t.Logf("RFC 4121 enctypes: %v", got)
}

// TestRoundTrip exchanges MIC and Wrap tokens, sealed and not, in both
// directions, for every RFC 4121 enctype of the table, with and without
// an acceptor subkey, and with a subkey of another enctype.
func TestRoundTrip(t *testing.T) {
	ets := rfc4121Enctypes()
	for _, session := range ets {
		for _, sub := range []int32{0, session, ets[(indexOf(ets, session)+1)%len(ets)]} {
			name := fmt.Sprintf("%s/subkey-%s", krb5.Enctype(session), krb5.Enctype(sub))
			t.Run(name, func(t *testing.T) {
				ini, acc := newPair(t, session, sub, mitFlags)
				establish(t, ini, acc)
				if !ini.Established() || ini.Flags() != mitFlags|FlagConf|FlagInteg|FlagTrans|FlagProtReady {
					t.Fatalf("established %v flags %#x", ini.Established(), ini.Flags())
				}
				want := sub
				if sub == 0 {
					want = session
				}
				if ini.Enctype() != krb5.Enctype(want) {
					t.Errorf("tokens protected with %s, want %s", ini.Enctype(), krb5.Enctype(want))
				}
				for _, n := range messageSizes {
					roundTrip(t, ini, acc, message(n))
				}
			})
		}
	}
}

func indexOf(s []int32, v int32) int {
	for i, e := range s {
		if e == v {
			return i
		}
	}
	return -1
}

func roundTrip(t *testing.T, ini *Context, acc *testAcceptor, msg []byte) {
	t.Helper()
	// Initiator to acceptor.
	mic, err := ini.GetMIC(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.tok.verifyMIC(msg, mic); err != nil {
		t.Fatalf("acceptor VerifyMIC of %d bytes: %v", len(msg), err)
	}
	for _, conf := range []bool{true, false} {
		w, err := ini.Wrap(msg, conf)
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.BigEndian.Uint16(w[4:]); conf && got != 0 || binary.BigEndian.Uint16(w[6:]) != 0 {
			t.Errorf("Wrap conf=%v: EC %d RRC %d", conf, got, binary.BigEndian.Uint16(w[6:]))
		}
		got, sealed, err := acc.tok.unwrap(w)
		if err != nil || sealed != conf || !bytes.Equal(got, msg) {
			t.Fatalf("acceptor Unwrap conf=%v of %d bytes: sealed %v err %v equal %v", conf, len(msg), sealed, err, bytes.Equal(got, msg))
		}
		if conf && len(msg) > 16 && bytes.Contains(w, msg) {
			t.Error("sealed token contains the plaintext")
		}
	}
	// Acceptor to initiator.
	mic, err = acc.tok.getMIC(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ini.VerifyMIC(msg, mic); err != nil {
		t.Fatalf("VerifyMIC of %d bytes: %v", len(msg), err)
	}
	for _, conf := range []bool{true, false} {
		w, err := acc.tok.wrap(msg, conf)
		if err != nil {
			t.Fatal(err)
		}
		got, sealed, err := ini.Unwrap(w)
		if err != nil || sealed != conf || !bytes.Equal(got, msg) {
			t.Fatalf("Unwrap conf=%v of %d bytes: sealed %v err %v", conf, len(msg), sealed, err)
		}
	}
}

// TestInitialToken checks the AP-REQ against what MIT's initiator sends.
func TestInitialToken(t *testing.T) {
	for _, tc := range []struct {
		req, want Flags
	}{
		{mitFlags, 0x136},
		{FlagMutual | FlagReplay | FlagSequence, 0x13e},
		{0, 0x130},
	} {
		ini, acc := newPair(t, int32(krb5.EnctypeAES256CTSSHA1), int32(krb5.EnctypeAES256CTSSHA1), tc.req)
		tok, done, err := ini.InitSecContext(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(tok, []byte{0x60}) || !bytes.Contains(tok[:20], []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00}) {
			t.Fatalf("framing %x", tok[:20])
		}
		if _, err := acc.accept(tok); err != nil {
			t.Fatal(err)
		}
		if acc.flags != tc.want {
			t.Errorf("requested %#x: token flags %#x, want %#x", tc.req, acc.flags, tc.want)
		}
		if done != (tc.req&FlagMutual == 0) {
			t.Errorf("requested %#x: done %v", tc.req, done)
		}
		if acc.apOptions.At(flags.APOptionMutualRequired) != 1 || acc.apOptions.At(flags.APOptionUseSessionKey) != 0 {
			t.Errorf("ap-options %x", acc.apOptions.Bytes)
		}
		au := acc.authenticator
		if !bytes.Equal(au.Cksum.Checksum[4:20], make([]byte, 16)) {
			t.Errorf("channel bindings %x", au.Cksum.Checksum[4:20])
		}
		if au.SubKey.KeyType != int32(krb5.EnctypeAES256CTSSHA1) || len(au.SubKey.KeyValue) != 32 || bytes.Equal(au.SubKey.KeyValue, ini.creds.SessionKey.KeyValue) {
			t.Errorf("subkey %v", au.SubKey)
		}
		if au.SeqNumber <= 0 || au.SeqNumber >= 1<<30 {
			t.Errorf("sequence number %d", au.SeqNumber)
		}
		if len(au.AuthorizationData) != 0 {
			t.Errorf("authorization data %v", au.AuthorizationData)
		}
	}
}

// TestEtypeNegotiation checks the RFC 4537 list, sent only when the
// preferred enctype is not the session key's.
func TestEtypeNegotiation(t *testing.T) {
	list := []krb5.Enctype{krb5.EnctypeAES256CTSSHA1, krb5.EnctypeAES128CTSSHA1, krb5.EnctypeAES256CTSSHA384, krb5.EnctypeAES128CTSSHA256}
	ad, err := etypeNegotiation(list, int32(krb5.EnctypeAES256CTSSHA384))
	if err != nil || len(ad) != 1 || ad[0].ADType != adIfRelevant {
		t.Fatalf("%v %v", ad, err)
	}
	var inner types.AuthorizationData
	if _, err := asn1Unmarshal(ad[0].ADData, &inner); err != nil || len(inner) != 1 || inner[0].ADType != adEtypeNegotiation {
		t.Fatalf("%v %v", inner, err)
	}
	var ets []int32
	if _, err := asn1Unmarshal(inner[0].ADData, &ets); err != nil || fmt.Sprint(ets) != "[18 17 20]" {
		t.Fatalf("%v %v", ets, err)
	}
	if ad, _ := etypeNegotiation(list, int32(krb5.EnctypeAES256CTSSHA1)); ad != nil {
		t.Errorf("list sent although its first enctype is the session key's: %v", ad)
	}
}

// TestNoMutual: without mutual authentication the context is established
// at once and both sides number from the initiator's sequence number.
func TestNoMutual(t *testing.T) {
	ini, acc := newPair(t, int32(krb5.EnctypeAES128CTSSHA256), 0, FlagReplay)
	establish(t, ini, acc)
	roundTrip(t, ini, acc, message(33))
}

// TestTamper flips every bit position of every kind of token, in both
// directions, and requires each to be refused.
func TestTamper(t *testing.T) {
	for _, e := range rfc4121Enctypes() {
		t.Run(krb5.Enctype(e).String(), func(t *testing.T) {
			ini, acc := newPair(t, e, e, mitFlags)
			establish(t, ini, acc)
			msg := message(40)
			kinds := []struct {
				name string
				make func(side *tokenCtx) ([]byte, error)
				open func(side *tokenCtx, tok []byte) error
			}{
				{"MIC", func(s *tokenCtx) ([]byte, error) { return s.getMIC(msg) },
					func(s *tokenCtx, tok []byte) error { return s.verifyMIC(msg, tok) }},
				{"sealed Wrap", func(s *tokenCtx) ([]byte, error) { return s.wrap(msg, true) }, unwrapErr},
				{"Wrap", func(s *tokenCtx) ([]byte, error) { return s.wrap(msg, false) }, unwrapErr},
			}
			for _, k := range kinds {
				for _, dir := range []struct {
					name     string
					from, to *tokenCtx
				}{{"to acceptor", &ini.tok, &acc.tok}, {"to initiator", &acc.tok, &ini.tok}} {
					tok, err := k.make(dir.from)
					if err != nil {
						t.Fatal(err)
					}
					for i := range tok {
						bad := bytes.Clone(tok)
						bad[i] ^= 0x01
						if k.name != "MIC" && (i == 6 || i == 7) && int(binary.BigEndian.Uint16(bad[6:]))%(len(tok)-16) == 0 {
							continue // an RRC equivalent to 0: the same token
						}
						if err := k.open(dir.to, bad); err == nil {
							t.Errorf("%s %s: byte %d flipped, accepted", k.name, dir.name, i)
						}
					}
					if err := k.open(dir.to, tok[:len(tok)-1]); err == nil {
						t.Errorf("%s %s: truncated token accepted", k.name, dir.name)
					}
					if err := k.open(dir.to, tok); err != nil {
						t.Errorf("%s %s: untouched token refused: %v", k.name, dir.name, err)
					}
				}
			}
			// MIC over another message.
			mic, _ := acc.tok.getMIC(msg)
			if err := ini.VerifyMIC(message(41), mic); !errors.Is(err, ErrBadMIC) {
				t.Errorf("MIC over another message: %v", err)
			}
		})
	}
}

func unwrapErr(s *tokenCtx, tok []byte) error {
	_, _, err := s.unwrap(tok)
	return err
}

// TestWrongDirection reflects the initiator's own tokens back to it.
func TestWrongDirection(t *testing.T) {
	ini, acc := newPair(t, int32(krb5.EnctypeAES256CTSSHA1), int32(krb5.EnctypeAES256CTSSHA1), mitFlags)
	establish(t, ini, acc)
	mic, _ := ini.GetMIC([]byte("x"))
	if err := ini.VerifyMIC([]byte("x"), mic); !errors.Is(err, ErrBadDirection) || !errors.Is(err, ErrBadMIC) {
		t.Errorf("reflected MIC: %v", err)
	}
	w, _ := ini.Wrap([]byte("x"), true)
	if _, _, err := ini.Unwrap(w); !errors.Is(err, ErrBadDirection) {
		t.Errorf("reflected Wrap: %v", err)
	}
	// A token of the acceptor without the AcceptorSubkey flag, or one
	// claiming a subkey that was never asserted, is refused.
	w, _ = acc.tok.wrap([]byte("x"), true)
	w[2] &^= flagAcceptorSubkey
	if _, _, err := ini.Unwrap(w); !errors.Is(err, ErrBadMIC) {
		t.Errorf("acceptor token without the subkey flag: %v", err)
	}
	ini2, acc2 := newPair(t, int32(krb5.EnctypeAES256CTSSHA1), 0, mitFlags)
	establish(t, ini2, acc2)
	w, _ = acc2.tok.wrap([]byte("x"), true)
	w[2] |= flagAcceptorSubkey
	if _, _, err := ini2.Unwrap(w); !errors.Is(err, ErrBadMIC) {
		t.Errorf("token claiming an unasserted subkey: %v", err)
	}
}

// TestReplay: with replay detection a token is accepted once, tokens may
// come out of order, and one too old is refused; with sequencing, gaps
// and reordering are reported too.
func TestReplay(t *testing.T) {
	ini, acc := newPair(t, int32(krb5.EnctypeAES256CTSSHA384), int32(krb5.EnctypeAES256CTSSHA384), mitFlags)
	establish(t, ini, acc)
	var toks [][]byte
	for i := 0; i < 70; i++ {
		w, err := acc.tok.wrap([]byte{byte(i)}, true)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, w)
	}
	open := func(i int) error { _, _, err := ini.Unwrap(toks[i]); return err }
	if err := open(1); err != nil {
		t.Fatal(err)
	}
	if err := open(0); err != nil {
		t.Errorf("earlier token after a later one: %v", err)
	}
	if err := open(1); !errors.Is(err, ErrDuplicateToken) {
		t.Errorf("replayed token: %v", err)
	}
	if err := open(69); err != nil {
		t.Fatal(err)
	}
	if err := open(2); !errors.Is(err, ErrOldToken) {
		t.Errorf("token 67 behind: %v", err)
	}
	if err := open(10); err != nil {
		t.Errorf("token 59 behind, not seen: %v", err)
	}
	if err := open(10); !errors.Is(err, ErrDuplicateToken) {
		t.Errorf("replay within the window: %v", err)
	}
	// The MIC of the init reply and the data that follows share the
	// acceptor's numbering.
	mic, _ := acc.tok.getMIC([]byte("m"))
	if err := ini.VerifyMIC([]byte("m"), mic); err != nil {
		t.Fatal(err)
	}
	if err := ini.VerifyMIC([]byte("m"), mic); !errors.Is(err, ErrDuplicateToken) {
		t.Errorf("replayed MIC: %v", err)
	}

	ini, acc = newPair(t, int32(krb5.EnctypeAES128CTSSHA1), int32(krb5.EnctypeAES128CTSSHA1), mitFlags|FlagSequence)
	establish(t, ini, acc)
	a, _ := acc.tok.getMIC(nil)
	b, _ := acc.tok.getMIC(nil)
	c, _ := acc.tok.getMIC(nil)
	if err := ini.VerifyMIC(nil, a); err != nil {
		t.Fatal(err)
	}
	if err := ini.VerifyMIC(nil, c); !errors.Is(err, ErrGapToken) {
		t.Errorf("gap: %v", err)
	}
	if err := ini.VerifyMIC(nil, b); !errors.Is(err, ErrUnseqToken) {
		t.Errorf("out of sequence: %v", err)
	}
}

// TestRotatedAndPadded accepts Wrap tokens with a right rotation count
// and extra count, as RFC 4121 allows and other implementations send.
func TestRotatedAndPadded(t *testing.T) {
	for _, e := range rfc4121Enctypes() {
		ini, acc := newPair(t, e, e, mitFlags)
		establish(t, ini, acc)
		msg := message(50)
		for _, rrc := range []int{1, 16, 28, 60, 1000} {
			for _, conf := range []bool{true, false} {
				w, err := acc.tok.wrap(msg, conf)
				if err != nil {
					t.Fatal(err)
				}
				w = rotateRight(w, rrc)
				got, _, err := ini.Unwrap(w)
				if err != nil || !bytes.Equal(got, msg) {
					t.Errorf("%s RRC %d conf %v: %v", krb5.Enctype(e), rrc, conf, err)
				}
			}
		}
		for _, ec := range []int{1, 7, 16} {
			w := sealPadded(t, &acc.tok, msg, ec)
			got, conf, err := ini.Unwrap(w)
			if err != nil || !conf || !bytes.Equal(got, msg) {
				t.Errorf("%s EC %d: %v", krb5.Enctype(e), ec, err)
			}
		}
	}
}

// rotateRight sets a token's RRC and rotates its body right by it, as a
// sender using RRC does.
func rotateRight(tok []byte, rrc int) []byte {
	out := bytes.Clone(tok)
	body := out[16:]
	n := rrc % len(body)
	copy(body, append(bytes.Clone(body[len(body)-n:]), body[:len(body)-n]...))
	binary.BigEndian.PutUint16(out[6:], uint16(rrc))
	return out
}

// sealPadded makes a sealed Wrap token with ec filler bytes.
func sealPadded(t *testing.T, s *tokenCtx, msg []byte, ec int) []byte {
	t.Helper()
	var hdr [16]byte
	s.header(hdr[:], tokWrap, flagSealed)
	binary.BigEndian.PutUint16(hdr[4:], uint16(ec))
	binary.BigEndian.PutUint16(hdr[6:], 0)
	plain := append(append(bytes.Clone(msg), bytes.Repeat([]byte{'x'}, ec)...), hdr[:]...)
	_, ct, err := s.send.spec.EType.EncryptMessage(s.send.value, plain, s.usage(true, true))
	if err != nil {
		t.Fatal(err)
	}
	s.sendSeq++
	return append(hdr[:], ct...)
}

// TestReplyFailures: a bad AP-REP, a KRB-ERROR token and misuse leave
// the context unusable with a useful error.
func TestReplyFailures(t *testing.T) {
	ini, acc := newPair(t, int32(krb5.EnctypeAES256CTSSHA1), int32(krb5.EnctypeAES256CTSSHA1), mitFlags)
	tok, _, _ := ini.InitSecContext(nil)
	rep, err := acc.accept(tok)
	if err != nil {
		t.Fatal(err)
	}
	rep[len(rep)-3] ^= 1
	if _, _, err := ini.InitSecContext(rep); !errors.Is(err, krb5.ErrBadIntegrity) {
		t.Errorf("tampered AP-REP: %v", err)
	}
	if _, err := ini.GetMIC(nil); !errors.Is(err, ErrNoContext) {
		t.Errorf("GetMIC after failure: %v", err)
	}

	// An AP-REP that answers another authenticator.
	ini, acc = newPair(t, int32(krb5.EnctypeAES256CTSSHA1), 0, mitFlags)
	tok, _, _ = ini.InitSecContext(nil)
	if _, err := acc.accept(tok); err != nil {
		t.Fatal(err)
	}
	sk := ini.creds.SessionKey
	rep, err = acc.apRep(sk, messages.EncAPRepPart{CTime: acc.authenticator.CTime, Cusec: acc.authenticator.Cusec + 1, SequenceNumber: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ini.InitSecContext(rep); !errors.Is(err, krb5.ErrMutualFail) {
		t.Errorf("AP-REP for another authenticator: %v", err)
	}

	// A KRB-ERROR token.
	ini, _ = newPair(t, int32(krb5.EnctypeAES256CTSSHA1), 0, mitFlags)
	ini.InitSecContext(nil)
	ke := messages.NewKRBError(types.PrincipalName{NameString: []string{"kiprop", "x"}}, "R", 41, "bad")
	kb, _ := ke.Marshal()
	_, _, err = ini.InitSecContext(appendFramed(nil, tokError, kb))
	var re *krbauth.RemoteError
	if !errors.As(err, &re) || re.Code != 41 || re.Text != "bad" {
		t.Errorf("KRB-ERROR token: %v", err)
	}

	// Wrong token identifier, another mechanism, garbage.
	for _, in := range [][]byte{
		appendFramed(nil, tokAPReq, []byte{1, 2}),
		append([]byte{0x60, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x03}, 2, 0),
		{0x60, 0x80},
		nil,
	} {
		ini, _ = newPair(t, int32(krb5.EnctypeAES256CTSSHA1), 0, mitFlags)
		ini.InitSecContext(nil)
		if _, _, err := ini.InitSecContext(in); !errors.Is(err, ErrDefectiveToken) {
			t.Errorf("reply %x: %v", in, err)
		}
	}

	// Input on the first call; calls after establishment.
	ini, _ = newPair(t, int32(krb5.EnctypeAES256CTSSHA1), 0, mitFlags)
	if _, _, err := ini.InitSecContext([]byte{1}); !errors.Is(err, ErrDefectiveToken) {
		t.Errorf("input on the first call: %v", err)
	}
	ini, acc = newPair(t, int32(krb5.EnctypeAES256CTSSHA1), 0, mitFlags)
	establish(t, ini, acc)
	if _, _, err := ini.InitSecContext(nil); !errors.Is(err, ErrContextEstablished) {
		t.Errorf("established: %v", err)
	}
}

func TestUnsupported(t *testing.T) {
	ini, _ := newPair(t, int32(krb5.EnctypeAES256CTSSHA1), 0, mitFlags)
	creds := *ini.creds
	creds.SessionKey = types.EncryptionKey{KeyType: int32(krb5.EnctypeRC4HMAC), KeyValue: make([]byte, 16)}
	if _, err := NewInitiator(&creds, nil); !errors.Is(err, krb5.ErrUnsupportedEnctype) {
		t.Errorf("arcfour-hmac session key: %v", err)
	}
	if _, err := NewInitiator(ini.creds, &Config{Flags: FlagDeleg}); err == nil {
		t.Error("delegation accepted")
	}
	// An acceptor subkey of an enctype without RFC 4121 tokens.
	ini, acc := newPair(t, int32(krb5.EnctypeAES256CTSSHA1), int32(krb5.EnctypeDES3CBCSHA1), mitFlags)
	tok, _, _ := ini.InitSecContext(nil)
	if _, err := acc.accept(tok); err == nil {
		t.Fatal("test acceptor took a des3 subkey")
	}
}

func TestSeqState(t *testing.T) {
	s := newSeqState(^uint64(0)-1, true, false) // wraps around 2^64
	for _, c := range []struct {
		seq  uint64
		want error
	}{
		{^uint64(0) - 1, nil}, {^uint64(0), nil}, {0, nil}, {0, ErrDuplicateToken}, {5, nil}, {2, nil}, {2, ErrDuplicateToken},
		{200, nil}, {100, ErrOldToken}, {137, nil}, {136, ErrOldToken},
	} {
		if err := s.check(c.seq); err != c.want {
			t.Errorf("seq %d: %v, want %v", c.seq, err, c.want)
		}
	}
	off := newSeqState(7, false, false)
	for i := 0; i < 2; i++ {
		if err := off.check(7); err != nil {
			t.Errorf("without replay or sequence flags every number passes: %v", err)
		}
	}
}
