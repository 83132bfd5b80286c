package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
)

func runCmd(t *testing.T, stdin []byte, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, bytes.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const mitDir = "../../dumpfmt/testdata/mit"

func TestCheck(t *testing.T) {
	good := filepath.Join(mitDir, "dump-r111")
	code, out, _ := runCmd(t, nil, "check", good, filepath.Join(mitDir, "dump-i0"))
	want := good + ": ok: 9 principals, 2 policies, format 7 (r1.11)\n" +
		mitDir + "/dump-i0: ok: 9 principals, 2 policies, format iprop\n"
	if code != 0 || out != want {
		t.Fatalf("code %d, out %q", code, out)
	}
	data, _ := os.ReadFile(good)
	bad := writeFile(t, "bad", bytes.Replace(data, []byte("\t-1;\n"), []byte("\t-1;x\n"), 1))
	code, out, errs := runCmd(t, nil, "check", good, bad)
	if code != 1 || !strings.HasPrefix(errs, bad+":2: field e_data: trailing garbage") || !strings.Contains(out, "dump-r111: ok") {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	// Standard input, JSON.
	code, out, _ = runCmd(t, data, "check", "--json", "-")
	var res []checkResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || len(res) != 1 || !res[0].OK || res[0].Principals != 9 || res[0].Realm != "DUMPFMT.TEST" {
		t.Fatalf("json %d %q %v", code, out, err)
	}
	// Truncated input fails.
	code, _, errs = runCmd(t, data[:len(data)-10], "check", "-")
	if code != 1 || !strings.Contains(errs, "truncated dump") {
		t.Fatalf("truncated: %d %q", code, errs)
	}
	// Missing file is an I/O error, not a verdict.
	if code, _, _ := runCmd(t, nil, "check", filepath.Join(t.TempDir(), "nope")); code != 2 {
		t.Fatalf("missing file: %d", code)
	}
}

func TestCheckStash(t *testing.T) {
	stash := filepath.Join(mitDir, "stash")
	data, _ := os.ReadFile(filepath.Join(mitDir, "dump-r111"))
	for _, args := range [][]string{{"check", "--stash", stash, filepath.Join(mitDir, "dump-r111")}, {"check", "--stash", stash, "-"}} {
		code, out, errs := runCmd(t, data, args...)
		if code != 0 || !strings.Contains(out, "master key ok, 15 keys decrypted") {
			t.Fatalf("%v: %d %q %q", args, code, out, errs)
		}
	}
	// A stash from another realm does not verify.
	keys, _ := dumpfmt.ReadStashFile(stash)
	k := keys[0].Key
	k.KeyValue = bytes.Repeat([]byte{7}, len(k.KeyValue))
	other := append([]byte{byte(k.KeyType), 0, byte(len(k.KeyValue)), 0, 0, 0}, k.KeyValue...)
	code, _, errs := runCmd(t, data, "check", "--stash", writeFile(t, "stash", other), "-")
	if code != 1 || !strings.Contains(errs, "master key does not match") {
		t.Fatalf("wrong stash: %d %q", code, errs)
	}
}

func TestCat(t *testing.T) {
	for _, f := range []string{"dump-b7", "dump-r13", "dump-r18", "dump-r111", "dump-i0", "dump-i1"} {
		data, err := os.ReadFile(filepath.Join(mitDir, f))
		if err != nil {
			t.Fatal(err)
		}
		code, out, errs := runCmd(t, data, "cat", "-")
		if code != 0 || out != string(data) {
			t.Errorf("%s: code %d err %q, identical %v", f, code, errs, out == string(data))
		}
	}
	data, _ := os.ReadFile(filepath.Join(mitDir, "dump-r111"))
	code, out, _ := runCmd(t, data, "cat", "--json", "-")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 11 {
		t.Fatalf("json cat: %d, %d lines", code, len(lines))
	}
	found := false
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["name"] == "alice@DUMPFMT.TEST" {
			found = m["policy"] == "lockpol" && reflect.DeepEqual(m["string_attrs"], map[string]any{"foo": "bar"}) &&
				len(m["key_data"].([]any)) == 4 && m["realm"] == "DUMPFMT.TEST"
		}
	}
	if !found {
		t.Error("alice's JSON record lacks decoded fields")
	}
	code, _, errs := runCmd(t, []byte("kdb5_util load_dump version 9\n"), "cat", "-")
	if code != 1 || !strings.Contains(errs, "-:1: unrecognised dump header") {
		t.Errorf("bad header: %d %q", code, errs)
	}
}

func TestList(t *testing.T) {
	code, out, _ := runCmd(t, nil, "list", filepath.Join(mitDir, "dump-r111"))
	names := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(names) != 9 || names[0] != "K/M@DUMPFMT.TEST" || !strings.Contains(out, "h\u00e9llo/w\u00f6rld@DUMPFMT.TEST\n") {
		t.Fatalf("%d %q", code, out)
	}
	code, out, _ = runCmd(t, nil, "list", "--json", filepath.Join(mitDir, "dump-r111"))
	var got []string
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 || !reflect.DeepEqual(got, names) {
		t.Fatalf("json list %q %v", out, err)
	}
}

// lockoutDump holds principals in every lockout state MIT distinguishes.
func lockoutDump(t *testing.T, now uint32) []byte {
	var b bytes.Buffer
	w := dumpfmt.NewWriter(&b, dumpfmt.Header{Format: dumpfmt.FormatR111})
	princ := func(name, pol string, count int32, lastFailed uint32, unlock uint32, pwexp uint32) {
		p := &dumpfmt.Principal{Name: name + "@R.TEST", BaseLength: 38, FailAuthCount: count, LastFailed: lastFailed, PasswordExpiration: pwexp}
		if pol != "" {
			k := dumpfmt.KadmData{Policy: pol, AuxAttributes: 0x800}
			p.TLData = append(p.TLData, dumpfmt.TLData{Type: dumpfmt.TLKadmData, Contents: k.Encode()})
		}
		if unlock != 0 {
			p.TLData = append(p.TLData, dumpfmt.TLData{Type: dumpfmt.TLLastAdminUnlock, Contents: dumpfmt.EncodeTime(unlock)})
		}
		p.KeyData = []dumpfmt.KeyData{{Version: 1, Kvno: 3, Enctype: 18, Key: make([]byte, 62)}}
		if err := w.WritePrincipal(p); err != nil {
			t.Fatal(err)
		}
	}
	princ("K/M", "", 0, 0, 0, 0)
	princ("krbtgt/R.TEST", "", 0, 0, 0, 0)
	princ("locked", "lock", 3, now-100, 0, 0)
	princ("lock-expired", "lock", 3, now-1000, 0, 0)
	princ("unlocked", "lock", 3, now-100, now-50, 0)
	princ("below", "lock", 2, now-100, 0, 0)
	princ("forever", "perm", 5, now-100000, 0, now-1)
	princ("nopolicy", "", 9, now-10, 0, 0)
	princ("dangling", "gone", 9, now-10, 0, 0)
	w.WritePolicy(&dumpfmt.Policy{Name: "lock", PwMaxFail: 3, PwLockoutDuration: 600})
	w.WritePolicy(&dumpfmt.Policy{Name: "perm", PwMaxFail: 5})
	w.WritePolicy(&dumpfmt.Policy{Name: "unused"})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestStats(t *testing.T) {
	const now = 1800000000
	data := lockoutDump(t, now)
	code, out, errs := runCmd(t, data, "stats", "--json", "--now", "1800000000", "-")
	if code != 0 {
		t.Fatalf("%d %q", code, errs)
	}
	var st stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.LockedOut, []string{"locked@R.TEST", "forever@R.TEST"}) {
		t.Errorf("locked out %v", st.LockedOut)
	}
	if !reflect.DeepEqual(st.ExpiredPasswords, []string{"forever@R.TEST"}) {
		t.Errorf("expired passwords %v", st.ExpiredPasswords)
	}
	wantUse := []policyUse{{"gone", 1, false}, {"lock", 4, true}, {"perm", 1, true}}
	if !reflect.DeepEqual(st.PoliciesInUse, wantUse) {
		t.Errorf("policies in use %v", st.PoliciesInUse)
	}
	if st.Principals != 9 || st.Policies != 3 || st.Kvnos[3] != 9 || len(st.Enctypes) != 1 || st.Enctypes[0].Keys != 9 {
		t.Errorf("stats %+v", st)
	}
	code, out, _ = runCmd(t, data, "stats", "--now", "1800000000", "-")
	if code != 0 || !strings.Contains(out, "locked out: 2\n  locked@R.TEST\n  forever@R.TEST\n") || !strings.Contains(out, "gone") {
		t.Errorf("text stats:\n%s", out)
	}
}

func TestDiff(t *testing.T) {
	a := dumptest.Bytes(dumptest.Config{Principals: 50, Policies: 3, Seed: 5})
	fa := writeFile(t, "a", a)
	if code, out, _ := runCmd(t, nil, "diff", fa, fa); code != 0 || out != "" {
		t.Fatalf("equal: %d %q", code, out)
	}
	// Change one principal, drop one, add one, change a policy.
	r := dumpfmt.NewReader(bytes.NewReader(a))
	h, _ := r.Header()
	var b bytes.Buffer
	w := dumpfmt.NewWriter(&b, h)
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		switch p := rec.(type) {
		case *dumpfmt.Principal:
			switch p.Name {
			case "user0000003@EXAMPLE.COM":
				p.MaxLife = 3600
				p.KeyData = p.KeyData[:1]
			case "user0000004@EXAMPLE.COM":
				continue
			}
		case *dumpfmt.Policy:
			if p.Name == "pol001" {
				p.PwMinLength = 12
			}
		}
		w.Write(rec)
	}
	w.WritePrincipal(&dumpfmt.Principal{Name: "new@EXAMPLE.COM", BaseLength: 38})
	w.Flush()
	code, out, _ := runCmd(t, b.Bytes(), "diff", fa, "-")
	if code != 1 {
		t.Fatalf("code %d", code)
	}
	for _, want := range []string{
		"- principal user0000004@EXAMPLE.COM\n",
		"+ principal new@EXAMPLE.COM\n",
		"~ principal user0000003@EXAMPLE.COM: max_life (86400 -> 3600), keys (",
		"~ policy pol001: pw_min_length (8 -> 12)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCmd(t, b.Bytes(), "diff", "--json", fa, "-")
	var res diffResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || res.Equal || len(res.Added) != 1 || len(res.Removed) != 1 || len(res.Changed) != 2 {
		t.Fatalf("json diff %d %+v %v", code, res, err)
	}
	if code, _, _ := runCmd(t, []byte("junk\n"), "diff", fa, "-"); code != 2 {
		t.Fatalf("bad input: %d", code)
	}
}

func TestUsage(t *testing.T) {
	if code, _, _ := runCmd(t, nil); code != 2 {
		t.Error("no args")
	}
	if code, _, _ := runCmd(t, nil, "frobnicate"); code != 2 {
		t.Error("unknown command")
	}
	if code, _, _ := runCmd(t, nil, "cat"); code != 2 {
		t.Error("cat without file")
	}
}
