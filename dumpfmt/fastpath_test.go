package dumpfmt

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// slowPrincipal checks a principal line (without "princ\t" and the
// newline) with the Reader's parser, as Validate's slow path does.
func slowPrincipal(line []byte) (name []byte, err error) {
	r := Reader{ReuseRecord: true, noDecode: true, line: 1}
	if err := r.parsePrincipal(line, &r.princ); err != nil {
		return nil, err
	}
	return r.rawName, nil
}

// plain reports whether a name needs no canonicalization, which the fast
// path requires.
func plain(name []byte) bool {
	return !bytes.ContainsAny(name, "\\\t\b\n\x00")
}

// checkFastPath checks fastPrincipal against the Reader's parser on the
// line at the start of b (after "princ\t"; its end is the first newline):
// the fast path must accept exactly the valid lines with plain names,
// report the same name, and find the line's end, whatever follows it.
func checkFastPath(t *testing.T, b []byte) {
	t.Helper()
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return
	}
	slowName, err := slowPrincipal(b[:nl])
	want := err == nil && plain(slowName)
	for _, tail := range []string{"", "princ\t38\t5\t0\t0\t0\ta@B.C\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n"} {
		in := append(b[:len(b):len(b)], tail...)
		name, at, n, ok := fastPrincipal(in)
		switch {
		case ok != want:
			t.Fatalf("fast path says %v, Reader says %v (plain name %v) for %q", ok, err, err == nil && plain(slowName), in)
		case ok && (!bytes.Equal(name, slowName) || name[at] != '@' || bytes.IndexByte(name, '@') != at):
			t.Fatalf("fast path name %q (@ at %d), Reader %q, for %q", name, at, slowName, in)
		case ok && n != nl+1:
			t.Fatalf("fast path says the line is %d bytes, not %d, in %q", n, nl+1, in)
		}
	}
}

// principalLines returns the principal lines (after "princ\t", with the
// newline) of the dumps MIT wrote and of the fixture.
func principalLines(t testing.TB) [][]byte {
	files, _ := filepath.Glob("testdata/mit/dump-*")
	var lines [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.SplitAfter(data, []byte("\n")) {
			if bytes.HasPrefix(l, []byte("princ\t")) {
				lines = append(lines, l[len("princ\t"):])
			}
		}
	}
	// MIT writes e_data empty; a principal with e_data, one with an
	// escaped name, one with extreme numbers, and near misses: keys of
	// versions 3 and 0 with matching pairs, which MIT does not write.
	for _, l := range []string{
		"38\t5\t0\t1\t0\ta@B.C\t0\t0\t0\t0\t0\t0\t0\t0\t3\t1\t1\t0\t-1\t2\t0\t-1\t3\t0\t-1\t-1;\n",
		"38\t5\t0\t1\t0\ta@B.C\t0\t0\t0\t0\t0\t0\t0\t0\t0\t1\t-1;\n",
		"38\t24\t0\t0\t3\tkrbtgt/TEST.ORG@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\tabcdef;\n",
		"38\t25\t1\t0\t0\t\\krbtgt/TEST.ORG@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t8\t2\t0100\t-1;\n",
		"38\t5\t0\t1\t0\ta@B.C\t-1\t2147483647\t-2147483648\t4294967295\t0\t0\t0\t0\t2\t65535\t-32768\t0\t-1\t32767\t2\tab12\t-1;\n",
	} {
		lines = append(lines, []byte(l))
	}
	if len(lines) < 40 {
		t.Fatalf("%d principal lines in testdata/mit", len(lines))
	}
	return lines
}

// TestFastPathTakesMIT checks that the fast path takes every line MIT
// wrote except those with escaped names: otherwise Validate is correct but
// slow.
func TestFastPathTakesMIT(t *testing.T) {
	for _, l := range principalLines(t) {
		checkFastPath(t, l)
		if _, _, _, ok := fastPrincipal(l); !ok {
			if name, err := slowPrincipal(l[:len(l)-1]); err == nil && plain(name) {
				t.Errorf("fast path refuses %q", l)
			}
		}
	}
}

// TestFastPathMutations damages every byte of real principal lines in
// many ways and checks the fast path against the Reader on each result.
func TestFastPathMutations(t *testing.T) {
	subst := []byte{'0', '1', '2', '7', '9', '-', '+', '\t', '\n', ' ', ';', 'a', 'f', 'g', 'A', 'F', '@', '/', '\\', 0, '\b', 0x7f, 0x80, 0xb6, 0xff}
	// The six MIT dumps hold the same principals: every third line, and
	// the hand-made ones at the end, cover their shapes.
	var lines [][]byte
	all := principalLines(t)
	for i, l := range all {
		if i%3 == 0 || i >= len(all)-5 || !testing.Short() && i%3 == 1 {
			lines = append(lines, l)
		}
	}
	for _, l := range lines {
		m := make([]byte, 0, len(l)+1)
		for i := 0; i < len(l)-1; i++ {
			for _, c := range subst {
				m = append(append(append(m[:0], l[:i]...), c), l[i+1:]...)
				checkFastPath(t, m)
				m = append(append(append(m[:0], l[:i]...), c), l[i:]...) // insert
				checkFastPath(t, m)
			}
			m = append(append(m[:0], l[:i]...), l[i+1:]...) // delete
			checkFastPath(t, m)
		}
	}
}

// FuzzFastPath checks the fast path against the Reader on arbitrary
// principal lines and whatever follows them.
func FuzzFastPath(f *testing.F) {
	for _, l := range principalLines(f) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFastPath(t, b)
	})
}

// TestFastPathLimits checks the fast path against the Reader at the edges
// of every numeric field's range.
func TestFastPathLimits(t *testing.T) {
	line := func(base, nameLen, nTL, nKey, eLen, name, fixed, tl, keys, edata string) []byte {
		return []byte(base + "\t" + nameLen + "\t" + nTL + "\t" + nKey + "\t" + eLen + "\t" + name + "\t" +
			fixed + "\t" + tl + keys + edata + ";\n")
	}
	const fixed0 = "0\t0\t0\t0\t0\t0\t0\t0"
	hex := func(n int) string { return string(bytes.Repeat([]byte("ab"), n)) }
	var lines [][]byte
	for _, n := range []string{"0", "1", "32767", "32768", "65535", "2147483647", "2147483648", "4294967295",
		"4294967296", "9999999999", "10000000000", "18446744073709551616", "18446744073709551617", "-0", "01"} {
		lines = append(lines,
			line(n, "5", "0", "0", "0", "a@B.C", fixed0, "", "", "-1"),
			line("38", n, "0", "0", "0", "a@B.C", fixed0, "", "", "-1"),
			line("38", "5", n, "0", "0", "a@B.C", fixed0, "", "", "-1"),
			line("38", "5", "0", n, "0", "a@B.C", fixed0, "", "", "-1"),
			line("38", "5", "0", "0", n, "a@B.C", fixed0, "", "", "-1"),
			line("38", "5", "1", "0", "0", "a@B.C", fixed0, n+"\t0\t-1\t", "", "-1"),
			line("38", "5", "0", "1", "0", "a@B.C", fixed0, "", "1\t"+n+"\t0\t0\t-1\t", "-1"),
			line("38", "5", "0", "1", "0", "a@B.C", fixed0, "", "1\t0\t"+n+"\t0\t-1\t", "-1"),
			line("38", "5", "0", "1", "0", "a@B.C", fixed0, "", "2\t0\t0\t0\t-1\t-"+n+"\t0\t-1\t", "-1"),
		)
		for i := 0; i < 8; i++ {
			for _, v := range []string{n, "-" + n} {
				f := bytes.Split([]byte(fixed0), []byte("\t"))
				f[i] = []byte(v)
				lines = append(lines, line("38", "5", "0", "0", "0", "a@B.C", string(bytes.Join(f, []byte("\t"))), "", "", "-1"))
			}
		}
	}
	for _, n := range []int{32767, 32768, 65535, 65536} {
		lines = append(lines,
			line("38", "5", "1", "0", "0", "a@B.C", fixed0, "1\t"+itoa(n)+"\t"+hex(n)+"\t", "", "-1"),
			line("38", "5", "0", "1", "0", "a@B.C", fixed0, "", "1\t1\t17\t"+itoa(n)+"\t"+hex(n)+"\t", "-1"),
			line("38", "5", "0", "0", itoa(n), "a@B.C", fixed0, "", "", hex(n)))
	}
	// The counts at the limit, with that many items.
	for _, n := range []int{32767, 32768} {
		lines = append(lines,
			line("38", "5", itoa(n), "0", "0", "a@B.C", fixed0, strings.Repeat("1\t0\t-1\t", n), "", "-1"),
			line("38", "5", "0", itoa(n), "0", "a@B.C", fixed0, "", strings.Repeat("1\t0\t0\t0\t-1\t", n), "-1"))
	}
	accepted := 0
	for _, l := range lines {
		checkFastPath(t, l)
		if _, _, _, ok := fastPrincipal(l); ok {
			accepted++
		}
	}
	if accepted < len(lines)/4 {
		t.Errorf("only %d of %d lines accepted: the test lines are malformed", accepted, len(lines))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
