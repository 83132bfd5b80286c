package krbauth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/krb5"
)

// A whole exchange over loopback through the Conn API: handshake, KRB-SAFE
// both ways, chained KRB-PRIVs, and a KRB-ERROR that the peer reads as a
// RemoteError.
func TestConnExchange(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES256CTSSHA384)
	cc, sc := tcpLoopback(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := Server(sc, setup.serverConfig())
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			if err := srv.HandshakeContext(ctx); err != nil {
				return err
			}
			size, err := srv.ReadSafe()
			if err != nil {
				return err
			}
			srv.StartChaining()
			var got []byte
			for len(got) < int(size[0]) {
				if got, err = srv.ReadPriv(got); err != nil {
					return err
				}
			}
			if string(got) != "hello, world" {
				t.Errorf("server received %q", got)
			}
			if err := srv.WriteSafe(size); err != nil {
				return err
			}
			return srv.WriteError(krb5.ErrGeneric, "that is all")
		}()
	}()
	cli := Client(cc, setup.clientConfig())
	if st := cli.State(); st.HandshakeComplete {
		t.Fatalf("state before the handshake: %+v", st)
	}
	if err := cli.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cli.HandshakeContext(ctx); err != nil {
		t.Fatalf("second HandshakeContext: %v", err)
	}
	st := cli.State()
	if !st.HandshakeComplete || !st.Client.Equal(clientPrinc) || !st.Server.Equal(serverPrinc) ||
		st.SessionEnctype != krb5.EnctypeAES256CTSSHA384 || st.TicketEnctype != krb5.EnctypeAES256CTSSHA384 {
		t.Errorf("client state %+v", st)
	}
	if err := cli.WriteSafe([]byte{12}); err != nil {
		t.Fatal(err)
	}
	cli.StartChaining()
	for _, s := range []string{"hello", ", ", "world"} {
		if err := cli.WritePriv([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if ack, err := cli.ReadSafe(); err != nil || !bytes.Equal(ack, []byte{12}) {
		t.Fatalf("ack %x, %v", ack, err)
	}
	_, err := cli.ReadSafe()
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != krb5.ErrGeneric || re.Text != "that is all" || errors.Is(err, ErrTransport) {
		t.Fatalf("KRB-ERROR read as %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := srv.State(); !st.Client.Equal(clientPrinc) || st.SessionEnctype != krb5.EnctypeAES256CTSSHA384 {
		t.Errorf("server state %+v", st)
	}
}

// Failures of the connection match ErrTransport; failures of a message
// that arrived do not.
func TestConnTransportErrors(t *testing.T) {
	key := testKey(krb5.EnctypeAES128CTSSHA1, 1)
	params := sessionParams{role: roleServer, key: key, localSeq: testSs, remoteSeq: testSc, localAddr: serverAddr}
	for _, tc := range []struct {
		name      string
		input     []byte
		transport bool
		is        error
	}{
		{"end of stream", nil, true, ErrConnAborted},
		{"end inside a frame", []byte{0, 0, 0, 9, 1}, true, ErrConnAborted},
		{"oversized frame", []byte{0x7f, 0, 0, 0}, true, ErrMessageTooLarge},
		{"not a KRB-PRIV", framed([]byte{0x30, 0}), false, krb5.ErrMsgType},
	} {
		c := handshakenConn(t, newMemConn(tc.input), params)
		_, err := c.ReadPriv(nil)
		if errors.Is(err, ErrTransport) != tc.transport || !errors.Is(err, tc.is) {
			t.Errorf("%s: %v (transport %v)", tc.name, err, errors.Is(err, ErrTransport))
		}
		if c.sess.remoteSeq != testSc {
			t.Errorf("%s: sequence number moved", tc.name)
		}
	}
	c := handshakenConn(t, failingConn{newMemConn(nil)}, sessionParams{role: roleClient, key: key, localSeq: testSc, remoteSeq: testSs, localAddr: clientAddr})
	if err := c.WritePriv([]byte("x")); !errors.Is(err, ErrTransport) || !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("failed write: %v", err)
	}
	if err := c.WriteSafe([]byte("x")); !errors.Is(err, ErrTransport) {
		t.Errorf("failed write: %v", err)
	}
}

// failingConn fails every write.
type failingConn struct{ *memConn }

func (failingConn) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// A failing GetKeytab fails the handshake before anything is read or
// written, with its own error.
func TestServerGetKeytabError(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA1)
	cfg := setup.serverConfig()
	ktErr := errors.New("keytab unreadable")
	cfg.GetKeytab = func() (*keytab.Keytab, error) { return nil, ktErr }
	mc := newMemConn([]byte("anything"))
	err := Server(mc, cfg).HandshakeContext(context.Background())
	if !errors.Is(err, ErrGetKeytab) || !errors.Is(err, ktErr) || err.Error() != "keytab unreadable" {
		t.Fatalf("err = %v", err)
	}
	if mc.out.Len() != 0 || mc.in.Len() != len("anything") {
		t.Error("the handshake did I/O after GetKeytab failed")
	}
}

// The application version is required on both sides, and a message method
// runs the handshake when HandshakeContext has not.
func TestConnConfigAndImplicitHandshake(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA1)
	ccfg := setup.clientConfig()
	ccfg.ApplVersion = ""
	if err := Client(newMemConn(nil), ccfg).HandshakeContext(context.Background()); err == nil {
		t.Error("client handshake without an application version")
	}
	scfg := setup.serverConfig()
	scfg.ApplVersion = ""
	if err := Server(newMemConn(nil), scfg).HandshakeContext(context.Background()); err == nil {
		t.Error("server handshake without an application version")
	}
	cc, sc := tcpLoopback(t)
	done := make(chan error, 1)
	go func() {
		_, err := Server(sc, setup.serverConfig()).ReadSafe()
		done <- err
	}()
	if err := Client(cc, setup.clientConfig()).WriteSafe([]byte("x")); err != nil {
		t.Fatalf("WriteSafe without HandshakeContext: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("ReadSafe without HandshakeContext: %v", err)
	}
}

// An interrupted handshake reports the context's error, and a context that
// ended before the handshake stops it before any I/O.
func TestHandshakeContextEnds(t *testing.T) {
	setup := newTestSetup(t, krb5.EnctypeAES128CTSSHA1)
	cc, _ := tcpLoopback(t) // the server never answers
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := Client(cc, setup.clientConfig()).HandshakeContext(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	done, stop := context.WithCancel(context.Background())
	stop()
	mc := newMemConn(nil)
	if err := Client(mc, setup.clientConfig()).HandshakeContext(done); !errors.Is(err, context.Canceled) || mc.out.Len() != 0 {
		t.Fatalf("err = %v after %d bytes", err, mc.out.Len())
	}
}
