package replica

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
	"github.com/gokprop/gokprop/iprop"
)

// readAll parses a dump into its principals, in order.
func readAll(t testing.TB, data []byte) []*dumpfmt.Principal {
	t.Helper()
	rd := dumpfmt.NewReader(bytes.NewReader(data))
	if _, err := rd.Header(); err != nil {
		t.Fatal(err)
	}
	var out []*dumpfmt.Principal
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := rec.(*dumpfmt.Principal); ok {
			out = append(out, p)
		}
	}
}

func line(t testing.TB, p *dumpfmt.Principal) string {
	t.Helper()
	b, err := dumpfmt.AppendPrincipal(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// genDump writes a generated dump (principals in the reverse of the
// generator's order, which is MIT's, so that the index has to sort them;
// policies included) and returns its path and principals.
func genDump(t testing.TB, dir string, n int, seed uint64) (string, []*dumpfmt.Principal) {
	t.Helper()
	data := reversePrincipals(dumptest.Bytes(dumptest.Config{Realm: "EXAMPLE.TEST", Principals: n, Policies: 3, Seed: seed}))
	path := filepath.Join(dir, fmt.Sprintf("gen-%d.dump", seed))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, readAll(t, data)
}

// reversePrincipals reverses the order of a dump's principal lines,
// leaving the header and the other records where they are.
func reversePrincipals(data []byte) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	var at []int
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("princ\t")) {
			at = append(at, i)
		}
	}
	for i, j := 0, len(at)-1; i < j; i, j = i+1, j-1 {
		lines[at[i]], lines[at[j]] = lines[at[j]], lines[at[i]]
	}
	return bytes.Join(lines, nil)
}

// checkIndex requires x to hold exactly want, and no other names.
func checkIndex(t *testing.T, x *index, want map[string]*dumpfmt.Principal) {
	t.Helper()
	for name, p := range want {
		got, err := x.get(name)
		if err != nil {
			t.Fatalf("get(%s): %v", name, err)
		}
		if got == nil {
			t.Fatalf("get(%s): missing", name)
		}
		if line(t, got) != line(t, p) {
			t.Fatalf("get(%s):\n%s\nwant\n%s", name, line(t, got), line(t, p))
		}
	}
	for _, absent := range []string{"", "!@EXAMPLE.TEST", "aaa@EXAMPLE.TEST", "zzzz@EXAMPLE.TEST", "~@EXAMPLE.TEST"} {
		if want[absent] != nil {
			continue
		}
		if got, err := x.get(absent); err != nil || got != nil {
			t.Fatalf("get(%q) = %v, %v; want nothing", absent, got, err)
		}
	}
	// Names next to real ones.
	for name := range want {
		for _, near := range []string{name + "x", strings.TrimSuffix(name, "T"), "a" + name} {
			if want[near] != nil {
				continue
			}
			if got, err := x.get(near); err != nil || got != nil {
				t.Fatalf("get(%q) = %v, %v; want nothing", near, got, err)
			}
		}
		break
	}
}

func byName(ps []*dumpfmt.Principal) map[string]*dumpfmt.Principal {
	m := map[string]*dumpfmt.Principal{}
	for _, p := range ps {
		m[p.Name] = p
	}
	return m
}

func TestIndexInstallSortsAndFinds(t *testing.T) {
	dir := t.TempDir()
	src, princs := genDump(t, t.TempDir(), 1000, 1)
	names := make([]string, len(princs))
	for i, p := range princs {
		names[i] = p.Name
	}
	if slices.IsSorted(names) {
		t.Fatal("the generated dump is sorted already; the sort path would go untested")
	}
	x, err := openIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if x.valid() {
		t.Fatal("empty directory has an index")
	}
	if err := x.install(src, true); err != nil {
		t.Fatal(err)
	}
	if x.records != len(princs) {
		t.Fatalf("%d records, want %d", x.records, len(princs))
	}
	want := byName(princs)
	checkIndex(t, x, want)
	// The source was not modified: the sorted base replaced the link.
	if got := readAll(t, mustRead(t, src)); len(got) != len(princs) || got[0].Name != princs[0].Name {
		t.Fatal("the source dump changed")
	}
	base := mustRead(t, x.basePath(x.gen))
	var baseNames []string
	for _, p := range readAll(t, base) {
		baseNames = append(baseNames, p.Name)
	}
	if !slices.IsSorted(baseNames) {
		t.Fatal("base is not sorted")
	}
	x.closeFiles()

	// Reopened, with the sparse file, and without it.
	for _, drop := range []bool{false, true} {
		if drop {
			os.Remove(x.sparsePath(x.gen))
		}
		y, err := openIndex(dir)
		if err != nil {
			t.Fatal(err)
		}
		checkIndex(t, y, want)
		y.closeFiles()
	}
	// A sparse file that does not match the base is rebuilt.
	if err := os.WriteFile(x.sparsePath(x.gen), []byte("GKRS garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	y, err := openIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkIndex(t, y, want)
	y.closeFiles()
}

func TestIndexSortedLinkIsShared(t *testing.T) {
	dir := t.TempDir()
	srcDir := t.TempDir()
	_, princs := genDump(t, srcDir, 300, 2)
	slices.SortFunc(princs, func(a, b *dumpfmt.Principal) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	w := dumpfmt.NewWriter(&buf, dumpfmt.Header{Format: dumpfmt.FormatIpropX, IpropVersion: 1, Serial: 7, Seconds: 1, Microseconds: 2})
	for _, p := range princs {
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	src := filepath.Join(srcDir, "from_master")
	os.WriteFile(src, buf.Bytes(), 0o600)
	x, _ := openIndex(dir)
	if err := x.install(src, true); err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(src)
	b, _ := os.Stat(x.basePath(x.gen))
	if !os.SameFile(a, b) {
		t.Error("a sorted dump was copied, not linked")
	}
	checkIndex(t, x, byName(princs))
	// The next transfer replaces the dump; the index keeps its own.
	os.WriteFile(src+".temp", []byte("other"), 0o600)
	os.Rename(src+".temp", src)
	checkIndex(t, x, byName(princs))
	x.closeFiles()
}

func TestIndexJournal(t *testing.T) {
	dir := t.TempDir()
	src, princs := genDump(t, t.TempDir(), 200, 3)
	x, _ := openIndex(dir)
	if err := x.install(src, false); err != nil {
		t.Fatal(err)
	}
	want := byName(princs)
	l1 := iprop.Last{Sno: 5, Time: iprop.Time{Seconds: 100, Useconds: 1}}
	l2 := iprop.Last{Sno: 7, Time: iprop.Time{Seconds: 101, Useconds: 2}}
	l3 := iprop.Last{Sno: 9, Time: iprop.Time{Seconds: 102, Useconds: 3}}

	changed := princs[10].Clone()
	changed.MaxLife = 12345
	changed.FailAuthCount = 3 // never kept by the index
	added := princs[11].Clone()
	added.Name = "new principal@EXAMPLE.TEST"
	gone := princs[12].Name
	if err := x.record(l1, l2, []*dumpfmt.Principal{changed, added}, []string{gone}); err != nil {
		t.Fatal(err)
	}
	want[changed.Name] = noNRA(changed)
	want[added.Name] = noNRA(added)
	delete(want, gone)
	checkIndex(t, x, want)
	if got, _ := x.get(gone); got != nil {
		t.Fatal("deleted name still there")
	}
	if p := x.pendingNames(l1); !p[changed.Name] || !p[gone] || !p[added.Name] || len(p) != 3 {
		t.Fatalf("pending at l1: %v", p)
	}
	if p := x.pendingNames(l2); p != nil {
		t.Fatalf("pending at l2: %v", p)
	}
	// A second frame: the deleted name comes back.
	back := princs[12].Clone()
	if err := x.record(l2, l3, []*dumpfmt.Principal{back}, nil); err != nil {
		t.Fatal(err)
	}
	want[back.Name] = noNRA(back)
	x.closeFiles()

	y, err := openIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkIndex(t, y, want)
	if p := y.pendingNames(l2); !p[back.Name] || len(p) != 1 {
		t.Fatalf("pending after replay: %v", p)
	}
	size := y.journalSize
	y.closeFiles()

	// A torn third frame is dropped, and the file cut back.
	jp := y.journalPath(y.gen)
	f, _ := os.OpenFile(jp, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, 1, 5})
	f.Close()
	z, err := openIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkIndex(t, z, want)
	if st, _ := os.Stat(jp); st.Size() != size {
		t.Fatalf("journal is %d bytes after recovery, want %d", st.Size(), size)
	}
	// A flipped bit in the last frame drops it (and only it).
	z.closeFiles()
	data := mustRead(t, jp)
	data[len(data)-3] ^= 1
	os.WriteFile(jp, data, 0o600)
	z, err = openIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := z.get(back.Name); got != nil {
		t.Fatal("the corrupt frame was replayed")
	}
	if got, _ := z.get(changed.Name); got == nil || got.MaxLife != 12345 {
		t.Fatal("the first frame was lost")
	}
	z.closeFiles()
}

func TestIndexCompaction(t *testing.T) {
	old := compactMin
	compactMin = 10
	defer func() { compactMin = old }()
	dir := t.TempDir()
	src, princs := genDump(t, t.TempDir(), 100, 4)
	x, _ := openIndex(dir)
	if err := x.install(src, false); err != nil {
		t.Fatal(err)
	}
	want := byName(princs)
	var puts []*dumpfmt.Principal
	var dels []string
	for i, p := range princs {
		switch i % 7 {
		case 0:
			q := p.Clone()
			q.Attributes ^= 1
			puts = append(puts, q)
			want[q.Name] = noNRA(q)
		case 1:
			dels = append(dels, p.Name)
			delete(want, p.Name)
		}
	}
	extra := princs[2].Clone()
	extra.Name = "zzz-last@EXAMPLE.TEST"
	first := princs[3].Clone()
	first.Name = "!first@EXAMPLE.TEST"
	puts = append(puts, extra, first)
	want[extra.Name], want[first.Name] = noNRA(extra), noNRA(first)
	if err := x.record(iprop.Last{}, iprop.Last{Sno: 2}, puts, dels); err != nil {
		t.Fatal(err)
	}
	if !x.needsCompaction() {
		t.Fatal("no compaction needed")
	}
	gen := x.gen
	if err := x.compact(); err != nil {
		t.Fatal(err)
	}
	if x.gen != gen+1 || len(x.overlay) != 0 || x.records != len(want) {
		t.Fatalf("after compaction: gen %d, %d overlay, %d records (want %d)", x.gen, len(x.overlay), x.records, len(want))
	}
	checkIndex(t, x, want)
	if _, err := os.Stat(x.basePath(gen)); !os.IsNotExist(err) {
		t.Error("the old generation's base is still there")
	}
	x.closeFiles()
	y, err := openIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkIndex(t, y, want)
	y.closeFiles()
}

// A crash after a new generation's files were written but before CURRENT
// named it leaves the old generation in use, and the new files removed.
func TestIndexInstallCommitPoint(t *testing.T) {
	dir := t.TempDir()
	src, princs := genDump(t, t.TempDir(), 50, 5)
	x, _ := openIndex(dir)
	if err := x.install(src, true); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"base-9.dump", "sparse-9", "journal-9", "compact-123.dump"} {
		os.WriteFile(filepath.Join(dir, n), []byte("stale"), 0o600)
	}
	x.closeFiles()
	y, err := openIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkIndex(t, y, byName(princs))
	for _, n := range []string{"base-9.dump", "sparse-9", "journal-9", "compact-123.dump"} {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s left behind", n)
		}
	}
	if err := y.invalidate(); err != nil {
		t.Fatal(err)
	}
	z, err := openIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if z.valid() {
		t.Fatal("invalidated index is valid")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("files left after invalidation: %v", entries)
	}
}

func TestIndexRefusesCorruptCurrent(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, currentFile), []byte("something else\n3\n"), 0o600)
	if _, err := openIndex(dir); err == nil {
		t.Fatal("opened")
	}
	os.WriteFile(filepath.Join(dir, currentFile), []byte(currentMagic+"\n3\n"), 0o600)
	if _, err := openIndex(dir); err == nil {
		t.Fatal("opened an index without its base")
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noNRA returns p without lockout attributes, as the index stores it.
func noNRA(p *dumpfmt.Principal) *dumpfmt.Principal {
	q := p.Clone()
	q.LastSuccess, q.LastFailed, q.FailAuthCount = 0, 0, 0
	return q
}
