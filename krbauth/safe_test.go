package krbauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/internal/rfc6803"
	"github.com/gokprop/gokprop/krb5"
)

// safeMsg builds KRB-SAFE {5, 20, body, {ctype, sum}} by hand.
func safeMsg(body []byte, ctype int32, sum []byte) []byte {
	return tlv(idApp|tagKRBSafe, tlv(idSequence, ctx(0, derInt(5)), ctx(1, derInt(20)), ctx(2, body),
		ctx(3, tlv(idSequence, ctx(0, derInt(int64(ctype))), ctx(1, octets(sum))))))
}

// safeBody builds a KRB-SAFE-BODY; a nil seq is omitted, a nil rAddr too.
func safeBody(data []byte, seq []byte, sAddr types.HostAddress, rAddr *types.HostAddress) []byte {
	parts := [][]byte{ctx(0, octets(data))}
	if seq != nil {
		parts = append(parts, ctx(3, seq))
	}
	parts = append(parts, ctx(4, derAddr(sAddr)))
	if rAddr != nil {
		parts = append(parts, ctx(5, derAddr(*rAddr)))
	}
	return tlv(idSequence, parts...)
}

// gokrb5Sum is gokrb5's keyed checksum of type ctype (an implementation
// independent of safe.go's table for the mandatory types), or for the
// camellia checksums, which gokrb5 lacks, internal/rfc6803's (checked by
// RFC 6803's vectors).
func gokrb5Sum(t testing.TB, key []byte, ctype int32, data []byte) []byte {
	t.Helper()
	var e etype.EType
	var err error
	switch ctype {
	case rfc6803.ChecksumCMACCamellia128:
		e = rfc6803.Camellia128CTSCMAC
	case rfc6803.ChecksumCMACCamellia256:
		e = rfc6803.Camellia256CTSCMAC
	default:
		e, err = crypto.GetChksumEtype(ctype)
	}
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.GetChecksumHash(key, data, 15)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// mitSafe builds a KRB-SAFE checksummed MIT's way with gokrb5's checksum.
func mitSafe(t testing.TB, key []byte, body []byte, ctype int32) []byte {
	return safeMsg(body, ctype, gokrb5Sum(t, key, ctype, safeMsg(body, 0, nil)))
}

// The size message of a captured MIT kprop run (aes256-cts-hmac-sha1-96), byte for byte up to the
// checksum value, and the checksum is gokrb5's over the hand-zeroed bytes.
func TestMakeSafeMatchesMITCapture(t *testing.T) {
	key := testKey(krb5.EnctypeAES256CTSSHA1, 9)
	s, err := newSession(sessionParams{role: roleClient, key: key, localSeq: 414323466, localAddr: clientAddr})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.makeSafe([]byte{0x00, 0x02, 0xac, 0xad})
	if err != nil {
		t.Fatal(err)
	}
	head := mustHex(t, "744a3048a003020105a103020114a2233021a00604040002acada306020418b2130a"+
		"a40f300da003020102a10604047f000001a3173015a003020110a10e040c")
	if len(msg) != 76 || !bytes.Equal(msg[:len(head)], head) {
		t.Fatalf("KRB-SAFE\n got %x\nwant %x + 12 checksum bytes", msg, head)
	}
	zeroed := append(mustHex(t, "743e303ca003020105a103020114a2233021a00604040002acada306020418b2130a"+
		"a40f300da003020102a10604047f000001"), mustHex(t, "a30b3009a003020100a1020400")...)
	if want := gokrb5Sum(t, key.KeyValue, 16, zeroed); !bytes.Equal(msg[len(head):], want) {
		t.Fatalf("checksum %x, gokrb5 over the zeroed message gives %x", msg[len(head):], want)
	}
	if s.localSeq != 414323467 {
		t.Errorf("local seq %d", s.localSeq)
	}
}

func TestSafeRoundTrip(t *testing.T) {
	mandatory := map[krb5.Enctype]int32{17: 15, 18: 16, 19: 19, 20: 20, 16: 12, 23: -138, 25: 17, 26: 18}
	for _, id := range implementedEnctypes() {
		name := krb5.Enctype(id).String()
		c, s := sessionPair(t, id)
		size := []byte{0, 2, 0xac, 0xad}
		for i := range 3 {
			msg, err := c.makeSafe(size)
			if err != nil {
				t.Fatal(err)
			}
			var ks messages.KRBSafe
			if err := ks.Unmarshal(msg); err != nil {
				t.Fatalf("%s: gokrb5 cannot parse our KRB-SAFE: %v", name, err)
			}
			if ks.Cksum.CksumType != mandatory[id] || ks.SafeBody.SequenceNumber != int64(testSc+i) ||
				!bytes.Equal(ks.SafeBody.SAddress.Address, clientAddr.Address) || !ks.SafeBody.Timestamp.IsZero() {
				t.Fatalf("%s: %+v", name, ks)
			}
			// MIT's convention, recomputed with gokrb5 over a hand-built
			// zeroed message around our body bytes.
			f, _ := parseEnvelope(msg, tagKRBSafe)
			bodyDER, _ := f.required(2)
			if want := gokrb5Sum(t, c.key.KeyValue, mandatory[id], safeMsg(bodyDER, 0, nil)); !bytes.Equal(ks.Cksum.Checksum, want) {
				t.Fatalf("%s: checksum %x, gokrb5 gives %x", name, ks.Cksum.Checksum, want)
			}
			got, err := s.readSafe(msg)
			if err != nil || !bytes.Equal(got, size) {
				t.Fatalf("%s: ReadSafe: %x %v", name, got, err)
			}
		}
		// The acknowledgement goes the other way.
		ack, _ := s.makeSafe(size)
		if got, err := c.readSafe(ack); err != nil || !bytes.Equal(got, size) {
			t.Fatalf("%s: ack: %v", name, err)
		}
		if s.remoteSeq != testSc+3 || c.remoteSeq != testSs+1 {
			t.Errorf("%s: seqs %d %d", name, s.remoteSeq, c.remoteSeq)
		}
	}
}

// Both checksum conventions are accepted on input: MIT's (whole message,
// zeroed checksum) and RFC 4120's (body only).
func TestReadSafeConventions(t *testing.T) {
	mandatory := map[krb5.Enctype]int32{17: 15, 18: 16, 19: 19, 20: 20, 16: 12, 23: -138, 25: 17, 26: 18}
	for _, id := range implementedEnctypes() {
		_, s := sessionPair(t, id)
		key := s.key.KeyValue
		b1 := safeBody([]byte("mit"), derInt(testSc), clientAddr, nil)
		if got, err := s.readSafe(mitSafe(t, key, b1, mandatory[id])); err != nil || string(got) != "mit" {
			t.Errorf("%s MIT convention: %v", krb5.Enctype(id).String(), err)
		}
		b2 := safeBody([]byte("rfc"), derInt(testSc+1), clientAddr, nil)
		rfc := safeMsg(b2, mandatory[id], gokrb5Sum(t, key, mandatory[id], b2))
		if got, err := s.readSafe(rfc); err != nil || string(got) != "rfc" {
			t.Errorf("%s RFC convention: %v", krb5.Enctype(id).String(), err)
		}
		// A checksum over something else is neither.
		b3 := safeBody([]byte("bad"), derInt(testSc+2), clientAddr, nil)
		bad := safeMsg(b3, mandatory[id], gokrb5Sum(t, key, mandatory[id], b3[1:]))
		if _, err := s.readSafe(bad); !errors.Is(err, krb5.ErrModified) || CodeOf(err) != krb5.ErrModified {
			t.Errorf("%s wrong checksum: %v", krb5.Enctype(id).String(), err)
		}
	}
}

// md5HMAC is Microsoft's MD5-HMAC checksum (-137), written out here.
func md5HMAC(key, data []byte) []byte {
	var u [4]byte
	binary.LittleEndian.PutUint32(u[:], 15)
	h := md5.Sum(append(u[:], data...))
	m := hmac.New(md5.New, key)
	m.Write(h[:])
	return m.Sum(nil)
}

// Which checksum types MIT lets through with which key.
func TestReadSafeChecksumTypes(t *testing.T) {
	_, aes128 := sessionPair(t, krb5.EnctypeAES128CTSSHA1)
	_, rc4s := sessionPair(t, krb5.EnctypeRC4HMAC)
	body := func(s *session) []byte { return safeBody([]byte("d"), derInt(int64(s.remoteSeq)), clientAddr, nil) }
	k := aes128.key.KeyValue
	tests := []struct {
		name string
		s    *session
		msg  func() []byte
		want error // nil: accepted
		code krb5.ErrorCode
	}{
		{"aes128-sha2 checksum with an aes128-sha1 key (same family)", aes128,
			func() []byte { return mitSafe(t, k, body(aes128), 19) }, nil, 0},
		{"hmac-md5-rc4 with an AES key (MIT: any key)", aes128,
			func() []byte { return mitSafe(t, k, body(aes128), -138) }, nil, 0},
		{"aes256 checksum with an aes128 key", aes128,
			func() []byte { return safeMsg(body(aes128), 16, make([]byte, 12)) }, ErrBadEnctype, krb5.ErrGeneric},
		{"camellia checksum with an aes key", aes128,
			func() []byte { return safeMsg(body(aes128), 17, make([]byte, 16)) }, ErrBadEnctype, krb5.ErrGeneric},
		{"md5-hmac-rc4 with an AES key", aes128,
			func() []byte { return safeMsg(body(aes128), -137, make([]byte, 16)) }, ErrBadEnctype, krb5.ErrGeneric},
		{"md5-hmac-rc4 with an RC4 key", rc4s,
			func() []byte {
				b := body(rc4s)
				return safeMsg(b, -137, md5HMAC(rc4s.key.KeyValue, safeMsg(b, 0, nil)))
			}, nil, 0},
		{"unkeyed rsa-md5", aes128,
			func() []byte { return safeMsg(body(aes128), 7, make([]byte, 16)) }, krb5.ErrInappCksum, krb5.ErrInappCksum},
		{"unkeyed sha1", aes128,
			func() []byte { return safeMsg(body(aes128), 14, make([]byte, 20)) }, krb5.ErrInappCksum, krb5.ErrInappCksum},
		{"type 0", aes128,
			func() []byte { return safeMsg(body(aes128), 0, nil) }, kcrypto.ErrSumtypeNosupp, krb5.ErrGeneric},
		{"crc32 (gone from MIT 1.20)", aes128,
			func() []byte { return safeMsg(body(aes128), 1, make([]byte, 4)) }, kcrypto.ErrSumtypeNosupp, krb5.ErrGeneric},
		{"truncated checksum", aes128,
			func() []byte {
				return safeMsg(body(aes128), 15, gokrb5Sum(t, k, 15, safeMsg(body(aes128), 0, nil))[:11])
			}, krb5.ErrModified, krb5.ErrModified},
	}
	for _, tc := range tests {
		before := tc.s.remoteSeq
		got, err := tc.s.readSafe(tc.msg())
		switch {
		case tc.want == nil && (err != nil || string(got) != "d"):
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != nil && (!errors.Is(err, tc.want) || CodeOf(err) != tc.code):
			t.Errorf("%s: got %v (code %d), want %v", tc.name, err, CodeOf(err), tc.want)
		case tc.want != nil && tc.s.remoteSeq != before:
			t.Errorf("%s: remote seq moved", tc.name)
		}
	}
}

func TestReadSafeTamper(t *testing.T) {
	for _, id := range implementedEnctypes() {
		c, s := sessionPair(t, id)
		msg, _ := c.makeSafe([]byte{0, 0, 0x10, 0})
		for _, off := range []int{22, 25, len(msg) - 1, len(msg) - 5} {
			bad := bytes.Clone(msg)
			bad[off] ^= 0x04
			if _, err := s.readSafe(bad); !errors.Is(err, krb5.ErrModified) {
				t.Errorf("%s byte %d: %v", krb5.Enctype(id).String(), off, err)
			}
		}
		if _, err := s.readSafe(msg); err != nil {
			t.Errorf("%s genuine after tampering: %v", krb5.Enctype(id).String(), err)
		}
	}
}

func TestReadSafeAddressesAndOrder(t *testing.T) {
	c, s := sessionPair(t, krb5.EnctypeAES256CTSSHA384)
	k := s.key.KeyValue
	ours, theirs := serverAddr, clientAddr
	if _, err := s.readSafe(mitSafe(t, k, safeBody([]byte("a"), derInt(testSc), clientAddr, &theirs), 20)); !errors.Is(err, krb5.ErrBadAddr) || CodeOf(err) != krb5.ErrBadAddr {
		t.Errorf("wrong r-address: %v", err)
	}
	// MIT checks the address before the checksum.
	if _, err := s.readSafe(safeMsg(safeBody([]byte("a"), derInt(testSc), clientAddr, &theirs), 20, make([]byte, 24))); !errors.Is(err, krb5.ErrBadAddr) {
		t.Errorf("wrong r-address, bad checksum: %v", err)
	}
	if got, err := s.readSafe(mitSafe(t, k, safeBody([]byte("a"), derInt(testSc), types.HostAddress{AddrType: 2, Address: []byte{10, 1, 2, 3}}, &ours), 20)); err != nil || string(got) != "a" {
		t.Errorf("right r-address, bogus s-address: %v", err)
	}
	// s has consumed testSc; c's first message reuses that number.
	m1, _ := c.makeSafe([]byte("1"))
	m2, _ := c.makeSafe([]byte("2"))
	m3, _ := c.makeSafe([]byte("3"))
	if _, err := s.readSafe(m1); !errors.Is(err, krb5.ErrBadOrder) || CodeOf(err) != krb5.ErrBadOrder {
		t.Errorf("replayed number: %v", err)
	}
	if _, err := s.readSafe(m3); !errors.Is(err, krb5.ErrBadOrder) {
		t.Errorf("reordered: %v", err)
	}
	for _, m := range [][]byte{m2, m3} {
		if _, err := s.readSafe(m); err != nil {
			t.Errorf("in order: %v", err)
		}
	}
	if _, err := s.readSafe(m3); !errors.Is(err, krb5.ErrBadOrder) {
		t.Errorf("replay: %v", err)
	}

	krbErr, _ := c.makeError(krb5.ErrGeneric, "Premature EOF found for database file!", timeZero)
	_, err := s.readSafe(krbErr)
	var re *RemoteError
	if !errors.As(err, &re) || re.Text != "Premature EOF found for database file!" || CodeOf(err) != krb5.ErrGeneric {
		t.Errorf("KRB-ERROR: %v", err)
	}
	for _, bad := range [][]byte{nil, {0x75, 0}, {0x54, 0}} {
		if _, err := s.readSafe(bad); !errors.Is(err, krb5.ErrMsgType) && !(len(bad) > 0 && bad[0] == 0x54 && errors.Is(err, errASN1BadID)) {
			t.Errorf("%x: %v", bad, err)
		}
	}
	pv := tlv(idApp|tagKRBSafe, tlv(idSequence, ctx(0, derInt(4)), ctx(1, derInt(20))))
	if _, err := s.readSafe(pv); CodeOf(err) != krb5.ErrBadPVNO {
		t.Errorf("pvno 4: %v", err)
	}
}

// An absent seq-number reads as 0; Heimdal's sign-extended encodings pass
// and mark the peer.
func TestReadSafeSeqEncodings(t *testing.T) {
	key := testKey(krb5.EnctypeAES128CTSSHA1, 77)
	k := key.KeyValue
	s, _ := newSession(sessionParams{key: key, remoteSeq: 0, localAddr: serverAddr})
	if got, err := s.readSafe(mitSafe(t, k, safeBody([]byte("0"), nil, clientAddr, nil), 15)); err != nil || string(got) != "0" {
		t.Fatalf("absent seq: %v", err)
	}
	s.remoteSeq = 0x80
	heimdal := tlv(idInteger, []byte{0x80}) // 0x80 without its leading zero: reads as 0xffffff80
	if _, err := s.readSafe(mitSafe(t, k, safeBody([]byte("h"), heimdal, clientAddr, nil), 15)); err != nil {
		t.Fatalf("Heimdal 0x80: %v", err)
	}
	if !s.seqHeimdal || s.remoteSeq != 0x81 {
		t.Fatalf("flags after Heimdal form: heimdal=%v seq=%#x", s.seqHeimdal, s.remoteSeq)
	}
	if _, err := s.readSafe(mitSafe(t, k, safeBody([]byte("h"), tlv(idInteger, []byte{0x81}), clientAddr, nil), 15)); err != nil {
		t.Fatalf("Heimdal 0x81: %v", err)
	}
	// A negative INTEGER below -2^31 or a 33-bit value does not decode.
	for _, v := range [][]byte{{0xff, 0x7f, 0xff, 0xff, 0xff}, {0x01, 0, 0, 0, 0}} {
		if _, err := s.readSafe(mitSafe(t, k, safeBody([]byte("o"), tlv(idInteger, v), clientAddr, nil), 15)); !errors.Is(err, errASN1Overflow) {
			t.Errorf("seq %x: %v", v, err)
		}
	}
}

func TestCheckSeqNum(t *testing.T) {
	tests := []struct {
		exp, in       uint32
		sane, heimdal bool
		ok            bool
		sane2, heim2  bool
	}{
		{5, 5, false, false, true, false, false},
		{5, 6, false, false, false, false, false},
		{0x80, 0x80, false, false, true, true, false},
		{0x80, 0xffffff80, false, false, true, false, true},
		{0x80, 0xffffff80, true, false, false, true, false},
		{0x8000, 0xffff8000, false, false, true, false, true},
		{0x9000, 0x9000, false, false, true, true, false},
		{0x800000, 0xff800000, false, false, true, false, true},
		{0xff800000, 0xff800000, false, true, true, false, true},
		{0xffffff80, 0xffffff80, false, false, true, false, false},
		{0xffffff81, 0xffffff80, false, false, false, false, false},
		{0, 0x100, false, false, true, false, true},
		{0, 0x10000, false, true, false, false, true},
		{0, 0x200, false, false, false, false, false},
		{7, 7, true, false, true, true, false},
	}
	for _, tc := range tests {
		ok, sane, heim := checkSeqNum(tc.exp, tc.in, tc.sane, tc.heimdal)
		if ok != tc.ok || sane != tc.sane2 || heim != tc.heim2 {
			t.Errorf("exp %#x in %#x sane %v heimdal %v: got %v %v %v", tc.exp, tc.in, tc.sane, tc.heimdal, ok, sane, heim)
		}
	}
}
