package krbauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gokprop/gokprop/internal/netctx"
	"github.com/gokprop/gokprop/krb5"
)

// Conn is one end of a connection speaking MIT's kprop protocol, shaped
// like crypto/tls's Conn: Client or Server wraps a net.Conn,
// HandshakeContext runs sendauth or recvauth with mutual authentication,
// and from then on the Conn moves protected messages: KRB-SAFE
// (WriteSafe, ReadSafe), KRB-PRIV (WritePriv, ReadPriv, chained across
// messages once StartChaining is called) and KRB-ERROR (WriteError; a
// KRB-ERROR received in place of a message comes back as *RemoteError).
// Every message travels in MIT's length-prefixed framing, which only the
// Conn reads and writes.
//
// The first message method runs the handshake if HandshakeContext has not
// been called. A message that fails its checks leaves the Conn as it was.
// A Conn is not safe for concurrent use: one goroutine drives it (the
// KRB-PRIV cipher state, like MIT's, is shared by both directions).
type Conn struct {
	conn     net.Conn
	isClient bool
	client   *ClientConfig
	server   *ServerConfig

	handshakeDone bool
	handshakeErr  error
	sess          *session

	frames frameReader  // messages received after the handshake
	batch  *batchReader // frames.r after ExpectPriv, until ReleasePriv
	wbuf   []byte       // the frame being sent, reused
}

// Client returns the kprop side of a connection: HandshakeContext runs
// krb5_sendauth with cfg. cfg must not be modified while the Conn uses it.
func Client(conn net.Conn, cfg *ClientConfig) *Conn {
	c := &Conn{conn: conn, isClient: true, client: cfg}
	if cfg != nil {
		c.frames.max = cfg.MaxMessageSize
	}
	c.frames.r = conn
	return c
}

// Server returns the kpropd side of a connection: HandshakeContext runs
// krb5_recvauth with cfg. cfg must not be modified while the Conn uses it;
// one cfg may serve any number of Conns.
func Server(conn net.Conn, cfg *ServerConfig) *Conn {
	c := &Conn{conn: conn, server: cfg}
	if cfg != nil {
		c.frames.max = cfg.MaxMessageSize
	}
	c.frames.r = conn
	return c
}

// HandshakeContext runs the handshake, if it has not run yet, and returns
// its result. ctx bounds the handshake only: when it is cancelled or its
// deadline passes, blocked reads and writes on the connection fail at once
// and the error matches ctx.Err(). The connection's own deadlines are left
// alone. HandshakeContext never closes the connection; after an error the
// caller should.
func (c *Conn) HandshakeContext(ctx context.Context) error {
	if c.handshakeDone {
		return c.handshakeErr
	}
	c.handshakeDone = true
	if err := ctx.Err(); err != nil {
		c.handshakeErr = err
		return err
	}
	stop := netctx.Bind(ctx, c.conn)
	var err error
	if c.isClient {
		err = c.clientHandshake()
	} else {
		err = c.serverHandshake()
	}
	if !stop() {
		// ctx ended while the handshake ran: whatever it achieved, the
		// connection's I/O now fails.
		if err == nil {
			err = ctx.Err()
		} else {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		c.sess = nil
	}
	c.handshakeErr = err
	return err
}

// handshake runs the handshake for a message method.
func (c *Conn) handshake() error {
	if c.sess != nil {
		return nil
	}
	return c.HandshakeContext(context.Background())
}

// State describes a connection.
type State struct {
	// HandshakeComplete is true once the handshake has succeeded.
	HandshakeComplete bool
	// Client is the authenticated client principal (kprop's host
	// principal), Server the service principal the ticket is for.
	Client, Server krb5.Principal
	// SessionEnctype is the session key's encryption type, TicketEnctype
	// that of the ticket's enc-part (which MIT kpropd compares against the
	// optional enctype column of kpropd.acl).
	SessionEnctype, TicketEnctype krb5.Enctype
	// FastData reports that the handshake negotiated the fast data phase
	// (ClientConfig.FastData offered it, ServerConfig.FastData accepted
	// it): PrivWriter and PrivReader then move AES-256-GCM records of up
	// to FastRecordSize bytes instead of MIT's KRB-PRIV messages. It is
	// false with any MIT peer.
	FastData bool
	// FastDataOffered reports that the client offered the fast data
	// phase, whether or not it was accepted (on the client: that it
	// offered). MIT's kprop never offers: a server whose client did not
	// is most likely talking to it.
	FastDataOffered bool
}

// State returns the connection's state; it is the zero State until the
// handshake has succeeded.
func (c *Conn) State() State {
	s := c.sess
	if s == nil {
		return State{}
	}
	return State{
		HandshakeComplete: true,
		Client:            s.client,
		Server:            s.server,
		SessionEnctype:    krb5.Enctype(s.key.KeyType),
		TicketEnctype:     krb5.Enctype(s.ticketEtype),
		FastData:          s.fastKey != nil,
		FastDataOffered:   s.fastOffered,
	}
}

// ErrTransport is matched (errors.Is) by the errors of the message methods
// that arose while the message was moving over the connection: the
// net.Conn's errors, a connection that ended inside a message
// (ErrConnAborted), a frame longer than MaxMessageSize. Errors that do not
// match it arose while the message was being built or checked (MIT's
// krb5_mk_* and krb5_rd_* failures, and a KRB-ERROR from the peer).
var ErrTransport = errors.New("krbauth: connection failed")

// transportError is an error of moving a message, reported with its own
// text.
type transportError struct{ err error }

func (e *transportError) Error() string   { return e.err.Error() }
func (e *transportError) Unwrap() []error { return []error{ErrTransport, e.err} }

func transport(err error) error {
	if err == nil {
		return nil
	}
	return &transportError{err}
}

// WriteSafe sends data as one KRB-SAFE, as MIT's krb5_mk_safe builds it
// with sequence numbers and the local address, and advances the local
// sequence number.
func (c *Conn) WriteSafe(data []byte) error {
	if err := c.handshake(); err != nil {
		return err
	}
	msg, err := c.sess.makeSafe(data)
	if err != nil {
		return err
	}
	return transport(writeFrame(c.conn, msg))
}

// ReadSafe receives one KRB-SAFE and returns its user data (a new slice),
// checked as MIT's krb5_rd_safe checks it: checksum, sequence number,
// addresses. A KRB-ERROR from the peer is returned as a *RemoteError; any
// other failure leaves the expected sequence number unchanged.
func (c *Conn) ReadSafe() ([]byte, error) {
	if err := c.handshake(); err != nil {
		return nil, err
	}
	msg, err := c.frames.next()
	if err != nil {
		return nil, transport(err)
	}
	return c.sess.readSafe(msg)
}

// StartChaining starts chaining the KRB-PRIV cipher state, as MIT's
// krb5_auth_con_initivector does: the state is set to the session
// enctype's initial value, and from then on every KRB-PRIV in either
// direction continues from the state the previous one left. Before, each
// KRB-PRIV starts from the initial state on its own. MIT kprop calls it
// after sending the size KRB-SAFE, kpropd after reading it. Calling it
// again resets the state. It does nothing before the handshake.
func (c *Conn) StartChaining() {
	if c.sess != nil {
		c.sess.initCipherState()
	}
}

// WritePriv sends data as one KRB-PRIV, as MIT's krb5_mk_priv builds it
// with sequence numbers and the local address, from the current cipher
// state, and advances the local sequence number. Once the Conn has sent a
// message of this size it does not allocate (RC4 allocates its keystream
// for the first message after StartChaining, and for every message when
// the state is not chained).
func (c *Conn) WritePriv(data []byte) error {
	if err := c.handshake(); err != nil {
		return err
	}
	frame, err := c.sess.sealPriv(startFrame(c.wbuf[:0]), data)
	if err != nil {
		return err
	}
	c.wbuf = frame
	if err := finishFrame(frame); err != nil {
		return err
	}
	_, err = c.conn.Write(frame)
	return transport(err)
}

// ReadPriv receives one KRB-PRIV, checks and decrypts it as MIT's
// krb5_rd_priv does, and appends its user data to dst, returning the
// extended slice. A KRB-ERROR from the peer is returned as a
// *RemoteError. A message that fails any check is reported without
// changing the sequence number or the cipher state. With the cipher state
// chained and room in dst, ReadPriv does not allocate once the Conn has
// received a message of this size.
func (c *Conn) ReadPriv(dst []byte) ([]byte, error) {
	if err := c.handshake(); err != nil {
		return dst, err
	}
	msg, err := c.frames.next()
	if err != nil {
		return dst, transport(err)
	}
	return c.sess.openPriv(dst, msg)
}

// ExpectPriv tells the Conn that the peer is now sending KRB-PRIVs that
// carry at least n bytes of user data in all, without waiting for an
// answer (kprop's dump, after its size). Until ReleasePriv, the Conn reads
// the connection through a 256 KiB buffer and, on Linux, asks the kernel
// (SO_RCVLOWAT) not to wake it before that much, or what remains of n,
// has arrived: waking a receiver for every message costs the sender on
// the same machine more kernel time than the messages themselves. A batch
// that takes longer than 10 ms is not waited for, so a peer that stops
// short is still heard. It does not allocate again when called anew.
func (c *Conn) ExpectPriv(n uint64) {
	if c.batch == nil {
		c.batch = newBatchReader(c.conn)
	}
	c.batch.expect = int64(min(n, 1<<62))
	c.frames.r = c.batch
}

// ReleasePriv ends what ExpectPriv started, once the messages it announced
// have been read, and restores the socket's low-water mark. Data already
// buffered is still read first.
func (c *Conn) ReleasePriv() {
	if c.batch != nil {
		c.batch.expect = 0
		c.batch.release()
	}
}

// WriteError sends a KRB-ERROR carrying code and text, filled in as MIT's
// kprop (client side) or kpropd (server side) fills it: a client's has
// ctime now and stime the epoch, a server's stime now; both name the
// client and the server principal. A code outside 0..127 travels as
// KRB_ERR_GENERIC.
func (c *Conn) WriteError(code krb5.ErrorCode, text string) error {
	if err := c.handshake(); err != nil {
		return err
	}
	msg, err := c.sess.makeError(code, text, c.now())
	if err != nil {
		return err
	}
	return transport(writeFrame(c.conn, msg))
}

func (c *Conn) now() time.Time {
	var f func() time.Time
	if c.client != nil {
		f = c.client.Now
	} else if c.server != nil {
		f = c.server.Now
	}
	if f != nil {
		return f()
	}
	return time.Now()
}

// NetConn returns the underlying connection, for deadlines and addresses.
// Reading or writing it directly corrupts the protocol.
func (c *Conn) NetConn() net.Conn { return c.conn }

// Close closes the underlying connection.
func (c *Conn) Close() error { return c.conn.Close() }
