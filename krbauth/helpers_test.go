package krbauth

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/krb5"
)

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// implementedEnctypes are the enctypes the module implements, in the
// order of MIT's default list.
func implementedEnctypes() []krb5.Enctype {
	var ids []krb5.Enctype
	for _, e := range krb5.DefaultEnctypes() {
		if e.Implemented() {
			ids = append(ids, e)
		}
	}
	return ids
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testApplVersion is kprop's application version, which the tests use.
const testApplVersion = "kprop5_01"

// keytabFunc is a ServerConfig.GetKeytab returning kt.
func keytabFunc(kt *keytab.Keytab) func() (*keytab.Keytab, error) {
	return func() (*keytab.Keytab, error) { return kt, nil }
}

// sendAuth runs the client handshake on conn and returns its record
// state.
func sendAuth(ctx context.Context, conn net.Conn, cfg *ClientConfig) (*session, error) {
	c := Client(conn, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return c.sess, nil
}

// recvAuth runs the server handshake on conn and returns its record
// state.
func recvAuth(ctx context.Context, conn net.Conn, cfg *ServerConfig) (*session, error) {
	c := Server(conn, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return c.sess, nil
}

// memConn is a net.Conn that reads from a fixed input and records what is
// written, for driving a Conn without a peer.
type memConn struct {
	in  bytes.Reader
	out bytes.Buffer
}

func newMemConn(input []byte) *memConn {
	c := &memConn{}
	c.in.Reset(input)
	return c
}

func (c *memConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 754} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// handshakenConn returns a Conn over nc in the state a handshake that
// established p leaves: what a test needs to drive the message methods
// with chosen keys and sequence numbers.
func handshakenConn(t testing.TB, nc net.Conn, p sessionParams) *Conn {
	t.Helper()
	s, err := newSession(p)
	if err != nil {
		t.Fatal(err)
	}
	c := &Conn{conn: nc, isClient: p.role == roleClient, handshakeDone: true, sess: s}
	c.frames.r = nc
	return c
}

// framed returns msgs as a stream of frames.
func framed(msgs ...[]byte) []byte {
	var b bytes.Buffer
	for _, m := range msgs {
		writeFrame(&b, m)
	}
	return b.Bytes()
}
