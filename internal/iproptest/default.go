package iproptest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/mitrealm"
)

// ReplicaULogSize is the replica's slot count in Default: small, so that
// the scenario's updates wrap the replica's log, before and after its
// resize.
const ReplicaULogSize = 8

// Lockout state Default's Prepare gives alice on the replica only: the
// replica's own non-replicated attributes, which iprop must keep.
const (
	AliceLastSuccess   = 1796000000
	AliceLastFailed    = 1796000100
	AliceFailAuthCount = 2
)

// bigNote is a string attribute long enough to make its update larger
// than a 2048-byte block.
var bigNote = strings.Repeat("0123456789abcdef", 160)

// Default returns the scenario the iprop, ulog and merge tests share:
// every kind of change kadmin makes (adds with and without keys and
// policies, attribute and flag changes, key changes with -keepold,
// purgekeys, string attributes, renames, deletes, unlocks, special salts,
// names that need escapes) in 30-odd updates, one larger than 2048
// bytes, with a replica log of ReplicaULogSize slots. The primary's log
// already has 4096-byte blocks when the replica is made (the big setstr
// in Before), so the replica's resize, not the primary's, happens during
// the kpropd cycle; a resize on the primary would reinitialize its log and
// force a full resync instead.
func Default() Options {
	return Options{
		Before: []string{
			`addpol -maxlife "90 days" pol1`,
			`addprinc -pw Alice-Passw0rd -clearpolicy +requires_preauth alice`,
			`addprinc -pw Bob-Passw0rd -clearpolicy bob`,
			`addprinc -randkey -clearpolicy carol`,
			`addprinc -randkey -clearpolicy "space name"`,
			`addprinc -randkey -clearpolicy esc\/aped/inst`,
			`addprinc -randkey -clearpolicy ünïcødé`,
			`addprinc -randkey -clearpolicy -e aes256-cts-hmac-sha1-96:norealm,aes128-cts-hmac-sha1-96:onlyrealm salty`,
			`addprinc -randkey -clearpolicy oldname`,
			`addprinc -randkey -clearpolicy doomed`,
			`setstr carol note ` + bigNote,
		},
		After: []string{
			`addprinc -pw Dave-Passw0rd -policy pol1 dave`,
			`modprinc -maxlife "2 hours" -maxrenewlife "3 days" alice`,
			`cpw -randkey -keepold bob`,
			`cpw -randkey -keepold bob`,
			`setstr bob session_enctypes aes256-cts`,
			`addprinc -randkey -clearpolicy erin`,
			`renprinc -force erin frank`,
			`modprinc +requires_hwauth -expire "2030-01-01 00:00:00 UTC" frank`,
			`delstr bob session_enctypes`,
			`purgekeys -keepkvno 3 bob`,
			`addprinc -randkey -clearpolicy gina`,
			`delprinc -force gina`,
			`modprinc -unlock alice`,
			`addprinc -randkey -clearpolicy -e aes128-cts-hmac-sha1-96:normal,aes256-cts-hmac-sha1-96:special host/www.example.com`,
			`addprinc -nokey -clearpolicy nokey/admin`,
			`cpw -pw New-Alice-Passw0rd alice`,
			`modprinc -policy pol1 carol`,
			`modprinc -clearpolicy dave`,
			`setstr "space name" note ` + bigNote,
			`modprinc -allow_tix esc\/aped/inst`,
			`cpw -randkey ünïcødé`,
			`delprinc -force doomed`,
			`renprinc -force oldname newname`,
			`modprinc -kvno 9 salty`,
			`modprinc -pwexpire "2031-06-01 12:00:00 UTC" bob`,
			`modprinc +needchange -maxlife "5 minutes" carol`,
			`setstr carol note short`,
			`addprinc -randkey -clearpolicy last`,
		},
		ReplicaULogSize: ReplicaULogSize,
		Prepare:         giveAliceLockout,
	}
}

// giveAliceLockout sets alice's lockout attributes on the replica with
// "kdb5_util load -update" under a profile without iprop, so that the
// replica's update log is untouched.
func giveAliceLockout(t testing.TB, r *mitrealm.Host) {
	t.Helper()
	_, princs := ReadDump(t, DumpNoIprop(t, r))
	alice := princs["alice@"+r.Realm]
	if alice == nil {
		t.Fatal("no alice on the replica")
	}
	alice.LastSuccess = AliceLastSuccess
	alice.LastFailed = AliceLastFailed
	alice.FailAuthCount = AliceFailAuthCount
	var buf bytes.Buffer
	w := dumpfmt.NewWriter(&buf, dumpfmt.Header{Format: dumpfmt.FormatR111})
	if err := w.Write(alice); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(r.Dir, "alice.dump")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := r.Command("kdb5_util", "-r", r.Realm, "load", "-update", path)
	cmd.Env = r.NoIpropEnv(t)
	if _, _, err := mitrealm.Exec(cmd, ""); err != nil {
		t.Fatal(err)
	}
}

// ReadDump parses a kdb5_util dump into its header and its principals by
// name.
func ReadDump(t testing.TB, text string) (dumpfmt.Header, map[string]*dumpfmt.Principal) {
	t.Helper()
	rd := dumpfmt.NewReader(strings.NewReader(text))
	h, err := rd.Header()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dumpfmt.Principal{}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return h, out
		}
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := rec.(*dumpfmt.Principal); ok {
			out[p.Name] = p
		}
	}
}

// PrincipalLine returns p as its dump line, for comparisons and messages.
func PrincipalLine(t testing.TB, p *dumpfmt.Principal) string {
	t.Helper()
	b, err := dumpfmt.AppendPrincipal(nil, p)
	if err != nil {
		t.Fatal(fmt.Errorf("%s: %w", p.Name, err))
	}
	return string(b)
}
