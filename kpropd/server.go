package kpropd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

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
// propagation mode. The zero value is not usable: Principal, Keytab and
// File are required. A Server serves any number of listeners and
// connections concurrently; a transfer holds an exclusive lock on
// File+".temp", so a second simultaneous transfer to the same file is
// refused, as MIT's is.
type Server struct {
	// Principal is this replica's service principal,
	// host/<canonical local hostname>@REALM.
	Principal krb5.Principal

	// Keytab returns the keytab that verifies clients' tickets. It is
	// called for every connection, as MIT kpropd reads its keytab for
	// every connection, so a replaced keytab takes effect at once.
	Keytab func() (*keytab.Keytab, error)

	// AcceptAnyHostPrincipal accepts a ticket for any host/*@REALM key
	// in the keytab (MIT's ignore_acceptor_hostname).
	AcceptAnyHostPrincipal bool

	// PermittedEnctypes limits the session key's encryption type; nil
	// means krb5.DefaultEnctypes().
	PermittedEnctypes []krb5.Enctype

	// ClockSkew is the tolerated clock difference; 0 means 5 minutes.
	ClockSkew time.Duration

	// Authorizer decides which authenticated clients may propagate. nil
	// refuses every client.
	Authorizer Authorizer

	// File is where the received dump is installed. It is received into
	// File+".temp" and renamed over File only once complete.
	File string

	// Verify, if set, checks the complete received dump (at the temporary
	// path) before it is renamed into place and loaded; an error rejects
	// the transfer and leaves File untouched.
	Verify func(ctx context.Context, path string) error

	// Loader installs the dump once it is in place. nil skips loading.
	Loader Loader

	// Timeout bounds a whole transfer, from accept to acknowledgement,
	// load included; 0 means DefaultTimeout.
	Timeout time.Duration

	// HandshakeTimeout bounds authentication; 0 means
	// DefaultHandshakeTimeout. It never extends Timeout.
	HandshakeTimeout time.Duration

	// MaxMessageSize caps one received message; 0 means
	// krbauth.DefaultMaxMessageSize.
	MaxMessageSize int

	// Logger receives the server's events; nil discards them. Messages
	// are MIT kpropd's, so a handler can print them as kpropd -d does.
	Logger *slog.Logger

	mu        sync.Mutex
	replay    *krbauth.ReplayCache
	listeners map[net.Listener]struct{}
	active    map[net.Conn]context.CancelFunc
	wg        sync.WaitGroup
	closed    bool
	busy      sync.Mutex // held by the transfer in progress
}

// Serve accepts connections on l and handles each in its own goroutine
// until Shutdown or Close. It always returns a non-nil error; after
// Shutdown or Close that error is ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	if err := s.track(l, true); err != nil {
		return err
	}
	defer s.track(l, false)
	var delay time.Duration
	for {
		s.logger().Debug("waiting for a kprop connection")
		conn, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Back off on transient accept failures (e.g. EMFILE).
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		go func() { _ = s.ServeConn(context.Background(), conn) }()
	}
}

// ServeConn handles one connection (inetd mode, or a connection accepted
// elsewhere) and closes it. The error says why the transfer failed; the
// peer has been told whatever the protocol allows.
func (s *Server) ServeConn(ctx context.Context, conn net.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	if !s.register(conn, cancel) {
		conn.Close()
		return ErrServerClosed
	}
	defer s.unregister(conn)
	err := s.receive(ctx, conn)
	conn.Close()
	log := s.logger()
	switch {
	case errors.Is(err, ErrNotAuthorized):
		log.Warn(err.Error(), "peer", conn.RemoteAddr().String())
	case err != nil:
		log.Error(err.Error(), "peer", conn.RemoteAddr().String())
	}
	log.Debug("Database load process for full propagation completed.")
	log.Log(ctx, LevelTrace, MsgConnectionDone, "peer", conn.RemoteAddr().String(), "ok", err == nil)
	return err
}

// The server logs what MIT kpropd sends to syslog (connections at Info,
// refused clients at Warn, failures at Error) and what MIT kpropd -d
// prints on standard error at Debug, with MIT's wording.
const (
	// LevelTrace is below Debug: events for programs and tests, not
	// people.
	LevelTrace = slog.LevelDebug - 4
	// MsgConnectionDone is logged at LevelTrace when the server has
	// finished with a connection, cleanup included.
	MsgConnectionDone = "connection done"
)

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

func (s *Server) replayCache() *krbauth.ReplayCache {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.replay == nil {
		s.replay = krbauth.NewReplayCache()
	}
	return s.replay
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
	return true
}

func (s *Server) unregister(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.active, conn)
	s.wg.Done()
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

// TransferError is a failed transfer: the step that failed, worded as MIT
// kpropd words it, and the cause.
type TransferError struct {
	Op  string
	Err error
}

func (e *TransferError) Error() string {
	if e.Op == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v %s", e.Err, e.Op)
}

func (e *TransferError) Unwrap() error { return e.Err }
