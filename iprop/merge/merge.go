package merge

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/krb5"
)

// baseLength is KRB5_KDB_V1_BASE_LENGTH, the only entry length MIT's db2
// module stores.
const baseLength = 38

// tlDBArgs is KRB5_TL_DB_ARGS: database arguments, which MIT passes to
// the database module instead of storing them.
const tlDBArgs = 0x7fff

// ErrUnstorable reports an update whose result MIT's replica could not
// store in its (db2) database; MIT's ulog_replay then fails and resets
// the update log, and so should a replica using this package.
var ErrUnstorable = errors.New("merge: update cannot be stored")

// Apply returns the record a replica holds after applying update u to the
// record cur of the principal u names (nil when the replica has none), as
// MIT 1.20's replica builds it (ulog_conv_2dbentry in the replica role)
// and its db2 module stores it. cur is not modified.
//
// The rules, in the order u lists its attributes: flags, lifetimes,
// expirations and the base length overwrite their fields; the lockout
// attributes (last success, last failure, failure count) are ignored, so
// the replica keeps its own; AttrPrinc renames the record; AttrKeyData
// replaces the whole key list; each tl-data item replaces the first item
// of its type or, if there is none, goes in front of the list (items are
// never removed); AttrPwLastChange sets the last-password-change tl-data
// the same way; and after all of them, AttrModPrinc and AttrModTime
// together (with a non-zero time) set the modifier tl-data. Other
// attribute types are ignored. Keys come out sorted by descending kvno,
// as MIT's database hands them to kdb5_util dump.
//
// The record's name is that of AttrPrinc, which MIT stores under that
// name even when it differs from u.Principal. An error wrapping
// ErrUnstorable reports what MIT would fail to store (or crash on): a new
// principal without AttrPrinc, a base length other than 38, a key data
// version above 2, or database-argument tl-data. Apply also refuses a key
// data version below 1 and key fields shorter than the version, which
// MIT would store as keys no dump can carry, or read past its arrays for.
func Apply(cur *dumpfmt.Principal, u *iprop.Update) (*dumpfmt.Principal, error) {
	if u.Deleted {
		return nil, fmt.Errorf("merge: update %d deletes %s", u.Sno, u.Principal)
	}
	var p *dumpfmt.Principal
	if cur != nil {
		p = cur.Clone()
	} else {
		p = &dumpfmt.Principal{}
	}
	fail := func(format string, args ...any) (*dumpfmt.Principal, error) {
		return nil, fmt.Errorf("%w: update %d of %s: %s", ErrUnstorable, u.Sno, u.Principal, fmt.Sprintf(format, args...))
	}
	var modPrinc *krb5.Principal
	var modTime uint32
	for i := range u.Attrs {
		a := &u.Attrs[i]
		switch a.Type {
		case iprop.AttrFlags:
			p.Attributes = int32(a.Uint32)
		case iprop.AttrMaxLife:
			p.MaxLife = int32(a.Uint32)
		case iprop.AttrMaxRenewLife:
			p.MaxRenewableLife = int32(a.Uint32)
		case iprop.AttrExp:
			p.Expiration = a.Uint32
		case iprop.AttrPwExp:
			p.PasswordExpiration = a.Uint32
		case iprop.AttrLastSuccess, iprop.AttrLastFailed, iprop.AttrFailAuthCount:
			// Not replicated: a replica keeps its own lockout state.
		case iprop.AttrPrinc:
			p.Name = fromIprop(&a.Principal).String()
		case iprop.AttrKeyData:
			keys, err := convertKeys(a.Keys)
			if err != nil {
				return fail("%v", err)
			}
			p.KeyData = keys
		case iprop.AttrTLData:
			for _, t := range a.TLData {
				if t.Type == tlDBArgs {
					return fail("tl-data of type %#x (database arguments), which db2 refuses", t.Type)
				}
				p.TLData = updateTL(p.TLData, t.Type, t.Data)
			}
		case iprop.AttrPwLastChange:
			p.TLData = updateTL(p.TLData, dumpfmt.TLLastPwdChange, dumpfmt.EncodeTime(a.Uint32))
		case iprop.AttrModPrinc:
			n := fromIprop(&a.Principal)
			modPrinc = &n
		case iprop.AttrModTime:
			modTime = a.Uint32
		case iprop.AttrLen:
			p.BaseLength = a.Len
		}
	}
	if modTime != 0 && modPrinc != nil {
		p.TLData = updateTL(p.TLData, dumpfmt.TLModPrinc, dumpfmt.EncodeModPrinc(modTime, modPrinc.String()))
	}
	switch {
	case p.Name == "":
		return fail("a new principal without %v", iprop.AttrPrinc)
	case p.BaseLength != baseLength:
		return fail("base length %d, but db2 stores only %d", p.BaseLength, baseLength)
	case len(p.TLData) > 1<<15-1:
		return fail("%d tl-data items", len(p.TLData))
	}
	// MIT's database returns keys sorted by descending kvno, stably.
	slices.SortStableFunc(p.KeyData, func(a, b dumpfmt.KeyData) int { return cmp.Compare(b.Kvno, a.Kvno) })
	return p, nil
}

// convertKeys converts AttrKeyData's keys as ulog_conv_2dbentry does:
// version and enctypes truncated to 16 bits, kvno to unsigned 16 bits.
func convertKeys(in []iprop.Key) ([]dumpfmt.KeyData, error) {
	if len(in) > 1<<15-1 {
		return nil, fmt.Errorf("%d keys", len(in))
	}
	out := make([]dumpfmt.KeyData, len(in))
	for i, k := range in {
		ver := int16(k.Version)
		switch {
		case ver > 2:
			return nil, fmt.Errorf("key %d has version %d; MIT refuses versions above 2", i, ver)
		case ver < 1:
			return nil, fmt.Errorf("key %d has version %d, which no dump can carry", i, ver)
		case len(k.Types) < int(ver) || len(k.Contents) < int(ver):
			return nil, fmt.Errorf("key %d of version %d has %d types and %d contents", i, ver, len(k.Types), len(k.Contents))
		}
		kd := dumpfmt.KeyData{Version: ver, Kvno: uint16(k.Kvno), Enctype: int16(k.Types[0]), Key: clone(k.Contents[0])}
		if ver == 2 {
			kd.SaltType = int16(k.Types[1])
			kd.Salt = clone(k.Contents[1])
		}
		out[i] = kd
	}
	return out, nil
}

// updateTL replaces the first item of type typ with data, or puts a new
// item in front (krb5_dbe_update_tl_data).
func updateTL(tl []dumpfmt.TLData, typ int16, data []byte) []dumpfmt.TLData {
	for i := range tl {
		if tl[i].Type == typ {
			tl[i].Contents = clone(data)
			return tl
		}
	}
	return append([]dumpfmt.TLData{{Type: typ, Contents: clone(data)}}, tl...)
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
