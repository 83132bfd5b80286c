package iprop

import (
	"fmt"

	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// Bounds of the decoders. iprop.x declares every string and array
// unbounded (rpcgen's ~0); these are ours, each above what MIT's database
// can hold, so no valid message is refused. Independently of them, a
// decoder never allocates for a count the remaining input cannot hold.
const (
	// MaxString bounds every string and opaque field of a principal
	// (names, realm, components, key contents, tl-data): MIT stores their
	// lengths in 16 bits.
	MaxString = 65535
	// MaxComponents bounds the components of a principal name.
	MaxComponents = 32767
	// MaxKeys bounds the keys of AttrKeyData and of one password history
	// set, and MaxTLData the items of AttrTLData: MIT's counts are 16-bit.
	MaxKeys   = 32767
	MaxTLData = 32767
	// MaxKeyFields bounds the Types and Contents of a Key; MIT uses at
	// most 2.
	MaxKeyFields = 16
	// MaxPwHist bounds the key sets of AttrPwHist.
	MaxPwHist = 32767
	// MaxAttrs bounds the attributes of an update; MIT's primary sends at
	// most 20.
	MaxAttrs = 1024
	// MaxSeenBy bounds KDCsSeenBy.
	MaxSeenBy = 1024
	// MaxOpaque bounds Futures and Extension.
	MaxOpaque = 1 << 20
	// MaxUpdates bounds the updates of one GET_UPDATES reply, far above
	// the entries of MIT's largest update log.
	MaxUpdates = 1 << 20
)

// Minimum encoded sizes, for the decoders' count checks.
const (
	minUpdateSize    = 36
	minAttrSize      = 8
	minKeySize       = 16
	minComponentSize = 8
	minTLSize        = 8
)

// AppendXDR appends t's XDR encoding to b.
func (t Time) AppendXDR(b []byte) []byte {
	return xdr.AppendUint32(xdr.AppendUint32(b, t.Seconds), t.Useconds)
}

func decodeTime(d *xdr.Decoder) Time { return Time{d.Uint32(), d.Uint32()} }

func (k *Key) appendXDR(b []byte) []byte {
	b = xdr.AppendInt32(b, k.Version)
	b = xdr.AppendInt32(b, k.Kvno)
	b = xdr.AppendCount(b, len(k.Types))
	for _, v := range k.Types {
		b = xdr.AppendInt32(b, v)
	}
	b = xdr.AppendCount(b, len(k.Contents))
	for _, c := range k.Contents {
		b = xdr.AppendOpaque(b, c)
	}
	return b
}

func decodeKey(d *xdr.Decoder) Key {
	k := Key{Version: d.Int32(), Kvno: d.Int32()}
	if n := d.Count(MaxKeyFields, 4); n > 0 {
		k.Types = make([]int32, n)
		for i := range k.Types {
			k.Types[i] = d.Int32()
		}
	}
	if n := d.Count(MaxKeyFields, 4); n > 0 {
		k.Contents = make([][]byte, n)
		for i := range k.Contents {
			k.Contents[i] = d.Opaque(MaxString)
		}
	}
	return k
}

func appendKeys(b []byte, keys []Key) []byte {
	b = xdr.AppendCount(b, len(keys))
	for i := range keys {
		b = keys[i].appendXDR(b)
	}
	return b
}

func decodeKeys(d *xdr.Decoder) []Key {
	n := d.Count(MaxKeys, minKeySize)
	if n == 0 {
		return nil
	}
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = decodeKey(d)
	}
	return keys
}

// AppendXDR appends p's XDR encoding to b.
func (p *Principal) AppendXDR(b []byte) []byte {
	b = xdr.AppendOpaque(b, []byte(p.Realm))
	b = xdr.AppendCount(b, len(p.Components))
	for _, c := range p.Components {
		b = xdr.AppendInt32(b, c.Magic)
		b = xdr.AppendOpaque(b, []byte(c.Data))
	}
	return xdr.AppendInt32(b, p.NameType)
}

func decodePrincipal(d *xdr.Decoder) Principal {
	p := Principal{Realm: string(d.Opaque(MaxString))}
	if n := d.Count(MaxComponents, minComponentSize); n > 0 {
		p.Components = make([]Component, n)
		for i := range p.Components {
			p.Components[i] = Component{Magic: d.Int32(), Data: string(d.Opaque(MaxString))}
		}
	}
	p.NameType = d.Int32()
	return p
}

// AppendXDR appends a's XDR encoding (discriminant, then the arm Type
// selects) to b.
func (a *Attr) AppendXDR(b []byte) []byte {
	b = xdr.AppendInt32(b, int32(a.Type))
	switch a.Type.kind() {
	case kindUint32:
		return xdr.AppendUint32(b, a.Uint32)
	case kindPrincipal:
		return a.Principal.AppendXDR(b)
	case kindKeys:
		return appendKeys(b, a.Keys)
	case kindTLData:
		b = xdr.AppendCount(b, len(a.TLData))
		for _, t := range a.TLData {
			b = xdr.AppendInt16(b, t.Type)
			b = xdr.AppendOpaque(b, t.Data)
		}
		return b
	case kindInt16:
		return xdr.AppendInt16(b, a.Len)
	case kindString:
		return xdr.AppendOpaque(b, []byte(a.String))
	case kindBool:
		return xdr.AppendBool(b, a.Bool)
	case kindPwHist:
		b = xdr.AppendCount(b, len(a.PwHist))
		for _, set := range a.PwHist {
			b = appendKeys(b, set)
		}
		return b
	}
	return xdr.AppendOpaque(b, a.Extension)
}

func decodeAttr(d *xdr.Decoder) Attr {
	a := Attr{Type: AttrType(d.Int32())}
	switch a.Type.kind() {
	case kindUint32:
		a.Uint32 = d.Uint32()
	case kindPrincipal:
		a.Principal = decodePrincipal(d)
	case kindKeys:
		a.Keys = decodeKeys(d)
	case kindTLData:
		if n := d.Count(MaxTLData, minTLSize); n > 0 {
			a.TLData = make([]TLData, n)
			for i := range a.TLData {
				a.TLData[i] = TLData{Type: d.Int16(), Data: d.Opaque(MaxString)}
			}
		}
	case kindInt16:
		a.Len = d.Int16()
	case kindString:
		a.String = string(d.Opaque(MaxString))
	case kindBool:
		a.Bool = d.Bool()
	case kindPwHist:
		if n := d.Count(MaxPwHist, 4); n > 0 {
			a.PwHist = make([][]Key, n)
			for i := range a.PwHist {
				a.PwHist[i] = decodeKeys(d)
			}
		}
	default:
		a.Extension = d.Opaque(MaxOpaque)
	}
	return a
}

// AppendXDR appends u's XDR encoding to b: the bytes MIT stores in an
// update log entry and sends in a GET_UPDATES reply.
func (u *Update) AppendXDR(b []byte) []byte {
	b = xdr.AppendOpaque(b, []byte(u.Principal))
	b = xdr.AppendUint32(b, u.Sno)
	b = u.Time.AppendXDR(b)
	b = xdr.AppendCount(b, len(u.Attrs))
	for i := range u.Attrs {
		b = u.Attrs[i].AppendXDR(b)
	}
	b = xdr.AppendBool(b, u.Deleted)
	b = xdr.AppendBool(b, u.Commit)
	b = xdr.AppendCount(b, len(u.KDCsSeenBy))
	for _, s := range u.KDCsSeenBy {
		b = xdr.AppendOpaque(b, []byte(s))
	}
	return xdr.AppendOpaque(b, u.Futures)
}

func decodeUpdate(d *xdr.Decoder) Update {
	u := Update{Principal: string(d.Opaque(MaxString)), Sno: d.Uint32(), Time: decodeTime(d)}
	if n := d.Count(MaxAttrs, minAttrSize); n > 0 {
		u.Attrs = make([]Attr, n)
		for i := range u.Attrs {
			u.Attrs[i] = decodeAttr(d)
		}
	}
	u.Deleted = d.Bool()
	u.Commit = d.Bool()
	if n := d.Count(MaxSeenBy, 4); n > 0 {
		u.KDCsSeenBy = make([]string, n)
		for i := range u.KDCsSeenBy {
			u.KDCsSeenBy[i] = string(d.Opaque(MaxString))
		}
	}
	u.Futures = d.Opaque(MaxOpaque)
	return u
}

// AppendXDR appends l's XDR encoding to b: the argument of GET_UPDATES.
func (l Last) AppendXDR(b []byte) []byte {
	return l.Time.AppendXDR(xdr.AppendUint32(b, l.Sno))
}

func decodeLast(d *xdr.Decoder) Last { return Last{Sno: d.Uint32(), Time: decodeTime(d)} }

// AppendXDR appends r's XDR encoding to b.
func (r *IncrResult) AppendXDR(b []byte) []byte {
	b = r.Last.AppendXDR(b)
	b = xdr.AppendCount(b, len(r.Updates))
	for i := range r.Updates {
		b = r.Updates[i].AppendXDR(b)
	}
	return xdr.AppendInt32(b, int32(r.Status))
}

// AppendXDR appends r's XDR encoding to b.
func (r *FullResyncResult) AppendXDR(b []byte) []byte {
	return xdr.AppendInt32(r.Last.AppendXDR(b), int32(r.Status))
}

// decodeAll runs f over b and requires it to consume every byte.
func decodeAll(b []byte, what string, f func(*xdr.Decoder)) error {
	d := xdr.NewDecoder(b)
	f(d)
	if err := d.End(); err != nil {
		return fmt.Errorf("iprop: decoding %s: %w", what, err)
	}
	return nil
}

// DecodeUpdate decodes one update, as stored in an update log entry. The
// input must hold exactly one encoded update. Errors wrap an
// *xdr.DecodeError.
func DecodeUpdate(b []byte) (*Update, error) {
	var u Update
	if err := decodeAll(b, "update", func(d *xdr.Decoder) { u = decodeUpdate(d) }); err != nil {
		return nil, err
	}
	return &u, nil
}

// DecodeLast decodes a kdb_last_t, the argument of GET_UPDATES.
func DecodeLast(b []byte) (Last, error) {
	var l Last
	err := decodeAll(b, "kdb_last_t", func(d *xdr.Decoder) { l = decodeLast(d) })
	return l, err
}

// DecodeIncrResult decodes the result of GET_UPDATES.
func DecodeIncrResult(b []byte) (*IncrResult, error) {
	var r IncrResult
	err := decodeAll(b, "kdb_incr_result_t", func(d *xdr.Decoder) {
		r.Last = decodeLast(d)
		if n := d.Count(MaxUpdates, minUpdateSize); n > 0 {
			r.Updates = make([]Update, n)
			for i := range r.Updates {
				r.Updates[i] = decodeUpdate(d)
			}
		}
		r.Status = Status(d.Int32())
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// DecodeFullResyncResult decodes the result of FULL_RESYNC and
// FULL_RESYNC_EXT.
func DecodeFullResyncResult(b []byte) (*FullResyncResult, error) {
	var r FullResyncResult
	err := decodeAll(b, "kdb_fullresync_result_t", func(d *xdr.Decoder) {
		r.Last = decodeLast(d)
		r.Status = Status(d.Int32())
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}
