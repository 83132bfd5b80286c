package krbauth

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
)

// sendauthVersion is the sendauth protocol version string MIT's
// krb5_sendauth and krb5_recvauth exchange (sent with a trailing NUL).
const sendauthVersion = "KRB5_SENDAUTH_V1.0"

// ErrSendauthRejected: the server answered the AP-REQ with a KRB-ERROR
// (MIT's KRB5_SENDAUTH_REJECTED). The client handshake wraps it together
// with the *RemoteError holding the server's code and text.
var ErrSendauthRejected error = &liberr.Error{Text: "Server rejected authentication (during sendauth exchange)"}

// Frame size limits of the handshake.
const (
	// maxVersionFrame: a version string longer than this cannot match and
	// is skipped (up to maxSkippedFrame) rather than stored.
	maxVersionFrame = 64
	maxSkippedFrame = 64 << 10
	// maxAPFrame bounds AP-REQ, AP-REP and KRB-ERROR frames. An AP-REQ is
	// mostly its ticket; a few KiB is usual, 64 KiB leaves room for large
	// authorization data.
	maxAPFrame = 64 << 10
)

// ClientConfig configures the client side of a Conn. Credentials and
// ApplVersion are required; the zero value of every other field is usable.
type ClientConfig struct {
	// Credentials is the service ticket for the server's host principal
	// and its session key, as an AS exchange returned them.
	Credentials *Credentials
	// ApplVersion is the application version string, without the NUL
	// (kprop's is "kprop5_01").
	ApplVersion string
	// ClockSkew is the tolerance when the handshake checks, as MIT's
	// krb5_mk_req_extended does, that the credentials are currently valid;
	// 0 means krb5.DefaultClockSkew.
	ClockSkew time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Rand is the source of the initial sequence number and of
	// confounders; nil means crypto/rand.Reader.
	Rand io.Reader
	// MaxMessageSize caps one message received after the handshake; 0
	// means DefaultMaxMessageSize.
	MaxMessageSize int
	// FastData offers the fast data phase (see State.FastData): the
	// authenticator then carries the offer as AD-IF-RELEVANT
	// authorization data, which MIT's kpropd ignores. Whether it was
	// accepted is known once the handshake is complete; with a peer
	// that did not accept (any MIT kpropd), the connection is exactly
	// MIT's. It is never offered for a des3 session key.
	FastData bool
}

// clientHandshake runs MIT's krb5_sendauth as kprop does:
//
//  1. It writes the sendauth and application version strings (each
//     NUL-terminated, each in its own frame, both in one write) and reads
//     the server's one-byte answer: 1 is ErrBadAuthVersion, 2
//     ErrBadApplVersion, any other non-zero value ErrBadResponse.
//  2. It sends an AP-REQ with ap-options mutual-required and the ticket as
//     issued. The authenticator carries the client principal, the current
//     time and a random sequence number in 1..2^30-1, and no checksum,
//     subkey, and no authorization data unless FastData is set. It is encrypted with the session key
//     and carries no kvno.
//  3. An empty answer frame means the server accepted the AP-REQ; a
//     KRB-ERROR gives an error matching ErrSendauthRejected and
//     *RemoteError.
//  4. It reads and checks the AP-REP: it must decrypt with the session key
//     and echo the authenticator's ctime and cusec exactly (else
//     krb5.ErrMutualFail). Its sequence number becomes the session's
//     remote sequence number. MIT kpropd never sends an AP-REP subkey; if
//     a server does, the session uses it for both directions, as MIT's
//     krb5_rd_rep arranges, and if the fast data phase was offered, the
//     subkey is its acceptance.
//
// The session's local sequence number is the authenticator's, and its
// s-address is the connection's local IP address (see
// ErrAddrTypeNotSupported).
func (c *Conn) clientHandshake() error {
	cfg := c.client
	conn := c.conn
	if cfg == nil || cfg.Credentials == nil {
		return errors.New("sendauth: no credentials")
	}
	if cfg.ApplVersion == "" {
		return errors.New("sendauth: no application version")
	}
	creds := cfg.Credentials
	now := timeNow(cfg.Now)
	skew := cfg.ClockSkew
	if skew <= 0 {
		skew = krb5.DefaultClockSkew
	}
	if err := validCredTimes(creds, now(), skew); err != nil {
		return fmt.Errorf("sendauth: credentials for %s: %w", creds.Server, err)
	}
	laddr, err := localHostAddress(conn.LocalAddr())
	if err != nil {
		return fmt.Errorf("sendauth: %w", err)
	}
	seq, err := seqNumber(cfg.Rand)
	if err != nil {
		return fmt.Errorf("sendauth: sequence number: %w", err)
	}

	if err := writeVersions(conn, cfg.ApplVersion); err != nil {
		return fmt.Errorf("sendauth: send versions: %w", err)
	}
	var ans [1]byte
	if _, err := io.ReadFull(conn, ans[:]); err != nil {
		return fmt.Errorf("sendauth: read version answer: %w", readErr(err))
	}
	switch ans[0] {
	case 0:
	case 1:
		return fmt.Errorf("sendauth: %w", ErrBadAuthVersion)
	case 2:
		return fmt.Errorf("sendauth: %w", ErrBadApplVersion)
	default:
		return fmt.Errorf("sendauth: answer byte %d: %w", ans[0], ErrBadResponse)
	}

	// MIT timestamps the authenticator when it builds it, after the
	// version exchange.
	auth := newAuthenticator(creds.Client, now(), seq)
	offered := cfg.FastData && fastEligible(creds.SessionKey.KeyType)
	if offered {
		if auth.AuthorizationData, err = fastOfferAD(); err != nil {
			return fmt.Errorf("sendauth: %w", err)
		}
	}
	req, err := buildAPReq(creds, auth)
	if err != nil {
		return fmt.Errorf("sendauth: %w", err)
	}
	if err := writeFrame(conn, req); err != nil {
		return fmt.Errorf("sendauth: send AP-REQ: %w", err)
	}
	reply, err := readFrame(conn, maxAPFrame)
	if err != nil {
		return fmt.Errorf("sendauth: read AP-REQ answer: %w", err)
	}
	if len(reply) != 0 {
		if re, ok := parseKRBError(reply); ok {
			return fmt.Errorf("%w: %w", ErrSendauthRejected, re)
		}
		return fmt.Errorf("sendauth: answer to AP-REQ is neither empty nor a KRB-ERROR: %w",
			&liberr.Error{Text: "ASN.1 identifier doesn't match expected value", Err: ErrMalformed})
	}
	rep, err := readFrame(conn, maxAPFrame)
	if err != nil {
		return fmt.Errorf("sendauth: read AP-REP: %w", err)
	}
	f, err := readAPRep(rep, creds.SessionKey, auth)
	if err != nil {
		return fmt.Errorf("sendauth: %w", err)
	}
	key := creds.SessionKey
	var fastKey []byte
	if f.subkey != nil {
		key = *f.subkey
		// Only a server of this module sends a subkey, and only when
		// offered: it is the acceptance.
		if offered {
			if fastKey, err = fastDataKey(key.KeyValue); err != nil {
				return fmt.Errorf("sendauth: %w", err)
			}
		}
	}
	sess, err := newSession(sessionParams{
		fastKey:     fastKey,
		fastOffered: offered,
		role:        roleClient,
		rand:        cfg.Rand,
		key:         key,
		localSeq:    seq,
		remoteSeq:   f.seq,
		localAddr:   laddr,
		client:      creds.Client,
		server:      creds.Server,
		ticketEtype: creds.Ticket.EncPart.EType,
	})
	if err != nil {
		return err
	}
	c.sess = sess
	return nil
}

// validCredTimes is the check MIT's krb5_mk_req_extended makes on the
// credentials before using them (krb5int_validate_times).
func validCredTimes(c *Credentials, now time.Time, skew time.Duration) error {
	start := c.StartTime
	if start.IsZero() {
		start = c.AuthTime
	}
	n, s := now.Unix(), int64(skew/time.Second)
	if !start.IsZero() && start.Unix() > n+s {
		return fmt.Errorf("valid from %s: %w", start.UTC().Format(time.RFC3339), krb5.ErrTktNotYetValid)
	}
	if n > c.EndTime.Unix()+s {
		return fmt.Errorf("expired %s: %w", c.EndTime.UTC().Format(time.RFC3339), krb5.ErrTktExpired)
	}
	return nil
}

// writeVersions sends F(SendauthVersion NUL) F(appl NUL) in one write, as
// MIT's k5_write_messages does with a single writev.
func writeVersions(w io.Writer, appl string) error {
	buf := make([]byte, 0, 8+len(sendauthVersion)+1+len(appl)+1)
	for _, s := range []string{sendauthVersion, appl} {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)+1))
		buf = append(buf, s...)
		buf = append(buf, 0)
	}
	_, err := w.Write(buf)
	return err
}

func timeNow(f func() time.Time) func() time.Time {
	if f == nil {
		return time.Now
	}
	return f
}

// seqNumber draws an initial sequence number as MIT's
// krb5_generate_seq_number does: 32 random bits masked to 30, 0 becoming 1.
func seqNumber(r io.Reader) (uint32, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, err
	}
	seq := binary.BigEndian.Uint32(b[:]) & 0x3fffffff
	if seq == 0 {
		seq = 1
	}
	return seq, nil
}
