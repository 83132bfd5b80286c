package dumpfmt

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// precheckDump is a dump in MIT's order built from a principal line MIT
// wrote: n principals named u000000@DUMPFMT.TEST..., then the MIT dump's
// own lines (K/M, krbtgt, policies...), which sort after them.
func precheckDump(t testing.TB, n int) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/mit/dump-r18")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	// A principal line of the MIT dump whose name, and the rest of whose
	// line, the fast path takes.
	var tmpl []byte
	for _, l := range lines {
		if rest, ok := bytes.CutPrefix(l, []byte("princ\t")); ok {
			if name, _, _, ok := fastPrincipal(rest); ok && !bytes.HasPrefix(name, []byte("K/M")) {
				tmpl = l
				break
			}
		}
	}
	f := bytes.SplitN(tmpl, []byte("\t"), 8) // princ len name-len tl keys e name rest
	var out bytes.Buffer
	out.Write(lines[0])
	for i := range n {
		name := fmt.Sprintf("a%06d@DUMPFMT.TEST", i)
		fmt.Fprintf(&out, "princ\t%s\t%d\t%s\t%s\t%s\t%s\t", f[1], len(name), f[3], f[4], f[5], name)
		out.Write(f[7])
	}
	for _, l := range lines[1:] {
		out.Write(l)
	}
	return out.Bytes()
}

// writePieces feeds data to v in pieces of the given sizes (cycled), with
// or without prechecks, and returns what every Write said and the verdict.
func writePieces(data []byte, sizes []int, opts ValidateOptions, precheck bool) (trace []string, sum Summary, err error) {
	v := NewValidator(opts)
	var pc Precheck
	for i := 0; len(data) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(data))
		piece := data[:n]
		data = data[n:]
		var m int
		var werr error
		if precheck {
			pc.Run(piece)
			m, werr = v.WritePrechecked(piece, &pc)
		} else {
			m, werr = v.Write(piece)
		}
		trace = append(trace, fmt.Sprintf("%d %v", m, werr))
	}
	sum, err = v.Close()
	return trace, sum, err
}

// checkPrecheck checks that prechecked pieces give exactly what Write
// gives, for several ways of cutting data and several options.
func checkPrecheck(t *testing.T, data []byte, cuts [][]int) {
	t.Helper()
	for _, opts := range []ValidateOptions{
		{Duplicates: DuplicatesSorted},
		{Duplicates: DuplicatesSorted, MaxLineSize: 700},
		{Duplicates: DuplicatesSorted, Partial: true},
		{Duplicates: DuplicatesExact},
	} {
		for _, sizes := range cuts {
			wt, ws, werr := writePieces(data, sizes, opts, false)
			pt, ps, perr := writePieces(data, sizes, opts, true)
			if fmt.Sprint(wt) != fmt.Sprint(pt) || ws != ps || fmt.Sprint(werr) != fmt.Sprint(perr) {
				t.Fatalf("options %+v, pieces %v:\nWrite:            %v %+v %v\nWritePrechecked:  %v %+v %v",
					opts, sizes, wt, ws, werr, pt, ps, perr)
			}
		}
	}
}

var precheckCuts = [][]int{{32 << 10}, {256 << 10}, {4096}, {1000, 1, 3000, 2, 777}, {1 << 30}}

// TestPrecheckMatchesWrite: on valid dumps, and on dumps damaged in the
// ways a piece's precheck must notice (a byte changed anywhere, lines out
// of order, a duplicate, a second K/M, a truncated end), prechecked pieces
// give what Write gives.
func TestPrecheckMatchesWrite(t *testing.T) {
	base := precheckDump(t, 3000)
	files, _ := filepath.Glob("testdata/mit/dump-*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkPrecheck(t, data, [][]int{{64}, {1000, 1, 300}, {1 << 30}})
	}
	checkPrecheck(t, base, precheckCuts)

	lines := bytes.SplitAfter(base, []byte("\n"))
	join := func(ls [][]byte) []byte { return bytes.Join(ls, nil) }
	rnd := rand.New(rand.NewPCG(1, 2))
	var variants [][]byte
	for range 40 {
		m := bytes.Clone(base)
		m[rnd.IntN(len(m))] = "0129\t\n;-a@/\\\x00Zg"[rnd.IntN(15)]
		variants = append(variants, m)
	}
	// Lines out of order or repeated next to where the pieces of 4096
	// bytes are cut: the line that crosses a cut and those around it.
	at := []int{1, 2, 1500, 2999, 3000}
	for off, i := 0, 0; i < len(lines) && len(at) < 40; i++ {
		if off += len(lines[i]); off/4096 != (off-len(lines[i]))/4096 {
			at = append(at, i-1, i)
		}
	}
	for _, i := range at {
		swapped := append([][]byte(nil), lines...)
		swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
		dup := append(append(append([][]byte(nil), lines[:i+1]...), lines[i]), lines[i+1:]...)
		variants = append(variants, join(swapped), join(dup))
	}
	var km []byte
	for _, l := range lines {
		if bytes.Contains(l, []byte("\tK/M@")) {
			km = l
		}
	}
	variants = append(variants,
		join(append(append(append([][]byte(nil), lines[:1000]...), km), lines[1000:]...)),
		base[:len(base)-1], base[:len(base)/2])
	for _, m := range variants {
		checkPrecheck(t, m, precheckCuts[:3])
	}
	if len(variants) < 100 {
		t.Fatalf("%d variants", len(variants))
	}
}

// TestPrecheckSkips: on a valid dump cut as kpropd receives it, the
// prechecks let WritePrechecked skip nearly every line (otherwise
// TestPrecheckMatchesWrite would pass with a Precheck that does nothing).
func TestPrecheckSkips(t *testing.T) {
	data := precheckDump(t, 3000)
	var pcs, skippable, lines int
	for p := data; len(p) > 0; {
		piece := p[:min(32<<10, len(p))]
		p = p[len(piece):]
		var pc Precheck
		pc.Run(piece)
		pcs++
		if pc.ok {
			skippable++
			lines += pc.lines
		}
	}
	if skippable < pcs-2 || lines < 2900 {
		t.Errorf("%d of %d pieces could be skipped, %d lines of 3000", skippable, pcs, lines)
	}
}

// FuzzPrecheck checks WritePrechecked against Write on arbitrary data cut
// at arbitrary places.
func FuzzPrecheck(f *testing.F) {
	f.Add(precheckDump(f, 20), uint16(300), uint16(7))
	f.Add([]byte("kdb5_util load_dump version 6\nprinc\t38\t5\t0\t0\t0\ta@B.C\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n"), uint16(20), uint16(40))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint16) {
		checkPrecheck(t, data, [][]int{{int(a%4096) + 1, int(b%4096) + 1}})
	})
}
