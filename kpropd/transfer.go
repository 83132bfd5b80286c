package kpropd

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/filelock"
	"github.com/gokprop/gokprop/internal/netctx"
	"github.com/gokprop/gokprop/internal/wire"
	"github.com/gokprop/gokprop/krbauth"
)

// receive runs one transfer on conn, as MIT kpropd's doit does: the
// handshake, authorization, the size, the chunks into File.temp, the
// rename, the load and the acknowledgement. Any failure after the
// handshake is reported to the client as a KRB-ERROR. loaded reports
// whether the Loader ran (successfully or not).
//
// The handshake, authorization and the wait for the transfer's turn run
// under one Timeout; the transfer proper gets a Timeout of its own once its
// turn has come, as MIT kpropd's alarm starts only when it accepts a
// connection, after the one before it has finished.
func (s *Server) receive(ctx context.Context, conn net.Conn) (loaded bool, err error) {
	log := s.logger()
	peer := conn.RemoteAddr()
	log.InfoContext(ctx, "connection", "peer", peer)

	actx, acancel := context.WithTimeout(ctx, s.timeout())
	defer acancel()
	stop := netctx.Bind(actx, conn)
	auth := s.authConfig()
	c := krbauth.Server(conn, auth)
	log.DebugContext(ctx, "authenticating", "peer", peer, "server", auth.Principal.String(), "appl_version", auth.ApplVersion)
	hsCtx, hsCancel := context.WithTimeout(actx, s.handshakeTimeout())
	err = c.HandshakeContext(hsCtx)
	hsCancel()
	if err != nil {
		stop()
		if errors.Is(err, krbauth.ErrGetKeytab) {
			return false, &TransferError{Step: StepReadKeytab, Err: err}
		}
		return false, &TransferError{Step: StepAuthenticate, Err: err}
	}
	st := c.State()
	log.DebugContext(ctx, "authenticated", "peer", peer, "client", st.Client.String(), "ticket_enctype", st.TicketEnctype, "fast_data", st.FastData)
	s.setState(conn, StateAuthenticated)

	t := &transfer{s: s, ctx: actx, c: c, peer: &Peer{
		Client:         st.Client,
		TicketEnctype:  st.TicketEnctype,
		SessionEnctype: st.SessionEnctype,
		RemoteAddr:     peer,
	}}
	err = t.authorize()
	if !stop() && err == nil {
		err = &TransferError{Step: StepAuthorize, Err: actx.Err()}
	}
	if err != nil {
		t.fail(err)
		return false, err
	}

	// One transfer at a time. The connection is left unbound while it
	// waits, so that the end of the wait does not break it and the client
	// can be told why it is refused.
	release, err := s.waitTurn(actx, t.peer)
	if err != nil {
		if ctx.Err() != nil {
			// The connection is cancelled (Shutdown, Close).
			return false, &TransferError{Step: StepLock, File: s.File, Err: ctx.Err()}
		}
		// Our wait is over, not the connection: refuse it, within the
		// time a failure gets to tell its client.
		ectx, ecancel := context.WithTimeout(ctx, drainTime)
		defer ecancel()
		defer netctx.Bind(ectx, conn)()
		t.ctx = ectx
		err = &TransferError{Step: StepLock, File: s.File, Err: err}
		t.fail(err)
		return false, err
	}
	defer release()

	tctx, tcancel := context.WithTimeout(ctx, s.timeout())
	defer tcancel()
	defer netctx.Bind(tctx, conn)()
	t.ctx = tctx
	s.setState(conn, StateReceiving)
	err = t.run()
	if err != nil {
		t.fail(err)
	}
	return t.loaded, err
}

// waitTurn waits until no other transfer is receiving or loading, or ctx
// ends (then it returns an error matching ErrBusy), and returns the function that
// hands the turn on.
func (s *Server) waitTurn(ctx context.Context, p *Peer) (release func(), err error) {
	s.mu.Lock()
	if s.turn == nil {
		s.turn = make(chan struct{}, 1)
	}
	turn := s.turn
	s.mu.Unlock()
	release = func() { <-turn }
	select {
	case turn <- struct{}{}:
		return release, nil
	default:
	}
	s.logger().DebugContext(ctx, "waiting for turn", "peer", p.RemoteAddr, "client", p.Client.String())
	start := time.Now()
	select {
	case turn <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, &busyError{waited: time.Since(start).Round(time.Second)}
	}
}

// transfer is the state of one authenticated transfer.
type transfer struct {
	s      *Server
	ctx    context.Context
	c      *krbauth.Conn
	peer   *Peer
	loaded bool // the Loader ran
}

// authorize asks the Server's Authorizer about the client.
func (t *transfer) authorize() error {
	s := t.s
	if s.Authorizer == nil {
		return &TransferError{Step: StepAuthorize, Err: &noAuthorizerError{t.peer.Client.String()}}
	}
	if err := s.Authorizer.Authorize(t.ctx, t.peer); err != nil {
		return &TransferError{Step: StepAuthorize, Err: err}
	}
	return nil
}

// run receives, installs and loads the dump and acknowledges it; the
// caller holds the turn.
func (t *transfer) run() error {
	size, err := t.install()
	if err != nil {
		return err
	}

	// Acknowledge only now that the dump is loaded and every lock is
	// released, so that a primary may start its next propagation at once.
	var sizeBuf [wire.MaxSizeLen]byte
	if err := t.c.WriteSafe(wire.AppendSize(sizeBuf[:0], size)); err != nil {
		if errors.Is(err, krbauth.ErrTransport) {
			return &TransferError{Step: StepSendAck, Err: err}
		}
		return &TransferError{Step: StepEncodeAck, Err: err}
	}
	return nil
}

// noAuthorizerError refuses a client because the Server has no Authorizer.
type noAuthorizerError struct{ client string }

func (e *noAuthorizerError) Error() string {
	return ErrNotAuthorized.Error() + " " + e.client + " (no authorizer)"
}

func (e *noAuthorizerError) Unwrap() error { return ErrNotAuthorized }

// install receives the dump into File.temp, verifies it, renames it over
// File and loads it, holding the file lock throughout (the caller holds
// the Server's turn: the lock excludes other processes while we receive,
// but the rename moves it to the installed file, so without the turn a
// second transfer could start while the first one is still loading). It
// returns the size received.
func (t *transfer) install() (uint64, error) {
	s := t.s
	fail := func(step Step, err error) (uint64, error) {
		return 0, &TransferError{Step: step, File: s.File, Err: err}
	}
	temp := s.File + ".temp"
	lockf, err := openTemp(temp)
	if err != nil {
		return fail(StepOpen, err)
	}
	defer lockf.Close()
	if err := filelock.Lock(lockf, filelock.Exclusive, false); err != nil {
		return fail(StepLock, err)
	}
	size, err := t.receiveInto(lockf)
	if err != nil {
		// The lock is still ours: nobody else is using the partial file.
		os.Remove(temp)
		return 0, err
	}
	if s.Verifier != nil {
		if err := s.Verifier.Verify(t.ctx, temp); err != nil {
			os.Remove(temp)
			return fail(StepVerify, err)
		}
	}
	if err := os.Rename(temp, s.File); err != nil {
		os.Remove(temp)
		return fail(StepRename, err)
	}
	if err := filelock.Lock(lockf, filelock.Shared, false); err != nil {
		return fail(StepDowngradeLock, err)
	}
	if s.Loader != nil {
		s.logger().DebugContext(t.ctx, "loading", "peer", t.peer.RemoteAddr, "file", s.File)
		s.setState(t.c.NetConn(), StateLoading)
		err := s.Loader.Load(t.ctx, s.File)
		t.loaded = true
		if err != nil {
			return fail(StepLoad, err)
		}
	}
	_ = filelock.Lock(lockf, filelock.Unlock, false)
	return size, nil
}

// receiveInto reads the size and the chunks and writes the dump to f,
// which it truncates first; on success the data is on stable storage.
func (t *transfer) receiveInto(f *os.File) (uint64, error) {
	data, err := t.c.ReadSafe()
	if errors.Is(err, krbauth.ErrTransport) {
		return 0, &TransferError{Step: StepReadSize, Err: err}
	}
	if err != nil {
		return 0, &TransferError{Step: StepDecodeSize, Err: err}
	}
	size, err := wire.DecodeSize(data)
	if err != nil {
		return 0, &TransferError{Step: StepMalformedSize, Err: err}
	}
	t.c.StartChaining()
	if err := f.Truncate(0); err != nil {
		return 0, &TransferError{Step: StepOpen, File: t.s.File, Err: err}
	}
	log := t.s.logger()
	log.DebugContext(t.ctx, "transfer started", "peer", t.peer.RemoteAddr, "size", size)
	t.s.event(Event{Kind: EventStarted, Conn: t.c.NetConn(), Size: size})

	// The chunks come through a pipeline: while this loop writes chunk i
	// to the file (and has it validated), later chunks are being read
	// from the connection and decrypted in parallel, a few at a time.
	var check *dumpfmt.Validator
	if v := t.s.Validate; v != nil {
		opts := *v
		if opts.FileName == "" {
			opts.FileName = filepath.Base(t.s.File)
		}
		check = dumpfmt.NewValidator(opts)
	}
	var invalid error // the first problem the Validator found
	var received uint64
	file := &dumpFile{f: f}
	if size > 0 {
		// A client that did not offer the fast data phase is MIT's
		// kprop, one thread whose pace sets the transfer's: its
		// messages are received in order on this goroutine, which
		// leaves the other processors to it (a pipeline here competes
		// with it for them: on two cores, MIT kprop to this kpropd took
		// 1.04 times as long as to MIT's kpropd through the pipeline,
		// 0.94 times in order). Otherwise the messages come through a
		// pipeline and, with the sorted mode's validation, each
		// record's lines are prechecked by the goroutine that decrypted
		// it, in parallel with the records around it, leaving this loop
		// the lines that cross records (dumpfmt.Precheck).
		var next func() ([]byte, error)
		var prechecks []dumpfmt.Precheck
		if st := t.c.State(); !st.FastData && !st.FastDataOffered {
			// MIT kprop sends the whole dump before it reads anything:
			// have the connection gather its messages before waking us.
			t.c.ExpectPriv(size)
			defer t.c.ReleasePriv()
			var buf []byte
			next = func() ([]byte, error) {
				out, err := t.c.ReadPriv(buf[:0])
				buf = out
				return out, err
			}
		} else {
			ropts := krbauth.PrivReaderOptions{Total: int64(min(size, 1<<62)), Depth: krbauth.DefaultStreamDepth}
			if check != nil && t.s.Validate.Duplicates == dumpfmt.DuplicatesSorted {
				prechecks = make([]dumpfmt.Precheck, ropts.Depth)
				ropts.Inspect = func(i int, data []byte) { prechecks[i%len(prechecks)].Run(data) }
			}
			r, err := t.c.NewPrivReader(ropts)
			if err != nil {
				return 0, &TransferError{Step: StepDecodeBlock, Err: err}
			}
			defer r.Close()
			next = r.Next
		}
		for msg := 0; received < size; msg++ {
			off := int64(received)
			out, err := next()
			if err != nil && invalid != nil {
				// The first problem in the stream is the one reported.
				return 0, &TransferError{Step: StepVerify, File: t.s.File, Err: invalid}
			}
			if errors.Is(err, krbauth.ErrTransport) {
				return 0, &TransferError{Step: StepReadBlock, Offset: off, Err: err}
			}
			if err != nil {
				return 0, &TransferError{Step: StepDecodeBlock, Offset: off, Err: err}
			}
			if uint64(len(out)) > size-received {
				return 0, &TransferError{Step: StepTooMuchData, Err: &TooMuchDataError{Received: received + uint64(len(out)), Expected: size}}
			}
			// Once the dump is known to be invalid the rest is still
			// received (so that the client, which reads nothing until it
			// has sent everything, gets the reason), but not kept.
			if invalid == nil {
				if err := file.Write(out); err != nil {
					return 0, &TransferError{Step: StepWriteBlock, Offset: off, Err: err}
				}
				if check != nil {
					var err error
					if prechecks != nil {
						_, err = check.WritePrechecked(out, &prechecks[msg%len(prechecks)])
					} else {
						_, err = check.Write(out)
					}
					if err != nil {
						invalid = err
					}
				}
			}
			received += uint64(len(out))
			t.s.event(Event{Kind: EventReceived, Conn: t.c.NetConn(), Size: size, Received: received})
		}
	}
	if check != nil && invalid == nil {
		sum, err := check.Close()
		if err != nil {
			invalid = err
		} else {
			log.DebugContext(t.ctx, "dump verified", "peer", t.peer.RemoteAddr,
				"principals", sum.Principals, "policies", sum.Policies, "realm", sum.Realm)
			if sum.Unsorted != 0 {
				log.WarnContext(t.ctx, "dump not in MIT's order: duplicate principals were looked for only from the first out-of-order line on",
					"peer", t.peer.RemoteAddr, "line", sum.Unsorted)
			}
		}
	}
	if invalid != nil {
		return 0, &TransferError{Step: StepVerify, File: t.s.File, Err: invalid}
	}
	if err := file.Sync(); err != nil {
		return 0, &TransferError{Step: StepSync, File: t.s.File, Err: err}
	}
	log.DebugContext(t.ctx, "transfer finished", "peer", t.peer.RemoteAddr, "bytes", received)
	return size, nil
}

// fail tells the client why the transfer failed, unless the client
// itself gave up with a KRB-ERROR (then, like MIT kpropd, we do not
// answer). The e-text names the step and the reason, never a local file
// or an error the peer has no business seeing (see peerText); the log
// has the whole story. It then reads and discards what the client is still sending
// for a short while, so a client busy writing chunks gets to read the
// error instead of a connection reset.
func (t *transfer) fail(err error) {
	var re *krbauth.RemoteError
	if errors.As(err, &re) || t.ctx.Err() != nil {
		// The client gave up first, or our time is up.
		return
	}
	code := krbauth.CodeOf(err)
	text := peerText(err, t.peer)
	if err := t.c.WriteError(code, text); err != nil {
		return
	}
	conn := t.c.NetConn()
	if tc, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	_ = conn.SetReadDeadline(time.Now().Add(drainTime))
	_, _ = io.Copy(io.Discard, io.LimitReader(conn, drainLimit))
}

// drainTime and drainLimit bound how long and how much a failed transfer
// keeps reading so that its client sees the error.
const (
	drainTime  = 10 * time.Second
	drainLimit = 1 << 30
)

// openTemp opens File.temp for a transfer. It is created exclusively
// (O_EXCL), mode 0600 whatever the umask (MIT sets umask 077 around its
// open; a process-wide umask would race with other goroutines). One that
// already exists, left by a transfer that was interrupted or in use by
// another kpropd (whose lock then refuses us), is used only if it is a
// regular file of ours with no other link, opened without following a
// symbolic link, and is made mode 0600: a name planted in the replica's
// directory never makes us write elsewhere.
func openTemp(path string) (*os.File, error) {
	for range 2 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return f, err
		}
		f, err = os.OpenFile(path, os.O_RDWR|syscall.O_NOFOLLOW, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed in between: create it
		}
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err == nil {
			sys, ok := st.Sys().(*syscall.Stat_t)
			if !st.Mode().IsRegular() || !ok || sys.Nlink != 1 || int(sys.Uid) != os.Geteuid() {
				err = &os.PathError{Op: "open", Path: path, Err: errUnsafeTemp}
			} else {
				err = f.Chmod(0o600)
			}
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	return nil, &os.PathError{Op: "open", Path: path, Err: fs.ErrExist}
}

// errUnsafeTemp refuses an existing File.temp that is not a plain file of
// ours.
var errUnsafeTemp = errors.New("not a regular file of this user with a single link")
