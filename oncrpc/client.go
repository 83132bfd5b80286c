package oncrpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"
)

// DefaultMaxRecordSize is the largest reply a Client accepts unless its
// Config says otherwise: 256 MiB, the size of MIT's largest update log
// (MAXLOGLEN), which bounds any iprop reply.
const DefaultMaxRecordSize = 256 << 20

// Config configures a Client.
type Config struct {
	// Program and Version are the remote program and its version that
	// every call of the Client addresses.
	Program, Version uint32

	// MaxRecordSize bounds a reply record, fragment headers included;
	// zero means DefaultMaxRecordSize.
	MaxRecordSize int

	// FragmentSize is the largest fragment a call is sent in; zero sends
	// each call as one fragment. MIT's clients send 4000-byte fragments;
	// servers must accept any split.
	FragmentSize int

	// FirstXID is the transaction id of the first call; later calls count
	// up from it. Zero picks a random start.
	FirstXID uint32
}

// A Client makes ONC RPC calls (RFC 5531) over a stream connection with
// record marking. Calls are serialized: one is on the wire at a time, and
// the reply with its xid is awaited, skipping records for other xids as
// MIT's client does. A Client is safe for concurrent use.
//
// A failure of the connection itself (an I/O error, a record that is cut
// short or too large, or a call abandoned because its context ended while
// on the wire) leaves the stream at an unknown position, so the Client
// refuses every later call with an error wrapping the first one; the
// caller reconnects, as MIT's kpropd does after any failed call. Errors the
// server reports (*AcceptError, *AuthError, *RPCMismatchError), malformed
// replies (*ReplyError) and Auth failures (*AuthHookError) leave it usable.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
	cfg  Config

	mu     sync.Mutex
	xid    uint32
	broken error
}

// NewClient returns a Client calling cfg.Program, cfg.Version over conn.
// The Client owns conn; Close closes it.
func NewClient(conn net.Conn, cfg Config) *Client {
	if cfg.MaxRecordSize <= 0 {
		cfg.MaxRecordSize = DefaultMaxRecordSize
	}
	xid := cfg.FirstXID
	if xid == 0 {
		xid = rand.Uint32() | 1
	}
	return &Client{conn: conn, r: bufio.NewReader(conn), cfg: cfg, xid: xid}
}

// Close closes the connection. Calls in progress fail; later calls return
// an error wrapping net.ErrClosed.
func (c *Client) Close() error {
	err := c.conn.Close()
	c.mu.Lock()
	if c.broken == nil {
		c.broken = net.ErrClosed
	}
	c.mu.Unlock()
	return err
}

// ErrUnusable wraps the error that made a Client unusable; see Client.
var ErrUnusable = errors.New("oncrpc: client unusable after an earlier connection failure")

// Call calls procedure proc with the XDR-encoded arguments args,
// authenticated by auth (nil means AuthNone), and returns the
// XDR-encoded results of a SUCCESS reply. ctx bounds the whole exchange:
// its deadline becomes the connection's deadline, and its cancellation
// interrupts a pending read or write.
func (c *Client) Call(ctx context.Context, proc uint32, auth Auth, args []byte) ([]byte, error) {
	if auth == nil {
		auth = AuthNone
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnusable, c.broken)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ca, err := auth.Begin(proc)
	if err != nil {
		return nil, &AuthHookError{Op: "begin", Err: err}
	}
	xid := c.xid
	c.xid++

	msg, err := buildCall(ca, xid, c.cfg.Program, c.cfg.Version, proc, args)
	if err != nil {
		return nil, err
	}
	rec, err := c.exchange(ctx, xid, appendRecord(nil, msg, c.cfg.FragmentSize))
	if err != nil {
		return nil, err
	}
	r, err := parseReply(rec)
	if err != nil {
		return nil, err
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := ca.Validate(r.verf); err != nil {
		return nil, &AuthHookError{Op: "validate", Err: err}
	}
	res, err := ca.UnwrapResults(r.results)
	if err != nil {
		return nil, &AuthHookError{Op: "unwrap", Err: err}
	}
	return res, nil
}

// buildCall encodes a call message with ca's credential, verifier and
// wrapped arguments.
func buildCall(ca CallAuth, xid, prog, vers, proc uint32, args []byte) ([]byte, error) {
	msg := appendCallHeader(nil, xid, prog, vers, proc)
	cred, err := ca.Credential()
	if err != nil {
		return nil, &AuthHookError{Op: "credential", Err: err}
	}
	if msg, err = appendOpaqueAuth(msg, cred); err != nil {
		return nil, &AuthHookError{Op: "credential", Err: err}
	}
	verf, err := ca.Verifier(msg[:len(msg):len(msg)])
	if err != nil {
		return nil, &AuthHookError{Op: "verifier", Err: err}
	}
	if msg, err = appendOpaqueAuth(msg, verf); err != nil {
		return nil, &AuthHookError{Op: "verifier", Err: err}
	}
	body, err := ca.WrapArgs(args)
	if err != nil {
		return nil, &AuthHookError{Op: "wrap", Err: err}
	}
	return append(msg, body...), nil
}

// exchange sends one record and returns the first reply record carrying
// xid. Any failure marks the Client unusable.
func (c *Client) exchange(ctx context.Context, xid uint32, out []byte) ([]byte, error) {
	unbind := c.bind(ctx)
	rec, err := c.roundTrip(xid, out)
	unbind()
	if err == nil {
		return rec, nil
	}
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); cerr == nil && ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
		// The connection's deadline, which is ctx's, fired first.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		err = fmt.Errorf("oncrpc: call abandoned: %w (%v)", cerr, err)
	}
	c.broken = err
	return nil, err
}

func (c *Client) roundTrip(xid uint32, out []byte) ([]byte, error) {
	if _, err := c.conn.Write(out); err != nil {
		return nil, err
	}
	for {
		rec, err := readRecord(c.r, c.cfg.MaxRecordSize)
		if err != nil {
			return nil, err
		}
		if id, mtype, ok := replyXID(rec); ok && id == xid && mtype == msgReply {
			return rec, nil
		}
		// A reply to an earlier call, or something that is not a reply
		// at all: MIT's client skips it too.
	}
}

// aLongTimeAgo is a deadline in the past, set to interrupt blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// bind makes ctx govern the connection until the returned function is
// called: ctx's deadline is set on the connection, and cancelling ctx
// moves the deadline into the past. The returned function waits for a
// cancellation in progress, so none can reach a later call.
func (c *Client) bind(ctx context.Context) func() {
	dl, _ := ctx.Deadline()
	c.conn.SetDeadline(dl)
	if ctx.Done() == nil {
		return func() {}
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		c.conn.SetDeadline(aLongTimeAgo)
	})
	return func() {
		if !stop() {
			<-done
		}
	}
}
