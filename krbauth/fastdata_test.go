package krbauth

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"runtime"
	"testing"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/cputime"
	"github.com/gokprop/gokprop/krb5"
)

// TestFastDataNegotiation: the fast data phase is negotiated exactly when
// the client offers it, the server accepts it and the session key is not
// des3; then both ends hold the same fresh subkey and data key, else the
// session is MIT's (ticket session key, no data key).
func TestFastDataNegotiation(t *testing.T) {
	for _, et := range handshakeEnctypes {
		for _, tc := range []struct{ offer, accept bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			name := krb5.Enctype(et).String()
			if tc.offer {
				name += "/offer"
			}
			if tc.accept {
				name += "/accept"
			}
			t.Run(name, func(t *testing.T) {
				setup := newTestSetup(t, et)
				ccfg, scfg := setup.clientConfig(), setup.serverConfig()
				ccfg.FastData, scfg.FastData = tc.offer, tc.accept
				cli, srv := runHandshake(t, ccfg, scfg)
				if cli.err != nil || srv.err != nil {
					t.Fatalf("client: %v; server: %v", cli.err, srv.err)
				}
				c, s := cli.sess, srv.sess
				want := tc.offer && tc.accept && et != krb5.EnctypeDES3CBCSHA1
				if got := c.fastKey != nil; got != want {
					t.Fatalf("client fast data %v, want %v", got, want)
				}
				if got := s.fastKey != nil; got != want {
					t.Fatalf("server fast data %v, want %v", got, want)
				}
				if !bytes.Equal(c.key.KeyValue, s.key.KeyValue) || c.key.KeyType != int32(et) || s.key.KeyType != int32(et) {
					t.Fatalf("session keys differ: %v, %v", c.key, s.key)
				}
				ticketKey := bytes.Equal(c.key.KeyValue, setup.creds.SessionKey.KeyValue)
				if ticketKey == want {
					t.Errorf("session key is the ticket's: %v; fast data %v", ticketKey, want)
				}
				if want && !bytes.Equal(c.fastKey, s.fastKey) {
					t.Errorf("data keys differ")
				}
				// Whether the client offered, as each end sees it: never
				// for des3, whatever the server accepts.
				offered := tc.offer && et != krb5.EnctypeDES3CBCSHA1
				if c.fastOffered != offered || s.fastOffered != offered {
					t.Errorf("offered: client %v, server %v, want %v", c.fastOffered, s.fastOffered, offered)
				}
			})
		}
	}
}

// TestFastDataFreshKeys: two sessions on the same ticket get different
// subkeys and data keys.
func TestFastDataFreshKeys(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES256CTSSHA1)
	var keys [][]byte
	for range 2 {
		ccfg, scfg := setup.clientConfig(), setup.serverConfig()
		ccfg.FastData, scfg.FastData = true, true
		cli, srv := runHandshake(t, ccfg, scfg)
		if cli.err != nil || srv.err != nil || cli.sess.fastKey == nil {
			t.Fatalf("client: %v; server: %v", cli.err, srv.err)
		}
		keys = append(keys, cli.sess.fastKey)
	}
	if bytes.Equal(keys[0], keys[1]) {
		t.Error("two sessions share a data key")
	}
}

// TestFastOfferEncoding pins the offer's encoding: AuthorizationData with
// one AD-IF-RELEVANT element holding one element of the private ad-type,
// and checks what counts as an offer.
func TestFastOfferEncoding(t *testing.T) {
	ad, err := fastOfferAD()
	if err != nil {
		t.Fatal(err)
	}
	b, err := asn1.Marshal(ad)
	if err != nil {
		t.Fatal(err)
	}
	// SEQUENCE { SEQUENCE { [0] INTEGER 1 (AD-IF-RELEVANT), [1] OCTET
	// STRING { SEQUENCE { SEQUENCE { [0] INTEGER -2147417, [1] OCTET
	// STRING offer }}}}}
	inner := "3038" + "3036" + "a0050203df3ba7" + "a12d042b" + hex.EncodeToString([]byte(fastDataOffer))
	want := "3045" + "3043" + "a003020101" + "a13c043a" + inner
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("offer\n got %s\nwant %s", got, want)
	}
	if !hasFastOffer(ad) {
		t.Error("the offer is not recognised")
	}
	etypeList, _ := asn1.Marshal(types.AuthorizationData{{ADType: 129, ADData: []byte{0x30, 0x03, 0x02, 0x01, 0x12}}})
	other, _ := asn1.Marshal(types.AuthorizationData{{ADType: fastDataADType, ADData: []byte("gokprop fast data 2")}})
	for name, ad := range map[string]types.AuthorizationData{
		"none":           nil,
		"etype list":     {{ADType: adIfRelevant, ADData: etypeList}},
		"other version":  {{ADType: adIfRelevant, ADData: other}},
		"not in if-rel":  {{ADType: fastDataADType, ADData: []byte(fastDataOffer)}},
		"undecodable":    {{ADType: adIfRelevant, ADData: []byte{0x30, 0x05, 0x01}}},
		"wrong ad-type":  {{ADType: 2, ADData: ad[0].ADData}},
		"offer is empty": {{ADType: adIfRelevant, ADData: []byte{0x30, 0x00}}},
	} {
		if hasFastOffer(ad) {
			t.Errorf("%s: taken for an offer", name)
		}
	}
}

// fastConns returns a sender and a receiver Conn in the fast data phase
// with the given data keys.
func fastConns(t testing.TB, sendKey, recvKey []byte, out *memConn, in []byte) (client, server *Conn) {
	key := testKey(krb5.EnctypeAES256CTSSHA1, 7)
	client = handshakenConn(t, out, sessionParams{role: roleClient, key: key, localSeq: testSc, remoteSeq: testSs,
		localAddr: clientAddr, fastKey: sendKey})
	server = handshakenConn(t, newMemConn(in), sessionParams{role: roleServer, key: key, localSeq: testSs, remoteSeq: testSc,
		localAddr: serverAddr, fastKey: recvKey})
	return client, server
}

// fastStream seals data as records of at most record bytes with key,
// announcing total, and returns the records (each a whole frame).
func fastStream(t testing.TB, key []byte, data []byte, record int, total int64) [][]byte {
	t.Helper()
	out := newMemConn(nil)
	c, _ := fastConns(t, key, key, out, nil)
	if err := sendStream(t, c, PrivWriterOptions{MaxData: record, Total: total}, streamChunks0(data, record)); err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	b := out.out.Bytes()
	for len(b) > 0 {
		n := int(binary.BigEndian.Uint32(b)) + frameHeaderLen
		recs = append(recs, bytes.Clone(b[:n]))
		b = b[n:]
	}
	return recs
}

func testFastKey(seed byte) []byte { return bytes.Repeat([]byte{seed}, 32) }

// TestFastRecordsRoundTrip: records carry the data through a PrivReader
// with several depths, and are exactly as long as the format says.
func TestFastRecordsRoundTrip(t *testing.T) {
	key := testFastKey(1)
	const record = 64 << 10
	data := pattern(5*record+777, 5)
	recs := fastStream(t, key, data, record, int64(len(data)))
	if len(recs) != 6 {
		t.Fatalf("%d records, want 6", len(recs))
	}
	for i, r := range recs {
		n := record
		if i == 5 {
			n = 777
		}
		if len(r) != frameHeaderLen+1+n+fastTagLen || r[frameHeaderLen] != fastRecordType {
			t.Errorf("record %d: %d bytes, type %#x", i, len(r), r[frameHeaderLen])
		}
		if bytes.Contains(r, data[i*record:i*record+min(n, 64)]) {
			t.Errorf("record %d carries its plaintext", i)
		}
	}
	for _, depth := range []int{3, 6, 16} {
		_, s := fastConns(t, key, key, nil, bytes.Join(recs, nil))
		got, err := readStream(s, int64(len(data)), depth)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("depth %d: %d bytes, %v", depth, len(got), err)
		}
	}
}

// TestFastRecordsRefused: a record stream that is tampered with,
// reordered, replayed, truncated, spliced from another session or
// announced with another total fails at the first bad record, after the
// good ones.
func TestFastRecordsRefused(t *testing.T) {
	key := testFastKey(2)
	const record = 16 << 10
	data := pattern(4*record, 9)
	total := int64(len(data))
	recs := fastStream(t, key, data, record, total)
	foreign := fastStream(t, testFastKey(3), data, record, total)
	longer := fastStream(t, key, pattern(5*record, 9), record, 5*record)
	join := func(rs ...[]byte) []byte { return bytes.Join(rs, nil) }
	flip := func(r []byte, i int) []byte { r = bytes.Clone(r); r[i] ^= 1; return r }
	krbErr := framed(errorMsg(t, krb5.ErrGeneric, "kprop: premature EOF"))
	for _, tc := range []struct {
		name   string
		stream []byte
		good   int // records delivered before the failure
		want   error
	}{
		{"ciphertext bit", join(recs[0], flip(recs[1], 100), recs[2], recs[3]), 1, krb5.ErrBadIntegrity},
		{"tag bit", join(recs[0], recs[1], flip(recs[2], len(recs[2])-1), recs[3]), 2, krb5.ErrBadIntegrity},
		{"type byte", join(flip(recs[0], frameHeaderLen), recs[1], recs[2], recs[3]), 0, ErrFastRecord},
		{"reordered", join(recs[0], recs[2], recs[1], recs[3]), 1, krb5.ErrBadIntegrity},
		{"replayed", join(recs[0], recs[1], recs[1], recs[3]), 2, krb5.ErrBadIntegrity},
		{"dropped", join(recs[0], recs[2], recs[3]), 1, krb5.ErrBadIntegrity},
		{"truncated", join(recs[0], recs[1], recs[2]), 3, ErrConnAborted},
		{"cut inside", join(recs[0], recs[1], recs[2], recs[3][:100]), 3, ErrConnAborted},
		{"other session", join(recs[0], foreign[1], recs[2], recs[3]), 1, krb5.ErrBadIntegrity},
		{"other total", join(longer[0], longer[1], longer[2], longer[3]), 0, krb5.ErrBadIntegrity},
		{"beyond total", join(recs[0], recs[1], recs[2], longer[3], longer[4]), 3, krb5.ErrBadIntegrity},
		{"peer error", join(recs[0], krbErr), 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, s := fastConns(t, key, key, nil, tc.stream)
			r, err := s.NewPrivReader(PrivReaderOptions{Total: total})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []byte
			for i := 0; ; i++ {
				d, err := r.Next()
				if err != nil {
					if i != tc.good {
						t.Errorf("failed at record %d, want %d: %v", i, tc.good, err)
					}
					var re *RemoteError
					if tc.want == nil && !errors.As(err, &re) {
						t.Errorf("error %v, want the peer's KRB-ERROR", err)
					}
					if tc.want != nil && !errors.Is(err, tc.want) {
						t.Errorf("error %v, want %v", err, tc.want)
					}
					break
				}
				got = append(got, d...)
				if int64(len(got)) >= total {
					t.Fatalf("the whole stream was accepted")
				}
			}
			if !bytes.Equal(got, data[:len(got)]) {
				t.Error("the records delivered are not the data")
			}
		})
	}
}

// TestFastRecordOversized: the reader refuses a record longer than
// FastRecordSize without reading it.
func TestFastRecordOversized(t *testing.T) {
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[:], 1+FastRecordSize+fastTagLen+1)
	hdr[4] = fastRecordType
	_, s := fastConns(t, testFastKey(4), testFastKey(4), nil, hdr[:])
	_, err := readStream(s, 1<<30, 0)
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("error %v, want ErrMessageTooLarge", err)
	}
}

// TestFastWriterLimits: a fast data PrivWriter refuses records beyond the
// total, empty records and a MaxData above FastRecordSize.
func TestFastWriterLimits(t *testing.T) {
	c, _ := fastConns(t, testFastKey(5), nil, newMemConn(nil), nil)
	if _, err := c.NewPrivWriter(PrivWriterOptions{MaxData: FastRecordSize + 1, Total: 1}); err == nil {
		t.Error("MaxData above FastRecordSize accepted")
	}
	w, err := c.NewPrivWriter(PrivWriterOptions{MaxData: 100, Total: 150})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Buffer(0); err == nil {
		t.Error("an empty record accepted")
	}
	if _, err := w.Buffer(100); err != nil {
		t.Fatal(err)
	}
	if err := w.Send(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Buffer(51); err == nil {
		t.Error("a record beyond the total accepted")
	}
}

// BenchmarkFastWriter measures the fast data phase's sender (records of
// FastRecordSize into a connection that discards them): MB/s of user data
// and allocations per record.
func BenchmarkFastWriter(b *testing.B) {
	const recs = 256
	chunks := repeated(pattern(FastRecordSize, 1), recs)
	key := testFastKey(6)
	b.SetBytes(recs * FastRecordSize)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cputime.Now()
	for range b.N {
		c := handshakenConn(b, &sinkConn{}, sessionParams{role: roleClient, key: testKey(krb5.EnctypeAES256CTSSHA1, 1),
			localSeq: testSc, localAddr: clientAddr, rand: rand.Reader, fastKey: key})
		if err := sendStream(b, c, PrivWriterOptions{MaxData: FastRecordSize, Total: recs * FastRecordSize}, chunks); err != nil {
			b.Fatal(err)
		}
	}
	cputime.ReportRate(b, cpu0, int64(recs*FastRecordSize))
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N*recs), "allocs/record")
}

// BenchmarkFastReader measures the fast data phase's receiver (records
// read from memory and opened by GOMAXPROCS workers): MB/s of user data
// and allocations per record.
func BenchmarkFastReader(b *testing.B) {
	const recs = 256
	key := testFastKey(7)
	data := pattern(recs*FastRecordSize, 2)
	stream := bytes.Join(fastStream(b, key, data, FastRecordSize, int64(len(data))), nil)
	b.SetBytes(recs * FastRecordSize)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cputime.Now()
	for range b.N {
		s := handshakenConn(b, newMemConn(stream), sessionParams{role: roleServer, key: testKey(krb5.EnctypeAES256CTSSHA1, 1),
			localSeq: testSs, remoteSeq: testSc, localAddr: serverAddr, fastKey: key})
		if _, err := readStreamDiscard(s, int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
	cputime.ReportRate(b, cpu0, int64(recs*FastRecordSize))
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N*recs), "allocs/record")
}
