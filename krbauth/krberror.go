package krbauth

import (
	"time"

	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"

	"github.com/gokprop/gokprop/krb5"
)

// Kerberos application tags (RFC 4120 section 5.10) of the messages this
// package builds or recognises.
const (
	tagAPReq    = 14
	tagAPRep    = 15
	tagKRBSafe  = 20
	tagKRBPriv  = 21
	tagKRBError = 30
)

// isAppTag reports whether msg starts with the identifier of [APPLICATION
// tag], in either the constructed or the primitive form, as MIT's
// krb5int_is_app_tag does. An empty message has no tag.
func isAppTag(msg []byte, tag byte) bool {
	return len(msg) > 0 && msg[0]&^0x20 == 0x40|tag
}

// errorParams are the fields of a KRB-ERROR that differ between senders
// (MIT's recvauth.c, kpropd.c send_error and kprop.c send_error).
type errorParams struct {
	code   krb5.ErrorCode
	text   string          // e-text without the trailing NUL; empty omits it
	client *krb5.Principal // crealm/cname; nil omits them
	server krb5.Principal  // realm/sname
	ctime  time.Time       // zero omits ctime and cusec
	stime  time.Time       // always encoded
}

// marshalKRBError encodes a KRB-ERROR the way MIT does: e-text carries a
// trailing NUL and an error code outside 0..127 travels as KRB_ERR_GENERIC.
func marshalKRBError(p errorParams) ([]byte, error) {
	code := p.code
	if code < 0 || code > 127 {
		code = krb5.ErrGeneric
	}
	e := messages.KRBError{
		PVNO:      iana.PVNO,
		MsgType:   msgtype.KRB_ERROR,
		STime:     p.stime.UTC().Truncate(time.Second),
		Susec:     p.stime.Nanosecond() / 1000,
		ErrorCode: int32(code),
		Realm:     p.server.Realm,
		SName:     p.server.Name,
	}
	if !p.ctime.IsZero() {
		e.CTime = p.ctime.UTC().Truncate(time.Second)
		e.Cusec = p.ctime.Nanosecond() / 1000
	}
	if p.client != nil {
		e.CRealm = p.client.Realm
		e.CName = p.client.Name
	}
	if p.text != "" {
		e.EText = p.text + "\x00"
	}
	return e.Marshal()
}

// parseKRBError reports whether msg is a KRB-ERROR and, if so, returns it
// as a RemoteError. A message that carries the KRB-ERROR tag but does not
// decode is still reported as an error (code KRB_ERR_GENERIC), so a
// caller never mistakes it for data.
func parseKRBError(msg []byte) (*RemoteError, bool) {
	if !isAppTag(msg, tagKRBError) {
		return nil, false
	}
	var e messages.KRBError
	if err := e.Unmarshal(msg); err != nil {
		return &RemoteError{Code: krb5.ErrGeneric, Text: "undecodable KRB-ERROR: " + err.Error()}, true
	}
	return &RemoteError{Code: krb5.ErrorCode(e.ErrorCode), Text: trimNUL(e.EText)}, true
}

// makeError builds a KRB-ERROR to send to the peer, filled in as MIT's
// kprop or kpropd fills it for this session's role:
//   - server (kpropd): no ctime, stime now, cname/crealm the authenticated
//     client, sname/realm the server principal;
//   - client (kprop): ctime now, stime the epoch, cname/crealm the client,
//     sname/realm the server the ticket is for.
//
// now is the current time (time.Now() in production).
func (s *session) makeError(code krb5.ErrorCode, text string, now time.Time) ([]byte, error) {
	client := s.client
	p := errorParams{code: code, text: text, client: &client, server: s.server}
	if s.role == roleServer {
		p.stime = now
	} else {
		p.ctime = now
		p.stime = time.Unix(0, 0)
	}
	return marshalKRBError(p)
}
