package dumpfmt_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
)

// FuzzReader feeds arbitrary bytes to the Reader and to Validate. Neither
// may panic; line length is capped so allocation stays bounded by the
// input. Whatever the Reader accepts completely must be rewritten byte for
// byte by the Writer, and Validate must agree with the Reader on per-record
// errors.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("testdata/mit/dump-*")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(validDump))
	for _, h := range allHeaders {
		f.Add(dumptest.Bytes(dumptest.Config{Header: h, Principals: 3, Policies: 2}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxLine = 1 << 20
		r := dumpfmt.NewReader(bytes.NewReader(data))
		r.MaxLineSize = maxLine
		var out bytes.Buffer
		var w *dumpfmt.Writer
		var rerr error
		for {
			if w == nil {
				h, err := r.Header()
				if err != nil {
					rerr = err
					break
				}
				w = dumpfmt.NewWriter(&out, h)
			}
			rec, err := r.Next()
			if err != nil {
				rerr = err
				break
			}
			if err := w.Write(rec); err != nil {
				t.Fatalf("Writer refused a record the Reader accepted: %v", err)
			}
			// Exercise the decoders on whatever was read.
			if p, ok := rec.(*dumpfmt.Principal); ok {
				p.PolicyName()
				p.StringAttrs()
				p.ModPrinc()
				p.MkeyAux()
				p.ActKvnos()
				p.ParsedName()
			}
		}
		_, verr := dumpfmt.Validate(bytes.NewReader(data), dumpfmt.ValidateOptions{MaxLineSize: maxLine})
		if rerr == io.EOF {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("accepted input not reproduced:\n in %q\nout %q", data, out.Bytes())
			}
			if verr != nil && !errors.Is(verr, dumpfmt.ErrNoMaster) && !errors.Is(verr, dumpfmt.ErrDuplicate) {
				t.Fatalf("Reader accepts, Validate says %v", verr)
			}
			return
		}
		var pe *dumpfmt.ParseError
		if !errors.As(rerr, &pe) {
			t.Fatalf("Reader error %v is not a *ParseError", rerr)
		}
		if verr == nil {
			t.Fatalf("Reader says %v, Validate accepts", rerr)
		}
		if verr.Error() != rerr.Error() {
			t.Fatalf("Reader says %v, Validate says %v", rerr, verr)
		}
	})
}

// TestWriteFuzzCorpus regenerates the committed seed corpus in
// testdata/fuzz/FuzzReader when DUMPFMT_WRITE_CORPUS=1: small valid dumps
// in every format and damaged variants of them.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("DUMPFMT_WRITE_CORPUS") != "1" {
		t.Skip("set DUMPFMT_WRITE_CORPUS=1 to regenerate the corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var seeds [][]byte
	for _, h := range allHeaders {
		seeds = append(seeds, dumptest.Bytes(dumptest.Config{Header: h, Principals: 2, Policies: 2, Seed: 9}))
	}
	v := []byte(validDump)
	seeds = append(seeds,
		v[:len(v)-1], // no final newline
		bytes.Replace(v, []byte("\t12\t1\t1\t"), []byte("\t12\t9\t1\t"), 1),
		bytes.Replace(v, []byte("deadbeef"), []byte("deadbeeZ"), 1),
		bytes.Replace(v, []byte("\t4\tdeadbeef"), []byte("\t65535\tdeadbeef"), 1),
		bytes.Replace(v, []byte("-1;\n"), []byte("-1;;\n"), 1),
		bytes.Replace(v, []byte("version 7"), []byte("version 4"), 1),
		[]byte("ipropx 1 1 2 3\npolicy\tp\t0\t0\t1\t1\t1\t0\t3\t60\t120\n"),
		[]byte("OpenV*Secure V1.0\t1\n"),
	)
	for i, s := range seeds {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
