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
	iprop := cfg.Header.Format == dumpfmt.FormatIprop || cfg.Header.Format == dumpfmt.FormatIpropX

	// MIT's btree order puts K/M first for an upper-case realm; the order
	// does not matter to the loader.
	km := g.principal("K/M@"+realm, 1, 1, 0x00800040)
	km.TLData = append(km.TLData,
		dumpfmt.TLData{Type: dumpfmt.TLActKvno, Contents: []byte{1, 0, 1, 0, 0, 0, 0, 0}})
	if cfg.Master != nil {
		km = cfg.Master
	}
	if err := dw.WritePrincipal(km); err != nil {
		return err
	}
	policies := make([]string, cfg.Policies)
	for i := range policies {
		policies[i] = fmt.Sprintf("pol%03d", i)
	}
	for i := 0; i < cfg.Principals; i++ {
		var name string
		switch i % 10 {
		case 0, 1, 2, 3, 4, 5:
			name = fmt.Sprintf("user%07d@%s", i, realm)
		case 6:
			name = fmt.Sprintf("host/node%06d.example.com@%s", i, realm)
		case 7:
			name = fmt.Sprintf("HTTP/www%06d.example.com@%s", i, realm)
		case 8:
			name = fmt.Sprintf("user%07d/admin@%s", i, realm)
		case 9:
			name = fmt.Sprintf("j\u00f6rg%07d@%s", i, realm)
		}
		kvnos := 1 + g.rnd.IntN(3)
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
		if err := dw.WritePrincipal(p); err != nil {
			return err
		}
	}
	for _, p := range []*dumpfmt.Principal{
		g.principal("kadmin/history@"+realm, 1, 1, 0),
		g.principal("krbtgt/"+realm+"@"+realm, 1, 2, 0),
	} {
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
