package kiprop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gokprop/gokprop/gsskrb5"
	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbconf"
	"github.com/gokprop/gokprop/krbkdc"
	"github.com/gokprop/gokprop/oncrpc"
	"github.com/gokprop/gokprop/rpcsecgss"
)

// The Kerberos initiator is an RPCSEC_GSS security context.
var _ rpcsecgss.SecContext = (*gsskrb5.Context)(nil)

// destroyTimeout bounds the RPCSEC_GSS_DESTROY call of Close.
const destroyTimeout = 5 * time.Second

// SetupError is a failure to set a session up: reading the keytab,
// getting credentials, connecting, or creating the RPCSEC_GSS context
// (MIT kpropd's "kadm5 initialization failed"). Step says which.
type SetupError struct {
	Step string // "config", "keytab", "credentials", "connect" or "context"
	Err  error
}

// Error names the step and its error.
func (e *SetupError) Error() string { return "kiprop: " + e.Step + ": " + e.Err.Error() }

// Unwrap returns the step's error.
func (e *SetupError) Unwrap() error { return e.Err }

// ErrClosed is returned by calls on a Session after Close.
var ErrClosed = errors.New("kiprop: session closed")

// Info describes an established session.
type Info struct {
	Client, Server krb5.Principal
	Addr           string       // the admin server's address, host:port
	SessionEnctype krb5.Enctype // the ticket's session key
	TokenEnctype   krb5.Enctype // the key of the GSS tokens (the acceptor's subkey)
	Window         uint32       // the RPCSEC_GSS sequence window
}

// A Session is a replica's authenticated connection to a primary's
// kadmind for incremental propagation: one TCP connection, one Kerberos
// GSS context and RPCSEC_GSS privacy context on it, and the iprop calls.
//
// Any failed call tears the connection and contexts down, and the next
// call sets up a new session first (a new AS exchange, connection and
// context), as MIT's kpropd destroys and re-initializes its handle after
// every failed call. A failure of that setup is a *SetupError. Backoff
// between attempts is the caller's: a Session never retries by itself.
// Calls are serialized; a Session is safe for concurrent use.
type Session struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	cur    *link
	closed bool
}

// link is one set-up connection.
type link struct {
	conn net.Conn
	rpc  *oncrpc.Client
	auth *rpcsecgss.Auth
	ip   *iprop.Client
	info Info
}

// Dial sets up a session with cfg's primary, as MIT kpropd's
// kadm5_init_with_skey does for iprop: credentials for
// kiprop/<admin server> straight from the keytab (an AS exchange, no
// TGT) as kiprop/<this host>, a TCP connection to the admin server's
// iprop_port, and an RPCSEC_GSS privacy context with mutual
// authentication and replay detection. Failures are *SetupError.
func Dial(ctx context.Context, cfg *Config) (*Session, error) {
	s := &Session{cfg: *cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Session) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	d := s.cfg.CallTimeout
	if d <= 0 {
		d = DefaultCallTimeout
	}
	return context.WithTimeout(ctx, d)
}

// setup makes s.cur; s.mu is held.
func (s *Session) setup(ctx context.Context) error {
	ctx, cancel := s.callCtx(ctx)
	defer cancel()
	cfg := &s.cfg
	realm, err := cfg.realm()
	if err != nil {
		return &SetupError{"config", err}
	}
	host, err := cfg.AdminServerHost()
	if err != nil {
		return &SetupError{"config", err}
	}
	port, err := cfg.IpropPort()
	if err != nil {
		return &SetupError{"config", err}
	}
	server, err := cfg.ServicePrincipal()
	if err != nil {
		return &SetupError{"config", err}
	}
	client, err := cfg.ClientPrincipal(ctx)
	if err != nil {
		return &SetupError{"config", err}
	}
	kt := cfg.Keytab
	if kt == nil {
		if kt, err = krbconf.LoadKeytab(krbconf.KeytabName(cfg.Profile)); err != nil {
			return &SetupError{"keytab", err}
		}
	}
	s.log.Debug("initializing iprop session", "client", client.String(), "service", server.String(), "realm", realm)
	kdc := cfg.KDC
	if kdc == nil {
		kdc = &krbkdc.KDCClient{Config: cfg.Profile}
	}
	creds, err := kdc.GetInitialCredentials(ctx, kt, client, server)
	if err != nil {
		return &SetupError{"credentials", err}
	}
	gss, err := gsskrb5.NewInitiator(creds, &gsskrb5.Config{
		Flags:     gsskrb5.FlagMutual | gsskrb5.FlagReplay,
		Enctypes:  cfg.negotiationEnctypes(),
		ClockSkew: cfg.Profile.ClockSkew(),
		Now:       cfg.Now,
		Rand:      cfg.Rand,
	})
	if err != nil {
		return &SetupError{"credentials", err}
	}

	addr := net.JoinHostPort(host, strconv.Itoa(port))
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return &SetupError{"connect", err}
	}
	rpc := oncrpc.NewClient(conn, iprop.RPCConfig())
	auth, err := rpcsecgss.Create(ctx, rpc, gss, &rpcsecgss.Config{Service: rpcsecgss.ServicePrivacy})
	if err != nil {
		rpc.Close()
		return &SetupError{"context", err}
	}
	l := &link{conn: conn, rpc: rpc, auth: auth, ip: iprop.NewClient(rpc, auth), info: Info{
		Client: creds.Client, Server: creds.Server, Addr: addr,
		SessionEnctype: krb5.Enctype(creds.SessionKey.KeyType), TokenEnctype: gss.Enctype(), Window: auth.Window(),
	}}
	s.cur = l
	s.log.Debug("iprop session established", "addr", addr, "session_enctype", l.info.SessionEnctype.String(), "token_enctype", l.info.TokenEnctype.String())
	return nil
}

// Info returns the description of the current connection, and false when
// there is none (after a failure, until the next call sets one up).
func (s *Session) Info() (Info, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return Info{}, false
	}
	return s.cur.info, true
}

// do runs f on the current link, setting one up first if there is none,
// and drops the link when f fails (except for errors keep accepts).
func (s *Session) do(ctx context.Context, f func(ctx context.Context, l *link) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.cur == nil {
		if err := s.setup(ctx); err != nil {
			return err
		}
	}
	ctx, cancel := s.callCtx(ctx)
	defer cancel()
	err := f(ctx, s.cur)
	if err != nil {
		s.log.Debug("iprop call failed; the session will be set up again", "err", err)
		s.cur.rpc.Close()
		s.cur = nil
	}
	return err
}

// GetUpdates calls IPROP_GET_UPDATES with the replica's position: the
// primary answers UpdateOK with the updates after it, UpdateNil,
// UpdateFullResyncNeeded, UpdateBusy, UpdateError or UpdatePermDenied.
func (s *Session) GetUpdates(ctx context.Context, last iprop.Last) (*iprop.IncrResult, error) {
	var res *iprop.IncrResult
	err := s.do(ctx, func(ctx context.Context, l *link) (err error) {
		res, err = l.ip.GetUpdates(ctx, last)
		return err
	})
	return res, err
}

// FullResyncExt asks the primary for a full resync as MIT's kpropd does:
// IPROP_FULL_RESYNC_EXT with IpropxVersion1, and IPROP_FULL_RESYNC on the
// same connection if the primary answers PROC_UNAVAIL (MIT before 1.11).
// UpdateOK means the primary is sending the dump with kprop.
func (s *Session) FullResyncExt(ctx context.Context) (*iprop.FullResyncResult, error) {
	var res *iprop.FullResyncResult
	err := s.do(ctx, func(ctx context.Context, l *link) (err error) {
		res, err = l.ip.FullResyncExt(ctx, iprop.IpropxVersion1)
		if errors.Is(err, oncrpc.ErrProcUnavail) {
			s.log.Debug("IPROP_FULL_RESYNC_EXT unavailable; calling IPROP_FULL_RESYNC")
			res, err = l.ip.FullResync(ctx)
		}
		return err
	})
	return res, err
}

// Null calls IPROP_NULL, which only authenticates.
func (s *Session) Null(ctx context.Context) error {
	return s.do(ctx, func(ctx context.Context, l *link) error { return l.ip.Null(ctx) })
}

// Close destroys the RPCSEC_GSS context (waiting a few seconds at most
// for the server) and closes the connection. Later calls return
// ErrClosed.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cur == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), destroyTimeout)
	defer cancel()
	derr := s.cur.auth.Destroy(ctx)
	cerr := s.cur.rpc.Close()
	s.cur = nil
	if derr != nil {
		return fmt.Errorf("kiprop: destroying the context: %w", derr)
	}
	return cerr
}
