package krbauth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
)

// ServerConfig configures the server side of a Conn. GetKeytab, Principal
// and ApplVersion are required; the zero value of every other field is
// usable. One ServerConfig may serve any number of connections at once.
type ServerConfig struct {
	// GetKeytab returns the keytab holding the service keys. It is called
	// at the start of every handshake, before anything is read, as MIT
	// kpropd reads its keytab for every connection (so a replaced keytab
	// takes effect at once); an error fails the handshake with an error
	// matching ErrGetKeytab.
	GetKeytab func() (*keytab.Keytab, error)
	// Principal is the acceptor's own principal, host/<canonical local
	// host>@REALM. The ticket is decrypted with this principal's key (one
	// keytab lookup at the ticket's kvno and enctype, as MIT's krb5_rd_req
	// does for an explicit server); the ticket's own server name is not
	// compared. It is also the server named in KRB-ERRORs and in State.
	Principal krb5.Principal
	// AcceptAnyHostPrincipal is MIT's ignore_acceptor_hostname: instead of
	// one lookup, every keytab entry <service>/<any host>@REALM (service
	// and realm taken from Principal) with the ticket's enctype is tried,
	// whatever its kvno, until one decrypts the ticket.
	AcceptAnyHostPrincipal bool
	// PermittedEnctypes is MIT's permitted_enctypes: the ticket's
	// enctype (that of the service key it is encrypted in), the session
	// key's and any subkey's must be in it. nil means
	// krb5.DefaultEnctypes(). A ticket of another enctype is refused
	// before decryption, as MIT's krb5_decrypt_tkt_part does, with
	// ErrEnctypeNotPermitted (or, under AcceptAnyHostPrincipal, the
	// keytab scan's "cannot decrypt ticket", as in MIT).
	PermittedEnctypes []krb5.Enctype
	// SessionEnctypeAllowed, if set, is asked about the session key's
	// (and any subkey's) enctype once it has passed PermittedEnctypes;
	// an error refuses the AP-REQ with ErrEnctypeNotPermitted. It
	// restricts session keys only, never the long-term key the ticket is
	// encrypted in. kpropd passes krbconf's Config.EnctypeUsable, which
	// refuses des3 and rc4 session keys without allow_des3 / allow_rc4
	// (MIT leaves that to its KDC).
	SessionEnctypeAllowed func(krb5.Enctype) error
	// ClockSkew is the tolerated clock difference; 0 means
	// krb5.DefaultClockSkew.
	ClockSkew time.Duration
	// ReplayCache records accepted authenticators: NewReplayCache's in
	// memory, or MIT's file (NewFileReplayCache, ResolveReplayCache),
	// which survives restarts. nil disables replay detection, which MIT
	// never does; share one cache among all the connections of a server.
	ReplayCache *ReplayCache
	// ApplVersion is the application version string expected, without
	// the NUL (kprop's is "kprop5_01").
	ApplVersion string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Rand is the source of the AP-REP sequence number and of confounders;
	// nil means crypto/rand.Reader.
	Rand io.Reader
	// MaxMessageSize caps one message received after the handshake; 0
	// means DefaultMaxMessageSize.
	MaxMessageSize int
	// FastData accepts the fast data phase when a client offers it (see
	// State.FastData): the AP-REP then carries a fresh random subkey of
	// the session key's enctype. MIT's kprop never offers, so it gets
	// MIT's AP-REP whatever this says.
	FastData bool
}

// ErrGetKeytab is matched (errors.Is) by the error of a handshake whose
// ServerConfig.GetKeytab failed; the error's text is GetKeytab's.
var ErrGetKeytab = errors.New("krbauth: no keytab")

// keytabError is a failure of ServerConfig.GetKeytab.
type keytabError struct{ err error }

func (e *keytabError) Error() string   { return e.err.Error() }
func (e *keytabError) Unwrap() []error { return []error{ErrGetKeytab, e.err} }

// serverHandshake runs MIT's krb5_recvauth as kpropd does:
//
//  1. It reads both version frames, then answers with one unframed byte:
//     1 if the sendauth version is not "KRB5_SENDAUTH_V1.0\0", else 2 if
//     the application version differs (both compared with their NUL and
//     length), else 0. On a non-zero answer it returns ErrBadAuthVersion
//     or ErrBadApplVersion.
//  2. It reads the AP-REQ and checks it in the order of MIT's krb5_rd_req:
//     the ticket decrypts with the keytab key (see ServerConfig.Principal
//     and AcceptAnyHostPrincipal), the authenticator with the session key;
//     the authenticator's client (name and realm, not name-type) is the
//     ticket's; the authenticator is not a replay; the ticket is current;
//     the authenticator time is within the clock skew; the ticket is not
//     INVALID; the session key and any subkey enctype are permitted (and
//     pass SessionEnctypeAllowed). No
//     client address is checked, so NAT works, as with MIT kpropd.
//  3. On failure it sends a KRB-ERROR as MIT's recvauth does (no ctime,
//     stime now, no client, server = Principal as NT-SRV-HST, e-text = the
//     error's MIT message, code 60 for errors outside 0..127) and returns
//     an error matching the krb5.ErrorCode sentinel (or ErrTicketInvalid,
//     ErrEnctypeNotPermitted, ErrBadEnctype, ErrMalformed, ...).
//  4. On success it sends an empty frame and, only if the AP-REQ asked
//     for mutual authentication, an AP-REP echoing the authenticator's
//     ctime and cusec (and its subkey, if it had one) with a fresh random
//     sequence number, encrypted with the ticket session key.
//
// If the client offered the fast data phase and cfg.FastData is set, the
// AP-REP also carries a fresh random subkey of the session key's enctype,
// the acceptance (see State.FastData).
//
// The session's key is the ticket session key, or the authenticator
// subkey if the client sent one (MIT kprop never does), or the AP-REP
// subkey of an accepted fast data phase. Its local
// sequence number is the AP-REP's (or, without mutual authentication, the
// client's, as MIT arranges), its remote one the authenticator's, its
// s-address the connection's local IP address, its client the ticket
// client.
func (c *Conn) serverHandshake() error {
	cfg := c.server
	conn := c.conn
	if cfg == nil || cfg.GetKeytab == nil {
		return errors.New("recvauth: no configuration")
	}
	if cfg.ApplVersion == "" {
		return errors.New("recvauth: no application version")
	}
	kt, err := cfg.GetKeytab()
	if err != nil {
		return &keytabError{err}
	}
	laddr, err := localHostAddress(conn.LocalAddr())
	if err != nil {
		return fmt.Errorf("recvauth: %w", err)
	}
	skew := cfg.ClockSkew
	if skew <= 0 {
		skew = krb5.DefaultClockSkew
	}
	authOK, err := readVersionFrame(conn, sendauthVersion+"\x00")
	if err != nil {
		return fmt.Errorf("recvauth: read sendauth version: %w", err)
	}
	applOK, err := readVersionFrame(conn, cfg.ApplVersion+"\x00")
	if err != nil {
		return fmt.Errorf("recvauth: read application version: %w", err)
	}
	var answer [1]byte
	var problem error
	switch {
	case !authOK:
		answer[0], problem = 1, ErrBadAuthVersion
	case !applOK:
		answer[0], problem = 2, ErrBadApplVersion
	}
	if _, err := conn.Write(answer[:]); err != nil && problem == nil {
		return fmt.Errorf("recvauth: answer versions: %w", err)
	}
	if problem != nil {
		return fmt.Errorf("recvauth: %w", problem)
	}

	msg, err := readFrame(conn, maxAPFrame)
	if err != nil {
		return fmt.Errorf("recvauth: read AP-REQ: %w", err)
	}
	now := timeNow(cfg.Now)()
	v, req, err := checkAPReq(msg, cfg, kt, now, skew)
	if err != nil {
		sendRecvauthError(conn, cfg.Principal, err, now)
		return fmt.Errorf("recvauth: %w", err)
	}
	if err := writeFrame(conn, nil); err != nil {
		return fmt.Errorf("recvauth: accept AP-REQ: %w", err)
	}

	sessionKey := v.ticket.Key
	var subkey *types.EncryptionKey
	if hasKey(v.auth.SubKey) {
		k := v.auth.SubKey
		subkey = &k
	}
	var fastKey []byte
	offered := hasFastOffer(v.auth.AuthorizationData)
	if cfg.FastData && subkey == nil && req.mutualRequired() &&
		fastEligible(sessionKey.KeyType) && offered {
		k, err := newFastSubkey(cfg.Rand, sessionKey.KeyType)
		if err != nil {
			return fmt.Errorf("recvauth: %w", err)
		}
		if fastKey, err = fastDataKey(k.KeyValue); err != nil {
			return fmt.Errorf("recvauth: %w", err)
		}
		subkey = &k
	}
	remoteSeq := uint32(v.auth.SeqNumber)
	var localSeq uint32
	if req.mutualRequired() {
		localSeq, err = seqNumber(cfg.Rand)
		if err != nil {
			return fmt.Errorf("recvauth: sequence number: %w", err)
		}
		rep, err := buildAPRep(sessionKey, apRepFields{ctime: v.auth.CTime, cusec: v.auth.Cusec, subkey: subkey, seq: localSeq})
		if err != nil {
			return fmt.Errorf("recvauth: %w", err)
		}
		if err := writeFrame(conn, rep); err != nil {
			return fmt.Errorf("recvauth: send AP-REP: %w", err)
		}
	} else {
		// MIT's rd_req: without mutual authentication the local
		// sequence number (still 0) is XORed with the client's.
		localSeq ^= remoteSeq
	}
	key := sessionKey
	if subkey != nil {
		key = *subkey
	}
	sess, err := newSession(sessionParams{
		fastKey:     fastKey,
		fastOffered: offered,
		role:        roleServer,
		rand:        cfg.Rand,
		key:         key,
		localSeq:    localSeq,
		remoteSeq:   remoteSeq,
		localAddr:   laddr,
		client:      krb5.Principal{Name: v.ticket.CName, Realm: v.ticket.CRealm},
		server:      cfg.Principal,
		ticketEtype: v.etype,
	})
	if err != nil {
		return err
	}
	c.sess = sess
	return nil
}

// checkAPReq decodes and verifies an AP-REQ under cfg.
func checkAPReq(msg []byte, cfg *ServerConfig, kt *keytab.Keytab, now time.Time, skew time.Duration) (*verifiedAPReq, *apReq, error) {
	req, err := parseAPReq(msg)
	if err != nil {
		return nil, nil, err
	}
	v, err := verifyAPReq(req, verifyParams{
		keytab:    kt,
		server:    cfg.Principal,
		anyHost:   cfg.AcceptAnyHostPrincipal,
		permitted: cfg.PermittedEnctypes,
		sessionOK: cfg.SessionEnctypeAllowed,
		skew:      skew,
		replay:    cfg.ReplayCache,
		now:       now,
	})
	if err != nil {
		return nil, nil, err
	}
	return v, req, nil
}

// readVersionFrame reads one version frame and reports whether it equals
// want, length included. A frame too long to match is skipped unread up
// to maxSkippedFrame bytes; a longer one is an error (MIT would try to
// read it whole).
func readVersionFrame(r io.Reader, want string) (bool, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return false, readErr(err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	switch {
	case n > maxSkippedFrame:
		return false, fmt.Errorf("%w (%d bytes, limit %d)", ErrMessageTooLarge, n, maxSkippedFrame)
	case n > maxVersionFrame:
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return false, readErr(err)
		}
		return false, nil
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return false, readErr(err)
	}
	return string(buf) == want, nil
}

// recvauthWireError gives the error-code and e-text MIT's recvauth sends
// for err: a protocol code with its message, or KRB_ERR_GENERIC with the
// MIT library message.
func recvauthWireError(err error) (krb5.ErrorCode, string) {
	var c krb5.ErrorCode
	if errors.As(err, &c) {
		return c, c.Error()
	}
	var le *liberr.Error
	if errors.As(err, &le) {
		return krb5.ErrGeneric, le.Text
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		// MIT sends error_message() of the code: strerror's text, and
		// never the file it was about.
		s := errno.Error()
		return krb5.ErrGeneric, strings.ToUpper(s[:1]) + s[1:]
	}
	return krb5.ErrGeneric, err.Error()
}

// sendRecvauthError writes the KRB-ERROR for a rejected AP-REQ. Like MIT,
// a failure to send it is ignored: the caller reports the original error.
func sendRecvauthError(w io.Writer, server krb5.Principal, cause error, now time.Time) {
	code, text := recvauthWireError(cause)
	server.Name.NameType = nametype.KRB_NT_SRV_HST
	msg, err := marshalKRBError(errorParams{code: code, text: text, server: server, stime: now})
	if err != nil {
		return
	}
	_ = writeFrame(w, msg)
}
