package krbauth

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/krb5"
)

// tcpCapture is a one-connection TCP relay that records both directions.
type tcpCapture struct {
	ln       net.Listener
	c2s, s2c bytes.Buffer
	done     chan struct{}
}

func startCapture(t *testing.T, target int) *tcpCapture {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &tcpCapture{ln: ln, done: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go func() {
		defer close(c.done)
		down, err := ln.Accept()
		if err != nil {
			return
		}
		defer down.Close()
		up, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", target))
		if err != nil {
			return
		}
		defer up.Close()
		var wg sync.WaitGroup
		relay := func(dst, src net.Conn, rec *bytes.Buffer) {
			defer wg.Done()
			io.Copy(dst, io.TeeReader(src, rec))
			dst.(*net.TCPConn).CloseWrite()
		}
		wg.Add(2)
		go relay(up, down, &c.c2s)
		go relay(down, up, &c.s2c)
		wg.Wait()
	}()
	return c
}

func (c *tcpCapture) port() int { return c.ln.Addr().(*net.TCPAddr).Port }

// splitFrames splits a stream of 4-byte big-endian length-prefixed frames.
func splitFrames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 || int(binary.BigEndian.Uint32(b)) > len(b)-4 {
			t.Fatalf("truncated frame stream (%d bytes left)", len(b))
		}
		n := int(binary.BigEndian.Uint32(b))
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out
}

// TestMITCapture propagates a database with MIT kprop to MIT kpropd through
// a recording relay, for every session enctype, recovers the session key
// from the ticket with the replica's keytab, and then checks
// this package's Conn against MIT's own messages:
//   - ReadSafe accepts MIT's size message and acknowledgement;
//   - ReadPriv, chained, recovers the dump from MIT's KRB-PRIVs;
//   - WriteSafe reproduces both KRB-SAFEs byte for byte, framing included
//     (they are deterministic);
//   - WritePriv, fed the confounders MIT chose, reproduces every KRB-PRIV
//     frame byte for byte.
func TestMITCapture(t *testing.T) {
	if testing.Short() {
		t.Skip("runs MIT's KDC, kprop and kpropd")
	}
	bins := mitrealm.Require(t, "kprop", "kpropd", "krb5kdc", "kdb5_util", "kadmin.local")
	primary := mitrealm.NewPrimary(t, mitrealm.Options{AllowDES3: true, AllowRC4: true})
	primary.AddKpropPrincipals(t)
	mitrealm.Populate(t, primary, 400)
	primary.StartKDC(t)
	dump := filepath.Join(primary.Dir, "capture.dump")
	primary.Dump(t, dump)
	sent, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) < 3*kpropChunk {
		t.Fatalf("dump of %d bytes is too small to chain several KRB-PRIVs", len(sent))
	}
	var setup sync.Mutex // kadmin.local on the shared primary, one at a time
	for _, e := range mitrealm.KpropEnctypes() {
		t.Run(e, func(t *testing.T) {
			t.Parallel()
			setup.Lock()
			replica := primary.NewReplica(t)
			primary.SetupKprop(t, replica)
			setup.Unlock()
			kpropd := replica.StartKpropd(t)
			capture := startCapture(t, kpropd.Port)
			cmd := primary.Command(bins["kprop"], primary.KpropArgs(dump, capture.port())...)
			cmd.Env = primary.ClientEnv(t, "default_tkt_enctypes = "+e, "default_tgs_enctypes = "+e, "permitted_enctypes = "+e)
			stdout, stderr, err := mitrealm.Exec(cmd, "")
			if err != nil || !strings.Contains(stdout, mitrealm.KpropSucceeded) {
				t.Fatalf("MIT kprop: %v\n%s\n%s", err, stdout, stderr)
			}
			select {
			case <-capture.done:
			case <-time.After(30 * time.Second):
				t.Fatal("the relayed connection did not close")
			}
			checkCapture(t, e, replica.Keytab, sent, capture.c2s.Bytes(), capture.s2c.Bytes())
		})
	}
}

func checkCapture(t *testing.T, enctype, keytabPath string, sent, c2sStream, s2cStream []byte) {
	c2s := splitFrames(t, c2sStream)
	if len(s2cStream) == 0 || s2cStream[0] != 0 {
		t.Fatalf("sendauth answer %x", s2cStream[:1])
	}
	s2c := splitFrames(t, s2cStream[1:])
	if len(c2s) < 5 || len(s2c) != 3 {
		t.Fatalf("%d client frames, %d server frames", len(c2s), len(s2c))
	}
	apReq, sizeSafe, privs := c2s[2], c2s[3], c2s[4:]
	apRep, ack := s2c[1], s2c[2]

	// The session key, from the ticket; Sc from the authenticator, Ss from
	// the AP-REP.
	var req messages.APReq
	if err := req.Unmarshal(apReq); err != nil {
		t.Fatal(err)
	}
	// (gokrb5's own decryption helpers know no camellia: the enctype
	// table's Decrypt, checked by the RFC vectors, opens everything.)
	kt, err := keytab.Load(keytabPath)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := FindKey(kt, krb5.Principal{Name: req.Ticket.SName, Realm: req.Ticket.Realm}, uint32(req.Ticket.EncPart.KVNO), krb5.Enctype(req.Ticket.EncPart.EType))
	if err != nil {
		t.Fatal(err)
	}
	tktPlain, err := kcrypto.Decrypt(req.Ticket.EncPart, svc.Key, keyusage.KDC_REP_TICKET)
	if err != nil {
		t.Fatal(err)
	}
	var etp messages.EncTicketPart
	if err := etp.Unmarshal(tktPlain); err != nil {
		t.Fatal(err)
	}
	key := etp.Key
	if krb5.Enctype(key.KeyType).String() != enctype {
		t.Fatalf("session key is %s", krb5.Enctype(key.KeyType).String())
	}
	authPlain, err := kcrypto.Decrypt(req.EncryptedAuthenticator, key, keyusage.AP_REQ_AUTHENTICATOR)
	if err != nil {
		t.Fatal(err)
	}
	var auth types.Authenticator
	if err := auth.Unmarshal(authPlain); err != nil {
		t.Fatal(err)
	}
	sc := uint32(auth.SeqNumber)
	var rep messages.APRep
	if err := rep.Unmarshal(apRep); err != nil {
		t.Fatal(err)
	}
	repPlain, err := kcrypto.Decrypt(rep.EncPart, key, keyusage.AP_REP_ENCPART)
	if err != nil {
		t.Fatal(err)
	}
	var repPart messages.EncAPRepPart
	if err := repPart.Unmarshal(repPlain); err != nil {
		t.Fatal(err)
	}
	ss := uint32(repPart.SequenceNumber)

	// Each side's s-address, as MIT put it in its KRB-SAFE.
	var cs, ss2 messages.KRBSafe
	if err := cs.Unmarshal(sizeSafe); err != nil {
		t.Fatal(err)
	}
	if err := ss2.Unmarshal(ack); err != nil {
		t.Fatal(err)
	}
	kpropAddr, kpropdAddr := cs.SafeBody.SAddress, ss2.SafeBody.SAddress

	// kpropd's side: a server Conn fed what MIT kprop sent verifies it,
	// and its acknowledgement is MIT kpropd's, frame for frame.
	fromKprop := newMemConn(framed(append([][]byte{sizeSafe}, privs...)...))
	server := handshakenConn(t, fromKprop, sessionParams{role: roleServer, key: key, localSeq: ss, remoteSeq: sc, localAddr: kpropdAddr})
	size, err := server.ReadSafe()
	if err != nil {
		t.Fatalf("ReadSafe(MIT size message): %v", err)
	}
	if len(size) != 4 || int(binary.BigEndian.Uint32(size)) != len(sent) {
		t.Fatalf("size message %x for a %d-byte dump", size, len(sent))
	}
	server.StartChaining()
	var got []byte
	var confounders [][]byte
	prefix := server.sess.priv.PrefixLen()
	for i := range privs {
		before := len(got)
		if got, err = server.ReadPriv(got); err != nil {
			t.Fatalf("ReadPriv(MIT KRB-PRIV #%d): %v", i+1, err)
		}
		// The decrypted confounder is at the start of the plaintext (for
		// RC4, after the checksum, which is not part of the plaintext).
		conf := server.sess.scratch[:prefix]
		if key.KeyType == int32(krb5.EnctypeRC4HMAC) {
			conf = server.sess.scratch[:8] // the RC4 confounder
		}
		confounders = append(confounders, bytes.Clone(conf))
		if n := len(got) - before; n != min(kpropChunk, len(sent)-before) {
			t.Fatalf("KRB-PRIV #%d carried %d bytes", i+1, n)
		}
	}
	if !bytes.Equal(got, sent) {
		t.Fatal("the data recovered from MIT's KRB-PRIVs is not the dump")
	}
	if err := server.WriteSafe(size); err != nil {
		t.Fatal(err)
	}
	if want := framed(ack); !bytes.Equal(fromKprop.out.Bytes(), want) {
		t.Errorf("WriteSafe(ack) differs from MIT kpropd's:\n got %x\nwant %x", fromKprop.out.Bytes(), want)
	}

	// kprop's side: a client Conn, fed the confounders MIT chose,
	// reproduces MIT kprop's frames exactly and accepts MIT kpropd's
	// acknowledgement.
	toKpropd := newMemConn(framed(ack))
	confs := bytes.NewReader(bytes.Join(confounders, nil))
	client := handshakenConn(t, toKpropd, sessionParams{role: roleClient, key: key, localSeq: sc, remoteSeq: ss, localAddr: kpropAddr,
		rand: confs})
	if err := client.WriteSafe(size); err != nil {
		t.Fatal(err)
	}
	if want := framed(sizeSafe); !bytes.Equal(toKpropd.out.Bytes(), want) {
		t.Errorf("WriteSafe(size) differs from MIT kprop's:\n got %x\nwant %x", toKpropd.out.Bytes(), want)
	}
	client.StartChaining()
	for i, p := range privs {
		chunk := sent[i*kpropChunk : min((i+1)*kpropChunk, len(sent))]
		toKpropd.out.Reset()
		if err := client.WritePriv(chunk); err != nil {
			t.Fatal(err)
		}
		if want := framed(p); !bytes.Equal(toKpropd.out.Bytes(), want) {
			t.Fatalf("WritePriv #%d differs from MIT kprop's KRB-PRIV (%d vs %d bytes)", i+1, toKpropd.out.Len(), len(want))
		}
	}
	if _, err := confs.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Error("not all of MIT's confounders were used")
	}
	if a, err := client.ReadSafe(); err != nil || !bytes.Equal(a, size) {
		t.Errorf("ReadSafe(MIT ack): %x %v", a, err)
	}

	// The pipelined streams: a PrivReader recovers the dump from MIT's
	// KRB-PRIVs, and a PrivWriter fed MIT's confounders reproduces them
	// byte for byte.
	server = handshakenConn(t, newMemConn(framed(append([][]byte{sizeSafe}, privs...)...)),
		sessionParams{role: roleServer, key: key, localSeq: ss, remoteSeq: sc, localAddr: kpropdAddr})
	if _, err := server.ReadSafe(); err != nil {
		t.Fatal(err)
	}
	server.StartChaining()
	if got, err := readStream(server, int64(len(sent)), 0); err != nil || !bytes.Equal(got, sent) {
		t.Errorf("PrivReader over MIT's KRB-PRIVs: %v (%d of %d bytes, equal %v)", err, len(got), len(sent), bytes.Equal(got, sent))
	}
	toKpropd = newMemConn(nil)
	client = handshakenConn(t, toKpropd, sessionParams{role: roleClient, key: key, localSeq: sc, remoteSeq: ss, localAddr: kpropAddr,
		rand: bytes.NewReader(bytes.Join(confounders, nil))})
	if err := client.WriteSafe(size); err != nil {
		t.Fatal(err)
	}
	toKpropd.out.Reset()
	client.StartChaining()
	if err := writeStream(t, client, streamChunks0(sent, kpropChunk), 0, nil); err != nil {
		t.Fatal(err)
	}
	if want := framed(privs...); !bytes.Equal(toKpropd.out.Bytes(), want) {
		t.Errorf("PrivWriter differs from MIT kprop's KRB-PRIVs (%d vs %d bytes)", toKpropd.out.Len(), len(want))
	}
	t.Logf("%s: Sc=%d Ss=%d, %d KRB-PRIVs, %d bytes: verified and reproduced byte for byte, one at a time and pipelined", enctype, sc, ss, len(privs), len(sent))
}
