package krbauth

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/krb5"
)

// Sequence numbers from a captured MIT kprop run.
const (
	testSc = 414323466 // client (kprop) local seq: authenticator
	testSs = 284673578 // server (kpropd) local seq: AP-REP
)

var timeZero = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var (
	clientAddr = types.HostAddress{AddrType: 2, Address: []byte{127, 0, 0, 1}}
	serverAddr = types.HostAddress{AddrType: 2, Address: []byte{127, 0, 0, 2}}
)

func testKey(id krb5.Enctype, seed uint64) types.EncryptionKey {
	k := make([]byte, id.KeySize())
	io.ReadFull(detRand(seed), k)
	return types.EncryptionKey{KeyType: int32(id), KeyValue: k}
}

// detRand is a deterministic byte source for keys and confounders.
func detRand(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// sealRaw runs c.Seal on arbitrary plaintext and returns the ciphertext.
func sealRaw(t testing.TB, c kcrypto.MessageCipher, plain []byte, r io.Reader, chained bool) []byte {
	t.Helper()
	ct := make([]byte, c.SealLen(len(plain)))
	copy(ct[c.PrefixLen():], plain)
	if err := c.Seal(ct, len(plain), r, chained); err != nil {
		t.Fatal(err)
	}
	return ct
}

// sessionPair returns a kprop-side and a kpropd-side session sharing a
// session key, with sequence numbers as a handshake leaves them.
func sessionPair(t testing.TB, id krb5.Enctype) (client, server *session) {
	t.Helper()
	key := testKey(id, uint64(id))
	client, err := newSession(sessionParams{role: roleClient, key: key, localSeq: testSc, remoteSeq: testSs,
		localAddr: clientAddr, rand: detRand(1000 + uint64(id))})
	if err != nil {
		t.Fatal(err)
	}
	server, err = newSession(sessionParams{role: roleServer, key: key, localSeq: testSs, remoteSeq: testSc,
		localAddr: serverAddr, rand: detRand(2000 + uint64(id))})
	if err != nil {
		t.Fatal(err)
	}
	return client, server
}

// ---- a tiny DER builder for hand-made test messages ----

func tlv(id byte, parts ...[]byte) []byte {
	c := bytes.Join(parts, nil)
	return append(appendHeader(nil, id, len(c)), c...)
}
func ctx(n byte, parts ...[]byte) []byte { return tlv(idCtx|n, parts...) }
func derInt(v int64) []byte              { return appendInt(nil, v) }
func octets(b []byte) []byte             { return tlv(idOctetString, b) }
func derAddr(a types.HostAddress) []byte {
	return tlv(idSequence, ctx(0, derInt(int64(a.AddrType))), ctx(1, octets(a.Address)))
}

// privMsg wraps a ciphertext as KRB-PRIV {pvno, 21, {etype, cipher}}.
func privMsg(pvno int64, etype int32, ct []byte) []byte {
	return tlv(idApp|tagKRBPriv, tlv(idSequence, ctx(0, derInt(pvno)), ctx(1, derInt(21)),
		ctx(3, tlv(idSequence, ctx(0, derInt(int64(etype))), ctx(2, octets(ct))))))
}

// sealPart encrypts a hand-made EncKrbPrivPart with s's cipher and state and
// advances s's local sequence number, as SealPriv would.
func sealPart(t testing.TB, s *session, part []byte) []byte {
	t.Helper()
	ct := sealRaw(t, s.priv, part, s.rand, s.chained)
	s.localSeq++
	return privMsg(5, s.key.KeyType, ct)
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

var chunkSizes = []int{1, 15, 16, 17, 32768, 32769, 0, 1000, 32768}

// Every enctype: a size message's worth of unchained KRB-PRIVs, then
// InitCipherState on both sides and chained KRB-PRIVs of awkward sizes.
func TestPrivRoundTrip(t *testing.T) {
	for _, id := range implementedEnctypes() {
		t.Run(krb5.Enctype(id).String(), func(t *testing.T) {
			c, s := sessionPair(t, id)
			for _, chained := range []bool{false, true} {
				if chained {
					c.initCipherState()
					s.initCipherState()
				}
				var out []byte
				for i, n := range chunkSizes {
					data := pattern(n, byte(i))
					msg, err := c.sealPriv([]byte("prefix"), data)
					if err != nil {
						t.Fatal(err)
					}
					if string(msg[:6]) != "prefix" {
						t.Fatal("SealPriv did not append")
					}
					msg = msg[6:]
					checkPrivWithGokrb5(t, msg, id)
					out, err = s.openPriv(out[:0], msg)
					if err != nil {
						t.Fatalf("chained=%v message %d (%d bytes): %v", chained, i+1, n, err)
					}
					if !bytes.Equal(out, data) {
						t.Fatalf("chained=%v message %d: data mismatch", chained, i+1)
					}
				}
			}
			if c.localSeq != testSc+uint32(2*len(chunkSizes)) || s.remoteSeq != c.localSeq {
				t.Errorf("sequence numbers: client local %d, server remote %d", c.localSeq, s.remoteSeq)
			}
		})
	}
}

// checkPrivWithGokrb5 decodes msg with gokrb5/gofork (an independent DER
// decoder) and checks the fields MIT would send.
func checkPrivWithGokrb5(t *testing.T, msg []byte, id krb5.Enctype) {
	t.Helper()
	var p messages.KRBPriv
	if err := p.Unmarshal(msg); err != nil {
		t.Fatalf("gokrb5 cannot parse our KRB-PRIV: %v", err)
	}
	if p.PVNO != 5 || p.MsgType != 21 || p.EncPart.EType != int32(id) || p.EncPart.KVNO != 0 {
		t.Fatalf("KRB-PRIV fields %+v", p)
	}
}

func TestPrivEncPartLayout(t *testing.T) {
	// Decrypt our KRB-PRIV with gokrb5 (stateless: the cipher state is not
	// chained, and chaining is checked against a reference in kcrypto) and
	// decode the EncKrbPrivPart with gokrb5: user-data, seq-number,
	// s-address, nothing else.
	for _, id := range implementedEnctypes() {
		c, _ := sessionPair(t, id)
		for i := range 3 {
			data := pattern(100+i, 1)
			msg, err := c.sealPriv(nil, data)
			if err != nil {
				t.Fatal(err)
			}
			var p messages.KRBPriv
			if err := p.Unmarshal(msg); err != nil {
				t.Fatal(err)
			}
			der, err := kcrypto.Lookup(int32(id)).EType.DecryptMessage(c.key.KeyValue, p.EncPart.Cipher, usagePrivEncPart)
			if err != nil {
				t.Fatal(err)
			}
			var part messages.EncKrbPrivPart
			if err := part.Unmarshal(der); err != nil {
				t.Fatalf("%s: gokrb5 cannot parse EncKrbPrivPart: %v", krb5.Enctype(id).String(), err)
			}
			if !bytes.Equal(part.UserData, data) || part.SequenceNumber != int64(testSc+i) ||
				part.SAddress.AddrType != 2 || !bytes.Equal(part.SAddress.Address, clientAddr.Address) ||
				len(part.RAddress.Address) != 0 || !part.Timestamp.IsZero() || part.Usec != 0 {
				t.Fatalf("%s: EncKrbPrivPart %+v", krb5.Enctype(id).String(), part)
			}
			// Exactly the three fields: 7c L 30 L a0 .. a3 .. a4 ..
			if der[0] != 0x7c {
				t.Fatalf("EncKrbPrivPart tag %#x", der[0])
			}
		}
	}
}

// Message #2 must not open with a fresh state (the negative control for
// MIT's chained cipher state), nor with a receiver that never called InitCipherState.
func TestPrivChainingIsRequired(t *testing.T) {
	for _, id := range implementedEnctypes() {
		c, s := sessionPair(t, id)
		c.initCipherState()
		m1, _ := c.sealPriv(nil, pattern(300, 1))
		m2, _ := c.sealPriv(nil, pattern(300, 2))

		_, fresh := sessionPair(t, id)
		fresh.initCipherState()
		fresh.remoteSeq = testSc + 1
		if _, err := fresh.openPriv(nil, m2); !errors.Is(err, krb5.ErrBadIntegrity) {
			t.Errorf("%s: message #2 with a fresh state: %v", krb5.Enctype(id).String(), err)
		}
		// Receiver without InitCipherState: #1 opens, #2 does not.
		if _, err := s.openPriv(nil, m1); err != nil {
			t.Errorf("%s: #1 unchained: %v", krb5.Enctype(id).String(), err)
		}
		if _, err := s.openPriv(nil, m2); !errors.Is(err, krb5.ErrBadIntegrity) {
			t.Errorf("%s: #2 unchained: %v", krb5.Enctype(id).String(), err)
		}
	}
}

// Tampering anywhere in the ciphertext fails integrity, leaves the state
// alone, and the genuine message still opens afterwards.
func TestPrivTamper(t *testing.T) {
	for _, id := range implementedEnctypes() {
		c, s := sessionPair(t, id)
		c.initCipherState()
		s.initCipherState()
		for i := range 3 {
			data := pattern(1000+i*17, byte(i))
			msg, _ := c.sealPriv(nil, data)
			for _, off := range []int{len(msg) - 1, len(msg) - 30, len(msg) / 2, len(msg) - 1000, 40} {
				bad := bytes.Clone(msg)
				bad[off] ^= 0x01
				if _, err := s.openPriv(nil, bad); !errors.Is(err, krb5.ErrBadIntegrity) {
					t.Fatalf("%s: flipped byte %d of %d: %v", krb5.Enctype(id).String(), off, len(msg), err)
				}
				if CodeOf(errBadIntegrityOf(s, bad)) != krb5.ErrBadIntegrity {
					t.Fatal("CodeOf")
				}
			}
			if s.remoteSeq != testSc+uint32(i) {
				t.Fatalf("failed messages moved the remote seq to %d", s.remoteSeq)
			}
			got, err := s.openPriv(nil, msg)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s: genuine message after forgeries: %v", krb5.Enctype(id).String(), err)
			}
		}
	}
}

func errBadIntegrityOf(s *session, msg []byte) error {
	_, err := s.openPriv(nil, msg)
	return err
}

// Replays and reordering: with a chained state they fail the integrity
// check; without one (or when the state matches but the number does not)
// they fail the sequence check.
func TestPrivOrder(t *testing.T) {
	for _, id := range implementedEnctypes() {
		name := krb5.Enctype(id).String()
		c, s := sessionPair(t, id)
		m1, _ := c.sealPriv(nil, []byte("one"))
		m2, _ := c.sealPriv(nil, []byte("two"))
		if _, err := s.openPriv(nil, m2); !errors.Is(err, krb5.ErrBadOrder) {
			t.Errorf("%s unchained, #2 first: %v", name, err)
		}
		if _, err := s.openPriv(nil, m1); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := s.openPriv(nil, m1); !errors.Is(err, krb5.ErrBadOrder) || CodeOf(err) != krb5.ErrBadOrder {
			t.Errorf("%s unchained replay: %v", name, err)
		}

		c, s = sessionPair(t, id)
		c.initCipherState()
		s.initCipherState()
		m1, _ = c.sealPriv(nil, []byte("one"))
		m2, _ = c.sealPriv(nil, []byte("two"))
		if _, err := s.openPriv(nil, m2); !errors.Is(err, krb5.ErrBadIntegrity) {
			t.Errorf("%s chained, #2 first: %v", name, err)
		}
		if _, err := s.openPriv(nil, m1); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := s.openPriv(nil, m1); !errors.Is(err, krb5.ErrBadIntegrity) {
			t.Errorf("%s chained replay: %v", name, err)
		}
		// Right cipher state, wrong number: the sender skips a number.
		c, s = sessionPair(t, id)
		twin, _ := sessionPair(t, id) // same key, state and confounders as c
		c.initCipherState()
		s.initCipherState()
		twin.initCipherState()
		c.localSeq++
		skipped, _ := c.sealPriv(nil, []byte("skipped"))
		if _, err := s.openPriv(nil, skipped); !errors.Is(err, krb5.ErrBadOrder) {
			t.Errorf("%s chained, skipped number: %v", name, err)
		}
		// The failure changed nothing: a message from the same state with
		// the right number still opens.
		if got, err := s.openPriv(nil, mustSeal(t, twin, "right")); err != nil || string(got) != "right" {
			t.Errorf("%s: after BADORDER: %q %v", name, got, err)
		}
	}
}

func mustSeal(t testing.TB, s *session, data string) []byte {
	t.Helper()
	m, err := s.sealPriv(nil, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPrivWrongKeyAndEtype(t *testing.T) {
	for _, id := range implementedEnctypes() {
		name := krb5.Enctype(id).String()
		c, _ := sessionPair(t, id)
		other, err := newSession(sessionParams{role: roleServer, key: testKey(id, 4242), remoteSeq: testSc, localAddr: serverAddr})
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := c.sealPriv(nil, []byte("data"))
		if _, err := other.openPriv(nil, msg); !errors.Is(err, krb5.ErrBadIntegrity) {
			t.Errorf("%s wrong key: %v", name, err)
		}

		// Same ciphertext relabelled with another etype.
		var p messages.KRBPriv
		p.Unmarshal(msg)
		for _, e := range []int32{17, 18, 16, 23, 25} {
			if e == int32(id) {
				continue
			}
			_, s := sessionPair(t, id)
			_, err := s.openPriv(nil, privMsg(5, e, p.EncPart.Cipher))
			if !errors.Is(err, ErrBadEnctype) || CodeOf(err) != krb5.ErrGeneric {
				t.Errorf("%s relabelled %d: %v", name, e, err)
			}
		}
		// MIT's ENCTYPE_UNKNOWN passes the enctype check.
		_, s := sessionPair(t, id)
		if got, err := s.openPriv(nil, privMsg(5, kcrypto.EnctypeUnknown, p.EncPart.Cipher)); err != nil || string(got) != "data" {
			t.Errorf("%s ENCTYPE_UNKNOWN: %v", name, err)
		}
	}
}

func TestPrivFields(t *testing.T) {
	id := krb5.EnctypeAES256CTSSHA1
	tests := []struct {
		name string
		part func(seq uint32) []byte
		want error
		data string
	}{
		{"minimal", func(seq uint32) []byte {
			return tlv(idEncPrivPart, tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(3, derInt(int64(seq))), ctx(4, derAddr(clientAddr))))
		}, nil, "x"},
		{"r-address ours", func(seq uint32) []byte {
			return tlv(idEncPrivPart, tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(3, derInt(int64(seq))),
				ctx(4, derAddr(clientAddr)), ctx(5, derAddr(serverAddr))))
		}, nil, "x"},
		{"r-address not ours", func(seq uint32) []byte {
			return tlv(idEncPrivPart, tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(3, derInt(int64(seq))),
				ctx(4, derAddr(clientAddr)), ctx(5, derAddr(clientAddr))))
		}, krb5.ErrBadAddr, ""},
		{"r-address other type", func(seq uint32) []byte {
			return tlv(idEncPrivPart, tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(3, derInt(int64(seq))),
				ctx(4, derAddr(clientAddr)), ctx(5, derAddr(types.HostAddress{AddrType: 24, Address: serverAddr.Address}))))
		}, krb5.ErrBadAddr, ""},
		{"bogus s-address is not checked", func(seq uint32) []byte {
			return tlv(idEncPrivPart, tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(3, derInt(int64(seq))),
				ctx(4, derAddr(types.HostAddress{AddrType: 2, Address: []byte{10, 1, 2, 3}}))))
		}, nil, "x"},
		{"timestamp and usec ignored", func(seq uint32) []byte {
			return tlv(idEncPrivPart, tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(1, tlv(idGenTime, []byte("20260101000000Z"))),
				ctx(2, derInt(5)), ctx(3, derInt(int64(seq))), ctx(4, derAddr(clientAddr))))
		}, nil, "x"},
		{"seq missing", func(seq uint32) []byte {
			return tlv(idEncPrivPart, tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(4, derAddr(clientAddr))))
		}, krb5.ErrBadOrder, ""},
		{"s-address missing", func(seq uint32) []byte {
			return tlv(idEncPrivPart, tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(3, derInt(int64(seq)))))
		}, errASN1MissingField, ""},
		{"plain SEQUENCE instead of [APPLICATION 28]", func(seq uint32) []byte {
			return tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(3, derInt(int64(seq))), ctx(4, derAddr(clientAddr)))
		}, errASN1BadID, ""},
		{"trailing garbage after the part is ignored", func(seq uint32) []byte {
			return append(tlv(idEncPrivPart, tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(3, derInt(int64(seq))), ctx(4, derAddr(clientAddr)))), 0, 0, 0)
		}, nil, "x"},
		{"unknown trailing field ignored", func(seq uint32) []byte {
			return tlv(idEncPrivPart, tlv(idSequence, ctx(0, octets([]byte("x"))), ctx(3, derInt(int64(seq))), ctx(4, derAddr(clientAddr)), ctx(9, derInt(1))))
		}, nil, "x"},
		{"indefinite length", func(seq uint32) []byte {
			return []byte{0x7c, 0x80, 0x30, 0x80, 0, 0, 0, 0}
		}, errASN1Indef, ""},
	}
	for _, tc := range tests {
		for _, chained := range []bool{false, true} {
			c, s := sessionPair(t, id)
			if chained {
				c.initCipherState()
				s.initCipherState()
			}
			msg := sealPart(t, c, tc.part(c.localSeq))
			got, err := s.openPriv(nil, msg)
			if tc.want == nil {
				if err != nil || string(got) != tc.data {
					t.Errorf("%s: %q %v", tc.name, got, err)
				}
				continue
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("%s (chained=%v): got %v, want %v", tc.name, chained, err, tc.want)
			}
			if s.remoteSeq != testSc {
				t.Errorf("%s: remote seq moved", tc.name)
			}
		}
	}
}

// An absent seq-number reads as 0, and MIT omits a zero seq-number.
func TestPrivSeqZero(t *testing.T) {
	key := testKey(krb5.EnctypeAES128CTSSHA256, 5)
	c, _ := newSession(sessionParams{key: key, localSeq: 0, localAddr: clientAddr})
	s, _ := newSession(sessionParams{key: key, remoteSeq: 0, localAddr: serverAddr})
	msg, err := c.sealPriv(nil, []byte("z"))
	if err != nil {
		t.Fatal(err)
	}
	var p messages.KRBPriv
	p.Unmarshal(msg)
	der, _ := kcrypto.Lookup(key.KeyType).EType.DecryptMessage(key.KeyValue, p.EncPart.Cipher, usagePrivEncPart)
	if bytes.Contains(der, []byte{0xa3, 0x03, 0x02, 0x01, 0x00}) {
		t.Error("seq-number 0 was encoded")
	}
	if got, err := s.openPriv(nil, msg); err != nil || string(got) != "z" || s.remoteSeq != 1 {
		t.Errorf("%q %v %d", got, err, s.remoteSeq)
	}
	// Wrap-around to 0.
	c.localSeq, s.remoteSeq = 1<<32-1, 1<<32-1
	for range 2 {
		msg, _ := c.sealPriv(nil, []byte("w"))
		if _, err := s.openPriv(nil, msg); err != nil {
			t.Fatal(err)
		}
	}
	if c.localSeq != 1 || s.remoteSeq != 1 {
		t.Errorf("after wrap: %d %d", c.localSeq, s.remoteSeq)
	}
}

func TestPrivEnvelopeErrors(t *testing.T) {
	c, s := sessionPair(t, krb5.EnctypeAES256CTSSHA1)
	good, _ := c.sealPriv(nil, []byte("data"))
	var p messages.KRBPriv
	p.Unmarshal(good)
	krbErr, err := s.makeError(krb5.ErrBadIntegrity, "while decoding database block starting at offset 0", timeZero)
	if err != nil {
		t.Fatal(err)
	}
	safe, _ := c.makeSafe([]byte{0, 0, 0, 1})
	primitive := bytes.Clone(good)
	primitive[0] = 0x55
	tests := []struct {
		name string
		msg  []byte
		code krb5.ErrorCode
		is   error
	}{
		{"empty", nil, krb5.ErrMsgType, krb5.ErrMsgType},
		{"KRB-SAFE", safe, krb5.ErrMsgType, krb5.ErrMsgType},
		{"primitive application tag", primitive, krb5.ErrGeneric, errASN1BadID},
		{"pvno 4", privMsg(4, 18, p.EncPart.Cipher), krb5.ErrBadPVNO, krb5.ErrBadPVNO},
		{"truncated", good[:len(good)-1], krb5.ErrGeneric, errASN1Overrun},
		{"short ciphertext", privMsg(5, 18, make([]byte, 27)), krb5.ErrGeneric, kcrypto.ErrBadMsize},
		{"no enc-part", tlv(idApp|tagKRBPriv, tlv(idSequence, ctx(0, derInt(5)), ctx(1, derInt(21)))), krb5.ErrGeneric, errASN1MissingField},
		{"enc-part as [2]", tlv(idApp|tagKRBPriv, tlv(idSequence, ctx(0, derInt(5)), ctx(1, derInt(21)), ctx(2, derInt(1)))), krb5.ErrGeneric, errASN1MissingField},
	}
	for _, tc := range tests {
		out, err := s.openPriv([]byte("keep"), tc.msg)
		if !errors.Is(err, tc.is) || CodeOf(err) != tc.code {
			t.Errorf("%s: %v (code %d)", tc.name, err, CodeOf(err))
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst changed to %q", tc.name, out)
		}
	}
	_, err = s.openPriv(nil, krbErr)
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != krb5.ErrBadIntegrity || CodeOf(err) != krb5.ErrBadIntegrity {
		t.Errorf("KRB-ERROR: %v", err)
	}
	// The session survived all of that.
	if got, err := s.openPriv(nil, good); err != nil || string(got) != "data" {
		t.Errorf("good message: %v", err)
	}
	// msg-type is not checked by MIT's decoder.
	c2, s2 := sessionPair(t, krb5.EnctypeAES256CTSSHA1)
	m, _ := c2.sealPriv(nil, []byte("mt"))
	var q messages.KRBPriv
	q.Unmarshal(m)
	odd := tlv(idApp|tagKRBPriv, tlv(idSequence, ctx(0, derInt(5)), ctx(1, derInt(99)),
		ctx(3, tlv(idSequence, ctx(0, derInt(18)), ctx(1, derInt(7)), ctx(2, octets(q.EncPart.Cipher))))))
	if got, err := s2.openPriv(nil, odd); err != nil || string(got) != "mt" {
		t.Errorf("msg-type 99 with kvno: %v", err)
	}
}

// Ciphertexts too short for confounder and checksum, or (des3) not a
// multiple of the block size, are MIT's KRB5_BAD_MSIZE.
func TestPrivCiphertextSizes(t *testing.T) {
	tests := []struct {
		id       krb5.Enctype
		tooShort int
		ragged   int
	}{
		{krb5.EnctypeAES128CTSSHA1, 16 + 12 - 1, 0},
		{krb5.EnctypeAES256CTSSHA384, 16 + 24 - 1, 0},
		{krb5.EnctypeDES3CBCSHA1, 8 + 20 - 1, 8 + 20 + 3},
		{krb5.EnctypeRC4HMAC, 16 + 8 - 1, 0},
	}
	for _, tc := range tests {
		_, s := sessionPair(t, tc.id)
		for _, n := range []int{0, tc.tooShort, tc.ragged} {
			if n == 0 && tc.ragged == 0 {
				continue
			}
			_, err := s.openPriv(nil, privMsg(5, int32(tc.id), make([]byte, n)))
			if !errors.Is(err, kcrypto.ErrBadMsize) || CodeOf(err) != krb5.ErrGeneric {
				t.Errorf("%s, %d-byte ciphertext: %v", krb5.Enctype(tc.id).String(), n, err)
			}
		}
		// The smallest well-formed size decrypts (and then fails integrity).
		_, err := s.openPriv(nil, privMsg(5, int32(tc.id), make([]byte, tc.tooShort+1)))
		if !errors.Is(err, krb5.ErrBadIntegrity) {
			t.Errorf("%s minimal ciphertext: %v", krb5.Enctype(tc.id).String(), err)
		}
	}
}

func TestNewSessionErrors(t *testing.T) {
	for _, id := range []krb5.Enctype{krb5.EnctypeDES3CBCRaw, krb5.EnctypeRC4HMACExp, 1, 3} {
		_, err := newSession(sessionParams{key: types.EncryptionKey{KeyType: int32(id), KeyValue: make([]byte, 32)}})
		if !errors.Is(err, krb5.ErrUnsupportedEnctype) || !bytes.Contains([]byte(err.Error()), []byte(krb5.Enctype(id).String())) {
			t.Errorf("%d: %v", id, err)
		}
	}
	_, err := newSession(sessionParams{key: types.EncryptionKey{KeyType: 18, KeyValue: make([]byte, 16)}})
	if !errors.Is(err, kcrypto.ErrBadKeysize) {
		t.Errorf("short key: %v", err)
	}
	s, _ := newSession(sessionParams{key: testKey(17, 1)})
	if _, err := s.sealPriv(nil, []byte("x")); !errors.Is(err, errLocalAddrRequired) {
		t.Errorf("no local address: %v", err)
	}
	if _, err := s.makeSafe([]byte("x")); !errors.Is(err, errLocalAddrRequired) {
		t.Errorf("no local address: %v", err)
	}
}

// SealPriv may be handed data that lives in dst's own spare capacity.
func TestSealPrivOverlap(t *testing.T) {
	for _, id := range implementedEnctypes() {
		c, s := sessionPair(t, id)
		c.initCipherState()
		s.initCipherState()
		buf := make([]byte, 0, 40000)
		for _, off := range []int{0, 10, 100, 3000} {
			data := pattern(1000, byte(off))
			copy(buf[off:off+1000], data)
			msg, err := c.sealPriv(buf[:0], buf[off:off+1000])
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.openPriv(msg[:0], msg) // dst overlapping msg too
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s, data at %d: %v", krb5.Enctype(id).String(), off, err)
			}
		}
	}
}

// A failing confounder source leaves the session untouched.
func TestSealPrivRandFailure(t *testing.T) {
	c, s := sessionPair(t, krb5.EnctypeAES128CTSSHA1)
	c.initCipherState()
	s.initCipherState()
	good := c.rand
	c.rand = io.LimitReader(good, 0)
	if out, err := c.sealPriv([]byte("x"), []byte("data")); err == nil || string(out) != "x" {
		t.Fatalf("%q %v", out, err)
	}
	if c.localSeq != testSc {
		t.Fatal("seq advanced")
	}
	c.rand = good
	msg, _ := c.sealPriv(nil, []byte("data"))
	if _, err := s.openPriv(nil, msg); err != nil {
		t.Fatal(err)
	}
}

func TestPrivAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	for _, id := range implementedEnctypes() {
		c, s := sessionPair(t, id)
		c.initCipherState()
		s.initCipherState()
		data := pattern(32768, 3)
		msg := make([]byte, 0, 40000)
		out := make([]byte, 0, 40000)
		var err error
		// Warm up (HMAC precomputation, scratch buffer).
		for range 2 {
			msg, _ = c.sealPriv(msg[:0], data)
			out, _ = s.openPriv(out[:0], msg)
		}
		seal := testing.AllocsPerRun(20, func() { msg, err = c.sealPriv(msg[:0], data) })
		c2, s2 := sessionPair(t, id)
		c2.initCipherState()
		s2.initCipherState()
		msgs := make([][]byte, 25)
		for i := range msgs {
			msgs[i], _ = c2.sealPriv(nil, data)
		}
		out, _ = s2.openPriv(out[:0], msgs[0])
		out, _ = s2.openPriv(out[:0], msgs[1])
		i := 2
		open := testing.AllocsPerRun(20, func() {
			out, err = s2.openPriv(out[:0], msgs[i])
			i++
		})
		if err != nil {
			t.Fatal(err)
		}
		if seal != 0 || open != 0 {
			t.Errorf("%s: SealPriv %v allocs, OpenPriv %v allocs", krb5.Enctype(id).String(), seal, open)
		}
	}
}

// The chunk path through the Conn, framing included: WritePriv and
// ReadPriv make no allocations in steady state.
func TestConnPrivAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	for _, id := range implementedEnctypes() {
		key := testKey(id, uint64(id))
		client := func(nc net.Conn) *Conn {
			return handshakenConn(t, nc, sessionParams{role: roleClient, key: key, localSeq: testSc, remoteSeq: testSs,
				localAddr: clientAddr, rand: detRand(3000 + uint64(id))})
		}
		data := pattern(32768, 3)
		var err error

		wc := newMemConn(nil)
		wc.out.Grow(64 << 10)
		w := client(wc)
		w.StartChaining()
		for range 2 { // warm up (HMAC precomputation, the frame buffer)
			wc.out.Reset()
			w.WritePriv(data)
		}
		writes := testing.AllocsPerRun(20, func() {
			wc.out.Reset()
			err = w.WritePriv(data)
		})
		if err != nil {
			t.Fatal(err)
		}

		sc := newMemConn(nil)
		sender := client(sc)
		sender.StartChaining()
		for range 25 {
			if err := sender.WritePriv(data); err != nil {
				t.Fatal(err)
			}
		}
		r := handshakenConn(t, newMemConn(sc.out.Bytes()), sessionParams{role: roleServer, key: key, localSeq: testSs, remoteSeq: testSc,
			localAddr: serverAddr})
		r.StartChaining()
		out := make([]byte, 0, 40000)
		out, _ = r.ReadPriv(out[:0])
		out, _ = r.ReadPriv(out[:0])
		reads := testing.AllocsPerRun(20, func() { out, err = r.ReadPriv(out[:0]) })
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("%s: ReadPriv: %v", id, err)
		}
		if writes != 0 || reads != 0 {
			t.Errorf("%s: WritePriv %v allocs, ReadPriv %v allocs", id, writes, reads)
		}
	}
}
