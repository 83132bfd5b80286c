package replica

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/mitrealm"
)

func TestQuoteArg(t *testing.T) {
	for in, want := range map[string]string{
		`a@R`:       `"a@R"`,
		`x y@R`:     `"x y@R"`,
		`q"u""o@R`:  `"q""u""""o@R"`,
		`a\/b@R`:    `"a\/b@R"`,
		`-force@R`:  `"-force@R"`,
		"tab\\t@R":  "\"tab\\t@R\"",
		``:          `""`,
		`!shell@R`:  `"!shell@R"`,
		"é/ü@RÉALM": "\"é/ü@RÉALM\"",
	} {
		got, err := QuoteArg(in)
		if err != nil || got != want {
			t.Errorf("QuoteArg(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"a\nb", "a\rb", "a\x00b"} {
		if _, err := QuoteArg(bad); err == nil {
			t.Errorf("QuoteArg(%q) accepted", bad)
		}
	}
}

const terseAlice = "\"alice@R\"\t0\t1796128196\t0\t86400\t\"root/admin@R\"\t1796128196\t128\t2\t1\t\"[none]\"\t0\t1796000000\t-1\t2\t2\t1\t2\t18\t0\t2\t2\t17\t3"

func TestParseTerse(t *testing.T) {
	got, err := parseTerse(terseAlice)
	if err != nil {
		t.Fatal(err)
	}
	if got.name != "alice@R" || got.modName != "root/admin@R" || got.lastPwdChange != 1796128196 || got.attributes != 128 ||
		got.kvno != 2 || got.lastSuccess != 1796000000 || got.lastFailed != 0xffffffff || got.failAuthCount != 2 ||
		len(got.keys) != 2 || got.keys[1] != (terseKey{2, 2, 17, 3}) || got.policy != "[none]" || got.maxLife != 86400 {
		t.Fatalf("%+v", got)
	}
	for _, bad := range []string{
		"",
		strings.Replace(terseAlice, "\t2\t1\t2\t18", "\t3\t1\t2\t18", 1), // key count
		strings.Replace(terseAlice, `"alice@R"`, `alice@R`, 1),
		strings.Replace(terseAlice, "86400", "86400x", 1),
		strings.Replace(terseAlice, "86400", "99999999999", 1),
	} {
		if _, err := parseTerse(bad); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

func TestParseGetprincs(t *testing.T) {
	names := []string{"alice@R", "nobody@R", `odd "name"@R`}
	stdout := "Authenticating as principal root/admin@R with password.\n" +
		"kadmin.local:  getprinc -terse \"alice@R\"\n" + terseAlice + "\n" +
		"kadmin.local:  getprinc -terse \"nobody@R\"\n" +
		"kadmin.local:  getprinc -terse \"odd \"\"name\"\"@R\"\nkadmin.local:  "
	stderr := "get_principal: Principal does not exist while retrieving \"nobody@R\".\n" +
		"get_principal: Invalid argument while unparsing principal \"odd \"name\"@R\"\n" +
		"some warning\n"
	cur, unreadable, err := parseGetprincs("kadmin.local", names, []byte(stdout), []byte(stderr))
	if err != nil {
		t.Fatal(err)
	}
	if cur["alice@R"] == nil || cur["nobody@R"] != nil || len(cur) != 2 {
		t.Fatalf("cur %v", cur)
	}
	if why := unreadable[`odd "name"@R`]; !strings.Contains(why, "Invalid argument") || len(unreadable) != 1 {
		t.Fatalf("unreadable %v", unreadable)
	}
	// Without the prompt's line break.
	cur, _, err = parseGetprincs("kadmin.local", names[:1], []byte("kadmin.local:  "+terseAlice+"\n"), nil)
	if err != nil || cur["alice@R"] == nil {
		t.Fatalf("%v %v", cur, err)
	}
	// A record nobody asked for, or one twice.
	if _, _, err := parseGetprincs("kadmin.local", []string{"bob@R"}, []byte(terseAlice+"\n"), nil); err == nil {
		t.Error("accepted a record of another principal")
	}
	if _, _, err := parseGetprincs("kadmin.local", []string{"alice@R"}, []byte(terseAlice+"\n"+terseAlice+"\n"), nil); err == nil {
		t.Error("accepted a record twice")
	}
	if _, _, err := parseGetprincs("kadmin.local", []string{"alice@R"}, []byte(terseAlice+"\n"),
		[]byte("get_principal: Principal does not exist while retrieving \"alice@R\".\n")); err == nil {
		t.Error("accepted a principal both shown and missing")
	}
}

func TestCheckDelprincs(t *testing.T) {
	names := []string{"a@R", "b@R", `c "x"@R`}
	stdout := "kadmin.local:  delprinc -force \"a@R\"\nPrincipal \"a@R\" deleted.\nMake sure that you have removed this principal from all ACLs before reusing.\n" +
		"kadmin.local:  delprinc -force \"c \"\"x\"\"@R\"\nPrincipal \"c \"x\"@R\" deleted.\n"
	stderr := "delete_principal: Principal does not exist while deleting principal \"b@R\"\n"
	if err := checkDelprincs("kadmin.local", names, []byte(stdout), []byte(stderr)); err != nil {
		t.Fatal(err)
	}
	err := checkDelprincs("kadmin.local", names, []byte(stdout), []byte("delete_principal: Cannot lock database while deleting principal \"b@R\"\n"))
	var te *ToolError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "Cannot lock database") {
		t.Fatalf("got %v", err)
	}
}

func TestSameRecord(t *testing.T) {
	p := &dumpfmt.Principal{Name: "alice@R", BaseLength: 38, Attributes: 128, MaxLife: 86400,
		TLData: []dumpfmt.TLData{
			{Type: dumpfmt.TLModPrinc, Contents: dumpfmt.EncodeModPrinc(1796128196, "root/admin@R")},
			{Type: dumpfmt.TLLastPwdChange, Contents: dumpfmt.EncodeTime(1796128196)},
		},
		KeyData: []dumpfmt.KeyData{
			{Version: 1, Kvno: 2, Enctype: 18, Key: []byte{1}},
			{Version: 2, Kvno: 2, Enctype: 17, Key: []byte{1}, SaltType: 3},
		},
	}
	tr, err := parseTerse(terseAlice)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameRecord(tr, p); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(q *dumpfmt.Principal){
		"flags":  func(q *dumpfmt.Principal) { q.Attributes = 0 },
		"life":   func(q *dumpfmt.Principal) { q.MaxLife = 1 },
		"kvno":   func(q *dumpfmt.Principal) { q.KeyData[0].Kvno = 3 },
		"salt":   func(q *dumpfmt.Principal) { q.KeyData[1].SaltType = 0 },
		"keys":   func(q *dumpfmt.Principal) { q.KeyData = q.KeyData[:1] },
		"modder": func(q *dumpfmt.Principal) { q.TLData[0].Contents = dumpfmt.EncodeModPrinc(1796128196, "bob@R") },
		"pwd":    func(q *dumpfmt.Principal) { q.TLData = q.TLData[:1] },
		"expire": func(q *dumpfmt.Principal) { q.Expiration = 5 },
	} {
		q := p.Clone()
		change(q)
		if err := sameRecord(tr, q); !errors.Is(err, errMismatch) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Principal names that need quoting, read and deleted by the real
// kadmin.local: the parser must give it back every name unchanged.
func TestKadminQuotingMIT(t *testing.T) {
	bins := mitrealm.Require(t, "kadmin.local", "kdb5_util")
	p := mitrealm.NewPrimary(t, mitrealm.Options{})
	names := []string{`say"hi"`, `-force`, `-terse`, `two  spaces`, `back\\slash`, `tab\tname`, `a\/b/c`, `at\@sign`, `"quoted"`, `!bang`, `trailing `}
	var want []string
	for _, n := range names {
		q, err := QuoteArg(n)
		if err != nil {
			t.Fatal(err)
		}
		p.Kadmin(t, "addprinc -randkey -clearpolicy "+q)
		want = append(want, n+"@"+p.Realm)
	}
	cfg := &Config{Realm: p.Realm, KDB5Util: bins["kdb5_util"], KadminLocal: bins["kadmin.local"], Env: p.Env()}
	tl, err := newTools(cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cur, unreadable, err := tl.getprincs(ctx, append(want, "absent@"+p.Realm))
	if err != nil || len(unreadable) > 0 {
		t.Fatal(err, unreadable)
	}
	for _, n := range want {
		if cur[n] == nil || cur[n].name != n {
			t.Errorf("%s: %+v", n, cur[n])
		}
	}
	if r, ok := cur["absent@"+p.Realm]; !ok || r != nil {
		t.Error("absent principal not reported missing")
	}
	if err := tl.delprincs(ctx, append(want, "absent@"+p.Realm)); err != nil {
		t.Fatal(err)
	}
	if cur, _, _ = tl.getprincs(ctx, want); len(cur) != len(want) {
		t.Fatal(cur)
	}
	for _, n := range want {
		if cur[n] != nil {
			t.Errorf("%s not deleted", n)
		}
	}
}

// kadmin.local is found beside kdb5_util, or where an MIT build tree has
// it.
func TestFindKadminLocal(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"sbin", "src/kadmin/dbutil", "src/kadmin/cli"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "sbin/kadmin.local"), nil, 0o755)
	os.WriteFile(filepath.Join(dir, "src/kadmin/cli/kadmin.local"), nil, 0o755)
	if got := findKadminLocal(filepath.Join(dir, "sbin/kdb5_util")); got != filepath.Join(dir, "sbin/kadmin.local") {
		t.Errorf("installed: %s", got)
	}
	if got := findKadminLocal(filepath.Join(dir, "src/kadmin/dbutil/kdb5_util")); got != filepath.Join(dir, "src/kadmin/dbutil/../cli/kadmin.local") {
		t.Errorf("build tree: %s", got)
	}
}
