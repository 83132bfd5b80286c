package krbauth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
)

// Errors of the AP exchange that have no protocol code of their own.
var (
	// ErrTicketInvalid: the ticket carries the INVALID flag (MIT's
	// KRB5KRB_AP_ERR_TKT_INVALID).
	ErrTicketInvalid error = &liberr.Error{Text: "Ticket has invalid flag set"}
	// ErrEnctypeNotPermitted: the session key or subkey enctype is not in
	// the acceptor's permitted list (MIT's KRB5_NOPERM_ETYPE). It also
	// matches krb5.ErrUnsupportedEnctype.
	ErrEnctypeNotPermitted error = &liberr.Error{Text: "Encryption type not permitted", Err: krb5.ErrUnsupportedEnctype}
	// ErrBadEnctype: an EncryptedData's etype differs from its key's, or
	// the enctype is not one this package implements (MIT's
	// KRB5_BAD_ENCTYPE). It also matches krb5.ErrUnsupportedEnctype.
	ErrBadEnctype = kcrypto.ErrBadEnctype
	// ErrMalformed: a message did not decode as the ASN.1 structure it
	// claims to be (one of MIT's ASN.1 decoder errors).
	ErrMalformed = errors.New("malformed ASN.1 message")
)

// apOptionsMutual is the ap-options MIT kprop sends: mutual-required only.
func apOptionsMutual() asn1.BitString {
	f := types.NewKrbFlags()
	types.SetFlag(&f, flags.APOptionMutualRequired)
	return f
}

// asn1Failure reports a decoding error of what, with the e-text MIT's
// ASN.1 decoder would have produced for it.
func asn1Failure(what string, err error) error {
	return fmt.Errorf("decode %s: %w (%v)", what, &liberr.Error{Text: describeASN1(err), Err: ErrMalformed}, err)
}

// unmarshalDER decodes b into v with the given tag parameters, turning
// a panic inside the ASN.1 decoder into an error.
func unmarshalDER(b []byte, v any, params string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("asn1 decoder panic: %v", r)
		}
	}()
	_, err = asn1.UnmarshalWithParams(b, v, params)
	return err
}

// newAuthenticator builds the authenticator MIT's krb5_mk_req_extended
// produces for kprop: no checksum, no subkey, no authorization data.
func newAuthenticator(client krb5.Principal, now time.Time, seq uint32) types.Authenticator {
	now = now.UTC()
	return types.Authenticator{
		AVNO:      iana.PVNO,
		CRealm:    client.Realm,
		CName:     client.Name,
		Cusec:     now.Nanosecond() / 1000,
		CTime:     now.Truncate(time.Second),
		SeqNumber: int64(seq),
	}
}

// buildAPReq encodes the AP-REQ for creds and auth: ap-options
// mutual-required, the ticket as issued, and the authenticator encrypted
// with the session key under usage 11, without a kvno.
func buildAPReq(creds *Credentials, auth types.Authenticator) ([]byte, error) {
	plain, err := auth.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode authenticator: %w", err)
	}
	ed, err := encrypt(creds.SessionKey, keyusage.AP_REQ_AUTHENTICATOR, plain)
	if err != nil {
		return nil, fmt.Errorf("encrypt authenticator: %w", err)
	}
	tkt := creds.Ticket
	tkt.DecryptedEncPart = messages.EncTicketPart{}
	req := messages.APReq{
		PVNO:                   iana.PVNO,
		MsgType:                msgtype.KRB_AP_REQ,
		APOptions:              apOptionsMutual(),
		Ticket:                 tkt,
		EncryptedAuthenticator: ed,
	}
	b, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode AP-REQ: %w", err)
	}
	return b, nil
}

// wireAPReq is the outer AP-REQ as MIT decodes it: the message type is not
// checked, the protocol version is.
type wireAPReq struct {
	PVNO          int                 `asn1:"explicit,tag:0"`
	MsgType       int                 `asn1:"explicit,tag:1"`
	APOptions     asn1.BitString      `asn1:"explicit,tag:2"`
	Ticket        asn1.RawValue       `asn1:"explicit,tag:3"`
	Authenticator types.EncryptedData `asn1:"explicit,tag:4"`
}

// apReq is a decoded, not yet verified AP-REQ.
type apReq struct {
	options       asn1.BitString
	ticket        messages.Ticket
	authenticator types.EncryptedData
}

// parseAPReq decodes an AP-REQ as MIT's krb5_rd_req does before any
// cryptography: a message without the [APPLICATION 14] tag is
// KRB_AP_ERR_MSG_TYPE, a protocol version other than 5 (of the AP-REQ or
// its ticket) is KRB5KDC_ERR_BAD_PVNO.
func parseAPReq(msg []byte) (*apReq, error) {
	if !isAppTag(msg, tagAPReq) {
		return nil, fmt.Errorf("AP-REQ expected: %w", krb5.ErrMsgType)
	}
	var w wireAPReq
	if err := unmarshalDER(msg, &w, "application,explicit,tag:14"); err != nil {
		return nil, asn1Failure("AP-REQ", err)
	}
	if w.PVNO != iana.PVNO {
		return nil, fmt.Errorf("AP-REQ pvno %d: %w", w.PVNO, krb5.ErrBadPVNO)
	}
	var tkt messages.Ticket
	if err := unmarshalDER(w.Ticket.Bytes, &tkt, "application,explicit,tag:1"); err != nil {
		return nil, asn1Failure("ticket", err)
	}
	if tkt.TktVNO != iana.PVNO {
		return nil, fmt.Errorf("ticket tkt-vno %d: %w", tkt.TktVNO, krb5.ErrBadPVNO)
	}
	return &apReq{options: w.APOptions, ticket: tkt, authenticator: w.Authenticator}, nil
}

// mutualRequired reports whether the AP-REQ asked for an AP-REP.
func (r *apReq) mutualRequired() bool {
	return r.options.At(flags.APOptionMutualRequired) == 1
}

// ticketServer is the server principal named in the ticket.
func (r *apReq) ticketServer() krb5.Principal {
	return krb5.Principal{Name: r.ticket.SName, Realm: r.ticket.Realm}
}

// verifiedAPReq is what a successful verification establishes.
type verifiedAPReq struct {
	ticket messages.EncTicketPart
	auth   types.Authenticator
	etype  int32 // ticket enc-part etype
}

// decryptTicket decrypts the ticket with the keytab key MIT's rd_req would
// select (see ServerConfig.AcceptAnyHostPrincipal) and returns the
// decrypted part with the keytab principal used. Any long-term key
// enctype this package implements will do, des3 and rc4 included, if it
// is in permitted.
func decryptTicket(r *apReq, kt *keytab.Keytab, server krb5.Principal, anyHost bool, permitted []krb5.Enctype) (messages.EncTicketPart, krb5.Principal, error) {
	if kt == nil {
		return messages.EncTicketPart{}, krb5.Principal{}, fmt.Errorf("no keytab: %w", krb5.ErrNoKey)
	}
	if anyHost && len(server.Name.NameString) == 2 || len(server.Name.NameString) == 2 && server.Name.NameString[1] == "" {
		return decryptTicketAnyHost(r, kt, server, permitted)
	}
	tktServer := r.ticketServer()
	enc := r.ticket.EncPart
	ent, err := FindKey(kt, server, uint32(enc.KVNO), krb5.Enctype(enc.EType))
	if err != nil {
		switch {
		case errors.Is(err, ErrKVNONotFound) && !server.Equal(tktServer):
			return messages.EncTicketPart{}, krb5.Principal{}, fmt.Errorf("cannot find key for %s kvno %d in keytab (request ticket server %s): %w", server, enc.KVNO, tktServer, krb5.ErrNotUs)
		case errors.Is(err, ErrKVNONotFound):
			return messages.EncTicketPart{}, krb5.Principal{}, fmt.Errorf("cannot find key for %s kvno %d in keytab: %w", server, enc.KVNO, krb5.ErrBadKeyVer)
		default:
			return messages.EncTicketPart{}, krb5.Principal{}, fmt.Errorf("ticket enctype %s: %w", krb5.Enctype(enc.EType).String(), err)
		}
	}
	etp, err := decryptTicketWith(r, ent.Key, permitted)
	if errors.Is(err, krb5.ErrBadIntegrity) && !server.Equal(tktServer) {
		return etp, krb5.Principal{}, fmt.Errorf("cannot decrypt ticket for %s using keytab key for %s: %w", tktServer, server, krb5.ErrNotUs)
	}
	if err != nil {
		return etp, krb5.Principal{}, fmt.Errorf("ticket for %s with keytab key for %s: %w", tktServer, server, err)
	}
	return etp, ent.Principal, nil
}

// decryptTicketAnyHost is MIT's keytab scan for a wildcard acceptor
// (ignore_acceptor_hostname): every keytab entry with the server's service
// name and realm and the ticket's enctype is tried, whatever its kvno,
// until one decrypts the ticket. Failures are reported as MIT's
// iteration_error does.
func decryptTicketAnyHost(r *apReq, kt *keytab.Keytab, server krb5.Principal, permitted []krb5.Enctype) (messages.EncTicketPart, krb5.Principal, error) {
	tktServer := r.ticketServer()
	enc := r.ticket.EncPart
	var mismatch, serverMatch, foundTkt, foundKVNO, higherKVNO, foundEnctype bool
	for i := range kt.Entries {
		e := &kt.Entries[i]
		ep := krb5.Principal{Name: types.PrincipalName{NameType: e.Principal.NameType, NameString: e.Principal.Components}, Realm: e.Principal.Realm}
		if !hostWildcardMatch(server, ep) {
			if ep.Equal(tktServer) {
				mismatch = true
			}
			continue
		}
		serverMatch = true
		similar := e.Key.KeyType == enc.EType
		if ep.Equal(tktServer) {
			foundTkt = true
			if e.KVNO == uint32(enc.KVNO) {
				foundKVNO = true
				foundEnctype = foundEnctype || similar
			} else if e.KVNO > uint32(enc.KVNO) {
				higherKVNO = true
			}
		}
		if !similar {
			continue
		}
		// Like MIT, any failure (wrong key, undecodable content, an
		// enctype not permitted) moves on.
		if etp, err := decryptTicketWith(r, e.Key, permitted); err == nil {
			return etp, ep, nil
		}
	}
	fail := func(code krb5.ErrorCode, format string, args ...any) (messages.EncTicketPart, krb5.Principal, error) {
		return messages.EncTicketPart{}, krb5.Principal{}, fmt.Errorf(format+": %w", append(args, code)...)
	}
	switch {
	case !serverMatch:
		return fail(krb5.ErrNoKey, "server principal %s does not match any keys in keytab", server)
	case mismatch:
		return fail(krb5.ErrNotUs, "request ticket server %s found in keytab but does not match server principal %s", tktServer, server)
	case !foundTkt:
		return fail(krb5.ErrNotUs, "request ticket server %s not found in keytab (ticket kvno %d)", tktServer, enc.KVNO)
	case !foundKVNO && higherKVNO:
		return fail(krb5.ErrBadKeyVer, "request ticket server %s kvno %d not found in keytab; ticket is likely out of date", tktServer, enc.KVNO)
	case !foundKVNO:
		return fail(krb5.ErrBadKeyVer, "request ticket server %s kvno %d not found in keytab; keytab is likely out of date", tktServer, enc.KVNO)
	case !foundEnctype:
		return fail(krb5.ErrBadKeyVer, "request ticket server %s kvno %d found in keytab but not with enctype %s", tktServer, enc.KVNO, krb5.Enctype(enc.EType).String())
	default:
		return fail(krb5.ErrBadIntegrity, "request ticket server %s kvno %d enctype %s found in keytab but cannot decrypt ticket", tktServer, enc.KVNO, krb5.Enctype(enc.EType).String())
	}
}

// hostWildcardMatch is MIT's krb5_sname_match for a two-component
// NT-SRV-HST matching principal with the hostname ignored: same service
// name, same realm (when the matching realm is set), any host.
func hostWildcardMatch(server, p krb5.Principal) bool {
	if len(p.Name.NameString) != 2 || len(server.Name.NameString) != 2 {
		return false
	}
	if server.Realm != "" && server.Realm != p.Realm {
		return false
	}
	return server.Name.NameString[0] == p.Name.NameString[0]
}

// decryptTicketWith decrypts and decodes the ticket's enc-part with key
// (usage 2), as MIT's krb5_decrypt_tkt_part does, which first refuses a
// ticket whose enctype is not in permitted (KRB5_NOPERM_ETYPE).
func decryptTicketWith(r *apReq, key types.EncryptionKey, permitted []krb5.Enctype) (messages.EncTicketPart, error) {
	enc := r.ticket.EncPart
	if !slices.Contains(permitted, krb5.Enctype(enc.EType)) {
		return messages.EncTicketPart{}, fmt.Errorf("ticket enctype %s: %w", krb5.Enctype(enc.EType).String(), ErrEnctypeNotPermitted)
	}
	// MIT coerces the keytab key to the ticket's enctype; here they are equal.
	pt, err := decrypt(enc, key, keyusage.KDC_REP_TICKET)
	if err != nil {
		return messages.EncTicketPart{}, err
	}
	var etp messages.EncTicketPart
	if err := unmarshalDER(pt, &etp, "application,explicit,tag:3"); err != nil {
		return messages.EncTicketPart{}, asn1Failure("EncTicketPart", err)
	}
	return etp, nil
}

// decryptAuthenticator decrypts the authenticator with the ticket session
// key (usage 11) and decodes it.
func decryptAuthenticator(r *apReq, session types.EncryptionKey) (types.Authenticator, error) {
	pt, err := decrypt(r.authenticator, session, keyusage.AP_REQ_AUTHENTICATOR)
	if err != nil {
		return types.Authenticator{}, fmt.Errorf("authenticator: %w", err)
	}
	var a types.Authenticator
	if err := unmarshalDER(pt, &a, "application,explicit,tag:2"); err != nil {
		return types.Authenticator{}, asn1Failure("authenticator", err)
	}
	if a.AVNO != iana.PVNO {
		return types.Authenticator{}, fmt.Errorf("authenticator-vno %d: %w", a.AVNO, krb5.ErrBadPVNO)
	}
	return a, nil
}

// verifyParams are the acceptor settings rd_req applies.
type verifyParams struct {
	keytab    *keytab.Keytab
	server    krb5.Principal
	anyHost   bool
	permitted []krb5.Enctype
	sessionOK func(krb5.Enctype) error
	skew      time.Duration
	replay    *ReplayCache
	now       time.Time
}

// verifyAPReq checks a decoded AP-REQ in the order of MIT's
// rd_req_decoded_opt: ticket decryption (its enctype permitted),
// authenticator decryption, client match, replay cache, ticket times,
// clock skew, INVALID flag, permitted session key enctypes. No client address is checked (MIT kpropd passes none).
func verifyAPReq(r *apReq, p verifyParams) (*verifiedAPReq, error) {
	permitted := p.permitted
	if permitted == nil {
		permitted = krb5.DefaultEnctypes()
	}
	etp, _, err := decryptTicket(r, p.keytab, p.server, p.anyHost, permitted)
	if err != nil {
		return nil, err
	}
	auth, err := decryptAuthenticator(r, etp.Key)
	if err != nil {
		return nil, err
	}
	client := krb5.Principal{Name: etp.CName, Realm: etp.CRealm}
	if !client.Equal(krb5.Principal{Name: auth.CName, Realm: auth.CRealm}) {
		return nil, fmt.Errorf("authenticator client %s, ticket client %s: %w",
			krb5.Principal{Name: auth.CName, Realm: auth.CRealm}, client, krb5.ErrBadMatch)
	}
	if p.replay != nil {
		n := kcrypto.Lookup(r.authenticator.EType).TagSize()
		c := r.authenticator.Cipher
		if n == 0 || len(c) < n {
			return nil, fmt.Errorf("replay cache: no authenticator checksum: %w", krb5.ErrBadIntegrity)
		}
		if err := p.replay.store(c[len(c)-n:], p.now, p.skew); err != nil {
			return nil, err
		}
	}
	if err := validTicketTimes(etp, p.now, p.skew); err != nil {
		return nil, err
	}
	if !withinSkew(auth.CTime, p.now, p.skew) {
		return nil, fmt.Errorf("authenticator time %s, local time %s: %w",
			auth.CTime.UTC().Format(time.RFC3339), p.now.UTC().Format(time.RFC3339), krb5.ErrSkew)
	}
	if etp.Flags.At(flags.Invalid) == 1 {
		return nil, ErrTicketInvalid
	}
	mandatory := []krb5.Enctype{krb5.Enctype(etp.Key.KeyType)}
	if hasKey(auth.SubKey) {
		mandatory = []krb5.Enctype{krb5.Enctype(auth.SubKey.KeyType), krb5.Enctype(etp.Key.KeyType)}
	}
	for _, et := range mandatory {
		if !slices.Contains(permitted, et) {
			return nil, fmt.Errorf("enctype %s: %w", et, ErrEnctypeNotPermitted)
		}
		if p.sessionOK != nil {
			if err := p.sessionOK(et); err != nil {
				return nil, fmt.Errorf("session key: %v: %w", err, ErrEnctypeNotPermitted)
			}
		}
	}
	if hasKey(auth.SubKey) {
		if !validKey(auth.SubKey) {
			return nil, fmt.Errorf("authenticator subkey of %d bytes: %w", len(auth.SubKey.KeyValue), ErrBadEnctype)
		}
	}
	return &verifiedAPReq{ticket: etp, auth: auth, etype: r.ticket.EncPart.EType}, nil
}

// hasKey reports whether an optional key field is present.
func hasKey(k types.EncryptionKey) bool { return k.KeyType != 0 || len(k.KeyValue) > 0 }

// validTicketTimes is MIT's krb5int_validate_times at one-second
// resolution: the start time (the auth time when absent) may be at most
// skew in the future, the end time at most skew in the past.
func validTicketTimes(etp messages.EncTicketPart, now time.Time, skew time.Duration) error {
	start := etp.StartTime
	if start.IsZero() {
		start = etp.AuthTime
	}
	n := now.Unix()
	s := int64(skew / time.Second)
	if start.Unix() > n+s {
		return fmt.Errorf("ticket starts %s: %w", start.UTC().Format(time.RFC3339), krb5.ErrTktNotYetValid)
	}
	if n > etp.EndTime.Unix()+s {
		return fmt.Errorf("ticket ended %s: %w", etp.EndTime.UTC().Format(time.RFC3339), krb5.ErrTktExpired)
	}
	return nil
}

// withinSkew is MIT's ts_within at one-second resolution.
func withinSkew(t, now time.Time, skew time.Duration) bool {
	d := t.Unix() - now.Unix()
	s := int64(skew / time.Second)
	return d <= s && -d <= s
}

// describeASN1 picks MIT's ASN.1 message closest to a gofork decoding error.
func describeASN1(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "tags don't match"):
		return "ASN.1 identifier doesn't match expected value"
	case strings.Contains(s, "truncated"):
		return "ASN.1 encoding ended unexpectedly"
	default:
		return "ASN.1 badly-formatted encoding"
	}
}
