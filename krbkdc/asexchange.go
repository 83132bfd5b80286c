package krbkdc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// Errors of the AS exchange with MIT's texts.
var (
	// ErrKDCReplyModified is MIT's KRB5_KDCREP_MODIFIED: the AS-REP does not
	// answer the request (nonce, names, times or the enc-pa-rep checksum).
	ErrKDCReplyModified error = &liberr.Error{Text: "KDC reply did not match expectations"}
	// ErrKDCReplySkew is MIT's KRB5_KDCREP_SKEW (only with kdc_timesync = 0).
	ErrKDCReplySkew error = &liberr.Error{Text: "Clock skew too great in KDC reply"}
	// ErrNoSupportedEnctypes is MIT's KRB5_CONFIG_ETYPE_NOSUPP.
	ErrNoSupportedEnctypes error = &liberr.Error{Text: "No supported encryption types (config file error?)"}
)

// KDCError is a KRB-ERROR a KDC sent in answer to an AS request. Its
// Error method returns MIT's message for the code (what kinit and kprop
// print); the e-text is kept in Text. errors.Is(err, krb5.ErrServerUnknown) and
// CodeOf work on it.
type KDCError struct {
	Code   krb5.ErrorCode // the KRB-ERROR's error-code
	Text   string         // e-text without MIT's trailing NUL
	Client krb5.Principal // the client the request was for
}

// Error returns MIT's message for the code.
func (e *KDCError) Error() string {
	if e.Code == krb5.ErrClientUnknown && len(e.Client.Name.NameString) > 0 {
		return fmt.Sprintf("Client '%s' not found in Kerberos database", e.Client)
	}
	return e.Code.Error()
}

// Unwrap returns the code, so errors.Is matches krb5.ErrorCode sentinels.
func (e *KDCError) Unwrap() error { return e.Code }

// kdcOptRenewableOK is the renewable-ok KDC option, which a request for
// renewable tickets drops.
const kdcOptRenewableOK = 1 << (31 - flags.RenewableOK)

// Padata types MIT's client sends empty in every AS-REQ.
const (
	paReqEncPARep  = patype.PA_REQ_ENC_PA_REP // 149
	paAsFreshness  = patype.PA_AS_FRESHNESS   // 150
	maxASExchanges = 16                       // MIT's MAX_IN_TKT_LOOPS
)

// GetInitialCredentials performs the AS exchange MIT's kprop performs with
// krb5_get_init_creds_keytab(client, in_tkt_service = server): one AS-REQ
// for server directly, no TGT.
//
//   - The client key comes from kt: only the highest kvno of client's
//     entries counts. With dns_canonicalize_hostname = fallback and an
//     NT-SRV-HST client, the first canonicalization candidate that has keys
//     in kt becomes the client.
//   - The request asks for server's name components with name-type
//     NT-PRINCIPAL in the client's realm (server.Realm is not used), with
//     kdc-options from kdc_default_options (renewable-ok), forwardable,
//     proxiable, canonicalize and renew_lifetime, till = now +
//     ticket_lifetime, no addresses (unless noaddresses = false), and the
//     enctypes of DefaultTktEnctypes, those in the keytab first, except
//     that those EnctypeUsable refuses as session keys go last (see
//     requestEnctypes). Like MIT it carries empty PA-AS-FRESHNESS and
//     PA-REQ-ENC-PA-REP padata.
//   - KDC_ERR_PREAUTH_REQUIRED is answered with PA-ENC-TIMESTAMP, using the
//     ETYPE-INFO2 entry that comes first in the request's enctype order and
//     the KDC's clock when kdc_timesync is on.
//   - KRB_ERR_RESPONSE_TOO_BIG makes the request go again over TCP.
//   - The AS-REP is checked as MIT checks it: enctype requested, decrypts
//     with the keytab key (key usage 3) of whatever enctype the KDC chose
//     (des3 and rc4 long-term keys included, as in MIT), nonce, client,
//     server and ticket names, end time, the enc-pa-rep checksum when
//     flagged. Unlike MIT the session key's enctype must also pass
//     EnctypeUsable: a des3 or rc4 session key needs allow_des3 or
//     allow_rc4 on this side as well.
//
// A KRB-ERROR from the KDC is returned as a *KDCError.
func (k *KDCClient) GetInitialCredentials(ctx context.Context, kt *keytab.Keytab, client, server krb5.Principal) (*krbauth.Credentials, error) {
	cfg := k.Config
	if kt == nil {
		return nil, errors.New("krbauth: no keytab")
	}
	if len(server.Name.NameString) == 0 {
		return nil, errors.New("krbauth: no server principal")
	}
	if client.Realm == "" {
		r, err := cfg.DefaultRealm()
		if err != nil {
			return nil, err
		}
		client.Realm = r
	}
	realm := client.Realm

	// Choose the client name (fallback canonicalization) and its keytab enctypes.
	var ktEtypes []krb5.Enctype
	for _, cand := range k.canonicalizer().Candidates(ctx, client) {
		if ktEtypes = keytabEnctypes(kt, cand); len(ktEtypes) > 0 {
			client = cand
			break
		}
	}
	if len(ktEtypes) == 0 {
		return nil, fmt.Errorf("Keytab contains no suitable keys for %s: %w", client, krbauth.ErrKeyNotFound)
	}

	etypes, err := k.requestEnctypes(ktEtypes)
	if err != nil {
		return nil, err
	}

	req, err := k.newASRequest(client, server, etypes)
	if err != nil {
		return nil, err
	}
	log := k.logger().With("client", client.String(), "server", req.server.String())
	log.Debug("getting initial credentials", "etypes", etypeIDs(etypes))

	tcpOnly := false
	var encoded []byte
	for loop := 0; loop < maxASExchanges; loop++ {
		if encoded == nil {
			if encoded, err = req.encode(k); err != nil {
				return nil, err
			}
		}
		reply, err := k.sendToKDC(ctx, realm, encoded, tcpOnly)
		if err != nil {
			return nil, err
		}
		if isKRBError(reply) {
			var kerr messages.KRBError
			if err := kerr.Unmarshal(reply); err != nil {
				return nil, fmt.Errorf("decoding KRB-ERROR from KDC: %w", err)
			}
			code := krb5.ErrorCode(kerr.ErrorCode)
			log.Debug("KDC error", "code", int32(code), "text", trimNUL(kerr.EText))
			switch {
			case code == krb5.ErrResponseTooBig && !tcpOnly:
				tcpOnly = true
				continue // same request, over TCP
			case code == krb5.ErrPreauthNeeded && req.preauth == nil:
				if err := req.addEncTimestamp(k, kt, &kerr); err != nil {
					return nil, err
				}
			case code == krb5.ErrPreauthFailed && req.preauth == nil && req.infoPA:
				// A KDC older than MIT 1.7 rejects the informational padata.
				req.infoPA = false
			default:
				return nil, &KDCError{Code: code, Text: trimNUL(kerr.EText), Client: client}
			}
			encoded = nil // a new request (new nonce) follows
			continue
		}
		creds, err := req.processReply(k, kt, reply, encoded)
		if err != nil {
			return nil, err
		}
		log.Debug("got initial credentials", "session_etype", creds.SessionKey.KeyType, "ticket_etype", creds.Ticket.EncPart.EType, "endtime", creds.EndTime)
		return creds, nil
	}
	return nil, errors.New("Looping detected inside krb5_get_in_tkt")
}

// keytabEnctypes lists the enctypes of p's highest-kvno keys in kt, as MIT's
// lookup_etypes_for_keytab does (plain kvno comparison, known enctypes only).
func keytabEnctypes(kt *keytab.Keytab, p krb5.Principal) []krb5.Enctype {
	var out []krb5.Enctype
	var max uint32
	for _, e := range kt.Entries {
		ep := krb5.Principal{Name: types.PrincipalName{NameString: e.Principal.Components}, Realm: e.Principal.Realm}
		if !ep.Equal(p) || e.KVNO < max || !krb5.Enctype(e.Key.KeyType).Known() {
			continue
		}
		if e.KVNO > max {
			max, out = e.KVNO, nil
		}
		if et := krb5.Enctype(e.Key.KeyType); !slices.Contains(out, et) {
			out = append(out, et)
		}
	}
	return out
}

// requestEnctypes returns the enctypes of the AS request. They are the
// ones MIT's krb5_get_init_creds_keytab asks for, DefaultTktEnctypes less
// those this module does not implement (only weak ones), with the
// keytab's enctypes moved to the front (MIT's sort_enctypes), in one
// respect reordered: the enctypes this configuration does not allow as
// session keys (EnctypeUsable: des3-cbc-sha1 without allow_des3,
// arcfour-hmac without allow_rc4) go last. They stay in the request, as
// in MIT, because the keytab's long-term key of such a type is a reply
// key like any other; at the end they are what the KDC picks for the
// session key only when it can issue none of the others, and then
// processReply refuses the ticket.
func (k *KDCClient) requestEnctypes(ktEtypes []krb5.Enctype) ([]krb5.Enctype, error) {
	all, err := k.Config.DefaultTktEnctypes()
	if err != nil {
		return nil, err
	}
	var front, back, gated []krb5.Enctype
	for _, e := range all {
		switch {
		case !e.Implemented():
		case k.Config.EnctypeUsable(e) != nil:
			gated = append(gated, e)
		case slices.Contains(ktEtypes, e):
			front = append(front, e)
		default:
			back = append(back, e)
		}
	}
	// Within the gated ones, too, the keytab's come first.
	slices.SortStableFunc(gated, func(a, b krb5.Enctype) int {
		ia, ib := slices.Contains(ktEtypes, a), slices.Contains(ktEtypes, b)
		switch {
		case ia && !ib:
			return -1
		case ib && !ia:
			return 1
		}
		return 0
	})
	out := append(append(front, back...), gated...)
	if len(out) == 0 {
		return nil, fmt.Errorf("default_tkt_enctypes %v: %w", etypeIDs(all), ErrNoSupportedEnctypes)
	}
	return out, nil
}

// asRequest is the state of one AS exchange.
type asRequest struct {
	client    krb5.Principal
	server    krb5.Principal // NT-PRINCIPAL in the client's realm
	etypes    []krb5.Enctype
	options   uint32
	life      time.Duration
	renew     time.Duration
	addresses []types.HostAddress
	infoPA    bool
	preauth   *types.PAData
	offset    time.Duration // KDC clock minus ours, from a preauth-required error
	haveOff   bool
	// per request
	nonce int32
	sent  time.Time
	till  time.Time
	rtime time.Time
}

func (k *KDCClient) newASRequest(client, server krb5.Principal, etypes []krb5.Enctype) (*asRequest, error) {
	cfg, realm := k.Config, client.Realm
	r := &asRequest{
		client: client,
		server: krb5.Principal{
			Name:  types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: slices.Clone(server.Name.NameString)},
			Realm: realm,
		},
		etypes:  etypes,
		options: cfg.KDCDefaultOptions(),
		infoPA:  true,
	}
	if cfg.Forwardable(realm) {
		r.options |= 1 << (31 - flags.Forwardable)
	}
	if cfg.Proxiable(realm) {
		r.options |= 1 << (31 - flags.Proxiable)
	}
	if cfg.Canonicalize(realm) {
		r.options |= 1 << (31 - flags.Canonicalize)
	}
	var err error
	if r.life, err = cfg.TicketLifetime(realm); err != nil {
		return nil, err
	}
	if r.renew, err = cfg.RenewLifetime(realm); err != nil {
		return nil, err
	}
	if r.renew > 0 {
		r.options |= 1 << (31 - flags.Renewable)
	}
	if !cfg.NoAddresses(realm) {
		if r.addresses, err = types.LocalHostAddresses(); err != nil {
			return nil, fmt.Errorf("listing local addresses (noaddresses = false): %w", err)
		}
	}
	return r, nil
}

func (k *KDCClient) random(b []byte) error {
	rd := k.Rand
	if rd == nil {
		rd = rand.Reader
	}
	_, err := io.ReadFull(rd, b)
	return err
}

// encode builds and marshals the next AS-REQ: new nonce and times.
func (r *asRequest) encode(k *KDCClient) ([]byte, error) {
	var nb [4]byte
	if err := k.random(nb[:]); err != nil {
		return nil, err
	}
	r.nonce = int32(binary.BigEndian.Uint32(nb[:]) & 0x7fffffff)
	now := k.now()
	r.sent = now
	if r.haveOff && k.Config.KDCTimesync() {
		now = now.Add(r.offset)
	}
	now = now.UTC().Truncate(time.Second)
	r.till = now.Add(r.life)
	opts := r.options
	r.rtime = time.Time{}
	if r.renew > 0 {
		r.rtime = now.Add(r.renew)
		if r.till.After(r.rtime) {
			r.rtime = r.till
		}
		opts &^= kdcOptRenewableOK
	}
	kopts := types.NewKrbFlags()
	binary.BigEndian.PutUint32(kopts.Bytes, opts)

	var pa types.PADataSequence
	if r.preauth != nil {
		pa = append(pa, *r.preauth)
	}
	if r.infoPA {
		pa = append(pa, types.PAData{PADataType: paAsFreshness, PADataValue: []byte{}},
			types.PAData{PADataType: paReqEncPARep, PADataValue: []byte{}})
	}
	req := messages.ASReq{KDCReqFields: messages.KDCReqFields{
		PVNO:    iana.PVNO,
		MsgType: msgtype.KRB_AS_REQ,
		PAData:  pa,
		ReqBody: messages.KDCReqBody{
			KDCOptions: kopts,
			CName:      r.client.Name,
			Realm:      r.client.Realm,
			SName:      r.server.Name,
			Till:       r.till,
			RTime:      r.rtime,
			Nonce:      int(r.nonce),
			EType:      etypeIDs(r.etypes),
			Addresses:  r.addresses,
		},
	}}
	return req.Marshal()
}

// addEncTimestamp answers KDC_ERR_PREAUTH_REQUIRED with PA-ENC-TIMESTAMP.
func (r *asRequest) addEncTimestamp(k *KDCClient, kt *keytab.Keytab, kerr *messages.KRBError) error {
	var md types.PADataSequence
	if len(kerr.EData) > 0 {
		if err := md.Unmarshal(kerr.EData); err != nil {
			return fmt.Errorf("decoding METHOD-DATA of KDC_ERR_PREAUTH_REQUIRED: %w", err)
		}
	}
	if !md.Contains(patype.PA_ENC_TIMESTAMP) {
		// The KDC wants a mechanism a keytab cannot do (PKINIT, OTP, ...).
		return &KDCError{Code: krb5.ErrPreauthNeeded, Text: trimNUL(kerr.EText), Client: r.client}
	}
	etype, err := r.preauthEnctype(md)
	if err != nil {
		return err
	}
	key, err := krbauth.FindKey(kt, r.client, krbauth.AnyKVNO, etype)
	if err != nil {
		return err
	}
	if k.Config.KDCTimesync() {
		kdcTime := kerr.STime.Add(time.Duration(kerr.Susec) * time.Microsecond)
		r.offset, r.haveOff = kdcTime.Sub(k.now()), true
	}
	ts := k.now()
	if r.haveOff {
		ts = ts.Add(r.offset)
	}
	ts = ts.UTC()
	plain, err := asn1.Marshal(types.PAEncTSEnc{PATimestamp: ts.Truncate(time.Second), PAUSec: ts.Nanosecond() / 1000})
	if err != nil {
		return err
	}
	ed, err := kcrypto.Encrypt(key.Key, keyusage.AS_REQ_PA_ENC_TIMESTAMP, plain)
	if err != nil {
		return fmt.Errorf("encrypting PA-ENC-TIMESTAMP with %s: %w", etype, err)
	}
	b, err := ed.Marshal()
	if err != nil {
		return err
	}
	r.preauth = &types.PAData{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: b}
	return nil
}

// preauthEnctype picks the ETYPE-INFO2 (else ETYPE-INFO) entry that comes
// first in the request's enctype order, as MIT's k5_get_etype_info does;
// without either, the first requested enctype.
func (r *asRequest) preauthEnctype(md types.PADataSequence) (krb5.Enctype, error) {
	var offered []int32
	found := false
	for _, pa := range md {
		switch pa.PADataType {
		case patype.PA_ETYPE_INFO2:
			if info, err := pa.GetETypeInfo2(); err == nil {
				for _, e := range info {
					offered = append(offered, e.EType)
				}
				found = true
			}
		}
	}
	if !found {
		for _, pa := range md {
			if pa.PADataType == patype.PA_ETYPE_INFO {
				if info, err := pa.GetETypeInfo(); err == nil {
					for _, e := range info {
						offered = append(offered, e.EType)
					}
					found = true
				}
			}
		}
	}
	if !found {
		return r.etypes[0], nil
	}
	for _, e := range r.etypes {
		if slices.Contains(offered, int32(e)) {
			return e, nil
		}
	}
	return 0, fmt.Errorf("KDC offers pre-authentication only with %v: %w", offered, ErrNoSupportedEnctypes)
}

// processReply checks an AS-REP as MIT's init_creds_step_reply does and
// returns the credentials.
func (r *asRequest) processReply(k *KDCClient, kt *keytab.Keytab, reply, encodedReq []byte) (*krbauth.Credentials, error) {
	var rep messages.ASRep
	if err := rep.Unmarshal(reply); err != nil {
		return nil, fmt.Errorf("decoding AS-REP: %w", err)
	}
	if !slices.Contains(r.etypes, krb5.Enctype(rep.EncPart.EType)) {
		return nil, fmt.Errorf("AS-REP encrypted with %s, which was not requested: %w", krb5.Enctype(rep.EncPart.EType).String(), ErrNoSupportedEnctypes)
	}
	key, err := krbauth.FindKey(kt, r.client, krbauth.AnyKVNO, krb5.Enctype(rep.EncPart.EType))
	if err != nil {
		return nil, err
	}
	plain, err := kcrypto.Decrypt(rep.EncPart, key.Key, keyusage.AS_REP_ENCPART)
	if err != nil {
		return nil, fmt.Errorf("decrypting AS-REP with %s key of %s: %w (%v)", krb5.Enctype(key.Key.KeyType).String(), r.client, krb5.ErrBadIntegrity, err)
	}
	var enc messages.EncKDCRepPart
	if err := enc.Unmarshal(plain); err != nil {
		return nil, fmt.Errorf("decoding AS-REP encrypted part: %w", err)
	}

	// FAST negotiation indicator (RFC 6806 section 11).
	if types.IsFlagSet(&enc.Flags, flags.EncPARep) {
		if err := verifyEncPARep(enc.EncPAData, key.Key, encodedReq); err != nil {
			return nil, err
		}
		k.logger().Debug("KDC confirmed the request with PA-REQ-ENC-PA-REP", "fast_available", enc.EncPAData.Contains(patype.PA_FX_FAST))
	}

	reqServer := r.server
	repServer := krb5.Principal{Name: enc.SName, Realm: enc.SRealm}
	tktServer := krb5.Principal{Name: rep.Ticket.SName, Realm: rep.Ticket.Realm}
	repClient := krb5.Principal{Name: rep.CName, Realm: rep.CRealm}
	canon := r.options&(1<<(31-flags.Canonicalize)) != 0
	modified := func(what string) error {
		return fmt.Errorf("AS-REP %s: %w", what, ErrKDCReplyModified)
	}
	switch {
	case !repServer.Equal(reqServer):
		return nil, modified(fmt.Sprintf("server %s, requested %s", repServer, reqServer))
	case !canon && !repClient.Equal(r.client):
		return nil, modified(fmt.Sprintf("client %s, requested %s", repClient, r.client))
	case !repServer.Equal(tktServer):
		return nil, modified(fmt.Sprintf("ticket for %s, reply says %s", tktServer, repServer))
	case int64(enc.Nonce) != int64(r.nonce):
		return nil, modified("nonce does not match the request")
	case !r.till.IsZero() && enc.EndTime.After(r.till):
		return nil, modified("end time beyond the requested till")
	case !r.rtime.IsZero() && !enc.RenewTill.IsZero() && enc.RenewTill.After(r.rtime):
		return nil, modified("renew-till beyond the requested rtime")
	}
	start := enc.StartTime
	if start.IsZero() {
		start = enc.AuthTime
	}
	if !k.Config.KDCTimesync() {
		skew := k.Config.ClockSkew()
		if d := start.Sub(r.sent); d > skew || d < -skew {
			return nil, ErrKDCReplySkew
		}
	}
	if err := k.Config.EnctypeUsable(krb5.Enctype(enc.Key.KeyType)); err != nil {
		return nil, fmt.Errorf("KDC issued a session key this configuration cannot use: %w", err)
	}
	return &krbauth.Credentials{
		Client:     repClient,
		Server:     repServer,
		Ticket:     rep.Ticket,
		SessionKey: enc.Key,
		AuthTime:   enc.AuthTime,
		StartTime:  start,
		EndTime:    enc.EndTime,
	}, nil
}

// verifyEncPARep checks the PA-REQ-ENC-PA-REP checksum of the request the
// KDC returns in the encrypted part when it sets the enc-pa-rep flag.
func verifyEncPARep(encPA types.PADataSequence, key types.EncryptionKey, encodedReq []byte) error {
	for _, pa := range encPA {
		if pa.PADataType != paReqEncPARep {
			continue
		}
		var ck types.PAReqEncPARep
		if err := ck.Unmarshal(pa.PADataValue); err != nil {
			return fmt.Errorf("decoding PA-REQ-ENC-PA-REP: %w", ErrKDCReplyModified)
		}
		e := kcrypto.Lookup(key.KeyType)
		if !e.Implemented() || e.CksumType != ck.ChksumType {
			return fmt.Errorf("PA-REQ-ENC-PA-REP checksum type %d: %w", ck.ChksumType, ErrKDCReplyModified)
		}
		if !e.EType.VerifyChecksum(key.KeyValue, encodedReq, ck.Chksum, keyusage.KEY_USAGE_AS_REQ) {
			return fmt.Errorf("PA-REQ-ENC-PA-REP checksum: %w", ErrKDCReplyModified)
		}
		return nil
	}
	return fmt.Errorf("enc-pa-rep flag without PA-REQ-ENC-PA-REP: %w", ErrKDCReplyModified)
}

// etypeIDs converts an enctype list for gokrb5's messages.
func etypeIDs(l []krb5.Enctype) []int32 {
	out := make([]int32, len(l))
	for i, e := range l {
		out[i] = int32(e)
	}
	return out
}

// isKRBError reports whether msg carries the KRB-ERROR application tag
// ([APPLICATION 30], constructed or primitive, as MIT's krb5int_is_app_tag).
func isKRBError(msg []byte) bool { return len(msg) > 0 && msg[0]&^0x20 == 0x40|30 }

// trimNUL removes the trailing NUL MIT puts in e-text.
func trimNUL(s string) string { return strings.TrimSuffix(s, "\x00") }
