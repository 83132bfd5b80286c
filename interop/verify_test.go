package interop

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/mitrealm"
)

// TestMITDumpOrder checks what our kpropd's flat-memory verification
// relies on, with a real MIT dump of the populated realm (names with
// escapes, spaces, non-ASCII letters, a cross-realm krbtgt,
// WELLKNOWN/ANONYMOUS): kdb5_util dump writes the principals in strictly
// increasing byte order of their names as written, then the policies in
// the same order, so the sorted duplicate check stores nothing.
func TestMITDumpOrder(t *testing.T) {
	data, err := os.ReadFile(snap.DumpFile(t))
	if err != nil {
		t.Fatal(err)
	}
	var names [2][]string // principals, policies
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, "\t", 8)
		switch {
		case f[0] == "princ" && len(f) > 6:
			names[0] = append(names[0], f[6])
		case f[0] == "policy" && len(f) > 1:
			names[1] = append(names[1], f[1])
		}
	}
	if len(names[0]) < populated {
		t.Fatalf("%d principals in the dump", len(names[0]))
	}
	for k, list := range names {
		for i := 1; i < len(list); i++ {
			if list[i-1] >= list[i] {
				t.Fatalf("kind %d: %q comes after %q", k, list[i], list[i-1])
			}
		}
	}
	// The names that show the order is bytes, not letters: upper case
	// before lower case, UTF-8 after ASCII, the escapes as written.
	pos := func(name string) int {
		for i, n := range names[0] {
			if strings.HasPrefix(n, name) {
				return i
			}
		}
		t.Fatalf("no principal %q in the dump", name)
		return 0
	}
	for _, pair := range [][2]string{
		{"K/M@", "WELLKNOWN/ANONYMOUS@"}, {"WELLKNOWN/ANONYMOUS@", "alice@"},
		{`esc\/aped/inst@`, "gen00001@"}, {"kadmin/", "krbtgt/"},
		{"krbtgt/", "ünïcødé@"}, {"ünïcødé@", "用户/管理@"},
	} {
		if a, b := pos(pair[0]), pos(pair[1]); a >= b {
			t.Errorf("%q (at %d) does not come before %q (at %d)", pair[0], a, pair[1], b)
		}
	}
	s, err := dumpfmt.Validate(bytes.NewReader(data), dumpfmt.ValidateOptions{Duplicates: dumpfmt.DuplicatesSorted})
	if err != nil || s.Unsorted != 0 {
		t.Fatalf("sorted validation of MIT's dump: %+v, %v", s, err)
	}
	t.Logf("%d principals and %d policies in strictly increasing order; first %q, last %q",
		len(names[0]), len(names[1]), names[0][0], names[0][len(names[0])-1])
}

// TestKpropdRefusesInvalidDump: MIT kprop pushes a dump with one bad
// field to our kpropd, which verifies by default. MIT kprop fails and
// prints our reason, which names the line and the field; the replica's
// from_master and database are unchanged; our kpropd logs the failure;
// and the next valid dump goes through.
func TestKpropdRefusesInvalidDump(t *testing.T) {
	w := newParityWorld(t)
	good, err := os.ReadFile(w.dump)
	if err != nil {
		t.Fatal(err)
	}
	if o := w.kprop(t, w.mitKprop, nil, w.args(w.god.Port, mitrealm.ReplicaHost)...); o.status != 0 {
		t.Fatalf("first propagation: %+v", o)
	}
	before := w.replica.DumpString(t)
	installed, err := os.ReadFile(w.god.File)
	if err != nil {
		t.Fatal(err)
	}

	bad := corruptDump(t, good, "alice@")
	_, want := dumpfmt.Validate(bytes.NewReader(bad), dumpfmt.ValidateOptions{
		FileName: filepath.Base(w.god.File), Duplicates: dumpfmt.DuplicatesSorted})
	var pe *dumpfmt.ParseError
	if !errors.As(want, &pe) || pe.Line == 0 || pe.Field == "" {
		t.Fatalf("the corrupted dump validates as %v", want)
	}
	writeDump(t, w.dump, bad)
	o := w.kprop(t, w.mitKprop, nil, w.args(w.god.Port, mitrealm.ReplicaHost)...)
	if o.status == 0 || !strings.Contains(o.stderr, "Generic remote error: "+pe.Error()) {
		t.Fatalf("MIT kprop of an invalid dump: exit %d\nstdout %q\nstderr %q\nwant our reason %q", o.status, o.stdout, o.stderr, pe.Error())
	}
	t.Logf("MIT kprop: %s", strings.TrimSpace(o.stderr))
	w.god.WaitFor(t, pe.Error(), 10*time.Second)
	if after := w.replica.DumpString(t); after != before {
		t.Error("the replica's database changed")
	}
	if now, err := os.ReadFile(w.god.File); err != nil || !bytes.Equal(now, installed) {
		t.Errorf("from_master changed (%v)", err)
	}
	if _, err := os.Stat(w.god.File + ".temp"); !os.IsNotExist(err) {
		t.Errorf("from_master.temp left behind (%v)", err)
	}

	writeDump(t, w.dump, good)
	if o := w.kprop(t, w.mitKprop, nil, w.args(w.god.Port, mitrealm.ReplicaHost)...); o.status != 0 {
		t.Fatalf("propagation after the refusal: %+v", o)
	}
}

// corruptDump returns dump with one hex digit of the key data of the
// principal whose name starts with name replaced by a 'g'.
func corruptDump(t *testing.T, dump []byte, name string) []byte {
	t.Helper()
	lines := bytes.SplitAfter(dump, []byte("\n"))
	for i, l := range lines {
		f := bytes.Split(l, []byte("\t"))
		if len(f) < 8 || string(f[0]) != "princ" || !bytes.HasPrefix(f[6], []byte(name)) {
			continue
		}
		// The longest field is key data.
		long := 0
		for j := range f {
			if len(f[j]) > len(f[long]) {
				long = j
			}
		}
		f[long] = append([]byte{}, f[long]...)
		f[long][len(f[long])/2] = 'g'
		lines[i] = bytes.Join(f, []byte("\t"))
		return bytes.Join(lines, nil)
	}
	t.Fatalf("no principal %q in the dump", name)
	return nil
}

// writeDump replaces the dump and makes its .dump_ok marker current.
func writeDump(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(time.Second)
	if err := os.Chtimes(path+".dump_ok", now, now); err != nil {
		t.Fatal(err)
	}
}
