package interop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
	"github.com/gokprop/gokprop/internal/mitrealm"
)

// dumpFormat is one format kdb5_util writes, with the flags that write and
// load it.
type dumpFormat struct {
	name      string
	dumpFlags []string
	loadFlags []string
	iprop     bool // needs iprop enabled (kdb5_util's -i)
	want      dumpfmt.Format
}

var dumpFormats = []dumpFormat{
	{"b7", []string{"-b7"}, []string{"-b7"}, false, dumpfmt.FormatB7},
	{"r13", []string{"-r13"}, []string{"-r13"}, false, dumpfmt.FormatR13},
	{"r18", []string{"-r18"}, []string{"-r18"}, false, dumpfmt.FormatR18},
	{"r111", nil, nil, false, dumpfmt.FormatR111},
	{"iprop", []string{"-i0"}, []string{"-i"}, true, dumpfmt.FormatIprop},
	{"ipropx", []string{"-i1"}, []string{"-i"}, true, dumpfmt.FormatIpropX},
}

// ipropEnv returns h's environment with a kdc.conf that also enables
// iprop, which kdb5_util needs for "dump -i" and "load -i". The harness
// realms do not enable it; nothing here listens on the iprop port.
func ipropEnv(t *testing.T, h *mitrealm.Host) []string {
	t.Helper()
	return kdcConfEnv(t, h, "iprop_enable = true", "iprop_port = 1", "iprop_logfile = "+filepath.Join(h.Dir, "ulog"))
}

// kdcConfEnv returns h.Env() with KRB5_KDC_PROFILE naming a copy of h's
// kdc.conf whose realm section has the given extra relations.
func kdcConfEnv(t *testing.T, h *mitrealm.Host, relations ...string) []string {
	t.Helper()
	conf, err := os.ReadFile(h.KDCConf)
	if err != nil {
		t.Fatal(err)
	}
	marker := h.Realm + " = {\n"
	i := bytes.Index(conf, []byte(marker))
	if i < 0 {
		t.Fatalf("no realm section in %s", h.KDCConf)
	}
	i += len(marker)
	var extra []byte
	for _, r := range relations {
		extra = append(extra, "\t\t"+r+"\n"...)
	}
	out := append(append(append([]byte(nil), conf[:i]...), extra...), conf[i:]...)
	f, err := os.CreateTemp(h.Dir, "kdc-*.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(out); err != nil {
		t.Fatal(err)
	}
	return mitrealm.SetEnv(h.Env(), "KRB5_KDC_PROFILE="+f.Name())
}

// kdbUtil runs kdb5_util on h, with iprop enabled when asked.
func kdbUtil(t *testing.T, h *mitrealm.Host, iprop bool, args ...string) {
	t.Helper()
	cmd := h.Command("kdb5_util", append([]string{"-r", h.Realm}, args...)...)
	if iprop {
		cmd.Env = ipropEnv(t, h)
	}
	if _, _, err := mitrealm.Exec(cmd, ""); err != nil {
		t.Fatal(err)
	}
}

func dumpWith(t *testing.T, h *mitrealm.Host, f dumpFormat) []byte {
	t.Helper()
	path := filepath.Join(h.Dir, "dump-"+f.name+fmt.Sprint(len(f.name)+len(t.Name())))
	os.Remove(path)
	kdbUtil(t, h, f.iprop, append(append([]string{"dump"}, f.dumpFlags...), path)...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dumpRealm builds a realm with varied content: mitrealm.Populate's mix
// (policies with lockout and allowed key/salts, principals with policies,
// string attributes, non-ASCII and escaped names, no-key principals,
// expirations, several enctypes and salts), a principal with four kvnos
// from cpw -keepold, and update-log entries so iprop headers carry a
// serial number.
func dumpRealm(t *testing.T) *mitrealm.Host {
	t.Helper()
	mitrealm.Require(t, "kdb5_util", "kadmin.local")
	primary := mitrealm.NewPrimary(t, mitrealm.Options{AllowDES3: true, AllowRC4: true})
	mitrealm.Populate(t, primary, 200)
	primary.Kadmin(t,
		"addprinc -pw First-Passw0rd -policy lockout keepold",
		"cpw -pw Second-Passw0rd -keepold keepold",
		"cpw -randkey -keepold keepold",
		"cpw -randkey -keepold keepold",
		"setstr keepold color blue",
		"setstr keepold shape round",
	)
	// A change made with iprop enabled lands in the update log.
	cmd := primary.Command("kadmin.local", "-r", primary.Realm, "-q", "modprinc -maxlife 5000 keepold")
	cmd.Env = ipropEnv(t, primary)
	if _, _, err := mitrealm.Exec(cmd, ""); err != nil {
		t.Fatal(err)
	}
	return primary
}

func readAll(t *testing.T, name string, data []byte) (dumpfmt.Header, []dumpfmt.Record) {
	t.Helper()
	r := dumpfmt.NewReader(bytes.NewReader(data))
	r.FileName = name
	h, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	var recs []dumpfmt.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return h, recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

func writeAll(t *testing.T, h dumpfmt.Header, recs []dumpfmt.Record) []byte {
	t.Helper()
	var b bytes.Buffer
	w := dumpfmt.NewWriter(&b, h)
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDumpFormatsRoundTrip reads each format MIT's kdb5_util dump writes
// and writes it back with dumpfmt, byte for byte; validates it; and
// decrypts every key with the realm's stash.
func TestDumpFormatsRoundTrip(t *testing.T) {
	primary := dumpRealm(t)
	stash, err := dumpfmt.ReadStashFile(primary.Stash)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range dumpFormats {
		t.Run(f.name, func(t *testing.T) {
			data := dumpWith(t, primary, f)
			h, recs := readAll(t, f.name, data)
			if h.Format != f.want {
				t.Fatalf("format %v, want %v", h.Format, f.want)
			}
			if f.iprop && h.Serial == 0 {
				t.Errorf("iprop header without a serial number: %+v", h)
			}
			if out := writeAll(t, h, recs); !bytes.Equal(out, data) {
				t.Fatalf("rewrite differs from MIT's dump (%d vs %d bytes)", len(out), len(data))
			}
			s, err := dumpfmt.Validate(bytes.NewReader(data), dumpfmt.ValidateOptions{FileName: f.name})
			if err != nil {
				t.Fatal(err)
			}
			if s.Principals < 200 || s.Policies != 4 || s.Realm != primary.Realm {
				t.Errorf("summary %+v", s)
			}
			// Content checks on what MIT wrote.
			var kr *dumpfmt.Keyring
			seen := map[string]bool{}
			for _, rec := range recs {
				p, ok := rec.(*dumpfmt.Principal)
				if !ok {
					if pol := rec.(*dumpfmt.Policy); pol.Name == mitrealm.PolicyLockout && f.want != dumpfmt.FormatB7 &&
						f.want != dumpfmt.FormatR13 && f.want != dumpfmt.FormatIprop && pol.PwMaxFail != 5 {
						t.Errorf("lockout policy %+v", pol)
					}
					continue
				}
				seen[p.Name] = true
				if p.IsMaster() {
					if kr, err = dumpfmt.NewKeyring(p, stash); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, name := range []string{"keepold", "nokey/admin", "ünïcødé", "用户/管理", `esc\/aped/inst`, "space name", "krbtgt/OTHER.TEST"} {
				if !seen[name+"@"+primary.Realm] {
					t.Errorf("%s missing from the dump", name)
				}
			}
			nkeys := 0
			for _, rec := range recs {
				p, ok := rec.(*dumpfmt.Principal)
				if !ok {
					continue
				}
				for i := range p.KeyData {
					if _, err := kr.DecryptKey(p, &p.KeyData[i]); err != nil {
						t.Errorf("%s key %d: %v", p.Name, i, err)
					}
					nkeys++
				}
				if p.Name == "keepold@"+primary.Realm {
					kvnos := map[uint16]bool{}
					for _, k := range p.KeyData {
						kvnos[k.Kvno] = true
					}
					if len(kvnos) != 4 {
						t.Errorf("keepold has kvnos %v, want 4", kvnos)
					}
					if sa, err := p.StringAttrs(); err != nil || len(sa) != 2 {
						t.Errorf("keepold string attributes %v %v", sa, err)
					}
					pol, ok, _ := p.PolicyName()
					if f.want == dumpfmt.FormatB7 {
						if ok {
							t.Errorf("version 4 dump carries policy %q", pol)
						}
					} else if pol != mitrealm.PolicyLockout {
						t.Errorf("keepold policy %q", pol)
					}
				}
			}
			if nkeys < 400 {
				t.Errorf("only %d keys decrypted", nkeys)
			}
		})
	}
}

// TestDumpWriterLoadsInMIT modifies records of an MIT dump, writes the
// dump with dumpfmt's Writer, loads it with MIT's kdb5_util load into a
// replica sharing the master key, and checks that MIT dumps the replica
// back to exactly the bytes we wrote, in every format.
func TestDumpWriterLoadsInMIT(t *testing.T) {
	primary := dumpRealm(t)
	for _, f := range dumpFormats {
		t.Run(f.name, func(t *testing.T) {
			h, recs := readAll(t, f.name, dumpWith(t, primary, f))
			var kept []dumpfmt.Record
			changed := 0
			for _, rec := range recs {
				switch r := rec.(type) {
				case *dumpfmt.Principal:
					switch r.Name {
					case "gen00007@" + primary.Realm:
						continue // deleted
					case "keepold@" + primary.Realm:
						r.MaxLife = 7777
						r.Attributes |= 0x80 // +requires_preauth
						r.Expiration = 2000000000
						changed++
					case "bob@" + primary.Realm:
						r.KeyData = r.KeyData[:1] // drop all but one key
						changed++
					}
				case *dumpfmt.Policy:
					if r.Name == mitrealm.PolicyStrict {
						r.PwMinLength = 16
						changed++
					}
				}
				kept = append(kept, rec)
			}
			if changed != 3 || len(kept) != len(recs)-1 {
				t.Fatalf("fixture: %d changes, %d of %d records kept", changed, len(kept), len(recs))
			}
			ours := writeAll(t, h, kept)
			if _, err := dumpfmt.Validate(bytes.NewReader(ours), dumpfmt.ValidateOptions{}); err != nil {
				t.Fatal(err)
			}
			replica := primary.NewReplica(t)
			path := filepath.Join(replica.Dir, "ours")
			if err := os.WriteFile(path, ours, 0o600); err != nil {
				t.Fatal(err)
			}
			kdbUtil(t, replica, f.iprop, append(append([]string{"load"}, f.loadFlags...), path)...)
			back := dumpWith(t, replica, f)
			if !bytes.Equal(back, ours) {
				t.Fatalf("MIT dumps the loaded database differently:\n%s", firstDiff(ours, back))
			}
		})
	}
}

// TestDumpCorruptions compares dumpfmt's verdict on damaged dumps with
// MIT's kdb5_util load. MIT refuses a dump cut inside a record and bad hex
// as we do; it silently keeps the last of two records for one principal,
// which we refuse; and neither can tell a dump cut exactly at a record
// boundary from a smaller database (the format has no trailer).
func TestDumpCorruptions(t *testing.T) {
	primary := dumpRealm(t)
	data := dumpWith(t, primary, dumpFormats[3])
	lines := strings.SplitAfter(string(data), "\n")
	for _, tc := range []struct {
		name    string
		damaged []byte
		want    error // nil: dumpfmt accepts
		mitOK   bool
	}{
		{"cut inside a record", data[:len(data)/2], dumpfmt.ErrTruncated, false},
		{"bad hex", bytes.Replace(data, []byte("\t-1;\n"), []byte("g\t-1;\n"), 1), dumpfmt.ErrLength, false},
		{"bad hex digit", func() []byte {
			i := bytes.Index(data, []byte("\t-1;\n")) - 8
			c := append([]byte(nil), data...)
			c[i] = 'g'
			return c
		}(), dumpfmt.ErrHex, false},
		{"duplicate principal", []byte(strings.Join(append(append([]string(nil), lines[:3]...), lines[2:]...), "")), dumpfmt.ErrDuplicate, true},
		{"cut before the last policy", []byte(strings.Join(lines[:len(lines)-2], "")), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dumpfmt.Validate(bytes.NewReader(tc.damaged), dumpfmt.ValidateOptions{})
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Validate: %v, want %v", err, tc.want)
			}
			replica := primary.NewReplica(t)
			path := filepath.Join(replica.Dir, "damaged")
			if err := os.WriteFile(path, tc.damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, mitErr := mitrealm.Exec(replica.Command("kdb5_util", "-r", replica.Realm, "load", path), "")
			if (mitErr == nil) != tc.mitOK {
				t.Errorf("MIT kdb5_util load: %v, expected success %v", mitErr, tc.mitOK)
			}
		})
	}
}

// firstDiff shows where two dumps first differ.
func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n ours %.300q\n  MIT %.300q", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(la), len(lb))
}

// TestGeneratedDumpLoadsInMIT loads a dumptest dump (the benchmarks'
// generator) with MIT's kdb5_util and checks that MIT dumps back the same
// records, in its own order.
func TestGeneratedDumpLoadsInMIT(t *testing.T) {
	mitrealm.Require(t, "kdb5_util", "kadmin.local")
	primary := mitrealm.NewPrimary(t, mitrealm.Options{})
	replica := primary.NewReplica(t)
	// The primary's K/M, so that kdb5_util can open the loaded database
	// with the stash the replica shares.
	var km *dumpfmt.Principal
	_, recs := readAll(t, "primary", []byte(primary.DumpString(t)))
	for _, rec := range recs {
		if p, ok := rec.(*dumpfmt.Principal); ok && p.IsMaster() {
			km = p
		}
	}
	data := dumptest.Bytes(dumptest.Config{Realm: primary.Realm, Principals: 2000, Policies: 20, Seed: 3, Master: km})
	path := filepath.Join(replica.Dir, "generated")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	replica.Load(t, path)
	back := replica.DumpString(t)
	sortLines := func(s string) []string {
		l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		sort.Strings(l)
		return l
	}
	want, got := sortLines(string(data)), sortLines(back)
	if len(want) != len(got) {
		t.Fatalf("MIT dumped %d lines, we wrote %d", len(got), len(want))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("line differs:\n ours %.200q\n  MIT %.200q", want[i], got[i])
		}
	}
}

// decryptEverything builds the keyring from the dump's K/M and the given
// stash keys and decrypts every key in the dump.
func decryptEverything(t *testing.T, dump []byte, stash []dumpfmt.MasterKey) (*dumpfmt.Keyring, map[string][]dumpfmt.KeyData, int) {
	t.Helper()
	_, recs := readAll(t, "dump", dump)
	var kr *dumpfmt.Keyring
	for _, rec := range recs {
		if p, ok := rec.(*dumpfmt.Principal); ok && p.IsMaster() {
			var err error
			if kr, err = dumpfmt.NewKeyring(p, stash); err != nil {
				t.Fatal(err)
			}
		}
	}
	if kr == nil {
		t.Fatal("no K/M")
	}
	plain := map[string][]dumpfmt.KeyData{}
	n := 0
	for _, rec := range recs {
		p, ok := rec.(*dumpfmt.Principal)
		if !ok {
			continue
		}
		for i := range p.KeyData {
			k, err := kr.DecryptKey(p, &p.KeyData[i])
			if err != nil {
				t.Fatalf("%s key %d: %v", p.Name, i, err)
			}
			plain[p.Name] = append(plain[p.Name], dumpfmt.KeyData{Kvno: p.KeyData[i].Kvno, Enctype: int16(k.KeyType), Key: k.KeyValue})
			n++
		}
	}
	return kr, plain, n
}

// checkAgainstKeytab compares decrypted keys of principal with a keytab
// MIT's kadmin.local extracted with -norandkey.
func checkAgainstKeytab(t *testing.T, h *mitrealm.Host, plain map[string][]dumpfmt.KeyData, principal string) {
	t.Helper()
	kt := filepath.Join(h.Dir, "check.keytab")
	os.Remove(kt)
	h.Kadmin(t, "ktadd -k "+kt+" -norandkey "+principal)
	raw, err := os.ReadFile(kt)
	if err != nil {
		t.Fatal(err)
	}
	entries := parseKeytab(t, raw)
	got := plain[principal+"@"+h.Realm]
	if len(entries) == 0 || len(entries) != len(got) {
		t.Fatalf("%s: %d keytab entries, %d decrypted keys", principal, len(entries), len(got))
	}
	for _, e := range entries {
		found := false
		for _, k := range got {
			found = found || (uint32(k.Kvno) == e.KVNO && int32(k.Enctype) == e.Key.KeyType && bytes.Equal(k.Key, e.Key.KeyValue))
		}
		if !found {
			t.Errorf("%s kvno %d enctype %d: keytab key not among the decrypted keys", principal, e.KVNO, e.Key.KeyType)
		}
	}
}

// TestDumpMasterKeys decrypts dumps of realms with different master key
// enctypes, and of a realm whose master key was rolled over (kdb5_util
// add_mkey, use_mkey), with the stash, comparing with kadmin's
// -norandkey keytabs.
func TestDumpMasterKeys(t *testing.T) {
	for _, mkt := range []string{mitrealm.AES256SHA1, mitrealm.AES128SHA1, mitrealm.AES256SHA384, mitrealm.AES128SHA256, mitrealm.DES3} {
		t.Run(mkt, func(t *testing.T) {
			primary := mitrealm.NewPrimary(t, mitrealm.Options{MasterKeyType: mkt, AllowDES3: true, AllowRC4: true})
			mitrealm.Populate(t, primary, 20)
			stash, err := dumpfmt.ReadStashFile(primary.Stash)
			if err != nil {
				t.Fatal(err)
			}
			_, plain, n := decryptEverything(t, []byte(primary.DumpString(t)), stash)
			if n < 40 {
				t.Errorf("%d keys", n)
			}
			checkAgainstKeytab(t, primary, plain, mitrealm.PopulatedUser)
			checkAgainstKeytab(t, primary, plain, "legacy")
		})
	}
	t.Run("rollover", func(t *testing.T) {
		primary := mitrealm.NewPrimary(t, mitrealm.Options{})
		primary.Kadmin(t, "addprinc -pw Old-Passw0rd oldkey")
		oldStash, err := dumpfmt.ReadStashFile(primary.Stash)
		if err != nil {
			t.Fatal(err)
		}
		// add_mkey reads the new master password twice from standard input
		// ("-P" would be taken as the current master password).
		primary.RunInput(t, "second-master-pw\nsecond-master-pw\n", "kdb5_util", "-r", primary.Realm, "add_mkey", "-s", "-e", mitrealm.AES128SHA1)
		primary.Run(t, "kdb5_util", "-r", primary.Realm, "use_mkey", "2", "now-1day")
		primary.Kadmin(t, "addprinc -pw New-Passw0rd newkey")
		dump := []byte(primary.DumpString(t))
		stash, err := dumpfmt.ReadStashFile(primary.Stash)
		if err != nil {
			t.Fatal(err)
		}
		// MIT's add_mkey -s replaces the stash with the new key alone; the
		// old one is reached through K/M.
		if len(stash) != 1 || stash[0].Kvno != 2 {
			t.Fatalf("stash after add_mkey: %+v", stash)
		}
		kr, plain, _ := decryptEverything(t, dump, stash)
		if len(kr.Keys()) != 2 {
			t.Fatalf("keyring %+v", kr.Keys())
		}
		checkAgainstKeytab(t, primary, plain, "oldkey")
		checkAgainstKeytab(t, primary, plain, "newkey")
		// With only the old master key, K/M's KRB5_TL_MKEY_AUX leads to the
		// new one, as in MIT's krb5_def_fetch_mkey_list.
		kr, _, _ = decryptEverything(t, dump, oldStash)
		if len(kr.Keys()) != 2 {
			t.Fatalf("keyring from the old stash %+v", kr.Keys())
		}
	})
}
