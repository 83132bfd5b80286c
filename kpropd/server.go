package kpropd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/wire"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// DefaultTimeout bounds a whole transfer, load included: MIT's default
// iprop_resync_timeout, under which MIT kpropd runs each connection.
const DefaultTimeout = 5 * time.Minute

// DefaultHandshakeTimeout bounds the authentication of a connection, so
// that clients which never authenticate cannot hold the daemon's
// resources for the whole transfer timeout.
const DefaultHandshakeTimeout = 30 * time.Second

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("kpropd: server closed")

// Server receives database propagations, as MIT kpropd does in its full
// propagation mode. The zero value is not usable: Auth (with its
// GetKeytab and Principal) and File are required. A Server serves any
// number of listeners and connections concurrently: handshakes run side by
// side, so idle or slow clients cannot block it, but only one transfer at
// a time receives and loads. A second authorized sender waits for its
// turn, as MIT kpropd serves one connection after the other, and is
// refused with a busy KRB-ERROR (ErrBusy) only if its Timeout runs out
// first. A transfer also holds an exclusive lock on File+".temp" while it
// receives, so a transfer of another process (another kpropd) to the same
// file is refused, as MIT's is. The fields must not be changed once the
// Server is serving.
type Server struct {
	// Auth authenticates clients: the keytab callback (called for every
	// connection, as MIT kpropd reads its keytab for every connection, so
	// a replaced keytab takes effect at once), this replica's service
	// principal host/<canonical local hostname>@REALM, the permitted
	// enctypes, the clock skew and the replay cache shared by all
	// connections. A nil ReplayCache means one the Server keeps; an empty
	// ApplVersion means kprop's ("kprop5_01").
	Auth *krbauth.ServerConfig

	// MITWire turns off the fast data phase (krbauth.ServerConfig.FastData,
	// which the Server sets to !MITWire): every connection is then MIT
	// kpropd's exactly. By default a kprop of this module that offers it
	// moves the dump as AES-256-GCM records; MIT's kprop never offers, so
	// it always gets MIT's wire.
	MITWire bool

	// Authorizer decides which authenticated clients may propagate. nil
	// refuses every client.
	Authorizer Authorizer

	// File is where the received dump is installed. It is received into
	// File+".temp" and renamed over File only once complete.
	File string

	// Validate, if set, has the dump checked as it arrives by dumpfmt's
	// streaming Validator with these options (FileName, if empty, is
	// File's base name): a dump that is not valid is refused, with the
	// Validator's *dumpfmt.ParseError (line and field) as the
	// TransferError's cause at StepVerify and as the text of the
	// KRB-ERROR the client gets once it has sent everything; File.temp
	// is removed, File and the database stay as they were. With
	// Duplicates set to dumpfmt.DuplicatesSorted (what cmd/kpropd uses)
	// validation needs no memory per record for a dump in MIT's order.
	Validate *dumpfmt.ValidateOptions

	// Verifier, if set, checks the complete received dump (at the
	// temporary path) before it is renamed into place and loaded; an error
	// rejects the transfer and leaves File untouched.
	Verifier Verifier

	// Loader installs the dump once it is in place. nil skips loading.
	Loader Loader

	// Timeout bounds a transfer twice: once from accept until its turn
	// comes (authentication, authorization, waiting for the transfer in
	// progress), then from its turn until the acknowledgement, load
	// included, as MIT's alarm bounds a connection from the moment MIT
	// kpropd accepts it. 0 means DefaultTimeout.
	Timeout time.Duration

	// HandshakeTimeout bounds authentication; 0 means
	// DefaultHandshakeTimeout. It never extends Timeout.
	HandshakeTimeout time.Duration

	// Logger receives the server's events as structured records (see the
	// package documentation); nil discards them.
	Logger *slog.Logger

	// ConnState, if set, is called as a connection changes state, in the
	// connection's goroutine (as http.Server's ConnState is).
	ConnState func(net.Conn, ConnState)

	// Events, if set, is called with each connection's Events (the
	// size announced, each chunk received, the outcome), in the
	// connection's goroutine, as ConnState is.
	Events func(Event)

	// ConnContext, if set, derives the context of a new connection from
	// the one Serve or ServeConn was given; the transfer, the Authorizer,
	// the Verifier, the Loader and the log records get it.
	ConnContext func(ctx context.Context, c net.Conn) context.Context

	mu        sync.Mutex
	auth      *krbauth.ServerConfig // Auth with its defaults filled in
	listeners map[net.Listener]struct{}
	active    map[net.Conn]context.CancelFunc
	wg        sync.WaitGroup
	closed    bool
	waiting   bool          // "waiting for connection" logged since the last connection
	turn      chan struct{} // holds a token while a transfer receives and loads
}

// ConnState is the state of a connection, reported to Server.ConnState.
type ConnState int

// The states of a connection, in order. A connection may skip from any
// state to StateClosed.
const (
	// StateNew: accepted (or handed to ServeConn); nothing read yet.
	StateNew ConnState = iota
	// StateAuthenticated: the client passed the handshake.
	StateAuthenticated
	// StateReceiving: the client is authorized and the dump is being
	// received.
	StateReceiving
	// StateLoading: the dump is in place and the Loader is running.
	StateLoading
	// StateClosed: the server is done with the connection: it is closed,
	// the partial file removed and the locks released.
	StateClosed
)

var stateNames = [...]string{"new", "authenticated", "receiving", "loading", "closed"}

// String returns the state's name ("receiving").
func (c ConnState) String() string {
	if c >= 0 && int(c) < len(stateNames) {
		return stateNames[c]
	}
	return fmt.Sprintf("ConnState(%d)", int(c))
}

// Peer describes an authenticated client, for an Authorizer.
type Peer struct {
	// Client is the authenticated client principal.
	Client krb5.Principal
	// TicketEnctype is the encryption type of the client's ticket (its
	// enc-part, not the session key), which the optional enctype column of
	// kpropd.acl is compared with; SessionEnctype is the session key's.
	TicketEnctype, SessionEnctype krb5.Enctype
	// RemoteAddr is the client's network address.
	RemoteAddr net.Addr
}

// Serve accepts connections on l and handles each in its own goroutine
// until Shutdown or Close. It always returns a non-nil error; after
// Shutdown or Close that error is ErrServerClosed. Each connection is
// registered with the Server before its goroutine starts, so a Shutdown
// that follows Serve's return (a run-once daemon) waits for it.
func (s *Server) Serve(l net.Listener) error {
	if err := s.track(l, true); err != nil {
		return err
	}
	defer s.track(l, false)
	var delay time.Duration
	for {
		if s.idle() {
			s.logger().Debug("waiting for connection")
		}
		conn, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if temporary(err) {
				// Back off on transient accept failures (EMFILE, ENFILE,
				// ECONNABORTED...), as net/http does, rather than stop
				// serving.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		// Register here, not in the connection's goroutine: otherwise a
		// Shutdown right after the accept could find no connection to
		// wait for (the WaitGroup's Add racing its Wait) and the process
		// exit with the connection still open.
		ctx, cancel := context.WithCancel(context.Background())
		if !s.register(conn, cancel) {
			cancel()
			conn.Close()
			return ErrServerClosed
		}
		go func() {
			defer cancel()
			_ = s.serve(ctx, conn)
		}()
	}
}

// ServeConn handles one connection (inetd mode, or a connection accepted
// elsewhere) and closes it. The error says why the transfer failed; the
// peer has been told whatever the protocol allows.
func (s *Server) ServeConn(ctx context.Context, conn net.Conn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !s.register(conn, cancel) {
		conn.Close()
		return ErrServerClosed
	}
	return s.serve(ctx, conn)
}

// serve handles a registered connection, closes and unregisters it.
func (s *Server) serve(ctx context.Context, conn net.Conn) error {
	defer s.unregister(conn)
	if s.ConnContext != nil {
		ctx = s.ConnContext(ctx, conn)
	}
	s.setState(conn, StateNew)
	loaded, err := s.receive(ctx, conn)
	conn.Close()
	s.event(Event{Kind: EventDone, Conn: conn, Err: err})
	log := s.logger()
	peer := conn.RemoteAddr()
	var te *TransferError
	step := ""
	if errors.As(err, &te) {
		step = te.Step.String()
	}
	switch {
	case errors.Is(err, ErrNotAuthorized):
		log.WarnContext(ctx, "transfer failed", "peer", peer, "step", step, "err", err)
	case err != nil:
		log.ErrorContext(ctx, "transfer failed", "peer", peer, "step", step, "err", err)
	}
	log.DebugContext(ctx, "connection done", "peer", peer, "ok", err == nil, "loaded", loaded)
	s.setState(conn, StateClosed)
	return err
}

// Shutdown stops accepting connections and waits for transfers in
// progress to finish. If ctx ends first, the remaining transfers are
// cancelled (their partial files removed, File untouched) and Shutdown
// returns ctx's error once they have stopped.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeListeners()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.cancelActive()
		<-done
		return ctx.Err()
	}
}

// Close stops accepting connections and cancels transfers in progress,
// waiting until they have cleaned up.
func (s *Server) Close() error {
	s.closeListeners()
	s.cancelActive()
	s.wg.Wait()
	return nil
}

func (s *Server) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// authConfig returns Auth with its defaults filled in: made once, so that
// every connection shares the one replay cache.
func (s *Server) authConfig() *krbauth.ServerConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth == nil {
		a := krbauth.ServerConfig{}
		if s.Auth != nil {
			a = *s.Auth
		}
		if a.ReplayCache == nil {
			a.ReplayCache = krbauth.NewReplayCache()
		}
		if a.ApplVersion == "" {
			a.ApplVersion = wire.ApplVersion
		}
		a.FastData = !s.MITWire
		s.auth = &a
	}
	return s.auth
}

func (s *Server) setState(c net.Conn, st ConnState) {
	if s.ConnState != nil {
		s.ConnState(c, st)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) track(l net.Listener, add bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closed {
			return ErrServerClosed
		}
		if s.listeners == nil {
			s.listeners = make(map[net.Listener]struct{})
		}
		s.listeners[l] = struct{}{}
	} else {
		delete(s.listeners, l)
	}
	return nil
}

func (s *Server) register(conn net.Conn, cancel context.CancelFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	if s.active == nil {
		s.active = make(map[net.Conn]context.CancelFunc)
	}
	s.active[conn] = cancel
	s.waiting = false
	return true
}

// unregister forgets a finished connection. When it was the last one and
// the Server is still listening, the Server is back to waiting for a
// connection, which it logs as MIT kpropd does before each accept.
func (s *Server) unregister(conn net.Conn) {
	s.mu.Lock()
	delete(s.active, conn)
	waiting := s.idleLocked()
	s.mu.Unlock()
	if waiting {
		s.logger().Debug("waiting for connection")
	}
	s.wg.Done()
}

// idle reports whether the Server has just become idle (listening, no
// connection in progress, not yet logged as waiting) and marks it as
// waiting.
func (s *Server) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idleLocked()
}

func (s *Server) idleLocked() bool {
	if s.waiting || s.closed || len(s.active) > 0 || len(s.listeners) == 0 {
		return false
	}
	s.waiting = true
	return true
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
}

func (s *Server) cancelActive() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.active {
		cancel()
	}
}

func (s *Server) handshakeTimeout() time.Duration {
	if s.HandshakeTimeout > 0 {
		return s.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

// temporary reports whether an Accept error is one to retry after a
// pause: the test net/http applies (Temporary, which timeouts also
// satisfy, is deprecated on net.Error only because most of its callers
// misuse it; for accept it is the right question).
func temporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}
