package krbauth

import (
	"fmt"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
)

// apRepFields are the contents of an EncAPRepPart.
type apRepFields struct {
	ctime  time.Time            // whole seconds, copied from the authenticator
	cusec  int                  // copied from the authenticator
	subkey *types.EncryptionKey // nil: absent
	seq    uint32               // 0: absent
}

// buildAPRep encodes the AP-REP MIT's krb5_mk_rep produces: EncAPRepPart
// [APPLICATION 27] {ctime, cusec, subkey if any, seq-number if non-zero},
// encrypted with the ticket session key under usage 12 with no kvno,
// inside AP-REP [APPLICATION 15].
func buildAPRep(key types.EncryptionKey, f apRepFields) ([]byte, error) {
	part := messages.EncAPRepPart{
		CTime:          f.ctime.UTC().Truncate(time.Second),
		Cusec:          f.cusec,
		SequenceNumber: int64(f.seq),
	}
	if f.subkey != nil {
		part.Subkey = *f.subkey
	}
	plain, err := asn1.Marshal(part)
	if err != nil {
		return nil, fmt.Errorf("encode EncAPRepPart: %w", err)
	}
	plain = asn1tools.AddASNAppTag(plain, asnAppTag.EncAPRepPart)
	ed, err := encrypt(key, keyusage.AP_REP_ENCPART, plain)
	if err != nil {
		return nil, fmt.Errorf("encrypt EncAPRepPart: %w", err)
	}
	rep := messages.APRep{PVNO: iana.PVNO, MsgType: msgtype.KRB_AP_REP, EncPart: ed}
	b, err := asn1.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("encode AP-REP: %w", err)
	}
	return asn1tools.AddASNAppTag(b, asnAppTag.APREP), nil
}

// wireAPRep is the outer AP-REP as MIT decodes it (message type not
// checked, protocol version checked).
type wireAPRep struct {
	PVNO    int                 `asn1:"explicit,tag:0"`
	MsgType int                 `asn1:"explicit,tag:1"`
	EncPart types.EncryptedData `asn1:"explicit,tag:2"`
}

// readAPRep checks an AP-REP as MIT's krb5_rd_rep does: [APPLICATION 15]
// tag, decryption with the session key under usage 12, and ctime and cusec
// exactly equal to the authenticator's (else krb5.ErrMutualFail). It returns
// the reply's fields: the server's sequence number and its subkey, if any.
func readAPRep(msg []byte, key types.EncryptionKey, auth types.Authenticator) (apRepFields, error) {
	if !isAppTag(msg, tagAPRep) {
		return apRepFields{}, fmt.Errorf("AP-REP expected: %w", krb5.ErrMsgType)
	}
	var w wireAPRep
	if err := unmarshalDER(msg, &w, "application,explicit,tag:15"); err != nil {
		return apRepFields{}, asn1Failure("AP-REP", err)
	}
	if w.PVNO != iana.PVNO {
		return apRepFields{}, fmt.Errorf("AP-REP pvno %d: %w", w.PVNO, krb5.ErrBadPVNO)
	}
	plain, err := decrypt(w.EncPart, key, keyusage.AP_REP_ENCPART)
	if err != nil {
		return apRepFields{}, fmt.Errorf("AP-REP: %w", err)
	}
	var part messages.EncAPRepPart
	if err := unmarshalDER(plain, &part, "application,explicit,tag:27"); err != nil {
		return apRepFields{}, asn1Failure("EncAPRepPart", err)
	}
	if !part.CTime.Equal(auth.CTime) || part.Cusec != auth.Cusec {
		return apRepFields{}, fmt.Errorf("AP-REP time %s.%06d, authenticator time %s.%06d: %w",
			part.CTime.UTC().Format("20060102150405"), part.Cusec,
			auth.CTime.UTC().Format("20060102150405"), auth.Cusec, krb5.ErrMutualFail)
	}
	f := apRepFields{ctime: part.CTime, cusec: part.Cusec, seq: uint32(part.SequenceNumber)}
	if part.Subkey.KeyType != 0 || len(part.Subkey.KeyValue) > 0 {
		k := part.Subkey
		if !validKey(k) {
			return apRepFields{}, fmt.Errorf("AP-REP subkey %s of %d bytes: %w", krb5.Enctype(k.KeyType).String(), len(k.KeyValue), ErrBadEnctype)
		}
		f.subkey = &k
	}
	return f, nil
}
