package merge

import (
	"errors"
	"reflect"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/krb5"
)

func princ(realm string, comps ...string) iprop.Principal {
	p := iprop.Principal{Realm: realm, NameType: 1}
	for _, c := range comps {
		p.Components = append(p.Components, iprop.Component{Data: c})
	}
	return p
}

func u32(t iprop.AttrType, v uint32) iprop.Attr { return iprop.Attr{Type: t, Uint32: v} }

func base() *dumpfmt.Principal {
	return &dumpfmt.Principal{
		Name: "alice@R", BaseLength: 38, Attributes: 0x80, MaxLife: 36000, MaxRenewableLife: 604800,
		LastSuccess: 10, LastFailed: 20, FailAuthCount: 3,
		TLData:  []dumpfmt.TLData{{Type: 2, Contents: dumpfmt.EncodeModPrinc(5, "kadmin@R")}, {Type: 1, Contents: dumpfmt.EncodeTime(5)}},
		KeyData: []dumpfmt.KeyData{{Version: 1, Kvno: 1, Enctype: 18, Key: []byte{32, 0, 1}}},
	}
}

func TestApplyScalarsAndLockout(t *testing.T) {
	cur := base()
	keep := cur.Clone()
	u := &iprop.Update{Principal: "alice@R", Attrs: []iprop.Attr{
		u32(iprop.AttrFlags, 0xffffffff), u32(iprop.AttrMaxLife, 7200), u32(iprop.AttrMaxRenewLife, 1),
		u32(iprop.AttrExp, 0x90000000), u32(iprop.AttrPwExp, 2),
		u32(iprop.AttrLastSuccess, 99), u32(iprop.AttrLastFailed, 98), u32(iprop.AttrFailAuthCount, 97),
		{Type: iprop.AttrModWhere, String: "x"}, {Type: iprop.AttrPwPolicy, String: "p"},
		{Type: iprop.AttrPwPolicySwitch, Bool: true}, u32(iprop.AttrPwHistKvno, 3),
		{Type: iprop.AttrPwHist, PwHist: [][]iprop.Key{nil}}, {Type: 77, Extension: []byte{1}},
	}}
	p, err := Apply(cur, u)
	if err != nil {
		t.Fatal(err)
	}
	if p.Attributes != -1 || p.MaxLife != 7200 || p.MaxRenewableLife != 1 || p.Expiration != 0x90000000 || p.PasswordExpiration != 2 {
		t.Errorf("scalars: %+v", p)
	}
	if p.LastSuccess != 10 || p.LastFailed != 20 || p.FailAuthCount != 3 {
		t.Errorf("lockout state not kept: %+v", p)
	}
	if !reflect.DeepEqual(p.TLData, keep.TLData) || !reflect.DeepEqual(p.KeyData, keep.KeyData) || p.Name != "alice@R" {
		t.Errorf("ignored attributes changed the record: %+v", p)
	}
	if !reflect.DeepEqual(cur, keep) {
		t.Error("Apply modified its input")
	}
}

func TestApplyTLData(t *testing.T) {
	u := &iprop.Update{Principal: "alice@R", Attrs: []iprop.Attr{
		{Type: iprop.AttrTLData, TLData: []iprop.TLData{{Type: 3, Data: []byte("kadm")}, {Type: 1, Data: []byte{9, 0, 0, 0}}, {Type: 11, Data: []byte("a\x00b\x00")}}},
		u32(iprop.AttrPwLastChange, 0x01020304),
		{Type: iprop.AttrModPrinc, Principal: princ("R", "first")},
		{Type: iprop.AttrModPrinc, Principal: princ("R", "kadmin", "admin")},
		u32(iprop.AttrModTime, 0x11223344),
	}}
	p, err := Apply(base(), u)
	if err != nil {
		t.Fatal(err)
	}
	// New types go in front, in the order they come; existing ones are
	// replaced where they are.
	want := []dumpfmt.TLData{
		{Type: 11, Contents: []byte("a\x00b\x00")},
		{Type: 3, Contents: []byte("kadm")},
		{Type: 2, Contents: dumpfmt.EncodeModPrinc(0x11223344, "kadmin/admin@R")},
		{Type: 1, Contents: []byte{4, 3, 2, 1}},
	}
	if !reflect.DeepEqual(p.TLData, want) {
		t.Errorf("tl-data\n%v\nwant\n%v", p.TLData, want)
	}
	// A modifier without a time, or with time 0, is not recorded.
	for _, attrs := range [][]iprop.Attr{
		{{Type: iprop.AttrModPrinc, Principal: princ("R", "x")}},
		{{Type: iprop.AttrModPrinc, Principal: princ("R", "x")}, u32(iprop.AttrModTime, 0)},
		{u32(iprop.AttrModTime, 5)},
	} {
		p, err := Apply(base(), &iprop.Update{Principal: "alice@R", Attrs: attrs})
		if err != nil || !reflect.DeepEqual(p.TLData, base().TLData) {
			t.Errorf("%v: %v %v", attrs, p.TLData, err)
		}
	}
	// Database arguments are not storable.
	_, err = Apply(base(), &iprop.Update{Principal: "alice@R", Attrs: []iprop.Attr{{Type: iprop.AttrTLData, TLData: []iprop.TLData{{Type: 0x7fff, Data: []byte("x\x00")}}}}})
	if !errors.Is(err, ErrUnstorable) {
		t.Errorf("db args: %v", err)
	}
}

func TestApplyKeys(t *testing.T) {
	keys := []iprop.Key{
		{Version: 1, Kvno: 2, Types: []int32{17}, Contents: [][]byte{{16, 0, 1}}},
		{Version: 2, Kvno: 0x10003, Types: []int32{18, 0x10003}, Contents: [][]byte{{32, 0, 2}, []byte("salt")}},
		{Version: 1, Kvno: 2, Types: []int32{18, 99}, Contents: [][]byte{{32, 0, 3}, []byte("ignored")}},
		{Version: 1, Kvno: 5, Types: []int32{-1}, Contents: [][]byte{nil}},
	}
	p, err := Apply(base(), &iprop.Update{Principal: "alice@R", Attrs: []iprop.Attr{{Type: iprop.AttrKeyData, Keys: keys}}})
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by descending kvno, stably; kvno and types cut to 16 bits;
	// only Version pairs kept.
	want := []dumpfmt.KeyData{
		{Version: 1, Kvno: 5, Enctype: -1},
		{Version: 2, Kvno: 3, Enctype: 18, Key: []byte{32, 0, 2}, SaltType: 3, Salt: []byte("salt")},
		{Version: 1, Kvno: 2, Enctype: 17, Key: []byte{16, 0, 1}},
		{Version: 1, Kvno: 2, Enctype: 18, Key: []byte{32, 0, 3}},
	}
	if !reflect.DeepEqual(p.KeyData, want) {
		t.Errorf("keys\n%+v\nwant\n%+v", p.KeyData, want)
	}
	// An empty key list replaces the keys too.
	p, err = Apply(base(), &iprop.Update{Principal: "alice@R", Attrs: []iprop.Attr{{Type: iprop.AttrKeyData}}})
	if err != nil || len(p.KeyData) != 0 {
		t.Errorf("empty key list: %v %v", p.KeyData, err)
	}
	for _, k := range []iprop.Key{
		{Version: 3, Types: []int32{1, 2, 3}, Contents: [][]byte{nil, nil, nil}},
		{Version: 0},
		{Version: 2, Types: []int32{18}, Contents: [][]byte{nil, nil}},
		{Version: 1, Types: []int32{18}},
	} {
		_, err := Apply(base(), &iprop.Update{Principal: "alice@R", Attrs: []iprop.Attr{{Type: iprop.AttrKeyData, Keys: []iprop.Key{k}}}})
		if !errors.Is(err, ErrUnstorable) {
			t.Errorf("%+v: %v", k, err)
		}
	}
}

func TestApplyNewPrincipal(t *testing.T) {
	u := &iprop.Update{Principal: "new@R", Attrs: []iprop.Attr{
		{Type: iprop.AttrPrinc, Principal: princ("R", "new")}, {Type: iprop.AttrLen, Len: 38}, u32(iprop.AttrMaxLife, 5),
		u32(iprop.AttrFailAuthCount, 4),
	}}
	p, err := Apply(nil, u)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&dumpfmt.Principal{Name: "new@R", BaseLength: 38, MaxLife: 5}); !reflect.DeepEqual(p, want) {
		t.Errorf("%+v", p)
	}
	// No name, or a length db2 aborts on.
	for _, attrs := range [][]iprop.Attr{
		{{Type: iprop.AttrLen, Len: 38}},
		{{Type: iprop.AttrPrinc, Principal: princ("R", "new")}},
		{{Type: iprop.AttrPrinc, Principal: princ("R", "new")}, {Type: iprop.AttrLen, Len: 40}},
	} {
		if _, err := Apply(nil, &iprop.Update{Principal: "new@R", Attrs: attrs}); !errors.Is(err, ErrUnstorable) {
			t.Errorf("%v: %v", attrs, err)
		}
	}
	if _, err := Apply(nil, &iprop.Update{Principal: "new@R", Deleted: true}); err == nil {
		t.Error("Apply took a deletion")
	}
}

func TestNames(t *testing.T) {
	// Components are copied with strncpy: bytes after a NUL become NUL.
	n := fromIprop(&iprop.Principal{Realm: "R@/", Components: []iprop.Component{{Data: "a/b"}, {Data: "x\x00y"}, {Data: "tab\there"}}})
	if got := n.String(); got != `a\/b/x\0\0/tab\there@R\@\/` {
		t.Errorf("unparse %q", got)
	}
	if got := (krb5.Principal{Realm: "R"}).String(); got != "@R" {
		t.Errorf("no components: %q", got)
	}
	for in, want := range map[string]string{
		`a@R`: `a@R`, `a\b@R`: `a\b@R`, `\a\/b@R`: `a\/b@R`, `x\0y@R`: `x\0y@R`, `a@R\/S`: `a@R\/S`, `a//b@`: `a//b@`,
	} {
		got, err := Canonical(in)
		if err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`a`, `a@R@S`, `a@R/S`, `a\`, "a\x00@R"} {
		if _, err := Canonical(bad); !errors.Is(err, ErrName) {
			t.Errorf("Canonical(%q): %v", bad, err)
		}
	}
}

func TestFold(t *testing.T) {
	db := map[string]*dumpfmt.Principal{"alice@R": base(), "old@R": {Name: "old@R", BaseLength: 38, MaxLife: 1}}
	lookups := map[string]int{}
	get := func(n string) (*dumpfmt.Principal, error) {
		lookups[n]++
		if n == "broken@R" {
			return nil, errors.New("database unreadable")
		}
		return db[n], nil
	}
	add := func(sno uint32, n string, attrs ...iprop.Attr) iprop.Update {
		p, _ := krb5.ParseFullPrincipal(n)
		comps := p.Name.NameString
		attrs = append([]iprop.Attr{{Type: iprop.AttrPrinc, Principal: princ(p.Realm, comps...)}, {Type: iprop.AttrLen, Len: 38}}, attrs...)
		return iprop.Update{Principal: n, Sno: sno, Attrs: attrs, Commit: true}
	}
	del := func(sno uint32, n string) iprop.Update {
		return iprop.Update{Principal: n, Sno: sno, Deleted: true, Commit: true}
	}
	ups := []iprop.Update{
		add(1, "alice@R", u32(iprop.AttrMaxLife, 1)),
		add(2, "alice@R", u32(iprop.AttrMaxRenewLife, 2)),
		add(3, "tmp@R"),
		del(4, "tmp@R"),
		add(5, "new@R", u32(iprop.AttrMaxLife, 5)), // a rename old -> new
		del(6, "old@R"),
		add(7, "new@R"),
		del(8, "never@R"),
		add(9, `quoted\a@R`),
	}
	res, err := Fold(ups, get)
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != len(ups) {
		t.Errorf("applied %d", res.Applied)
	}
	if a := res.Put["alice@R"]; a == nil || a.MaxLife != 1 || a.MaxRenewableLife != 2 || a.FailAuthCount != 3 {
		t.Errorf("alice: %+v", a)
	}
	if n := res.Put["new@R"]; n == nil || n.MaxLife != 5 {
		t.Errorf("new: %+v", n)
	}
	if res.Put[`quoteda@R`] == nil {
		t.Errorf("quoted name not canonical: %v", res.Put)
	}
	if len(res.Put) != 3 || !res.Delete["tmp@R"] || !res.Delete["old@R"] || !res.Delete["never@R"] || len(res.Delete) != 3 {
		t.Errorf("puts %v deletes %v", res.Put, res.Delete)
	}
	for n, c := range lookups {
		if c != 1 {
			t.Errorf("%s looked up %d times", n, c)
		}
	}
	// An uncommitted update ends the batch, as in MIT's replay loop.
	ups[2].Commit = false
	res, err = Fold(ups, get)
	if err != nil || res.Applied != 2 || len(res.Put) != 1 || len(res.Delete) != 0 {
		t.Errorf("uncommitted: %+v %v", res, err)
	}
	// Errors of the lookup and of Apply stop the fold.
	if _, err := Fold([]iprop.Update{add(1, "broken@R")}, get); err == nil {
		t.Error("lookup error ignored")
	}
	if _, err := Fold([]iprop.Update{{Principal: "x@R", Commit: true}}, get); !errors.Is(err, ErrUnstorable) {
		t.Errorf("unstorable: %v", err)
	}
	if _, err := Fold([]iprop.Update{{Principal: "x", Commit: true}}, get); !errors.Is(err, ErrName) {
		t.Errorf("bad name: %v", err)
	}
}
