package dumptest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/gokprop/gokprop/dumpfmt"
)

// Config describes the dump to generate. The zero value gives a format 7
// dump of realm EXAMPLE.COM with only the principals every realm has.
type Config struct {
	// Header is the dump's header; the zero Format means FormatR111.
	Header dumpfmt.Header
	// Realm defaults to EXAMPLE.COM.
	Realm string
	// Principals is the number of principals besides K/M, krbtgt and
	// kadmin/history.
	Principals int
	// Policies is the number of policies.
	Policies int
	// KeyVersions is the most key versions a bulk principal has, each
	// with an aes256 and an aes128 key; 0 means 3. A principal gets
	// between 1 and KeyVersions at random (about 450 bytes a principal
	// with 1, 700 with 3).
	KeyVersions int
	// Seed makes the output reproducible.
	Seed uint64
	// Time is the base time stamp (default 1700000000).
	Time uint32
	// Master, if set, is written as the K/M principal instead of a
	// generated one: with a real realm's K/M (and its stash) MIT's tools
	// can open the loaded database. Its realm should be Realm.
	Master *dumpfmt.Principal
}

// Bytes returns the generated dump.
func Bytes(cfg Config) []byte {
	var b bytes.Buffer
	if err := Generate(&b, cfg); err != nil {
		panic(err) // only reachable through a bug in the generator
	}
	return b.Bytes()
}

// Generate writes the dump described by cfg to w.
func Generate(w io.Writer, cfg Config) error {
	if cfg.Header.Format == 0 {
		cfg.Header.Format = dumpfmt.FormatR111
	}
	if cfg.Realm == "" {
		cfg.Realm = "EXAMPLE.COM"
	}
	if cfg.Time == 0 {
		cfg.Time = 1700000000
	}
	g := &gen{cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, 0x6b6470)), kadm: cfg.Header.Format != dumpfmt.FormatB7}
	dw := dumpfmt.NewWriter(w, cfg.Header)
	realm := cfg.Realm

	km := g.principal("K/M@"+realm, 1, 1, 0x00800040)
	km.TLData = append(km.TLData,
		dumpfmt.TLData{Type: dumpfmt.TLActKvno, Contents: []byte{1, 0, 1, 0, 0, 0, 0, 0}})
	if cfg.Master != nil {
		km = cfg.Master
	}
	policies := make([]string, cfg.Policies)
	for i := range policies {
		policies[i] = fmt.Sprintf("pol%03d", i)
	}
	// The principals come out in the order of MIT's db2 btree, which
	// kdb5_util dump walks: by the bytes of the unparsed name (see
	// nameOrder).
	for name, i := range sortedNames(realm, cfg.Principals) {
		var p *dumpfmt.Principal
		switch {
		case i == idxMaster:
			p = km
		case i == idxHistory:
			p = g.principal(name, 1, 1, 0)
		case i == idxTGS:
			p = g.principal(name, 1, 2, 0)
		default:
			p = g.generated(name, i, policies)
		}
		if err := dw.WritePrincipal(p); err != nil {
			return err
		}
	}
	for i, name := range policies {
		pol := &dumpfmt.Policy{Name: name, PwMaxLife: int32(86400 * (30 + i%60)), PwMinLength: 8, PwMinClasses: 2, PwHistoryNum: 1}
		form, _ := formOf(cfg.Header)
		if form >= dumpfmt.PolicyFormR18 && i%2 == 0 {
			pol.PwMaxFail, pol.PwFailcntInterval, pol.PwLockoutDuration = 5, 300, 900
		}
		if form >= dumpfmt.PolicyFormR111 && i%4 == 0 {
			pol.AllowedKeysalts = "aes256-cts-hmac-sha1-96:normal,aes128-cts-hmac-sha1-96:normal"
		}
		if err := dw.WritePolicy(pol); err != nil {
			return err
		}
	}
	return dw.Flush()
}

// generated builds the i-th bulk principal, named name.
func (g *gen) generated(name string, i int, policies []string) *dumpfmt.Principal {
	cfg := &g.cfg
	iprop := cfg.Header.Format == dumpfmt.FormatIprop || cfg.Header.Format == dumpfmt.FormatIpropX
	most := cfg.KeyVersions
	if most <= 0 {
		most = 3
	}
	kvnos := 1 + g.rnd.IntN(most)
	p := g.principal(name, kvnos, 2, 0x80)
	if len(policies) > 0 && i%3 == 0 {
		g.setPolicy(p, policies[g.rnd.IntN(len(policies))])
	}
	if i%17 == 0 {
		p.TLData = append(p.TLData, dumpfmt.TLData{Type: dumpfmt.TLStringAttrs,
			Contents: dumpfmt.EncodeStringAttrs([]dumpfmt.StringAttr{{Key: "session_enctypes", Value: "aes256-cts"}})})
	}
	if i%29 == 0 {
		p.Expiration = cfg.Time + 86400*365
		p.PasswordExpiration = cfg.Time - 86400
	}
	if !iprop && i%31 == 0 {
		p.FailAuthCount = int32(1 + g.rnd.IntN(5))
		p.LastFailed = cfg.Time - uint32(g.rnd.IntN(3600))
		p.LastSuccess = cfg.Time - 86400
	}
	return p
}

func formOf(h dumpfmt.Header) (dumpfmt.PolicyForm, error) {
	switch h.Format {
	case dumpfmt.FormatR18:
		return dumpfmt.PolicyFormR18, nil
	case dumpfmt.FormatR111:
		return dumpfmt.PolicyFormR111, nil
	case dumpfmt.FormatIpropX:
		if h.IpropVersion == 1 {
			return dumpfmt.PolicyFormR111, nil
		}
	}
	return dumpfmt.PolicyFormB7, nil
}

type gen struct {
	cfg  Config
	rnd  *rand.Rand
	kadm bool
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rnd.Uint32())
	}
	return b
}

// principal builds a principal with kvnos key versions of nEnc enctypes
// (aes256 first, then aes128), newest first as MIT sorts them.
func (g *gen) principal(name string, kvnos, nEnc int, attrs int32) *dumpfmt.Principal {
	t := g.cfg.Time - uint32(g.rnd.IntN(86400*365))
	p := &dumpfmt.Principal{
		Name: name, BaseLength: 38, Attributes: attrs,
		MaxLife: 86400, MaxRenewableLife: 604800,
	}
	p.TLData = append(p.TLData,
		dumpfmt.TLData{Type: dumpfmt.TLLastPwdChange, Contents: dumpfmt.EncodeTime(t)},
		dumpfmt.TLData{Type: dumpfmt.TLModPrinc, Contents: dumpfmt.EncodeModPrinc(t, "kadmin/admin@"+g.cfg.Realm)},
		dumpfmt.TLData{Type: dumpfmt.TLMkvno, Contents: []byte{1, 0}},
	)
	if g.kadm {
		k := dumpfmt.KadmData{AdminHistoryKvno: 1}
		p.TLData = append(p.TLData, dumpfmt.TLData{Type: dumpfmt.TLKadmData, Contents: k.Encode()})
	}
	salted := g.rnd.IntN(8) == 0
	for v := kvnos; v >= 1; v-- {
		for e := 0; e < nEnc; e++ {
			kd := dumpfmt.KeyData{Version: 1, Kvno: uint16(v)}
			// 2-byte length, then confounder + key + HMAC under AES.
			if e == 0 {
				kd.Enctype = 18
				kd.Key = append([]byte{32, 0}, g.bytes(60)...)
			} else {
				kd.Enctype = 17
				kd.Key = append([]byte{16, 0}, g.bytes(44)...)
			}
			if salted {
				kd.Version, kd.SaltType, kd.Salt = 2, 4, []byte(name)
			}
			p.KeyData = append(p.KeyData, kd)
		}
	}
	return p
}

func (g *gen) setPolicy(p *dumpfmt.Principal, pol string) {
	if !g.kadm {
		return
	}
	for i := range p.TLData {
		if p.TLData[i].Type == dumpfmt.TLKadmData {
			k := dumpfmt.KadmData{Policy: pol, AuxAttributes: 0x800, AdminHistoryKvno: 1}
			p.TLData[i].Contents = k.Encode()
		}
	}
}

// Indexes sortedNames gives the principals every realm has.
const (
	idxMaster  = -1 // K/M@REALM
	idxHistory = -2 // kadmin/history@REALM
	idxTGS     = -3 // krbtgt/REALM@REALM
)

// nameStream yields names of one shape in increasing order.
type nameStream struct {
	next func(k int) (name string, i int, ok bool)
	k    int
	name string
	i    int
	ok   bool
}

func (s *nameStream) advance() {
	s.name, s.i, s.ok = s.next(s.k)
	s.k++
}

// sortedNames yields the principal names of a generated dump with n bulk
// principals in the order kdb5_util dump writes them from MIT's db2
// backend: a btree keyed by the unparsed name, compared byte by byte
// (unsigned, a shorter name before its extensions), so "HTTP/..." comes
// before "K/M@...", and "j\u00f6rg..." (UTF-8) after "host/...". Bulk
// principal i gets one of six shapes by i%10, with its number zero-padded
// so that numeric order is byte order; the yielded index is i, or one of
// the idx constants.
func sortedNames(realm string, n int) func(yield func(string, int) bool) {
	width := max(7, len(fmt.Sprint(n)))
	// every returns the k-th i below n with i%10 in residues.
	every := func(residues ...int) func(k int) (int, bool) {
		return func(k int) (int, bool) {
			i := k/len(residues)*10 + residues[k%len(residues)]
			return i, i < n
		}
	}
	bulk := func(format string, residues ...int) func(k int) (string, int, bool) {
		at := every(residues...)
		return func(k int) (string, int, bool) {
			i, ok := at(k)
			if !ok {
				return "", 0, false
			}
			return fmt.Sprintf(format, width, i, realm), i, true
		}
	}
	single := func(name string, idx int) func(k int) (string, int, bool) {
		return func(k int) (string, int, bool) { return name, idx, k == 0 }
	}
	userAt := every(0, 1, 2, 3, 4, 5, 8)
	users := func(k int) (string, int, bool) {
		i, ok := userAt(k)
		if !ok {
			return "", 0, false
		}
		if i%10 == 8 {
			return fmt.Sprintf("user%0*d/admin@%s", width, i, realm), i, true
		}
		return fmt.Sprintf("user%0*d@%s", width, i, realm), i, true
	}
	return func(yield func(string, int) bool) {
		streams := []*nameStream{
			{next: bulk("HTTP/www%0*d.example.com@%s", 7)},
			{next: single("K/M@"+realm, idxMaster)},
			{next: bulk("host/node%0*d.example.com@%s", 6)},
			{next: bulk("j\u00f6rg%0*d@%s", 9)},
			{next: single("kadmin/history@"+realm, idxHistory)},
			{next: single("krbtgt/"+realm+"@"+realm, idxTGS)},
			{next: users},
		}
		for _, s := range streams {
			s.advance()
		}
		for {
			var min *nameStream
			for _, s := range streams {
				if s.ok && (min == nil || s.name < min.name) {
					min = s
				}
			}
			if min == nil {
				return
			}
			if !yield(min.name, min.i) {
				return
			}
			min.advance()
		}
	}
}
