package dumpfmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Tl-data types MIT defines (src/include/kdb.h).
const (
	TLLastPwdChange    int16 = 0x0001 // time of the last password change
	TLModPrinc         int16 = 0x0002 // last modification time and principal
	TLKadmData         int16 = 0x0003 // kadmin data: policy name, password history
	TLKadm5EData       int16 = 0x0004
	TLRB1Challenge     int16 = 0x0005
	TLSecuridState     int16 = 0x0006
	TLUserCertificate  int16 = 0x0007
	TLMkvno            int16 = 0x0008 // master key version the keys are encrypted in
	TLActKvno          int16 = 0x0009 // K/M only: master key activation times
	TLMkeyAux          int16 = 0x000a // K/M only: newest master key under older ones
	TLStringAttrs      int16 = 0x000b // string attributes (kadmin setstr)
	TLPacLogonInfo     int16 = 0x0100
	TLServerReferral   int16 = 0x0200
	TLSvrReferralData  int16 = 0x0300
	TLConstrainedDeleg int16 = 0x0400
	TLLMKey            int16 = 0x0500
	TLX509SubjIssuer   int16 = 0x0600
	TLLastAdminUnlock  int16 = 0x0700 // time of the last kadmin unlock
	TLDBArgs           int16 = 0x7fff
)

var tlNames = map[int16]string{
	TLLastPwdChange: "last_pwd_change", TLModPrinc: "mod_princ", TLKadmData: "kadm_data",
	TLKadm5EData: "kadm5_e_data", TLRB1Challenge: "rb1_challenge", TLSecuridState: "securid_state",
	TLUserCertificate: "user_certificate", TLMkvno: "mkvno", TLActKvno: "actkvno",
	TLMkeyAux: "mkey_aux", TLStringAttrs: "string_attrs", TLPacLogonInfo: "pac_logon_info",
	TLServerReferral: "server_referral", TLSvrReferralData: "svr_referral_data",
	TLConstrainedDeleg: "constrained_delegation_acl", TLLMKey: "lm_key",
	TLX509SubjIssuer: "x509_subject_issuer_name", TLLastAdminUnlock: "last_admin_unlock",
	TLDBArgs: "db_args",
}

// TLName returns a short name for a tl-data type ("tl-data N" if unknown).
func TLName(typ int16) string {
	if s, ok := tlNames[typ]; ok {
		return s
	}
	return fmt.Sprintf("tl-data %d", typ)
}

// ErrTLData reports tl-data contents that do not decode.
var ErrTLData = errors.New("malformed tl-data")

func tlErr(typ int16, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrTLData, TLName(typ), fmt.Sprintf(format, args...))
}

// tlTime decodes a 4-byte little-endian time stamp tl-data.
func (p *Principal) tlTime(typ int16) (uint32, bool, error) {
	b, ok := p.FindTL(typ)
	if !ok {
		return 0, false, nil
	}
	if len(b) < 4 {
		return 0, true, tlErr(typ, "%d bytes, want 4", len(b))
	}
	return binary.LittleEndian.Uint32(b), true, nil
}

// LastPwdChange returns the time of the last password change
// (KRB5_TL_LAST_PWD_CHANGE), and whether it is recorded.
func (p *Principal) LastPwdChange() (uint32, bool, error) { return p.tlTime(TLLastPwdChange) }

// LastAdminUnlock returns the time kadmin last unlocked the principal
// (KRB5_TL_LAST_ADMIN_UNLOCK), and whether it is recorded.
func (p *Principal) LastAdminUnlock() (uint32, bool, error) { return p.tlTime(TLLastAdminUnlock) }

// ModPrinc returns the last modification time and the name of the
// principal that made it (KRB5_TL_MOD_PRINC).
func (p *Principal) ModPrinc() (when uint32, by string, ok bool, err error) {
	b, ok := p.FindTL(TLModPrinc)
	if !ok {
		return 0, "", false, nil
	}
	if len(b) < 5 || b[len(b)-1] != 0 {
		return 0, "", true, tlErr(TLModPrinc, "not a time and a NUL-terminated name")
	}
	return binary.LittleEndian.Uint32(b), string(b[4 : len(b)-1]), true, nil
}

// EncodeModPrinc builds KRB5_TL_MOD_PRINC contents.
func EncodeModPrinc(when uint32, by string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, when)
	b = append(b, by...)
	return append(b, 0)
}

// EncodeTime builds the contents of a time stamp tl-data
// (KRB5_TL_LAST_PWD_CHANGE, KRB5_TL_LAST_ADMIN_UNLOCK).
func EncodeTime(t uint32) []byte { return binary.LittleEndian.AppendUint32(nil, t) }

// Mkvno returns the master key version the principal's keys are encrypted
// in (KRB5_TL_MKVNO); 0 when absent, meaning the oldest master key.
func (p *Principal) Mkvno() (uint16, error) {
	b, ok := p.FindTL(TLMkvno)
	if !ok || len(b) == 0 {
		return 0, nil
	}
	if len(b) != 2 {
		return 0, tlErr(TLMkvno, "%d bytes, want 2", len(b))
	}
	return binary.LittleEndian.Uint16(b), nil
}

// StringAttr is one string attribute (kadmin setstr).
type StringAttr struct {
	Key, Value string
}

// StringAttrs decodes KRB5_TL_STRING_ATTRS: NUL-terminated key and value
// pairs.
func (p *Principal) StringAttrs() ([]StringAttr, error) {
	b, ok := p.FindTL(TLStringAttrs)
	if !ok {
		return nil, nil
	}
	return DecodeStringAttrs(b)
}

// DecodeStringAttrs decodes KRB5_TL_STRING_ATTRS contents.
func DecodeStringAttrs(b []byte) ([]StringAttr, error) {
	var out []StringAttr
	for len(b) > 0 {
		k := bytes.IndexByte(b, 0)
		if k < 0 {
			return out, tlErr(TLStringAttrs, "key without NUL")
		}
		v := bytes.IndexByte(b[k+1:], 0)
		if v < 0 {
			return out, tlErr(TLStringAttrs, "value without NUL")
		}
		out = append(out, StringAttr{string(b[:k]), string(b[k+1 : k+1+v])})
		b = b[k+1+v+1:]
	}
	return out, nil
}

// EncodeStringAttrs builds KRB5_TL_STRING_ATTRS contents.
func EncodeStringAttrs(attrs []StringAttr) []byte {
	var b []byte
	for _, a := range attrs {
		b = append(b, a.Key...)
		b = append(b, 0)
		b = append(b, a.Value...)
		b = append(b, 0)
	}
	return b
}

// ActKvno is one entry of KRB5_TL_ACTKVNO: master key Kvno becomes active
// at Time.
type ActKvno struct {
	Kvno uint16
	Time uint32
}

// ActKvnos decodes the K/M principal's KRB5_TL_ACTKVNO (version 1).
func (p *Principal) ActKvnos() ([]ActKvno, error) {
	b, ok := p.FindTL(TLActKvno)
	if !ok {
		return nil, nil
	}
	if len(b) < 8 || binary.LittleEndian.Uint16(b) != 1 || (len(b)-2)%6 != 0 {
		return nil, tlErr(TLActKvno, "not version 1 with 6-byte entries")
	}
	var out []ActKvno
	for b = b[2:]; len(b) >= 6; b = b[6:] {
		out = append(out, ActKvno{binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint32(b[2:])})
	}
	return out, nil
}

// MkeyAux is one entry of KRB5_TL_MKEY_AUX: the newest master key, stored
// as key data encrypted in the older master key MkeyKvno.
type MkeyAux struct {
	MkeyKvno uint16
	Latest   KeyData
}

// MkeyAux decodes the K/M principal's KRB5_TL_MKEY_AUX (version 1).
func (p *Principal) MkeyAux() ([]MkeyAux, error) {
	b, ok := p.FindTL(TLMkeyAux)
	if !ok || len(b) == 0 {
		return nil, nil
	}
	if len(b) < 10 || binary.LittleEndian.Uint16(b) != 1 {
		return nil, tlErr(TLMkeyAux, "not version 1")
	}
	var out []MkeyAux
	for b = b[2:]; len(b) > 0; {
		if len(b) < 8 {
			return out, tlErr(TLMkeyAux, "entry cut short")
		}
		n := int(binary.LittleEndian.Uint16(b[6:]))
		if len(b) < 8+n {
			return out, tlErr(TLMkeyAux, "entry cut short")
		}
		out = append(out, MkeyAux{
			MkeyKvno: binary.LittleEndian.Uint16(b),
			Latest: KeyData{Version: 1, Kvno: binary.LittleEndian.Uint16(b[2:]),
				Enctype: int16(binary.LittleEndian.Uint16(b[4:])), Key: b[8 : 8+n]},
		})
		b = b[8+n:]
	}
	return out, nil
}

// KadmData is the decoded KRB5_TL_KADM_DATA (MIT's osa_princ_ent_rec in
// XDR): the principal's policy and its password history.
type KadmData struct {
	// Policy is the policy name; "" when there is none.
	Policy string
	// AuxAttributes holds KADM5_POLICY (0x800) when a policy applies.
	AuxAttributes    uint32
	OldKeyNext       uint32
	AdminHistoryKvno uint32
	// OldKeys is the password history, one set of keys per old password.
	OldKeys [][]KeyData
}

// kadmPolicyFlag is KADM5_POLICY in aux_attributes.
const kadmPolicyFlag = 0x800

// osaPrincVersion1 is OSA_ADB_PRINC_VERSION_1.
const osaPrincVersion1 = 0x12345C01

// PolicyName returns the principal's policy as MIT's loader understands
// it: the KADM data names one and has KADM5_POLICY set.
func (p *Principal) PolicyName() (string, bool, error) {
	b, ok := p.FindTL(TLKadmData)
	if !ok {
		return "", false, nil
	}
	k, err := DecodeKadmData(b)
	if err != nil {
		return "", false, err
	}
	if k.AuxAttributes&kadmPolicyFlag == 0 || k.Policy == "" {
		return "", false, nil
	}
	return k.Policy, true, nil
}

type xdrReader struct {
	b   []byte
	err error
}

func (x *xdrReader) u32() uint32 {
	if x.err != nil {
		return 0
	}
	if len(x.b) < 4 {
		x.err = tlErr(TLKadmData, "XDR cut short")
		return 0
	}
	v := binary.BigEndian.Uint32(x.b)
	x.b = x.b[4:]
	return v
}

func (x *xdrReader) opaque(n uint32) []byte {
	if x.err != nil {
		return nil
	}
	padded := (uint64(n) + 3) &^ 3
	if uint64(len(x.b)) < padded {
		x.err = tlErr(TLKadmData, "XDR opaque of %d bytes cut short", n)
		return nil
	}
	v := x.b[:n:n]
	x.b = x.b[padded:]
	return v
}

// DecodeKadmData decodes KRB5_TL_KADM_DATA contents.
func DecodeKadmData(b []byte) (KadmData, error) {
	var k KadmData
	x := &xdrReader{b: b}
	if v := x.u32(); x.err == nil && v != osaPrincVersion1 {
		return k, tlErr(TLKadmData, "version %#x, want %#x", v, osaPrincVersion1)
	}
	if n := x.u32(); n > 0 {
		s := x.opaque(n)
		if x.err == nil {
			if s[n-1] != 0 || bytes.IndexByte(s[:n-1], 0) >= 0 {
				return k, tlErr(TLKadmData, "policy name is not a C string")
			}
			k.Policy = string(s[:n-1])
		}
	}
	k.AuxAttributes = x.u32()
	k.OldKeyNext = x.u32()
	k.AdminHistoryKvno = x.u32()
	nOld := x.u32()
	// Each entry takes at least 4 bytes: bound counts by what is left.
	if x.err == nil && uint64(nOld)*4 > uint64(len(x.b)) {
		return k, tlErr(TLKadmData, "%d old key sets in %d bytes", nOld, len(x.b))
	}
	for i := uint32(0); i < nOld && x.err == nil; i++ {
		nKeys := x.u32()
		if x.err == nil && uint64(nKeys)*32 > uint64(len(x.b)) {
			return k, tlErr(TLKadmData, "%d old keys in %d bytes", nKeys, len(x.b))
		}
		keys := make([]KeyData, 0, nKeys)
		for j := uint32(0); j < nKeys && x.err == nil; j++ {
			var kd KeyData
			kd.Version = int16(x.u32())
			kd.Kvno = uint16(x.u32())
			kd.Enctype = int16(x.u32())
			kd.SaltType = int16(x.u32())
			l0, l1 := x.u32(), x.u32()
			// xdr_bytes writes its own length before the bytes.
			if n := x.u32(); x.err == nil && n != l0 {
				return k, tlErr(TLKadmData, "old key length %d disagrees with %d", n, l0)
			}
			kd.Key = x.opaque(l0)
			if n := x.u32(); x.err == nil && n != l1 {
				return k, tlErr(TLKadmData, "old salt length %d disagrees with %d", n, l1)
			}
			kd.Salt = x.opaque(l1)
			keys = append(keys, kd)
		}
		k.OldKeys = append(k.OldKeys, keys)
	}
	if x.err != nil {
		return k, x.err
	}
	// Like MIT's XDR decoder, ignore bytes after the record.
	return k, nil
}

// Encode builds KRB5_TL_KADM_DATA contents as MIT's XDR encoder does.
func (k *KadmData) Encode() []byte {
	var b []byte
	u32 := func(v uint32) { b = binary.BigEndian.AppendUint32(b, v) }
	opaque := func(v []byte) {
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	u32(osaPrincVersion1)
	if k.Policy == "" {
		u32(0)
	} else {
		u32(uint32(len(k.Policy) + 1))
		opaque(append([]byte(k.Policy), 0))
	}
	u32(k.AuxAttributes)
	u32(k.OldKeyNext)
	u32(k.AdminHistoryKvno)
	u32(uint32(len(k.OldKeys)))
	for _, keys := range k.OldKeys {
		u32(uint32(len(keys)))
		for _, kd := range keys {
			u32(uint32(int32(kd.Version)))
			u32(uint32(kd.Kvno))
			u32(uint32(int32(kd.Enctype)))
			u32(uint32(int32(kd.SaltType)))
			u32(uint32(len(kd.Key)))
			u32(uint32(len(kd.Salt)))
			u32(uint32(len(kd.Key)))
			opaque(kd.Key)
			u32(uint32(len(kd.Salt)))
			opaque(kd.Salt)
		}
	}
	return b
}
