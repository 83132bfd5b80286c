package krbkdc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/messages"

	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
	"github.com/gokprop/gokprop/krbconf"
)

// Errors of the KDC transport, with MIT's texts.
var (
	// ErrKDCUnreachable is MIT's KRB5_KDC_UNREACH: no KDC of the realm answered.
	ErrKDCUnreachable error = &liberr.Error{Text: "Cannot contact any KDC for requested realm"}
	// ErrRealmCantResolve is MIT's KRB5_REALM_CANT_RESOLVE: the realm has
	// no KDC that could be located (none configured or found in DNS).
	ErrRealmCantResolve error = &liberr.Error{Text: "Cannot resolve network address for KDC in requested realm"}
)

const (
	maxUDPReply = 65536   // MIT's MAX_DGRAM_SIZE
	maxTCPReply = 1 << 20 // far above any AS-REP
	// MIT makes three passes over the KDCs (sendto_kdc.c MAX_PASS).
	kdcPasses = 3
)

// KDCClient exchanges messages with the KDCs of a realm as MIT's
// krb5_sendto_kdc does, and gets initial credentials from them (see
// GetInitialCredentials). The zero value is ready to use: it reads KDC
// locations from a nil (empty) krbconf.Config and uses the system resolver and
// dialer. A KDCClient is safe for concurrent use if its fields are not
// changed.
type KDCClient struct {
	// Config supplies the realm's KDCs and the libdefaults that shape
	// requests (udp_preference_limit, enctypes, lifetimes, ...).
	Config *krbconf.Config
	// Dial opens UDP and TCP connections to KDCs; nil means a net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// LookupIP resolves a KDC host name; nil means net.DefaultResolver.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
	// LookupSRV finds KDCs in DNS for a realm whose configuration lists
	// none; nil means net.DefaultResolver.
	LookupSRV func(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	// Canonicalizer computes client name candidates when
	// dns_canonicalize_hostname is fallback; nil means one with Config and
	// the system resolver. Its own Config is used for the candidates.
	Canonicalizer *krbconf.Canonicalizer
	// Logger receives debug traces of the exchange; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Rand supplies nonces; nil means crypto/rand.
	Rand io.Reader
	// RetryUnit scales MIT's retry schedule: each KDC gets one unit (MIT:
	// 1 s) before the next is also tried, a pass ends with 2, 4 and 8
	// units of waiting, and an established TCP connection is waited on
	// for 10 units. Zero means one second.
	RetryUnit time.Duration
}

func (k *KDCClient) logger() *slog.Logger {
	if k.Logger != nil {
		return k.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (k *KDCClient) canonicalizer() *krbconf.Canonicalizer {
	if k.Canonicalizer != nil {
		return k.Canonicalizer
	}
	return &krbconf.Canonicalizer{Config: k.Config}
}

func (k *KDCClient) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

func (k *KDCClient) unit() time.Duration {
	if k.RetryUnit > 0 {
		return k.RetryUnit
	}
	return time.Second
}

func (k *KDCClient) dial(ctx context.Context, network, address string) (net.Conn, error) {
	if k.Dial != nil {
		return k.Dial(ctx, network, address)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

func (k *KDCClient) lookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if k.LookupIP != nil {
		return k.LookupIP(ctx, host)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, err
}

func (k *KDCClient) lookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if k.LookupSRV != nil {
		return k.LookupSRV(ctx, service, proto, name)
	}
	return net.DefaultResolver.LookupSRV(ctx, service, proto, name)
}

// locateKDCs returns the realm's KDCs: the configuration's "kdc" entries,
// else (if dns_lookup_kdc allows) the _kerberos._udp and _kerberos._tcp
// SRV records of the realm.
func (k *KDCClient) locateKDCs(ctx context.Context, realm string) ([]krbconf.KDCAddress, error) {
	kdcs, err := k.Config.KDCs(realm)
	if err != nil || len(kdcs) > 0 {
		return kdcs, err
	}
	if !k.Config.DNSLookupKDC() {
		return nil, nil
	}
	for _, tr := range []string{krbconf.TransportUDP, krbconf.TransportTCP} {
		_, srvs, err := k.lookupSRV(ctx, "kerberos", tr, realm)
		if err != nil {
			k.logger().Debug("KDC SRV lookup failed", "realm", realm, "proto", tr, "err", err)
			continue
		}
		for _, s := range srvs {
			if s.Target == "." {
				continue
			}
			kdcs = append(kdcs, krbconf.KDCAddress{Host: trimDot(s.Target), Port: int(s.Port), Transport: tr})
		}
	}
	return kdcs, nil
}

func trimDot(s string) string {
	if n := len(s); n > 1 && s[n-1] == '.' {
		return s[:n-1]
	}
	return s
}

// Transport strategies of MIT's k5_sendto.
type kdcStrategy int

const (
	udpFirst kdcStrategy = iota
	udpLast
	noUDP
)

// kdcAttempt is one address and transport to try.
type kdcAttempt struct {
	addr     netip.AddrPort
	network  string // "udp" or "tcp"
	deferred bool   // the non-preferred transport: tried after all preferred ones
	started  bool
	dead     bool
	conn     net.Conn // UDP only, for retransmissions
	hold     time.Time
}

// kdcEvent reports progress of an attempt to the scheduler.
type kdcEvent struct {
	idx       int
	reply     []byte
	err       error
	connected bool
}

// sendToKDC sends msg to the KDCs of realm and returns the first reply, as
// MIT's krb5_sendto_kdc does: requests of at most udp_preference_limit
// bytes go over UDP first (TCP afterwards), larger ones over TCP first;
// tcpOnly (after a KRB_ERR_RESPONSE_TOO_BIG) skips UDP. KDCs are tried in
// order with MIT's schedule (see RetryUnit), earlier ones staying in the
// race; a KDC that answers KDC_ERR_SVC_UNAVAILABLE is dropped from it. The whole
// exchange ends with ctx. The reply is returned as received, KRB-ERRORs
// included.
func (k *KDCClient) sendToKDC(ctx context.Context, realm string, msg []byte, tcpOnly bool) ([]byte, error) {
	strategy := noUDP
	if !tcpOnly {
		limit, err := k.Config.UDPPreferenceLimit()
		if err != nil {
			return nil, err
		}
		strategy = udpLast
		if len(msg) <= limit {
			strategy = udpFirst
		}
	}
	kdcs, err := k.locateKDCs(ctx, realm)
	if err != nil {
		return nil, err
	}
	if len(kdcs) == 0 {
		return nil, fmt.Errorf("realm %s: %w", realm, ErrRealmCantResolve)
	}

	ctx, cancel := context.WithCancel(ctx)
	s := &kdcSend{k: k, ctx: ctx, msg: msg, events: make(chan kdcEvent, 16), log: k.logger().With("realm", realm)}
	defer func() {
		cancel()
		s.closeAll()
		s.wg.Wait()
	}()
	return s.run(kdcs, strategy, realm)
}

// kdcSend is the state of one sendToKDC call.
type kdcSend struct {
	k        *KDCClient
	ctx      context.Context
	msg      []byte
	events   chan kdcEvent
	attempts []*kdcAttempt
	live     int
	wg       sync.WaitGroup
	mu       sync.Mutex // guards attempt conns against closeAll
	closed   bool
	conns    []net.Conn
	log      *slog.Logger
	svcUnav  *KDCError
	lastErr  error
}

func (s *kdcSend) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns = append(s.conns, c)
	return true
}

func (s *kdcSend) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
}

// addAttempts resolves one KDC entry and appends its attempts, as MIT's
// resolve_server does.
func (s *kdcSend) addAttempts(kdc krbconf.KDCAddress, strategy kdcStrategy) {
	if kdc.Transport == krbconf.TransportHTTPS {
		s.log.Debug("skipping MS-KKDCP proxy entry (not supported)", "kdc", kdc.String())
		return
	}
	if strategy == noUDP && kdc.Transport == krbconf.TransportUDP {
		return
	}
	preferred := "tcp"
	if strategy == udpFirst {
		preferred = "udp"
	}
	network, deferred := preferred, false
	if kdc.Transport != krbconf.TransportAny {
		network = kdc.Transport
		deferred = (kdc.Transport == krbconf.TransportTCP && strategy == udpFirst) ||
			(kdc.Transport == krbconf.TransportUDP && strategy == udpLast)
	}
	addrs, err := s.k.lookupIP(s.ctx, kdc.Host)
	if err != nil {
		s.log.Debug("cannot resolve KDC", "kdc", kdc.Host, "err", err)
		s.lastErr = err
		return
	}
	for _, a := range addrs {
		s.attempts = append(s.attempts, &kdcAttempt{addr: netip.AddrPortFrom(a.Unmap(), uint16(kdc.Port)), network: network, deferred: deferred})
	}
	if kdc.Transport == krbconf.TransportAny && strategy != noUDP {
		other := "udp"
		if strategy == udpFirst {
			other = "tcp"
		}
		for _, a := range addrs {
			s.attempts = append(s.attempts, &kdcAttempt{addr: netip.AddrPortFrom(a.Unmap(), uint16(kdc.Port)), network: other, deferred: true})
		}
	}
}

func (s *kdcSend) run(kdcs []krbconf.KDCAddress, strategy kdcStrategy, realm string) ([]byte, error) {
	u := s.k.unit()
	// First pass: each KDC's preferred-transport addresses in order, one
	// unit each, then the deferred ones, then two units.
	for _, kdc := range kdcs {
		first := len(s.attempts)
		s.addAttempts(kdc, strategy)
		for i := first; i < len(s.attempts); i++ {
			if s.attempts[i].deferred {
				continue
			}
			if r, done, err := s.startAndWait(i, u); done {
				return r, err
			}
		}
	}
	for i := range s.attempts {
		if !s.attempts[i].deferred {
			continue
		}
		if r, done, err := s.startAndWait(i, u); done {
			return r, err
		}
	}
	if r, done, err := s.wait(2 * u); done {
		return r, err
	}
	// Further passes retransmit over UDP.
	delay := 4 * u
	for pass := 1; pass < kdcPasses && s.live > 0; pass++ {
		for _, a := range s.attempts {
			if a.dead || a.network != "udp" {
				continue
			}
			s.log.Debug("retransmitting to KDC", "kdc", a.addr.String())
			if _, err := a.conn.Write(s.msg); err != nil {
				continue
			}
			if r, done, err := s.wait(u); done {
				return r, err
			}
		}
		if r, done, err := s.wait(delay); done {
			return r, err
		}
		delay *= 2
	}
	if s.svcUnav != nil {
		return nil, s.svcUnav
	}
	if s.lastErr != nil {
		return nil, fmt.Errorf("realm %s: %w (%v)", realm, ErrKDCUnreachable, s.lastErr)
	}
	return nil, fmt.Errorf("realm %s: %w", realm, ErrKDCUnreachable)
}

// startAndWait starts attempt i and waits up to d for any answer.
func (s *kdcSend) startAndWait(i int, d time.Duration) ([]byte, bool, error) {
	if err := s.start(i); err != nil {
		s.log.Debug("cannot contact KDC", "kdc", s.attempts[i].addr.String(), "proto", s.attempts[i].network, "err", err)
		s.lastErr = err
		return nil, false, nil
	}
	return s.wait(d)
}

func (s *kdcSend) start(i int) error {
	a := s.attempts[i]
	a.started = true
	s.log.Debug("sending request to KDC", "kdc", a.addr.String(), "proto", a.network, "bytes", len(s.msg))
	if a.network == "udp" {
		c, err := s.k.dial(s.ctx, "udp", a.addr.String())
		if err != nil {
			a.dead = true
			return err
		}
		if !s.track(c) {
			a.dead = true
			return s.ctx.Err()
		}
		if _, err := c.Write(s.msg); err != nil {
			a.dead = true
			c.Close()
			return err
		}
		a.conn = c
		s.live++
		s.wg.Add(1)
		go s.readUDP(i, c)
		return nil
	}
	s.live++
	s.wg.Add(1)
	go s.exchangeTCP(i, a.addr)
	return nil
}

func (s *kdcSend) report(ev kdcEvent) bool {
	select {
	case s.events <- ev:
		return true
	case <-s.ctx.Done():
		return false
	}
}

func (s *kdcSend) readUDP(i int, c net.Conn) {
	defer s.wg.Done()
	buf := make([]byte, maxUDPReply)
	for {
		n, err := c.Read(buf)
		if err != nil {
			s.report(kdcEvent{idx: i, err: err})
			return
		}
		if !s.report(kdcEvent{idx: i, reply: append([]byte(nil), buf[:n]...)}) {
			return
		}
	}
}

func (s *kdcSend) exchangeTCP(i int, addr netip.AddrPort) {
	defer s.wg.Done()
	c, err := s.k.dial(s.ctx, "tcp", addr.String())
	if err != nil {
		s.report(kdcEvent{idx: i, err: err})
		return
	}
	if !s.track(c) {
		return
	}
	if !s.report(kdcEvent{idx: i, connected: true}) {
		return
	}
	if err := writeTCP(c, s.msg); err != nil {
		s.report(kdcEvent{idx: i, err: err})
		return
	}
	reply, err := readTCP(c, maxTCPReply)
	if err != nil {
		s.report(kdcEvent{idx: i, err: err})
		return
	}
	s.report(kdcEvent{idx: i, reply: reply})
}

// wait processes events for d (longer while a TCP connection established
// in the last ten units is pending, as MIT does) or until a reply is
// accepted, every started attempt has failed, or the context ends.
func (s *kdcSend) wait(d time.Duration) ([]byte, bool, error) {
	end := time.Now().Add(d)
	for _, a := range s.attempts {
		if !a.dead && a.hold.After(end) {
			end = a.hold
		}
	}
	timer := time.NewTimer(time.Until(end))
	defer timer.Stop()
	for s.live > 0 {
		select {
		case <-s.ctx.Done():
			return nil, true, fmt.Errorf("contacting the KDCs: %w", s.ctx.Err())
		case <-timer.C:
			return nil, false, nil
		case ev := <-s.events:
			a := s.attempts[ev.idx]
			switch {
			case ev.connected:
				a.hold = time.Now().Add(10 * s.k.unit())
				if a.hold.After(end) {
					end = a.hold
					timer.Reset(time.Until(end))
				}
			case ev.err != nil:
				if !a.dead {
					a.dead = true
					s.live--
				}
				s.lastErr = ev.err
				s.log.Debug("KDC connection failed", "kdc", a.addr.String(), "proto", a.network, "err", ev.err)
			default:
				if code, text, ok := parseKRBError(ev.reply); ok && code == krb5.ErrSvcUnavailable {
					s.log.Debug("KDC service unavailable, trying others", "kdc", a.addr.String())
					s.svcUnav = &KDCError{Code: code, Text: text}
					// MIT keeps retransmitting to such a KDC over UDP; asking
					// it again within seconds is pointless, so drop it.
					if !a.dead {
						a.dead = true
						s.live--
					}
					continue
				}
				s.log.Debug("received reply from KDC", "kdc", a.addr.String(), "proto", a.network, "bytes", len(ev.reply))
				return ev.reply, true, nil
			}
		}
	}
	return nil, false, nil
}

// writeTCP sends msg to a KDC over TCP with RFC 4120's record marking (a
// 4-byte big-endian length, in one write).
func writeTCP(c net.Conn, msg []byte) error {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg)))
	_, err := c.Write(append(b, msg...))
	return err
}

// readTCP reads one reply of at most max bytes from a KDC over TCP.
func readTCP(c net.Conn, max int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return nil, tcpReadErr(err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(max) {
		return nil, fmt.Errorf("read message: %w (%d bytes, limit %d)", krbauth.ErrMessageTooLarge, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, tcpReadErr(err)
	}
	return b, nil
}

// tcpReadErr reports a connection that ends inside a reply as MIT does
// (ECONNABORTED).
func tcpReadErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", krbauth.ErrConnAborted, err)
	}
	return err
}

// parseKRBError decodes a KRB-ERROR, reporting ok == false for any other
// message. One that carries the tag but does not decode is KRB_ERR_GENERIC.
func parseKRBError(msg []byte) (code krb5.ErrorCode, text string, ok bool) {
	if !isKRBError(msg) {
		return 0, "", false
	}
	var e messages.KRBError
	if err := e.Unmarshal(msg); err != nil {
		return krb5.ErrGeneric, "undecodable KRB-ERROR: " + err.Error(), true
	}
	return krb5.ErrorCode(e.ErrorCode), trimNUL(e.EText), true
}
