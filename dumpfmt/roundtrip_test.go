package dumpfmt_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
)

// rewrite reads a dump and writes every record back.
func rewrite(t testing.TB, data []byte, reuse bool) ([]byte, dumpfmt.Header, int) {
	t.Helper()
	r := dumpfmt.NewReader(bytes.NewReader(data))
	r.ReuseRecord = reuse
	h, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := dumpfmt.NewWriter(&out, h)
	n := 0
	forEach(t, r, func(rec dumpfmt.Record) {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		n++
	})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), h, n
}

var allHeaders = []dumpfmt.Header{
	{Format: dumpfmt.FormatB7},
	{Format: dumpfmt.FormatR13},
	{Format: dumpfmt.FormatR18},
	{Format: dumpfmt.FormatR111},
	{Format: dumpfmt.FormatIprop, Serial: 42, Seconds: 1700000000, Microseconds: 123456},
	{Format: dumpfmt.FormatIpropX, IpropVersion: 1, Serial: 4294967295, Seconds: 1, Microseconds: 999999},
	{Format: dumpfmt.FormatIpropX, IpropVersion: 0, Serial: 7, Seconds: 2, Microseconds: 3},
}

func TestRoundTripGenerated(t *testing.T) {
	for _, h := range allHeaders {
		t.Run(h.Format.String(), func(t *testing.T) {
			data := dumptest.Bytes(dumptest.Config{Header: h, Principals: 300, Policies: 7, Seed: 1})
			for _, reuse := range []bool{false, true} {
				out, got, n := rewrite(t, data, reuse)
				if got != h {
					t.Errorf("header %+v, want %+v", got, h)
				}
				if n != 300+3+7 {
					t.Errorf("%d records, want %d", n, 310)
				}
				if !bytes.Equal(out, data) {
					t.Fatalf("reuse=%v: rewrite differs from input", reuse)
				}
			}
			s, err := dumpfmt.Validate(bytes.NewReader(data), dumpfmt.ValidateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Principals != 303 || s.Policies != 7 || s.Realm != "EXAMPLE.COM" || s.Bytes != int64(len(data)) {
				t.Errorf("summary %+v", s)
			}
		})
	}
}

// TestRoundTripMIT rewrites the dumps in testdata/mit, written by MIT's
// kdb5_util (see testdata/mkmit.sh).
func TestRoundTripMIT(t *testing.T) {
	files, _ := filepath.Glob("testdata/mit/dump-*")
	if len(files) != 6 {
		t.Fatalf("found %d MIT dumps, want 6", len(files))
	}
	want := map[string]dumpfmt.Format{
		"dump-b7": dumpfmt.FormatB7, "dump-r13": dumpfmt.FormatR13, "dump-r18": dumpfmt.FormatR18,
		"dump-r111": dumpfmt.FormatR111, "dump-i0": dumpfmt.FormatIprop, "dump-i1": dumpfmt.FormatIpropX,
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, h, _ := rewrite(t, data, false)
		if h.Format != want[filepath.Base(f)] {
			t.Errorf("%s: format %v", f, h.Format)
		}
		if !bytes.Equal(out, data) {
			t.Errorf("%s: rewrite differs", f)
		}
		if _, err := dumpfmt.Validate(bytes.NewReader(data), dumpfmt.ValidateOptions{FileName: f}); err != nil {
			t.Error(err)
		}
	}
}

func TestDecodeMITRecords(t *testing.T) {
	data, err := os.ReadFile("testdata/mit/dump-r111")
	if err != nil {
		t.Fatal(err)
	}
	r := dumpfmt.NewReader(bytes.NewReader(data))
	byName := map[string]dumpfmt.Record{}
	forEach(t, r, func(rec dumpfmt.Record) {
		byName[rec.RecordName()] = rec
	})
	alice := byName["alice@DUMPFMT.TEST"].(*dumpfmt.Principal)
	if pol, ok, err := alice.PolicyName(); pol != "lockpol" || !ok || err != nil {
		t.Errorf("alice policy %q %v %v", pol, ok, err)
	}
	if sa, err := alice.StringAttrs(); err != nil || len(sa) != 1 || sa[0] != (dumpfmt.StringAttr{Key: "foo", Value: "bar"}) {
		t.Errorf("alice string attrs %v %v", sa, err)
	}
	if _, by, ok, err := alice.ModPrinc(); !ok || err != nil || by != "root/admin@DUMPFMT.TEST" {
		t.Errorf("alice mod princ %q %v %v", by, ok, err)
	}
	if len(alice.KeyData) != 4 || alice.KeyData[0].Kvno != 2 || alice.KeyData[3].Kvno != 1 {
		t.Errorf("alice keys %+v", alice.KeyData)
	}
	nokey := byName["nokey@DUMPFMT.TEST"].(*dumpfmt.Principal)
	if len(nokey.KeyData) != 0 || nokey.Expiration != 1893456000 {
		t.Errorf("nokey %+v", nokey)
	}
	hello := byName["h\u00e9llo/w\u00f6rld@DUMPFMT.TEST"].(*dumpfmt.Principal)
	pn, err := hello.ParsedName()
	if err != nil || len(pn.Name.NameString) != 2 || pn.Name.NameString[1] != "w\u00f6rld" || pn.Realm != "DUMPFMT.TEST" {
		t.Errorf("parsed %+v %v", pn, err)
	}
	if k := hello.KeyData[0]; k.Version != 2 || k.SaltType != 4 || len(k.Salt) != 16 {
		t.Errorf("special salt key %+v", k)
	}
	lp := byName["lockpol"].(*dumpfmt.Policy)
	if lp.PwMaxFail != 3 || lp.PwFailcntInterval != 60 || lp.PwLockoutDuration != 120 ||
		lp.AllowedKeysalts != "aes256-cts:normal,aes128-cts:special" || lp.Form != dumpfmt.PolicyFormR111 {
		t.Errorf("lockpol %+v", lp)
	}
	km := byName["K/M@DUMPFMT.TEST"].(*dumpfmt.Principal)
	if act, err := km.ActKvnos(); err != nil || len(act) != 1 || act[0].Kvno != 1 {
		t.Errorf("K/M actkvno %v %v", act, err)
	}
}

// TestPolicyR18InVersion7 checks that 1.8-layout policy lines, which MIT
// accepts in version 7 and ipropx dumps, are read and rewritten as such.
func TestPolicyR18InVersion7(t *testing.T) {
	base := dumptest.Bytes(dumptest.Config{Principals: 1})
	data := append(base, "policy\told\t0\t0\t1\t1\t1\t0\t3\t60\t120\n"...)
	out, _, _ := rewrite(t, data, true)
	if !bytes.Equal(out, data) {
		t.Fatalf("rewrite differs:\n%q", out[len(base):])
	}
}

func TestWriterRefusesLoss(t *testing.T) {
	for _, tc := range []struct {
		h   dumpfmt.Header
		rec dumpfmt.Record
	}{
		{dumpfmt.Header{Format: dumpfmt.FormatR13}, &dumpfmt.Policy{Name: "p", PwMaxFail: 3}},
		{dumpfmt.Header{Format: dumpfmt.FormatR18}, &dumpfmt.Policy{Name: "p", AllowedKeysalts: "aes256-cts:normal"}},
		{dumpfmt.Header{Format: dumpfmt.FormatR111}, &dumpfmt.Policy{Name: "p", AllowedKeysalts: "-"}},
		{dumpfmt.Header{Format: dumpfmt.FormatR111}, &dumpfmt.Policy{Name: "a b"}},
		{dumpfmt.Header{Format: dumpfmt.FormatR18}, &dumpfmt.Policy{Name: "p", Form: dumpfmt.PolicyFormB7}},
		{dumpfmt.Header{Format: dumpfmt.FormatR111}, &dumpfmt.Principal{Name: "norealm"}},
		{dumpfmt.Header{Format: dumpfmt.FormatR111}, &dumpfmt.Principal{Name: "a@R", KeyData: []dumpfmt.KeyData{{Version: 3}}}},
		{dumpfmt.Header{Format: dumpfmt.FormatR111}, &dumpfmt.Principal{Name: "a@R", KeyData: []dumpfmt.KeyData{{Version: 1, Salt: []byte("x")}}}},
		{dumpfmt.Header{Format: dumpfmt.FormatR111}, &dumpfmt.Principal{Name: "a@R", TLData: []dumpfmt.TLData{{Contents: make([]byte, 70000)}}}},
		{dumpfmt.Header{Format: dumpfmt.FormatIpropX, IpropVersion: 2}, &dumpfmt.Principal{Name: "a@R"}},
	} {
		w := dumpfmt.NewWriter(io.Discard, tc.h)
		err := w.Write(tc.rec)
		if err == nil || !(errors.Is(err, dumpfmt.ErrNotRepresentable) || errors.Is(err, dumpfmt.ErrName)) {
			t.Errorf("%+v in %v: err %v", tc.rec, tc.h.Format, err)
		}
	}
}
