package kpropd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gokprop/gokprop/internal/filelock"
	"github.com/gokprop/gokprop/internal/netctx"
	"github.com/gokprop/gokprop/internal/wire"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// ErrBusy refuses a transfer while another one to the same server is in
// progress.
var ErrBusy = errors.New("another propagation is in progress")

// TooMuchDataError: the client sent more bytes than it announced.
type TooMuchDataError struct{ Received, Expected uint64 }

func (e *TooMuchDataError) Error() string {
	return fmt.Sprintf("Received %d bytes, expected %d bytes for database file", e.Received, e.Expected)
}

// receive runs one transfer on conn, as MIT kpropd's doit does: the
// handshake, authorization, the size, the chunks into File.temp, the
// rename, the load and the acknowledgement. Any failure after the
// handshake is reported to the client as a KRB-ERROR.
func (s *Server) receive(ctx context.Context, conn net.Conn) error {
	log := s.logger()
	peer := conn.RemoteAddr().String()
	log.Info("Connection from "+peerName(ctx, conn.RemoteAddr()), "peer", peer)

	stop := netctx.Bind(ctx, conn)
	defer stop()

	c := krbauth.Server(conn, &krbauth.ServerConfig{
		GetKeytab:              s.Keytab,
		Principal:              s.Principal,
		AcceptAnyHostPrincipal: s.AcceptAnyHostPrincipal,
		PermittedEnctypes:      s.PermittedEnctypes,
		ClockSkew:              s.ClockSkew,
		ReplayCache:            s.replayCache(),
		ApplVersion:            wire.ApplVersion,
		MaxMessageSize:         s.MaxMessageSize,
	})
	log.Debug(fmt.Sprintf("krb5_recvauth(%d, %s, %s, ...)", connFD(conn), wire.ApplVersion, s.Principal))
	hsCtx, hsCancel := context.WithTimeout(ctx, s.handshakeTimeout())
	err := c.HandshakeContext(hsCtx)
	hsCancel()
	if errors.Is(err, krbauth.ErrGetKeytab) {
		return &TransferError{Op: "while reading keytab", Err: err}
	}
	if err != nil {
		return &TransferError{Op: "in krb5_recvauth", Err: err}
	}
	st := c.State()
	log.Debug(fmt.Sprintf("authenticated client: %s (etype == %s)", st.Client, st.TicketEnctype),
		"client", st.Client.String())

	t := &transfer{s: s, ctx: ctx, c: c}
	err = t.run()
	if err != nil {
		t.fail(err)
	}
	return err
}

// transfer is the state of one authenticated transfer.
type transfer struct {
	s   *Server
	ctx context.Context
	c   *krbauth.Conn
}

func (t *transfer) run() error {
	s := t.s
	st := t.c.State()
	if s.Authorizer == nil {
		return &TransferError{Err: fmt.Errorf("Rejected connection from %w %s (no authorizer)", ErrNotAuthorized, st.Client)}
	}
	if err := s.Authorizer.Authorize(t.ctx, st.Client, st.TicketEnctype); err != nil {
		return &TransferError{Err: fmt.Errorf("Rejected connection from %w", err)}
	}

	size, err := t.install()
	if err != nil {
		return err
	}

	// Acknowledge only now that the dump is loaded and every lock is
	// released, so that a primary may start its next propagation at once.
	var sizeBuf [wire.MaxSizeLen]byte
	if err := t.c.WriteSafe(wire.AppendSize(sizeBuf[:0], size)); err != nil {
		if errors.Is(err, krbauth.ErrTransport) {
			return &TransferError{Op: "while sending # of received bytes", Err: err}
		}
		return &TransferError{Op: "while encoding # of received bytes", Err: err}
	}
	return nil
}

// install receives the dump into File.temp, verifies it, renames it over
// File and loads it, holding the server's transfer lock and the file lock
// throughout. It returns the size received.
func (t *transfer) install() (uint64, error) {
	s := t.s
	temp := s.File + ".temp"
	// One transfer at a time: the exclusive lock below excludes other
	// processes while we receive, but the rename moves that lock to the
	// installed file, so a second transfer could otherwise start while
	// the first one is still loading.
	if !s.busy.TryLock() {
		return 0, &TransferError{Op: fmt.Sprintf("while trying to lock '%s'", temp), Err: ErrBusy}
	}
	defer s.busy.Unlock()
	// Mode 0600 whatever the umask (MIT sets umask 077 around this open;
	// a process-wide umask would race with other goroutines).
	lockf, err := os.OpenFile(temp, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, &TransferError{Op: fmt.Sprintf("while opening database file, '%s'", temp), Err: err}
	}
	defer lockf.Close()
	if err := filelock.Lock(lockf, filelock.Exclusive, false); err != nil {
		return 0, &TransferError{Op: fmt.Sprintf("while trying to lock '%s'", temp), Err: err}
	}
	size, err := t.receiveInto(lockf, temp)
	if err != nil {
		// The lock is still ours: nobody else is using the partial file.
		os.Remove(temp)
		return 0, err
	}
	if s.Verify != nil {
		if err := s.Verify(t.ctx, temp); err != nil {
			os.Remove(temp)
			return 0, &TransferError{Op: "while verifying the received database", Err: err}
		}
	}
	if err := os.Rename(temp, s.File); err != nil {
		os.Remove(temp)
		return 0, &TransferError{Op: fmt.Sprintf("while renaming %s to %s", temp, s.File), Err: err}
	}
	if err := filelock.Lock(lockf, filelock.Shared, false); err != nil {
		return 0, &TransferError{Op: fmt.Sprintf("while downgrading lock on '%s'", temp), Err: err}
	}
	if s.Loader != nil {
		s.logger().Debug("calling kdb5_util to load database")
		if err := s.Loader.Load(t.ctx, s.File); err != nil {
			return 0, &TransferError{Op: "while loading the database", Err: err}
		}
	}
	_ = filelock.Lock(lockf, filelock.Unlock, false)
	return size, nil
}

// receiveInto reads the size and the chunks and writes the dump to f,
// which it truncates first; on success the data is on stable storage.
func (t *transfer) receiveInto(f *os.File, name string) (uint64, error) {
	data, err := t.c.ReadSafe()
	if errors.Is(err, krbauth.ErrTransport) {
		return 0, &TransferError{Op: "while reading database size", Err: err}
	}
	if err != nil {
		return 0, &TransferError{Op: "while decoding database size", Err: err}
	}
	size, err := wire.DecodeSize(data)
	if err != nil {
		return 0, &TransferError{Err: err}
	}
	t.c.StartChaining()
	if err := f.Truncate(0); err != nil {
		return 0, &TransferError{Op: fmt.Sprintf("while opening database file, '%s'", name), Err: err}
	}
	log := t.s.logger()
	log.Debug("Full propagation transfer started.", "size", size)

	var out []byte
	var received uint64
	for received < size {
		out, err = t.c.ReadPriv(out[:0])
		if errors.Is(err, krbauth.ErrTransport) {
			return 0, &TransferError{Op: fmt.Sprintf("while reading database block starting at offset %d", received), Err: err}
		}
		if err != nil {
			return 0, &TransferError{Op: fmt.Sprintf("while decoding database block starting at offset %d", received), Err: err}
		}
		if uint64(len(out)) > size-received {
			return 0, &TransferError{Err: &TooMuchDataError{Received: received + uint64(len(out)), Expected: size}}
		}
		if _, err := f.WriteAt(out, int64(received)); err != nil {
			return 0, &TransferError{Op: fmt.Sprintf("while writing database block starting at offset %d", received), Err: err}
		}
		received += uint64(len(out))
	}
	if err := f.Sync(); err != nil {
		return 0, &TransferError{Op: fmt.Sprintf("while writing database file '%s'", name), Err: err}
	}
	log.Debug("Full propagation transfer finished.", "bytes", received)
	return size, nil
}

// fail tells the client why the transfer failed, unless the client
// itself gave up with a KRB-ERROR (then, like MIT kpropd, we do not
// answer). It then reads and discards what the client is still sending
// for a short while, so a client busy writing chunks gets to read the
// error instead of a connection reset.
func (t *transfer) fail(err error) {
	var re *krbauth.RemoteError
	if errors.As(err, &re) || t.ctx.Err() != nil {
		// The client gave up first, or our time is up.
		return
	}
	code := krbauth.CodeOf(err)
	text := err.Error()
	var te *TransferError
	if errors.As(err, &te) && code != krb5.ErrGeneric {
		// MIT sends the bare step for protocol codes; the code says why.
		text = te.Op
	}
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

func (s *Server) handshakeTimeout() time.Duration {
	if s.HandshakeTimeout > 0 {
		return s.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

// peerName names the client as MIT kpropd's log does (getnameinfo): its
// host name when the address maps back to one, else the address.
func peerName(ctx context.Context, a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if names, err := net.DefaultResolver.LookupAddr(ctx, ip.String()); err == nil && len(names) > 0 {
		return strings.TrimSuffix(names[0], ".")
	}
	return ip.String()
}

// connFD is the descriptor number of conn, for MIT's debug line; -1 when
// it has none.
func connFD(conn net.Conn) int {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = raw.Control(func(f uintptr) { fd = int(f) })
	return fd
}
