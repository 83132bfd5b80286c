package krbauth

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/internal/netctx"
	"github.com/gokprop/gokprop/krb5"
)

// ServerConfig configures RecvAuth. Keytab and Principal are required;
// the zero value of every other field is usable.
type ServerConfig struct {
	// Keytab holds the service keys.
	Keytab *keytab.Keytab
	// Principal is the acceptor's own principal, host/<canonical local
	// host>@REALM as krb5.HostPrincipal builds it. The ticket is decrypted with
	// this principal's key (one keytab lookup at the ticket's kvno and
	// enctype, as MIT's krb5_rd_req does for an explicit server); the
	// ticket's own server name is not compared. It is also the server
	// named in KRB-ERRORs and in the resulting Session.
	Principal krb5.Principal
	// AcceptAnyHostPrincipal is MIT's ignore_acceptor_hostname: instead of
	// one lookup, every keytab entry <service>/<any host>@REALM (service
	// and realm taken from Principal) with the ticket's enctype is tried,
	// whatever its kvno, until one decrypts the ticket.
	AcceptAnyHostPrincipal bool
	// PermittedEnctypes lists the session key (and subkey) enctypes
	// accepted, like MIT's permitted_enctypes; nil means krb5.DefaultEnctypes().
	PermittedEnctypes []krb5.Enctype
	// ClockSkew is the tolerated clock difference; 0 means MIT's default
	// of 300 seconds.
	ClockSkew time.Duration
	// ReplayCache records accepted authenticators. nil disables replay
	// detection, which MIT never does; a server should share one cache
	// among all its connections.
	ReplayCache *ReplayCache
	// ApplVersion is the application version string expected, without the
	// NUL; "" means DefaultApplVersion.
	ApplVersion string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Rand is the source of the AP-REP sequence number; nil means
	// crypto/rand.Reader.
	Rand io.Reader
}

// RecvAuth runs MIT's krb5_recvauth on conn as kpropd does, and returns
// the Session for the messages that follow:
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
//     INVALID; the session key and any subkey enctype are permitted. No
//     client address is checked, so NAT works, as with MIT kpropd.
//  3. On failure it sends a KRB-ERROR as MIT's recvauth does (no ctime,
//     stime now, no client, server = Principal as NT-SRV-HST, e-text = the
//     error's MIT message, code 60 for errors outside 0..127) and returns
//     an error matching the krb5.ErrorCode sentinel (or ErrTicketInvalid,
//     ErrEnctypeNotPermitted, ErrBadEnctype, ErrMalformed, krb5.ErrReplay...).
//  4. On success it sends an empty frame and, only if the AP-REQ asked
//     for mutual authentication, an AP-REP echoing the authenticator's
//     ctime and cusec (and its subkey, if it had one) with a fresh random
//     sequence number, encrypted with the ticket session key.
//
// The session's key is the ticket session key, or the authenticator
// subkey if the client sent one (MIT kprop never does). Its local
// sequence number is the AP-REP's (or, without mutual authentication, the
// client's, as MIT arranges), its remote one the authenticator's, its
// s-address conn's local IP address, its client the ticket client.
//
// ctx bounds the whole exchange as for SendAuth. RecvAuth never closes
// conn; after an error the caller should (MIT kpropd exits).
func RecvAuth(ctx context.Context, conn net.Conn, cfg *ServerConfig) (*Session, error) {
	if cfg == nil {
		return nil, errors.New("recvauth: no configuration")
	}
	laddr, err := localHostAddress(conn.LocalAddr())
	if err != nil {
		return nil, fmt.Errorf("recvauth: %w", err)
	}
	skew := cfg.ClockSkew
	if skew <= 0 {
		skew = krb5.DefaultClockSkew
	}
	var sess *Session
	err = netctx.Do(ctx, conn, func() error {
		authOK, err := readVersionFrame(conn, SendauthVersion+"\x00")
		if err != nil {
			return fmt.Errorf("recvauth: read sendauth version: %w", err)
		}
		applOK, err := readVersionFrame(conn, hsApplVersion(cfg.ApplVersion)+"\x00")
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

		msg, err := ReadMessage(conn, maxAPFrame)
		if err != nil {
			return fmt.Errorf("recvauth: read AP-REQ: %w", err)
		}
		now := hsNow(cfg.Now)()
		v, req, err := checkAPReq(msg, cfg, now, skew)
		if err != nil {
			sendRecvauthError(conn, cfg.Principal, err, now)
			return fmt.Errorf("recvauth: %w", err)
		}
		if err := WriteMessage(conn, nil); err != nil {
			return fmt.Errorf("recvauth: accept AP-REQ: %w", err)
		}

		sessionKey := v.ticket.Key
		var subkey *types.EncryptionKey
		if hasKey(v.auth.SubKey) {
			k := v.auth.SubKey
			subkey = &k
		}
		remoteSeq := uint32(v.auth.SeqNumber)
		var localSeq uint32
		if req.mutualRequired() {
			localSeq, err = hsSeqNumber(cfg.Rand)
			if err != nil {
				return fmt.Errorf("recvauth: sequence number: %w", err)
			}
			rep, err := buildAPRep(sessionKey, apRepFields{ctime: v.auth.CTime, cusec: v.auth.Cusec, subkey: subkey, seq: localSeq})
			if err != nil {
				return fmt.Errorf("recvauth: %w", err)
			}
			if err := WriteMessage(conn, rep); err != nil {
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
		sess, err = newSession(sessionParams{
			role:        RoleServer,
			rand:        cfg.Rand,
			key:         key,
			localSeq:    localSeq,
			remoteSeq:   remoteSeq,
			localAddr:   laddr,
			client:      krb5.Principal{Name: v.ticket.CName, Realm: v.ticket.CRealm},
			server:      cfg.Principal,
			ticketEtype: v.etype,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// checkAPReq decodes and verifies an AP-REQ under cfg.
func checkAPReq(msg []byte, cfg *ServerConfig, now time.Time, skew time.Duration) (*verifiedAPReq, *apReq, error) {
	req, err := parseAPReq(msg)
	if err != nil {
		return nil, nil, err
	}
	v, err := verifyAPReq(req, verifyParams{
		keytab:    cfg.Keytab,
		server:    cfg.Principal,
		anyHost:   cfg.AcceptAnyHostPrincipal,
		permitted: cfg.PermittedEnctypes,
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
	_ = WriteMessage(w, msg)
}
