package kprop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/gokprop/gokprop/internal/netctx"
	"github.com/gokprop/gokprop/internal/wire"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// Config carries the choices of a propagation. Auth.Credentials is
// required.
type Config struct {
	// Auth configures the connection: the credentials (a ticket for the
	// replica's host service, as krbkdc.KDCClient.GetInitialCredentials
	// returns it), the clock skew allowed when they are checked, the
	// clock and randomness. An empty Auth.ApplVersion means kprop's
	// ("kprop5_01"), a zero Auth.MaxMessageSize 64 KiB.
	Auth krbauth.ClientConfig

	// ChunkSize is the number of dump bytes sealed into each KRB-PRIV
	// message; 0 means MIT's 32768. MIT kpropd accepts any size. It does
	// not apply to the fast data phase, whose records hold
	// krbauth.FastRecordSize bytes.
	ChunkSize int

	// MITWire turns off the offer of the fast data phase
	// (krbauth.ClientConfig.FastData, which Propagate sets to
	// !MITWire): the connection is then MIT kprop's exactly, whatever
	// the replica. By default the offer is made; MIT's kpropd ignores
	// it, so only a kpropd of this module, unless configured off, moves
	// the dump in the fast data phase (see krbauth.State.FastData).
	MITWire bool

	// Progress, if set, is called after each chunk is written with the
	// number of dump bytes sent so far (what MIT kprop -d prints). The
	// calls come in order, one at a time, from a goroutine of the
	// propagation's pipeline (not necessarily the caller's), and all of
	// them happen before Send returns.
	Progress func(sent int64)

	// Logger receives debug-level progress; nil discards it.
	Logger *slog.Logger
}

// Result describes a propagation the replica acknowledged.
type Result struct {
	// Size is the number of dump bytes sent and acknowledged.
	Size int64
	// Chunks is the number of KRB-PRIV messages sent.
	Chunks int
	// Enctype is the session key's encryption type.
	Enctype krb5.Enctype
	// FastData reports that the dump went in the fast data phase (Chunks
	// then counts its records), not as MIT's KRB-PRIV messages.
	FastData bool
}

// Propagate sends a database dump to the kpropd at the other end of conn:
// the sendauth handshake, the size as a KRB-SAFE, the dump as KRB-PRIV
// chunks, then it waits for the replica to load the dump and acknowledge
// the size. dump must yield exactly size bytes.
//
// ctx bounds the whole exchange, including the replica's load; its
// cancellation unblocks any network wait. Propagate does not close conn.
func Propagate(ctx context.Context, conn net.Conn, cfg *Config, dump io.Reader, size int64) (*Result, error) {
	if cfg == nil || cfg.Auth.Credentials == nil {
		return nil, errors.New("kprop: no credentials")
	}
	if size < 0 {
		return nil, fmt.Errorf("kprop: negative dump size %d", size)
	}
	auth := cfg.Auth
	if auth.ApplVersion == "" {
		auth.ApplVersion = wire.ApplVersion
	}
	if auth.MaxMessageSize == 0 {
		auth.MaxMessageSize = ackLimit
	}
	auth.FastData = !cfg.MITWire
	c := krbauth.Client(conn, &auth)
	if err := c.HandshakeContext(ctx); err != nil {
		return nil, ctxErr(ctx, &OpError{Step: StepAuthenticate, Err: err})
	}
	res, err := Send(ctx, c, cfg, dump, size)
	return res, ctxErr(ctx, err)
}

// Send runs the data phase of a propagation on a Conn whose handshake is
// complete: everything Propagate does after the handshake. The dump goes
// in the fast data phase if the handshake negotiated it, else as MIT's
// KRB-PRIV messages. It lets a
// caller that manages its own handshake (or many replicas) reuse the
// transfer. ctx bounds the exchange as for Propagate.
func Send(ctx context.Context, c *krbauth.Conn, cfg *Config, dump io.Reader, size int64) (*Result, error) {
	stop := netctx.Bind(ctx, c.NetConn())
	defer stop()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	chunk := cfg.ChunkSize
	if chunk <= 0 {
		chunk = wire.ChunkSize
	}
	fast := c.State().FastData
	if fast {
		chunk = krbauth.FastRecordSize
	}

	var sizeBuf [wire.MaxSizeLen]byte
	if err := c.WriteSafe(wire.AppendSize(sizeBuf[:0], uint64(size))); err != nil {
		if errors.Is(err, krbauth.ErrTransport) {
			return nil, &OpError{Step: StepSendSize, Err: err}
		}
		return nil, &OpError{Step: StepEncodeSize, Err: err}
	}
	c.StartChaining()

	res := &Result{Enctype: c.State().SessionEnctype, FastData: fast}
	// The chunks go through a pipeline: while this loop reads chunk i
	// from the dump into the writer's buffer, earlier chunks are being
	// encrypted, their checksums computed and their frames written to the
	// connection. The buffers are allocated once: the loop does not
	// allocate.
	var written int64
	opts := krbauth.PrivWriterOptions{MaxData: chunk, Total: size}
	if cfg.Progress != nil {
		opts.Written = func(n int) {
			written += int64(n)
			cfg.Progress(written)
		}
	}
	w, err := c.NewPrivWriter(opts)
	if err != nil {
		return nil, &OpError{Step: StepEncodeBlock, Err: err}
	}
	var sent int64
	for sent < size {
		n := int(min(int64(chunk), size-sent))
		buf, err := w.Buffer(n)
		if err != nil {
			return nil, streamFailure(c, w, err, chunk)
		}
		if _, err := io.ReadFull(dump, buf); err != nil {
			// What was read so far goes out first, then the KRB-ERROR, as
			// from MIT kprop.
			if werr := w.Close(); werr != nil {
				return nil, streamFailure(c, w, werr, chunk)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				_ = c.WriteError(krb5.ErrGeneric, ErrPrematureEOF.Error())
				return nil, &OpError{Step: StepReadBlock, Offset: sent, Err: ErrPrematureEOF}
			}
			_ = c.WriteError(krb5.ErrGeneric, "while reading database: "+err.Error())
			return nil, &OpError{Step: StepReadBlock, Offset: sent, Err: err}
		}
		if err := w.Send(); err != nil {
			return nil, streamFailure(c, w, err, chunk)
		}
		sent += int64(n)
		res.Chunks++
	}
	if err := w.Close(); err != nil {
		return nil, streamFailure(c, w, err, chunk)
	}
	log.Debug("database sent", "bytes", sent, "chunks", res.Chunks)

	// The replica loads the dump before it answers, so this wait is as
	// long as its kdb5_util load; only ctx bounds it.
	data, err := c.ReadSafe()
	if err != nil {
		if errors.Is(err, krbauth.ErrTransport) {
			return nil, &OpError{Step: StepReadResponse, Err: err}
		}
		return nil, &OpError{Step: StepDecodeResponse, Err: err}
	}
	got, err := wire.DecodeSize(data)
	if err != nil {
		return nil, &OpError{Step: StepMalformedResponse, Err: err}
	}
	if got != uint64(size) {
		return nil, &SizeMismatchError{Sent: uint64(size), Acknowledged: got}
	}
	res.Size = size
	return res, nil
}

// ackLimit bounds the messages kprop reads: the final KRB-SAFE of a few
// dozen bytes or a KRB-ERROR with a line of text.
const ackLimit = 64 << 10

// streamFailure reports a chunk the PrivWriter could not send, at its
// offset: a failed write (with the replica's KRB-ERROR when it sent one),
// or a KRB-PRIV that could not be built, which is also reported to the
// replica as MIT kprop reports it.
func streamFailure(c *krbauth.Conn, w *krbauth.PrivWriter, err error, chunk int) error {
	_ = w.Close()
	off := int64(0)
	var se *krbauth.StreamError
	if errors.As(err, &se) {
		off = int64(se.Index) * int64(chunk)
		err = se.Err
	}
	if errors.Is(err, krbauth.ErrTransport) {
		return &OpError{Step: StepSendBlock, Offset: off, Err: remoteCause(c, err)}
	}
	e := &OpError{Step: StepEncodeBlock, Offset: off, Err: err}
	_ = c.WriteError(krbauth.CodeOf(err), e.Context())
	return e
}

// remoteCause looks, after a failed write, for the KRB-ERROR a replica
// sends before it closes the connection (for example when a chunk fails
// its integrity check), so the report names the replica's reason rather
// than "connection reset".
func remoteCause(c *krbauth.Conn, writeErr error) error {
	_ = c.NetConn().SetReadDeadline(time.Now().Add(2 * time.Second))
	var re *krbauth.RemoteError
	if _, err := c.ReadSafe(); errors.As(err, &re) {
		return re
	}
	return writeErr
}

// ctxErr prefers the context's error when the context ended, so a
// timeout reads as a timeout rather than as an I/O error.
func ctxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}
