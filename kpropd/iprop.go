package kpropd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gokprop/gokprop/iprop"
)

// IpropSession is an authenticated connection to the primary's kadmind
// for incremental propagation: one RPCSEC_GSS context over one TCP
// connection, as MIT kpropd's kadm5 handle holds (*kiprop.Session is
// one). A Poller makes its calls one at a time and closes it after a
// failed call.
type IpropSession interface {
	// GetUpdates calls IPROP_GET_UPDATES with the replica's position.
	GetUpdates(ctx context.Context, last iprop.Last) (*iprop.IncrResult, error)
	// FullResyncExt asks for a full resync as MIT kpropd does:
	// IPROP_FULL_RESYNC_EXT, then IPROP_FULL_RESYNC if the primary does
	// not have that procedure.
	FullResyncExt(ctx context.Context) (*iprop.FullResyncResult, error)
	Close() error
}

// IpropReplica is the replica's side of incremental propagation: its
// position and the application of a batch (package iprop/replica's DB
// implements it).
type IpropReplica interface {
	// Last returns the replica's position, sent with every poll.
	Last() (iprop.Last, error)
	// Apply applies an UPDATE_OK reply's updates and records them; on
	// failure it leaves the replica in a state the primary answers with a
	// full resync.
	Apply(ctx context.Context, updates []iprop.Update) error
}

// Defaults of a Poller, MIT's.
const (
	// DefaultPollInterval is what MIT kpropd uses when the configured
	// iprop_replica_poll is zero (kdc.conf's own default is two minutes).
	DefaultPollInterval = 10 * time.Second
	// MaxBackoff caps the exponential backoff after failed connections
	// and busy answers (MAX_BACKOFF).
	MaxBackoff = 300 * time.Second
)

// Errors that end a Poller's Run: the primary's refusals, after which MIT
// kpropd stops polling ("ERROR returned by primary KDC, bailing.").
var (
	ErrIpropPermissionDenied = errors.New("kpropd: permission denied by the primary (the kiprop principal lacks the p privilege)")
	ErrIpropPrimaryError     = errors.New("kpropd: the primary reported an error")
)

// A Poller keeps a replica up to date with its primary by incremental
// propagation: the loop of MIT kpropd's do_iprop. It polls at Interval,
// applies what the primary sends, asks for a full resync when the
// primary says one is needed (the dump then arrives through the Server's
// listener, whose loader should call Poll once it has loaded it), backs
// off exponentially (2<<n seconds, at most MaxBackoff) after failed
// connections and busy answers, reconnects after a failed call, and stops
// when the primary refuses it.
//
// The Logger receives structured records; the kpropd command words them
// as MIT kpropd does (its -d lines and syslog messages):
//
//	level  message                     attributes
//	Debug  incremental propagation enabled
//	Debug  connecting                  client
//	Debug  connected
//	Warn   connect failed              err, rpc (a connection failure, not authentication), backoff
//	Debug  polling                     sno, sec, usec
//	Error  get updates failed          err (the session is closed and redialled)
//	Debug  got updates                 sno, sec, usec (the primary's last)
//	Info   updates applied             updates, elapsed
//	Error  apply failed                err
//	Debug  synchronized
//	Info   full resync needed
//	Debug  still waiting for full resync
//	Error  full resync failed          err (the call itself)
//	Info   full resync granted
//	Debug  full resync busy
//	Error  full resync denied
//	Error  full resync error
//	Error  full resync invalid         status
//	Debug  primary busy
//	Error  get updates denied
//	Error  get updates error
//	Error  get updates invalid         status
//	Debug  backing off                 seconds
//	Debug  waiting                     seconds
//	Error  reading position failed     err
//	Error  bailing
type Poller struct {
	// Dial opens a session with the primary (a fresh AS exchange and
	// connection each time, as MIT's kadm5 initialization). Required.
	Dial func(ctx context.Context) (IpropSession, error)
	// IsConnectError tells failed connections (MIT's KADM5_RPC_ERROR)
	// from other Dial errors (for example no KDC or a wrong key), which
	// MIT logs differently; nil counts every error as a connection error.
	IsConnectError func(error) bool
	// Client names the principal Dial authenticates as, for the log.
	Client string
	// Replica is the database the updates go to. Required.
	Replica IpropReplica
	// Interval is the time between polls (iprop_replica_poll); 0 means
	// DefaultPollInterval.
	Interval time.Duration
	// ResyncTimeout is how long a requested full resync is waited for
	// before it is requested again (iprop_resync_timeout); 0 means
	// DefaultTimeout.
	ResyncTimeout time.Duration
	// RunOnce makes Run return after one poll that did not end in a full
	// resync request, as MIT kpropd -t does: a requested resync is waited
	// for (Poll ends the wait) and the poll after it ends the run.
	RunOnce bool
	// Logger receives the records above; nil discards them.
	Logger *slog.Logger
	// Position, if set, is called after each poll that placed the
	// replica against the primary: after a batch was applied (replica is
	// the replica's position then, primary the last update the primary
	// holds) and when the primary answered that the replica is up to date
	// (both the same). kpropd's metrics take the serial number and the lag
	// from it. It is called from Run's goroutine and must not block.
	Position func(replica, primary iprop.Last)

	kickOnce sync.Once
	kick     chan struct{}
	// now and wait replace the clock and the timer in tests.
	now  func() time.Time
	wait func(ctx context.Context, d time.Duration, kick <-chan struct{}) error
}

// Poll makes a Poller that is waiting poll at once, as SIGUSR1 makes MIT
// kpropd: call it when a full resync has been loaded. A request made
// while a poll is in progress is kept for the next wait, not lost; several
// coalesce into one.
func (p *Poller) Poll() {
	select {
	case p.kicks() <- struct{}{}:
	default:
	}
}

func (p *Poller) kicks() chan struct{} {
	p.kickOnce.Do(func() { p.kick = make(chan struct{}, 1) })
	return p.kick
}

// Run polls until ctx ends (it then returns ctx's error), the primary
// refuses the replica (an error wrapping ErrIpropPermissionDenied or
// ErrIpropPrimaryError), the replica's position cannot be read, or, with
// RunOnce, the one cycle is done (nil).
func (p *Poller) Run(ctx context.Context) error {
	kick := p.kicks()
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := p.now
	if now == nil {
		now = time.Now
	}
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	resyncTimeout := p.ResyncTimeout
	if resyncTimeout <= 0 {
		resyncTimeout = DefaultTimeout
	}
	log.DebugContext(ctx, "incremental propagation enabled")

	var sess IpropSession
	defer func() {
		if sess != nil {
			sess.Close()
		}
	}()
	var (
		reinitCnt, backoffCnt int
		frRequested           time.Time
	)
	for {
		if sess == nil {
			log.DebugContext(ctx, "connecting", "client", p.Client)
			s, err := p.Dial(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				reinitCnt++
				wait := backoff(&reinitCnt)
				rpc := p.IsConnectError == nil || p.IsConnectError(err)
				log.WarnContext(ctx, "connect failed", "err", err, "rpc", rpc, "backoff", wait)
				if err := p.sleep(ctx, wait, kick); err != nil {
					return err
				}
				continue
			}
			sess = s
			reinitCnt = 0
			log.DebugContext(ctx, "connected")
		}

		last, err := p.Replica.Last()
		if err != nil {
			log.ErrorContext(ctx, "reading position failed", "err", err)
			return fmt.Errorf("kpropd: reading the update log: %w", err)
		}
		log.DebugContext(ctx, "polling", "sno", last.Sno, "sec", last.Time.Seconds, "usec", last.Time.Useconds)
		start := now()
		res, err := sess.GetUpdates(ctx, last)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.ErrorContext(ctx, "get updates failed", "err", err)
			sess.Close()
			sess = nil
			continue
		}
		switch res.Status {
		case iprop.UpdateFullResyncNeeded:
			if !frRequested.IsZero() && now().Sub(frRequested) < resyncTimeout {
				log.DebugContext(ctx, "still waiting for full resync")
				break
			}
			frRequested = now()
			log.InfoContext(ctx, "full resync needed")
			fr, err := sess.FullResyncExt(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				log.ErrorContext(ctx, "full resync failed", "err", err)
				sess.Close()
				sess = nil
				// MIT reconnects at once, without the poll's wait.
				continue
			}
			switch fr.Status {
			case iprop.UpdateOK:
				log.InfoContext(ctx, "full resync granted")
				backoffCnt = 0
			case iprop.UpdateBusy:
				log.DebugContext(ctx, "full resync busy")
				backoffCnt++
			case iprop.UpdatePermDenied:
				log.ErrorContext(ctx, "full resync denied")
				return p.bail(ctx, log, ErrIpropPermissionDenied)
			case iprop.UpdateError:
				log.ErrorContext(ctx, "full resync error")
				return p.bail(ctx, log, ErrIpropPrimaryError)
			default:
				backoffCnt = 0
				log.ErrorContext(ctx, "full resync invalid", "status", fr.Status)
			}
		case iprop.UpdateOK:
			backoffCnt = 0
			frRequested = time.Time{}
			log.DebugContext(ctx, "got updates", "sno", res.Last.Sno, "sec", res.Last.Time.Seconds, "usec", res.Last.Time.Useconds)
			if err := p.Replica.Apply(ctx, res.Updates); err != nil {
				log.ErrorContext(ctx, "apply failed", "err", err)
				break
			}
			log.InfoContext(ctx, "updates applied", "updates", len(res.Updates), "elapsed", now().Sub(start))
			if p.Position != nil {
				if pos, err := p.Replica.Last(); err == nil {
					p.Position(pos, res.Last)
				}
			}
		case iprop.UpdatePermDenied:
			log.ErrorContext(ctx, "get updates denied")
			return p.bail(ctx, log, ErrIpropPermissionDenied)
		case iprop.UpdateError:
			log.ErrorContext(ctx, "get updates error")
			return p.bail(ctx, log, ErrIpropPrimaryError)
		case iprop.UpdateBusy:
			log.DebugContext(ctx, "primary busy")
			backoffCnt++
		case iprop.UpdateNil:
			log.DebugContext(ctx, "synchronized")
			backoffCnt = 0
			if p.Position != nil {
				p.Position(last, last)
			}
			frRequested = time.Time{}
		default:
			backoffCnt = 0
			log.ErrorContext(ctx, "get updates invalid", "status", res.Status)
		}

		if p.RunOnce && res.Status != iprop.UpdateFullResyncNeeded {
			return nil
		}
		var wait time.Duration
		if backoffCnt > 0 {
			wait = backoff(&backoffCnt)
			log.DebugContext(ctx, "backing off", "seconds", int(wait/time.Second))
		} else {
			wait = interval
			log.DebugContext(ctx, "waiting", "seconds", int(wait/time.Second))
		}
		if err := p.sleep(ctx, wait, kick); err != nil {
			return err
		}
	}
}

// bail logs MIT's last words for a refusal and returns why Run stopped.
func (p *Poller) bail(ctx context.Context, log *slog.Logger, err error) error {
	log.ErrorContext(ctx, "bailing")
	return err
}

// backoff is MIT's backoff_from_primary: 2<<n seconds, at most
// MaxBackoff (and then n stops growing).
func backoff(n *int) time.Duration {
	if *n > 8 {
		*n = 8
	}
	d := time.Duration(2<<*n) * time.Second
	if d > MaxBackoff {
		d = MaxBackoff
		*n--
	}
	return d
}

// sleep waits d, or until Poll or ctx.
func (p *Poller) sleep(ctx context.Context, d time.Duration, kick <-chan struct{}) error {
	if p.wait != nil {
		return p.wait(ctx, d, kick)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-kick:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
