package krbauth

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
)

// handshakeResult is what one side of a handshake returned.
type handshakeResult struct {
	sess *session
	err  error
}

// tcpLoopback returns the two ends of a real TCP connection on 127.0.0.1.
func tcpLoopback(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type acc struct {
		c   net.Conn
		err error
	}
	ch := make(chan acc, 1)
	go func() {
		c, err := ln.Accept()
		ch <- acc{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a := <-ch
	if a.err != nil {
		client.Close()
		t.Fatal(a.err)
	}
	t.Cleanup(func() { client.Close(); a.c.Close() })
	return client, a.c
}

// runHandshake runs sendauth and recvauth against each other over loopback TCP.
// Each side closes its end when it fails, as kprop and kpropd exit.
func runHandshake(t testing.TB, ccfg *ClientConfig, scfg *ServerConfig) (cli, srv handshakeResult) {
	t.Helper()
	cc, sc := tcpLoopback(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan handshakeResult, 1)
	go func() {
		s, err := recvAuth(ctx, sc, scfg)
		if err != nil {
			sc.Close()
		}
		done <- handshakeResult{s, err}
	}()
	s, err := sendAuth(ctx, cc, ccfg)
	if err != nil {
		cc.Close()
	}
	cli = handshakeResult{s, err}
	srv = <-done
	return cli, srv
}

func TestHandshakeLoopback(t *testing.T) {
	for _, et := range handshakeEnctypes {
		t.Run(krb5.Enctype(et).String(), func(t *testing.T) {
			setup := newTestSetup(t, et)
			cli, srv := runHandshake(t, setup.clientConfig(), setup.serverConfig())
			if cli.err != nil || srv.err != nil {
				t.Fatalf("client: %v; server: %v", cli.err, srv.err)
			}
			c, s := cli.sess, srv.sess
			if !bytes.Equal(c.key.KeyValue, setup.creds.SessionKey.KeyValue) || !bytes.Equal(s.key.KeyValue, c.key.KeyValue) || c.key.KeyType != int32(et) || s.key.KeyType != int32(et) {
				t.Errorf("keys differ: client %v, server %v", c.key, s.key)
			}
			if c.localSeq != s.remoteSeq || c.remoteSeq != s.localSeq {
				t.Errorf("sequence numbers not mirrored: client %d/%d, server %d/%d", c.localSeq, c.remoteSeq, s.localSeq, s.remoteSeq)
			}
			for _, seq := range []uint32{c.localSeq, s.localSeq} {
				if seq == 0 || seq > 0x3fffffff {
					t.Errorf("sequence number %d outside 1..2^30-1", seq)
				}
			}
			if c.role != roleClient || s.role != roleServer {
				t.Errorf("roles %v %v", c.role, s.role)
			}
			if !s.client.Equal(clientPrinc) || !s.server.Equal(serverPrinc) || !c.client.Equal(clientPrinc) || !c.server.Equal(serverPrinc) {
				t.Errorf("principals: client session %s→%s, server session %s→%s", c.client, c.server, s.client, s.server)
			}
			if krb5.Enctype(s.ticketEtype) != et || krb5.Enctype(c.ticketEtype) != et {
				t.Errorf("ticket enctype %d/%d, want %d", c.ticketEtype, s.ticketEtype, et)
			}
			want := types.HostAddress{AddrType: 2, Address: []byte{127, 0, 0, 1}}
			for _, a := range []types.HostAddress{c.localAddr, s.localAddr} {
				if a.AddrType != want.AddrType || !bytes.Equal(a.Address, want.Address) {
					t.Errorf("s-address %+v, want %+v", a, want)
				}
			}
		})
	}
}

// TestSendAuthWire checks the bytes sendauth puts on the wire against
// what MIT kprop sends (MIT's sendauth.c and mk_req_ext.c).
func TestSendAuthWire(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES256CTSSHA1)
	cc, sc := tcpLoopback(t)
	errc := make(chan error, 1)
	go func() {
		_, err := sendAuth(context.Background(), cc, setup.clientConfig())
		errc <- err
	}()
	sc.SetDeadline(time.Now().Add(10 * time.Second))
	versions := make([]byte, 37)
	if _, err := io.ReadFull(sc, versions); err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(versions), "00000013"+"4b5242355f53454e44415554485f56312e3000"+"0000000a"+"6b70726f70355f303100"; got != want {
		t.Errorf("version frames\n got %s\nwant %s", got, want)
	}
	sc.Write([]byte{0})
	apreq, err := readFrame(sc, 0)
	if err != nil {
		t.Fatal(err)
	}
	sc.Close()
	if err := <-errc; !errors.Is(err, ErrConnAborted) {
		t.Errorf("client error after the server hung up: %v", err)
	}

	if !bytes.Contains(apreq, []byte{0xa2, 0x07, 0x03, 0x05, 0x00, 0x20, 0x00, 0x00, 0x00}) {
		t.Errorf("ap-options [2] BIT STRING 03 05 00 20 00 00 00 not found in % x", apreq[:min(len(apreq), 40)])
	}
	var w struct {
		PVNO          int           `asn1:"explicit,tag:0"`
		MsgType       int           `asn1:"explicit,tag:1"`
		APOptions     asn1.RawValue `asn1:"explicit,tag:2"`
		Ticket        asn1.RawValue `asn1:"explicit,tag:3"`
		Authenticator asn1.RawValue `asn1:"explicit,tag:4"`
	}
	if _, err := asn1.UnmarshalWithParams(apreq, &w, "application,explicit,tag:14"); err != nil {
		t.Fatal(err)
	}
	if w.PVNO != 5 || w.MsgType != 14 {
		t.Errorf("pvno %d msg-type %d", w.PVNO, w.MsgType)
	}
	if got := hex.EncodeToString(w.APOptions.Bytes); got != "03050020000000" {
		t.Errorf("ap-options %s", got)
	}
	checkNoKVNO(t, "authenticator", w.Authenticator.Bytes)

	req, err := parseAPReq(apreq)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := setup.creds.Ticket.Marshal()
	if got, _ := req.ticket.Marshal(); !bytes.Equal(got, want) {
		t.Error("ticket not sent as issued")
	}
	if req.authenticator.EType != int32(krb5.EnctypeAES256CTSSHA1) {
		t.Errorf("authenticator etype %d", req.authenticator.EType)
	}
	plain, err := decrypt(req.authenticator, setup.creds.SessionKey, keyusage.AP_REQ_AUTHENTICATOR)
	if err != nil {
		t.Fatalf("authenticator does not decrypt with the session key under usage 11: %v", err)
	}
	var raw asn1.RawValue
	if _, err := asn1.UnmarshalWithParams(plain, &raw, "application,tag:2"); err != nil {
		t.Fatal(err)
	}
	// The SEQUENCE inside [APPLICATION 2] must carry exactly the fields
	// [0] vno, [1] crealm, [2] cname, [4] cusec, [5] ctime, [7] seq-number.
	if got := fieldTags(t, raw.Bytes); got != "0 1 2 4 5 7" {
		t.Errorf("authenticator fields %q, want \"0 1 2 4 5 7\" (no checksum, subkey or authorization data)", got)
	}
	a, err := decryptAuthenticator(req, setup.creds.SessionKey)
	if err != nil {
		t.Fatal(err)
	}
	if a.SeqNumber < 1 || a.SeqNumber > 0x3fffffff {
		t.Errorf("seq-number %d", a.SeqNumber)
	}
	if !(krb5.Principal{Name: a.CName, Realm: a.CRealm}).Equal(clientPrinc) || a.CName.NameType != 3 {
		t.Errorf("cname %v@%s", a.CName, a.CRealm)
	}
	if d := time.Since(a.CTime); d < -time.Second || d > 10*time.Second {
		t.Errorf("ctime %v", a.CTime)
	}
}

// fieldTags lists the context tags of the fields of the DER SEQUENCE b.
func fieldTags(t testing.TB, b []byte) string {
	t.Helper()
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(b, &seq); err != nil {
		t.Fatal(err)
	}
	var tags []string
	for rest := seq.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		var err error
		rest, err = asn1.Unmarshal(rest, &f)
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, string(rune('0'+f.Tag)))
	}
	return strings.Join(tags, " ")
}

// checkNoKVNO checks that the EncryptedData DER b has fields [0] and [2]
// only, as MIT writes it.
func checkNoKVNO(t testing.TB, what string, b []byte) {
	t.Helper()
	if got := fieldTags(t, b); got != "0 2" {
		t.Errorf("%s EncryptedData fields %q, want \"0 2\" (no kvno)", what, got)
	}
}

// fakeServer answers the version exchange with answer and then runs
// then (if non-nil) on the connection.
func fakeServer(t *testing.T, answer byte, then func(c net.Conn, apreq []byte)) net.Conn {
	t.Helper()
	cc, sc := tcpLoopback(t)
	go func() {
		defer sc.Close()
		sc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(sc, make([]byte, 37)); err != nil {
			return
		}
		sc.Write([]byte{answer})
		if answer != 0 {
			return
		}
		apreq, err := readFrame(sc, 0)
		if err != nil || then == nil {
			// Hang up having read the AP-REQ: closing with it unread
			// would reset the connection rather than end it.
			return
		}
		then(sc, apreq)
	}()
	return cc
}

func TestSendAuthVersionAnswers(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA1)
	for _, tc := range []struct {
		answer byte
		want   error
	}{
		{1, ErrBadAuthVersion},
		{2, ErrBadApplVersion},
		{3, ErrBadResponse},
		{0xff, ErrBadResponse},
	} {
		cc := fakeServer(t, tc.answer, nil)
		_, err := sendAuth(context.Background(), cc, setup.clientConfig())
		if !errors.Is(err, tc.want) {
			t.Errorf("answer %d: got %v, want %v", tc.answer, err, tc.want)
		}
	}
}

func TestSendAuthChecksAPRep(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA256)
	otherKey := randomKey(t, krb5.EnctypeAES128CTSSHA256)
	for _, tc := range []struct {
		name  string
		reply func(t *testing.T, a types.Authenticator) []byte
		want  error
	}{
		{"wrong ctime", func(t *testing.T, a types.Authenticator) []byte {
			return mustAPRep(t, setup.creds.SessionKey, apRepFields{ctime: a.CTime.Add(time.Second), cusec: a.Cusec, seq: 7})
		}, krb5.ErrMutualFail},
		{"wrong cusec", func(t *testing.T, a types.Authenticator) []byte {
			return mustAPRep(t, setup.creds.SessionKey, apRepFields{ctime: a.CTime, cusec: (a.Cusec + 1) % 1000000, seq: 7})
		}, krb5.ErrMutualFail},
		{"wrong key", func(t *testing.T, a types.Authenticator) []byte {
			return mustAPRep(t, otherKey, apRepFields{ctime: a.CTime, cusec: a.Cusec, seq: 7})
		}, krb5.ErrBadIntegrity},
		{"not an AP-REP", func(t *testing.T, a types.Authenticator) []byte {
			return []byte{0x30, 0x00}
		}, krb5.ErrMsgType},
		{"garbage AP-REP", func(t *testing.T, a types.Authenticator) []byte {
			return []byte{0x6f, 0x03, 0x30, 0x01, 0x00}
		}, ErrMalformed},
		{"empty AP-REP", func(t *testing.T, a types.Authenticator) []byte {
			return []byte{}
		}, krb5.ErrMsgType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := fakeServer(t, 0, func(c net.Conn, apreq []byte) {
				req, err := parseAPReq(apreq)
				if err != nil {
					t.Error(err)
					return
				}
				a, err := decryptAuthenticator(req, setup.creds.SessionKey)
				if err != nil {
					t.Error(err)
					return
				}
				writeFrame(c, nil)
				writeFrame(c, tc.reply(t, a))
			})
			s, err := sendAuth(context.Background(), cc, setup.clientConfig())
			if !errors.Is(err, tc.want) || s != nil {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func mustAPRep(t testing.TB, key types.EncryptionKey, f apRepFields) []byte {
	t.Helper()
	b, err := buildAPRep(key, f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSendAuthAPRepSubkey: a (non-MIT) server's AP-REP subkey becomes the
// session key, and its seq-number the remote sequence number.
func TestSendAuthAPRepSubkey(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES256CTSSHA384)
	sub := randomKey(t, krb5.EnctypeAES128CTSSHA1)
	cc := fakeServer(t, 0, func(c net.Conn, apreq []byte) {
		req, _ := parseAPReq(apreq)
		a, err := decryptAuthenticator(req, setup.creds.SessionKey)
		if err != nil {
			t.Error(err)
			return
		}
		writeFrame(c, nil)
		writeFrame(c, mustAPRep(t, setup.creds.SessionKey, apRepFields{ctime: a.CTime, cusec: a.Cusec, subkey: &sub, seq: 0x12345}))
		io.Copy(io.Discard, c)
	})
	s, err := sendAuth(context.Background(), cc, setup.clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.key.KeyValue, sub.KeyValue) || krb5.Enctype(s.key.KeyType) != krb5.EnctypeAES128CTSSHA1 {
		t.Errorf("session key %v, want the AP-REP subkey", s.key)
	}
	if s.remoteSeq != 0x12345 {
		t.Errorf("remote seq %#x", s.remoteSeq)
	}
	if krb5.Enctype(s.ticketEtype) != krb5.EnctypeAES256CTSSHA384 {
		t.Errorf("ticket enctype %d", s.ticketEtype)
	}
}

func TestSendAuthRejectsStaleCredentials(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA1)
	for _, tc := range []struct {
		name   string
		modify func(c *Credentials)
		want   error
	}{
		{"expired", func(c *Credentials) { c.EndTime = time.Now().Add(-301 * time.Second) }, krb5.ErrTktExpired},
		{"not yet valid", func(c *Credentials) { c.StartTime = time.Now().Add(time.Hour) }, krb5.ErrTktNotYetValid},
	} {
		creds := *setup.creds
		tc.modify(&creds)
		cc := fakeServer(t, 0, nil)
		_, err := sendAuth(context.Background(), cc, &ClientConfig{Credentials: &creds, ApplVersion: testApplVersion})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// waitGoroutines waits for the goroutine count to drop back to at most n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines leaked: %d > %d\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHandshakeStalledPeer: a peer that never answers is cut off by the
// context's deadline or by cancellation; a peer that hangs up gives
// ErrConnAborted. Nothing leaks.
func TestHandshakeStalledPeer(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA1)
	before := runtime.NumGoroutine()

	t.Run("client deadline", func(t *testing.T) {
		cc, _ := tcpLoopback(t) // the server end never reads or writes
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := sendAuth(ctx, cc, setup.clientConfig())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("client cancel", func(t *testing.T) {
		cc, _ := tcpLoopback(t)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := sendAuth(ctx, cc, setup.clientConfig())
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want Canceled", err)
		}
		// The connection is usable again afterwards: no stale past deadline.
		cc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := cc.Read(make([]byte, 1)); !isTimeout(err) {
			t.Errorf("read after cancellation: %v, want a fresh timeout", err)
		}
	})
	t.Run("server deadline", func(t *testing.T) {
		_, sc := tcpLoopback(t)
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		_, err := recvAuth(ctx, sc, setup.serverConfig())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want DeadlineExceeded", err)
		}
	})
	t.Run("server stalls after AP-REQ", func(t *testing.T) {
		cc := fakeServer(t, 0, func(c net.Conn, _ []byte) { io.Copy(io.Discard, c) })
		defer cc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		_, err := sendAuth(ctx, cc, setup.clientConfig())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want DeadlineExceeded", err)
		}
	})
	t.Run("server hangs up after versions", func(t *testing.T) {
		cc := fakeServer(t, 0, nil)
		_, err := sendAuth(context.Background(), cc, setup.clientConfig())
		if !errors.Is(err, ErrConnAborted) {
			t.Errorf("got %v, want ErrConnAborted", err)
		}
	})
	t.Run("server hangs up before answering", func(t *testing.T) {
		cc, sc := tcpLoopback(t)
		go func() { io.ReadFull(sc, make([]byte, 37)); sc.Close() }()
		_, err := sendAuth(context.Background(), cc, setup.clientConfig())
		if !errors.Is(err, ErrConnAborted) {
			t.Errorf("got %v, want ErrConnAborted", err)
		}
	})
	t.Run("client hangs up after versions", func(t *testing.T) {
		cc, sc := tcpLoopback(t)
		writeVersions(cc, testApplVersion)
		go func() { io.ReadFull(cc, make([]byte, 1)); cc.Close() }()
		_, err := recvAuth(context.Background(), sc, setup.serverConfig())
		if !errors.Is(err, ErrConnAborted) {
			t.Errorf("got %v, want ErrConnAborted", err)
		}
	})
	t.Run("client hangs up inside a version frame", func(t *testing.T) {
		cc, sc := tcpLoopback(t)
		cc.Write([]byte{0, 0, 0, 19, 'K', 'R', 'B'})
		cc.Close()
		_, err := recvAuth(context.Background(), sc, setup.serverConfig())
		if !errors.Is(err, ErrConnAborted) {
			t.Errorf("got %v, want ErrConnAborted", err)
		}
	})
	waitGoroutines(t, before)
}

func TestHSSeqNumber(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want uint32
	}{
		{[]byte{0, 0, 0, 0}, 1},
		{[]byte{0xc0, 0, 0, 0}, 1},
		{[]byte{0xff, 0xff, 0xff, 0xff}, 0x3fffffff},
		{[]byte{0x12, 0x34, 0x56, 0x78}, 0x12345678},
		{[]byte{0x92, 0x34, 0x56, 0x78}, 0x12345678},
	} {
		got, err := seqNumber(bytes.NewReader(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("% x: got %#x, %v; want %#x", tc.in, got, err, tc.want)
		}
	}
	if _, err := seqNumber(bytes.NewReader([]byte{1})); err == nil {
		t.Error("short random source accepted")
	}
}

// FuzzReadAPRep feeds the client's AP-REP check arbitrary bytes: it must
// return an error, never panic.
func FuzzReadAPRep(f *testing.F) {
	key := randomKey(f, krb5.EnctypeAES128CTSSHA1)
	auth := newAuthenticator(clientPrinc, time.Now(), 99)
	good := mustAPRep(f, key, apRepFields{ctime: auth.CTime, cusec: auth.Cusec, seq: 5})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0x6f, 0x00})
	f.Add([]byte{0x6f, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, msg []byte) {
		// Only the authentic reply (possibly re-framed) can be accepted.
		got, err := readAPRep(msg, key, auth)
		if err == nil && got.seq != 5 {
			t.Errorf("accepted a forged AP-REP: %+v", got)
		}
	})
}
