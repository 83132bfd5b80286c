package gsskrb5

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// Flags are GSS-API context flags (RFC 2744 section 3.11; the values are
// the GSS_C_*_FLAG constants of gssapi.h).
type Flags uint32

// The context flags.
const (
	FlagDeleg         Flags = 0x0001 // GSS_C_DELEG_FLAG (not supported)
	FlagMutual        Flags = 0x0002 // GSS_C_MUTUAL_FLAG: the acceptor proves itself (AP-REP)
	FlagReplay        Flags = 0x0004 // GSS_C_REPLAY_FLAG: repeated tokens are refused
	FlagSequence      Flags = 0x0008 // GSS_C_SEQUENCE_FLAG: tokens out of order are refused
	FlagConf          Flags = 0x0010 // GSS_C_CONF_FLAG: Wrap can seal
	FlagInteg         Flags = 0x0020 // GSS_C_INTEG_FLAG: tokens are integrity-protected
	FlagAnon          Flags = 0x0040 // GSS_C_ANON_FLAG (not supported)
	FlagProtReady     Flags = 0x0080 // GSS_C_PROT_READY_FLAG
	FlagTrans         Flags = 0x0100 // GSS_C_TRANS_FLAG: the context could be exported
	FlagDCEStyle      Flags = 0x1000 // GSS_C_DCE_STYLE (not supported)
	FlagIdentify      Flags = 0x2000 // GSS_C_IDENTIFY_FLAG
	FlagExtendedError Flags = 0x4000 // GSS_C_EXTENDED_ERROR_FLAG
)

// requestable are the flags a caller may ask for; MIT's initiator also
// takes delegation and DCE style, which this package does not implement.
const requestable = FlagMutual | FlagReplay | FlagSequence | FlagConf | FlagInteg | FlagIdentify | FlagExtendedError

// checksumType is the authenticator checksum type of the Kerberos GSS-API
// mechanism, which carries the channel bindings and flags rather than a
// checksum (RFC 4121 section 4.1.1).
const checksumType = 0x8003

// Authorization data of an RFC 4537 enctype negotiation.
const (
	adIfRelevant       = 1
	adEtypeNegotiation = 129
)

// Config configures an initiator. The zero value asks for no flags at
// all; RPCSEC_GSS over Kerberos, as MIT's kadmin clients do it, asks for
// FlagMutual|FlagReplay.
type Config struct {
	// Flags are the services requested: FlagMutual, FlagReplay,
	// FlagSequence, FlagIdentify and FlagExtendedError are honoured;
	// FlagConf and FlagInteg are always granted, and FlagTrans is always
	// set, as MIT's initiator does. Asking for anything else is an error.
	Flags Flags

	// Enctypes, when set, are the enctypes the initiator would rather the
	// acceptor's subkey had, strongest first (RFC 4537): MIT's initiator
	// sends the default TGS enctypes when the first differs from the
	// session key's, and the acceptor then picks its subkey's enctype from
	// them. Empty sends no list, and the acceptor's subkey gets the session
	// key's enctype.
	Enctypes []krb5.Enctype

	// ClockSkew is the tolerance of the credentials' validity check; zero
	// means krb5.DefaultClockSkew.
	ClockSkew time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Rand supplies the subkey and initial sequence number; nil means
	// crypto/rand.
	Rand io.Reader
}

// context states
const (
	stateNew = iota
	stateAwaitReply
	stateEstablished
	stateFailed
)

// A Context is the initiator's side of a GSS-API security context of the
// Kerberos V5 mechanism (RFC 1964 framing, RFC 4121 tokens). It is made
// with NewInitiator, established with InitSecContext, and then protects
// messages with GetMIC, VerifyMIC, Wrap and Unwrap. It is safe for
// concurrent use; tokens get sequence numbers in the order the calls
// take the context's lock.
type Context struct {
	mu    sync.Mutex
	cfg   Config
	creds *krbauth.Credentials
	state int
	err   error // why the context failed

	flags Flags
	auth  types.Authenticator // to check the AP-REP against
	tok   tokenCtx
}

// NewInitiator returns a context that will authenticate with creds, a
// service ticket and its session key (an AS exchange straight for the
// service, krbkdc.KDCClient.GetInitialCredentials, or any other source).
// The session key must be of an RFC 4121 enctype: AES with SHA-1 or SHA-2,
// or camellia once the module's enctype table implements it.
func NewInitiator(creds *krbauth.Credentials, cfg *Config) (*Context, error) {
	if creds == nil {
		return nil, errors.New("gsskrb5: no credentials")
	}
	c := &Context{creds: creds}
	if cfg != nil {
		c.cfg = *cfg
	}
	if bad := c.cfg.Flags &^ requestable; bad != 0 {
		return nil, fmt.Errorf("gsskrb5: context flags %#x are not supported", uint32(bad))
	}
	if _, err := newTokenKey(creds.SessionKey); err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	c.flags = c.cfg.Flags | FlagConf | FlagInteg | FlagTrans
	return c, nil
}

func (c *Context) now() time.Time {
	if c.cfg.Now != nil {
		return c.cfg.Now()
	}
	return time.Now()
}

func (c *Context) rand() io.Reader {
	if c.cfg.Rand != nil {
		return c.cfg.Rand
	}
	return rand.Reader
}

// InitSecContext advances context establishment, as gss_init_sec_context
// does. The first call takes no input and returns the initial token (an
// AP-REQ in RFC 1964 framing); with FlagMutual the context then waits for
// the acceptor's token, which the second call takes (an AP-REP, or a
// KRB-ERROR, returned as a *krbauth.RemoteError) and returns no output.
// done reports whether the context is established. Any failure leaves the
// context unusable, as MIT deletes a context whose establishment failed.
func (c *Context) InitSecContext(in []byte) (out []byte, done bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state {
	case stateNew:
		if len(in) != 0 {
			return c.fail(fmt.Errorf("%w: input token on the first call", ErrDefectiveToken))
		}
		out, err = c.initialToken()
		if err != nil {
			return c.fail(err)
		}
		if c.flags&FlagMutual == 0 {
			// No AP-REP will come: the acceptor's tokens are numbered
			// from our own initial number.
			c.tok.recv = newSeqState(c.tok.sendSeq, c.flags&FlagReplay != 0, c.flags&FlagSequence != 0)
			c.established()
			return out, true, nil
		}
		c.state = stateAwaitReply
		return out, false, nil
	case stateAwaitReply:
		if err := c.acceptReply(in); err != nil {
			return c.fail(err)
		}
		c.established()
		return nil, true, nil
	case stateEstablished:
		return nil, true, ErrContextEstablished
	default:
		return nil, false, c.failure()
	}
}

func (c *Context) fail(err error) ([]byte, bool, error) {
	c.state = stateFailed
	c.err = err
	return nil, false, err
}

func (c *Context) failure() error {
	if c.err != nil {
		return fmt.Errorf("%w: establishment failed: %w", ErrNoContext, c.err)
	}
	return ErrNoContext
}

func (c *Context) established() {
	c.state = stateEstablished
	c.flags |= FlagProtReady
}

// initialToken builds the AP-REQ as MIT's make_ap_req_v1 does: a fresh
// subkey of the session key's enctype, a random initial sequence number
// below 2^30, and the 0x8003 authenticator checksum with zero channel
// bindings and the context flags.
func (c *Context) initialToken() ([]byte, error) {
	now := c.now()
	skew := c.cfg.ClockSkew
	if skew == 0 {
		skew = krb5.DefaultClockSkew
	}
	start := c.creds.StartTime
	if start.IsZero() {
		start = c.creds.AuthTime
	}
	if !start.IsZero() && start.After(now.Add(skew)) {
		return nil, fmt.Errorf("gsskrb5: ticket for %s not valid until %s: %w", c.creds.Server, start.UTC().Format(time.RFC3339), krb5.ErrTktNotYetValid)
	}
	if !c.creds.EndTime.IsZero() && now.After(c.creds.EndTime.Add(skew)) {
		return nil, fmt.Errorf("gsskrb5: ticket for %s expired at %s: %w", c.creds.Server, c.creds.EndTime.UTC().Format(time.RFC3339), krb5.ErrTktExpired)
	}

	subkey, err := kcrypto.RandomKey(c.creds.SessionKey.KeyType, c.rand())
	if err != nil {
		return nil, fmt.Errorf("gsskrb5: subkey: %w", err)
	}
	tk, err := newTokenKey(subkey)
	if err != nil {
		return nil, err
	}
	var sb [4]byte
	if _, err := io.ReadFull(c.rand(), sb[:]); err != nil {
		return nil, fmt.Errorf("gsskrb5: sequence number: %w", err)
	}
	// MIT keeps initial numbers below 2^30 for peers that treat them as
	// signed, and never 0.
	seq := binary.BigEndian.Uint32(sb[:]) & 0x3fffffff
	if seq == 0 {
		seq = 1
	}

	cksum := make([]byte, 24)
	binary.LittleEndian.PutUint32(cksum[0:], 16) // Lgth: 16 bytes of channel bindings, all zero
	binary.LittleEndian.PutUint32(cksum[20:], uint32(c.flags))

	now = now.UTC()
	auth := types.Authenticator{
		AVNO:      iana.PVNO,
		CRealm:    c.creds.Client.Realm,
		CName:     c.creds.Client.Name,
		Cksum:     types.Checksum{CksumType: checksumType, Checksum: cksum},
		Cusec:     now.Nanosecond() / 1000,
		CTime:     now.Truncate(time.Second),
		SubKey:    subkey,
		SeqNumber: int64(seq),
	}
	if ad, err := etypeNegotiation(c.cfg.Enctypes, c.creds.SessionKey.KeyType); err != nil {
		return nil, err
	} else if ad != nil {
		auth.AuthorizationData = ad
	}
	apreq, err := krbauth.BuildAPReq(c.creds, auth)
	if err != nil {
		return nil, fmt.Errorf("gsskrb5: %w", err)
	}
	c.auth = auth
	c.tok = tokenCtx{initiator: true, send: tk, initKey: tk, sendSeq: uint64(seq)}
	return appendFramed(nil, tokAPReq, apreq), nil
}

// etypeNegotiation returns the authenticator's authorization data for an
// RFC 4537 enctype list, as MIT's make_ap_authdata builds it: nothing when
// the list is empty or starts with the session key's enctype; otherwise
// the list up to and including the session key's enctype, in an
// AD-IF-RELEVANT element.
func etypeNegotiation(list []krb5.Enctype, session int32) (types.AuthorizationData, error) {
	if len(list) == 0 || int32(list[0]) == session {
		return nil, nil
	}
	var ets []int32
	for _, e := range list {
		ets = append(ets, int32(e))
		if int32(e) == session {
			break
		}
	}
	der, err := asn1.Marshal(ets)
	if err != nil {
		return nil, fmt.Errorf("gsskrb5: encode enctype list: %w", err)
	}
	inner, err := asn1.Marshal(types.AuthorizationData{{ADType: adEtypeNegotiation, ADData: der}})
	if err != nil {
		return nil, fmt.Errorf("gsskrb5: encode enctype list: %w", err)
	}
	return types.AuthorizationData{{ADType: adIfRelevant, ADData: inner}}, nil
}

// acceptReply processes the acceptor's token as MIT's mutual_auth does:
// an AP-REP gives the acceptor's initial sequence number and, usually, an
// acceptor subkey, which then protects every token in both directions.
func (c *Context) acceptReply(in []byte) error {
	id, body, err := parseFramed(in)
	if err != nil {
		return err
	}
	switch id {
	case tokAPRep:
	case tokError:
		var ke messages.KRBError
		if err := ke.Unmarshal(body); err != nil {
			return fmt.Errorf("%w: undecodable KRB-ERROR token: %v", ErrDefectiveToken, err)
		}
		return &krbauth.RemoteError{Code: krb5.ErrorCode(ke.ErrorCode), Text: trimNUL(ke.EText)}
	default:
		return fmt.Errorf("%w: token identifier %#04x where an AP-REP was expected", ErrDefectiveToken, id)
	}
	seq, sub, err := krbauth.ReadAPRep(body, c.creds.SessionKey, c.auth)
	if err != nil {
		return fmt.Errorf("gsskrb5: %w", err)
	}
	if sub != nil {
		k, err := newTokenKey(*sub)
		if err != nil {
			return fmt.Errorf("acceptor subkey: %w", err)
		}
		c.tok.acceptorKey = k
		c.tok.send = k
	}
	c.tok.recv = newSeqState(uint64(seq), c.flags&FlagReplay != 0, c.flags&FlagSequence != 0)
	return nil
}

func trimNUL(s string) string {
	for len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	return s
}

// Established reports whether InitSecContext has completed.
func (c *Context) Established() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateEstablished
}

// Flags returns the context's flags: those requested, plus FlagConf,
// FlagInteg and FlagTrans, plus FlagProtReady once established. The
// initial token carries them, without FlagProtReady.
func (c *Context) Flags() Flags {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flags
}

// Enctype returns the enctype of the key that protects the context's
// tokens: the acceptor's subkey if it asserted one, else ours. It is
// meaningful once the context is established.
func (c *Context) Enctype() krb5.Enctype {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.send == nil {
		return 0
	}
	return krb5.Enctype(c.tok.send.etype)
}

// Credentials returns the credentials the context authenticates with.
func (c *Context) Credentials() *krbauth.Credentials { return c.creds }

func (c *Context) ready() error {
	if c.state != stateEstablished {
		return c.failure()
	}
	return nil
}

// GetMIC returns a MIC token (RFC 4121 section 4.2.6.1) over msg.
func (c *Context) GetMIC(msg []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ready(); err != nil {
		return nil, err
	}
	return c.tok.getMIC(msg)
}

// VerifyMIC checks a MIC token from the acceptor over msg: its token
// identifier, direction, key, checksum and then its sequence number, as
// the context's flags ask (ErrDuplicateToken and friends for an authentic
// token that is refused).
func (c *Context) VerifyMIC(msg, tok []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ready(); err != nil {
		return err
	}
	return c.tok.verifyMIC(msg, tok)
}

// Wrap returns a Wrap token (RFC 4121 section 4.2.6.2) carrying msg,
// encrypted when conf is set, else integrity-protected only.
func (c *Context) Wrap(msg []byte, conf bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ready(); err != nil {
		return nil, err
	}
	return c.tok.wrap(msg, conf)
}

// Unwrap opens a Wrap token from the acceptor and returns its message and
// whether it was encrypted. The checks are VerifyMIC's, plus the header
// copy inside a sealed token.
func (c *Context) Unwrap(tok []byte) (msg []byte, conf bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ready(); err != nil {
		return nil, false, err
	}
	return c.tok.unwrap(tok)
}

// EnctypeSupported reports whether keys of enctype e can protect this
// package's tokens: an enctype the module's table implements, with RFC
// 4121 tokens (not des3-cbc-sha1 or arcfour-hmac). A caller choosing the
// enctypes of an AS request or of Config.Enctypes filters with it.
func EnctypeSupported(e krb5.Enctype) bool {
	s := kcrypto.Lookup(int32(e))
	if s == nil {
		return false
	}
	_, err := newTokenKey(types.EncryptionKey{KeyType: int32(e), KeyValue: make([]byte, s.KeyLen)})
	return err == nil
}
