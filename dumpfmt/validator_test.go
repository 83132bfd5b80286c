package dumpfmt_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
)

// referenceValidate validates the way the record path does: a Reader,
// every record given to a Checker. It shares no code with the
// Validator's fast path, which must agree with it on everything.
func referenceValidate(data []byte, opts dumpfmt.ValidateOptions) (dumpfmt.Summary, error) {
	r := dumpfmt.NewReader(bytes.NewReader(data))
	r.FileName = opts.FileName
	r.MaxLineSize = opts.MaxLineSize
	r.ReuseRecord = true
	var s dumpfmt.Summary
	h, err := r.Header()
	if err != nil {
		return s, err
	}
	s.Header = h
	c := dumpfmt.NewChecker(opts.FileName, opts.Partial)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, err
		}
		switch rec.(type) {
		case *dumpfmt.Principal:
			s.Principals++
		case *dumpfmt.Policy:
			s.Policies++
		}
		if err := c.Add(rec, r.Line()); err != nil {
			return s, err
		}
	}
	s.Lines, s.Bytes, s.Realm = r.Line(), r.Offset(), c.MasterRealm()
	return s, c.Finish()
}

// streamValidate writes data to a Validator in pieces of the given size.
func streamValidate(data []byte, opts dumpfmt.ValidateOptions, chunk int) (dumpfmt.Summary, error) {
	v := dumpfmt.NewValidator(opts)
	for len(data) > 0 {
		n := min(chunk, len(data))
		if m, err := v.Write(data[:n]); err != nil {
			if m != 0 {
				return dumpfmt.Summary{}, fmt.Errorf("Write returned %d with %v", m, err)
			}
			break
		} else if m != n {
			return dumpfmt.Summary{}, fmt.Errorf("Write returned %d of %d", m, n)
		}
		data = data[n:]
	}
	return v.Close()
}

// sameResult reports how two validation results differ, or "".
func sameResult(s1 dumpfmt.Summary, err1 error, s2 dumpfmt.Summary, err2 error) string {
	switch {
	case err1 == nil && err2 == nil:
		if s1 != s2 {
			return fmt.Sprintf("summary %+v, want %+v", s1, s2)
		}
		return ""
	case err1 == nil || err2 == nil:
		return fmt.Sprintf("error %v, want %v", err1, err2)
	}
	if err1.Error() != err2.Error() {
		return fmt.Sprintf("error %q, want %q", err1, err2)
	}
	var pe1, pe2 *dumpfmt.ParseError
	if errors.As(err1, &pe1) != errors.As(err2, &pe2) {
		return fmt.Sprintf("error %T, want %T", err1, err2)
	}
	if pe1 != nil && (pe1.Line != pe2.Line || pe1.Field != pe2.Field || errors.Unwrap(pe1.Err) != errors.Unwrap(pe2.Err)) {
		return fmt.Sprintf("error at %d %q (%v), want %d %q (%v)", pe1.Line, pe1.Field, pe1.Err, pe2.Line, pe2.Field, pe2.Err)
	}
	return ""
}

// chunkSizes returns every size from 1 to just past n (at most 512) and a
// few odd and large ones.
func chunkSizes(n int) []int {
	var sizes []int
	for c := 1; c <= min(n+1, 512); c++ {
		sizes = append(sizes, c)
	}
	for _, c := range []int{997, 4093, 32 << 10} {
		if c <= n {
			sizes = append(sizes, c)
		}
	}
	return sizes
}

// validatorInputs are the dumps every streaming test runs on: the
// fixture, every TestErrors case, the dumps MIT wrote, and generated dumps
// in every format.
func validatorInputs(t *testing.T) map[string][]byte {
	t.Helper()
	in := map[string][]byte{"valid": []byte(validDump)}
	for _, tc := range errorCases {
		in["errors/"+tc.name] = []byte(tc.dump(t))
	}
	files, _ := filepath.Glob("testdata/mit/dump-*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in[f] = b
	}
	for _, h := range allHeaders {
		in["generated/"+h.Format.String()] = dumptest.Bytes(dumptest.Config{Header: h, Principals: 12, Policies: 3, Seed: 5})
	}
	return in
}

// TestValidatorChunks feeds every input through a Validator at every
// chunk size and compares the verdict with Validate's and with the
// record path's: the same summary, or the same error at the same line and
// field.
func TestValidatorChunks(t *testing.T) {
	for name, data := range validatorInputs(t) {
		opts := dumpfmt.ValidateOptions{FileName: "x.dump"}
		ws, werr := referenceValidate(data, opts)
		vs, verr := dumpfmt.Validate(bytes.NewReader(data), opts)
		if d := sameResult(vs, verr, ws, werr); d != "" {
			t.Errorf("%s: Validate: %s", name, d)
		}
		for _, chunk := range chunkSizes(len(data)) {
			s, err := streamValidate(data, opts, chunk)
			if d := sameResult(s, err, ws, werr); d != "" {
				t.Fatalf("%s, %d-byte writes: %s", name, chunk, d)
			}
		}
	}
}

// TestValidatorTruncation streams every prefix of a dump (TestTruncation's
// cuts) at several chunk sizes.
func TestValidatorTruncation(t *testing.T) {
	data := []byte(validDump + "policy\tq\t0\t0\t1\t1\t1\t0\t3\t60\t120\t0\t0\t0\taes256-cts:normal\t1\t1\t3\t616263\n")
	for n := 0; n <= len(data); n++ {
		ws, werr := referenceValidate(data[:n], dumpfmt.ValidateOptions{})
		for _, chunk := range []int{1, 2, 3, 7, 64, 1000} {
			s, err := streamValidate(data[:n], dumpfmt.ValidateOptions{}, chunk)
			if d := sameResult(s, err, ws, werr); d != "" {
				t.Fatalf("cut at %d, %d-byte writes: %s", n, chunk, d)
			}
		}
	}
}

// TestLineTooLong checks the line limit in the Reader, Validate and the
// Validator: a line longer than MaxLineSize fails at its own line whether
// or not it is complete, and whatever the chunking.
func TestLineTooLong(t *testing.T) {
	lines := strings.SplitAfter(validDump, "\n")
	for _, max := range []int{10, 29, 30, 60, 79, 80, 81, 200} {
		for _, in := range []string{validDump, validDump[:len(validDump)-1], validDump[:len(validDump)-10], lines[0], strings.Repeat("x", 100)} {
			opts := dumpfmt.ValidateOptions{MaxLineSize: max}
			ws, werr := referenceValidate([]byte(in), opts)
			for _, chunk := range chunkSizes(len(in)) {
				s, err := streamValidate([]byte(in), opts, chunk)
				if d := sameResult(s, err, ws, werr); d != "" {
					t.Fatalf("max %d, %q, %d-byte writes: %s", max, in, chunk, d)
				}
			}
			// The first line over the limit is the one reported.
			want := 0
			for i, l := range strings.SplitAfter(in, "\n") {
				if len(strings.TrimSuffix(l, "\n")) > max {
					want = i + 1
					break
				}
			}
			var pe *dumpfmt.ParseError
			if want > 0 && (!errors.Is(werr, dumpfmt.ErrLineTooLong) || !errors.As(werr, &pe) || pe.Line != want) {
				t.Errorf("max %d, %q: %v, want line %d too long", max, in, werr, want)
			}
		}
	}
}

func TestValidatorAfterError(t *testing.T) {
	bad := strings.Replace(validDump, "deadbeef", "deadbeeg", 1)
	v := dumpfmt.NewValidator(dumpfmt.ValidateOptions{})
	n, err := v.Write([]byte(bad))
	if n != 0 || !errors.Is(err, dumpfmt.ErrHex) {
		t.Fatalf("Write: %d, %v", n, err)
	}
	if n, err2 := v.Write([]byte("more")); n != 0 || err2 != err {
		t.Errorf("second Write: %d, %v", n, err2)
	}
	if _, err2 := v.Close(); err2 != err {
		t.Errorf("Close: %v", err2)
	}
	v = dumpfmt.NewValidator(dumpfmt.ValidateOptions{})
	if _, err := io.WriteString(v, validDump); err != nil {
		t.Fatal(err)
	}
	s, err := v.Close()
	if err != nil || s.Principals != 2 {
		t.Fatalf("Close: %+v, %v", s, err)
	}
	if s2, err := v.Close(); s2 != s || err != nil {
		t.Errorf("second Close: %+v, %v", s2, err)
	}
	if _, err := v.Write([]byte("x")); err == nil {
		t.Error("Write after Close accepted")
	}
}

// TestValidatorReadError passes a reader's error through unchanged.
func TestValidatorReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(validDump[:100]), &errReader{boom})
	if _, err := dumpfmt.Validate(r, dumpfmt.ValidateOptions{}); err != boom {
		t.Fatalf("Validate: %v", err)
	}
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

// TestValidatorAllocs checks that Write allocates per chunk nothing: the
// allocations of a whole dump are the same in 4 KiB writes as in one.
func TestValidatorAllocs(t *testing.T) {
	data := dumptest.Bytes(dumptest.Config{Principals: 20000, Seed: 11})
	allocs := func(chunk int) uint64 {
		v := dumpfmt.NewValidator(dumpfmt.ValidateOptions{})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for p := data; len(p) > 0; {
			n := min(chunk, len(p))
			if _, err := v.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		runtime.ReadMemStats(&after)
		if _, err := v.Close(); err != nil {
			t.Fatal(err)
		}
		return after.Mallocs - before.Mallocs
	}
	whole, small := allocs(len(data)), allocs(4<<10)
	writes := len(data)/(4<<10) + 1
	t.Logf("%d allocations in one Write, %d in %d writes of 4 KiB", whole, small, writes)
	// The line buffer grows a few times to the longest line, and the
	// runtime allocates a little in the background; one allocation per
	// write would add thousands.
	if small > whole+uint64(writes)/50 {
		t.Errorf("%d allocations in %d writes of 4 KiB, %d in one", small, writes, whole)
	}
}

// FuzzValidator checks on arbitrary input, chunk size and line limit that
// the Validator, Validate and the record path agree.
func FuzzValidator(f *testing.F) {
	for _, h := range allHeaders {
		f.Add(dumptest.Bytes(dumptest.Config{Header: h, Principals: 3, Policies: 2}), uint16(7), uint16(0))
	}
	f.Add([]byte(validDump), uint16(1), uint16(0))
	f.Add([]byte(validDump), uint16(13), uint16(90))
	for _, tc := range errorCases {
		f.Add([]byte(tc.dump(f)), uint16(len(tc.name)), uint16(0))
	}
	files, _ := filepath.Glob("testdata/mit/dump-*")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(4096), uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk, maxLine uint16) {
		opts := dumpfmt.ValidateOptions{MaxLineSize: int(maxLine)}
		if maxLine == 0 {
			opts.MaxLineSize = 1 << 20
		}
		ws, werr := referenceValidate(data, opts)
		vs, verr := dumpfmt.Validate(bytes.NewReader(data), opts)
		if d := sameResult(vs, verr, ws, werr); d != "" {
			t.Fatalf("Validate: %s", d)
		}
		s, err := streamValidate(data, opts, max(int(chunk), 1))
		if d := sameResult(s, err, ws, werr); d != "" {
			t.Fatalf("Validator, %d-byte writes: %s", chunk, d)
		}
		if d := sortedAgrees(data, opts, max(int(chunk), 1), ws, werr); d != "" {
			t.Fatalf("DuplicatesSorted, %d-byte writes: %s", chunk, d)
		}
	})
}

// sortedAgrees reports how DuplicatesSorted's result on data departs from
// what it promises against the exact result: the same, except that a
// duplicate after the order broke may go unnoticed.
func sortedAgrees(data []byte, opts dumpfmt.ValidateOptions, chunk int, exact dumpfmt.Summary, exactErr error) string {
	opts.Duplicates = dumpfmt.DuplicatesSorted
	s, err := streamValidate(data, opts, chunk)
	unsorted := s.Unsorted
	s.Unsorted = 0
	d := sameResult(s, err, exact, exactErr)
	if d == "" {
		return ""
	}
	var pe *dumpfmt.ParseError
	if errors.Is(exactErr, dumpfmt.ErrDuplicate) && errors.As(exactErr, &pe) && unsorted != 0 && unsorted <= pe.Line {
		return "" // missed: its first occurrence came before the order broke
	}
	return fmt.Sprintf("%s (order broke at line %d)", d, unsorted)
}

// TestDuplicatesSorted: in MIT's order nothing is stored and a repeated
// name is still a duplicate; once the order breaks, the hash set finds
// the duplicates from there on but not one of a name from before.
func TestDuplicatesSorted(t *testing.T) {
	sorted := dumpfmt.ValidateOptions{Duplicates: dumpfmt.DuplicatesSorted}
	gen := dumptest.Bytes(dumptest.Config{Principals: 300, Policies: 5, Seed: 2})
	s, err := dumpfmt.Validate(bytes.NewReader(gen), sorted)
	if err != nil || s.Unsorted != 0 || s.Principals != 303 {
		t.Fatalf("generated dump: %+v, %v", s, err)
	}
	lines := strings.SplitAfter(string(gen), "\n")
	lines = lines[:len(lines)-1] // the empty string after the last newline
	join := func(ls ...string) string { return strings.Join(ls, "") }
	cases := []struct {
		name     string
		dump     string
		dupLine  int // 0: valid
		unsorted int
	}{
		{"repeated principal", join(join(lines[:11]...), lines[10], join(lines[11:]...)), 12, 0},
		{"repeated policy", join(join(lines...), lines[len(lines)-1]), len(lines) + 1, 0},
		// Line 6 moved after line 9: the order breaks at its new place
		// (line 9); the principal repeated after the break is found.
		{"found after the break", join(join(lines[:5]...), join(lines[6:9]...), lines[5], lines[100], join(lines[9:]...)), 102, 9},
		// A repeat of a name from before the break goes unnoticed, as
		// MIT's loader would let the later record win.
		{"missed across the break", join(join(lines[:5]...), join(lines[6:9]...), lines[5], lines[3], join(lines[9:]...)), 0, 9},
	}
	for _, tc := range cases {
		s, err := dumpfmt.Validate(strings.NewReader(tc.dump), sorted)
		var pe *dumpfmt.ParseError
		switch {
		case tc.dupLine == 0 && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.dupLine != 0 && (!errors.Is(err, dumpfmt.ErrDuplicate) || !errors.As(err, &pe) || pe.Line != tc.dupLine || pe.Field != "name"):
			t.Errorf("%s: %v, want a duplicate name on line %d", tc.name, err, tc.dupLine)
		case s.Unsorted != tc.unsorted:
			t.Errorf("%s: Unsorted %d, want %d", tc.name, s.Unsorted, tc.unsorted)
		}
		// The exact mode finds every duplicate.
		if _, err := dumpfmt.Validate(strings.NewReader(tc.dump), dumpfmt.ValidateOptions{}); tc.name == "missed across the break" && !errors.Is(err, dumpfmt.ErrDuplicate) {
			t.Errorf("%s: exact mode: %v, want a duplicate", tc.name, err)
		}
	}
}

// TestDuplicatesSortedFlat: validating a sorted dump in the sorted mode
// needs no memory per record.
func TestDuplicatesSortedFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 200k-principal dump")
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	cfg := dumptest.Config{Principals: 200_000, Policies: 50, KeyVersions: 1, Seed: 7}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(dumptest.Generate(pw, cfg)) }()
	base := heap()
	v := dumpfmt.NewValidator(dumpfmt.ValidateOptions{Duplicates: dumpfmt.DuplicatesSorted})
	var peak uint64
	buf := make([]byte, 32<<10)
	for n := 0; ; n++ {
		m, err := pr.Read(buf)
		if m > 0 {
			if _, err := v.Write(buf[:m]); err != nil {
				t.Fatal(err)
			}
		}
		if n%500 == 0 {
			peak = max(peak, heap())
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := v.Close()
	if err != nil || s.Unsorted != 0 {
		t.Fatalf("%+v %v", s, err)
	}
	grow := int64(peak) - int64(base)
	t.Logf("%d principals, %d bytes: heap growth at peak %d bytes", s.Principals, s.Bytes, grow)
	if grow > 1<<20 {
		t.Errorf("heap grew by %d bytes validating a sorted dump", grow)
	}
}
