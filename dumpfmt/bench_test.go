package dumpfmt_test

import (
	"bytes"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
	"github.com/gokprop/gokprop/internal/cputime"
)

const benchPrincipals = 100000

var benchDump = sync.OnceValue(func() []byte {
	return dumptest.Bytes(dumptest.Config{Principals: benchPrincipals, Policies: 50, Seed: 42})
})

// BenchmarkReader reads every record of a generated 100k-principal dump,
// reusing records (the constant-memory path).
func BenchmarkReader(b *testing.B) {
	data := benchDump()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cputime.Now()
	for b.Loop() {
		r := dumpfmt.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		if n := forEach(b, r, nil); n != benchPrincipals+53 {
			b.Fatalf("%d records", n)
		}
	}
	cputime.ReportRate(b, cpu0, int64(len(data)))
}

// BenchmarkReaderNewRecords is BenchmarkReader with a fresh record each
// time, as a caller keeping records gets.
func BenchmarkReaderNewRecords(b *testing.B) {
	data := benchDump()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cputime.Now()
	for b.Loop() {
		r := dumpfmt.NewReader(bytes.NewReader(data))
		forEach(b, r, nil)
	}
	cputime.ReportRate(b, cpu0, int64(len(data)))
}

// BenchmarkValidate runs the validation fast path, duplicate and K/M
// checks included.
func BenchmarkValidate(b *testing.B) {
	data := benchDump()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cputime.Now()
	for b.Loop() {
		s, err := dumpfmt.Validate(bytes.NewReader(data), dumpfmt.ValidateOptions{})
		if err != nil || s.Principals != benchPrincipals+3 {
			b.Fatal(s, err)
		}
	}
	cputime.ReportRate(b, cpu0, int64(len(data)))
}

// BenchmarkValidateStreaming is BenchmarkValidate through a Validator
// written in 32 KiB pieces, the plaintext of one KRB-PRIV message of
// kprop's, as kpropd verifies a dump while it arrives.
func BenchmarkValidateStreaming(b *testing.B) {
	b.Run("exact", func(b *testing.B) { benchValidateStreaming(b, dumpfmt.DuplicatesExact) })
	// kpropd's default: a sorted dump, nothing stored per record.
	b.Run("sorted", func(b *testing.B) { benchValidateStreaming(b, dumpfmt.DuplicatesSorted) })
	// As kpropd validates with that default: each piece prechecked by a
	// goroutine of its own (here GOMAXPROCS at a time), then given to
	// WritePrechecked in order. MB/s is the wall-clock rate; "in-order"
	// is the part left to the goroutine that writes in order.
	b.Run("prechecked", benchValidatePrechecked)
}

func benchValidatePrechecked(b *testing.B) {
	data := benchDump()
	const chunk = 256 << 10 // a fast data record
	var pieces [][]byte
	for p := data; len(p) > 0; p = p[min(chunk, len(p)):] {
		pieces = append(pieces, p[:min(chunk, len(p))])
	}
	pcs := make([]dumpfmt.Precheck, len(pieces))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cputime.Now()
	var inOrder time.Duration
	for b.Loop() {
		// Prechecks by a pool of goroutines, each piece handed to
		// WritePrechecked as soon as it and those before it are done.
		done := make([]chan struct{}, len(pieces))
		for i := range done {
			done[i] = make(chan struct{})
		}
		next := make(chan int, len(pieces))
		for i := range pieces {
			next <- i
		}
		close(next)
		for range runtime.GOMAXPROCS(0) {
			go func() {
				for i := range next {
					pcs[i].Run(pieces[i])
					close(done[i])
				}
			}()
		}
		v := dumpfmt.NewValidator(dumpfmt.ValidateOptions{Duplicates: dumpfmt.DuplicatesSorted})
		for i, p := range pieces {
			<-done[i]
			t0 := time.Now()
			if _, err := v.WritePrechecked(p, &pcs[i]); err != nil {
				b.Fatal(err)
			}
			inOrder += time.Since(t0)
		}
		s, err := v.Close()
		if err != nil || s.Principals != benchPrincipals+3 {
			b.Fatal(s, err)
		}
	}
	cputime.ReportRate(b, cpu0, int64(len(data)))
	b.ReportMetric(float64(len(data))*float64(b.N)/1e6/inOrder.Seconds(), "MB/in-order-s")
}

func benchValidateStreaming(b *testing.B, dups dumpfmt.DuplicateCheck) {
	data := benchDump()
	const chunk = 32 << 10
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cputime.Now()
	for b.Loop() {
		v := dumpfmt.NewValidator(dumpfmt.ValidateOptions{Duplicates: dups})
		for p := data; len(p) > 0; {
			n := min(chunk, len(p))
			if _, err := v.Write(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
		s, err := v.Close()
		if err != nil || s.Principals != benchPrincipals+3 {
			b.Fatal(s, err)
		}
	}
	cputime.ReportRate(b, cpu0, int64(len(data)))
}

// BenchmarkWriter writes the records of the 100k-principal dump.
func BenchmarkWriter(b *testing.B) {
	data := benchDump()
	r := dumpfmt.NewReader(bytes.NewReader(data))
	h, err := r.Header()
	if err != nil {
		b.Fatal(err)
	}
	var recs []dumpfmt.Record
	forEach(b, r, func(rec dumpfmt.Record) {
		recs = append(recs, rec)
	})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var out bytes.Buffer
	out.Grow(len(data))
	cpu0 := cputime.Now()
	for b.Loop() {
		out.Reset()
		w := dumpfmt.NewWriter(&out, h)
		for _, rec := range recs {
			if err := w.Write(rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	cputime.ReportRate(b, cpu0, int64(len(data)))
	if !bytes.Equal(out.Bytes(), data) {
		b.Fatal("output differs")
	}
}

// TestMemoryFlat streams a generated 100k-principal dump through a pipe
// into the Reader (reusing records) and into Validate, sampling the heap:
// the record path stays flat, and Validate grows only by the duplicate
// set.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 100k-principal dump")
	}
	cfg := dumptest.Config{Principals: benchPrincipals, Policies: 50, Seed: 7}
	stream := func() io.Reader {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(dumptest.Generate(pw, cfg)) }()
		return pr
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	r := dumpfmt.NewReader(stream())
	r.ReuseRecord = true
	var peak uint64
	n := 0
	forEach(t, r, func(rec dumpfmt.Record) {
		if n++; n%20000 == 0 {
			peak = max(peak, heap())
		}
	})
	grow := int64(peak) - int64(base)
	t.Logf("reader: %d records (%d bytes), heap growth at peak %d bytes", n, r.Offset(), grow)
	if grow > 4<<20 {
		t.Errorf("reader heap grew by %d bytes", grow)
	}

	// Validate: the duplicate set is the only thing that grows.
	base = heap()
	c := dumpfmt.NewChecker("", false)
	r = dumpfmt.NewReader(stream())
	r.ReuseRecord = true
	forEach(t, r, func(rec dumpfmt.Record) {
		if err := c.Add(rec, r.Line()); err != nil {
			t.Fatal(err)
		}
	})
	perRecord := float64(int64(heap())-int64(base)) / float64(benchPrincipals+53)
	runtime.KeepAlive(c)
	t.Logf("checker: %.1f bytes per record", perRecord)
	if perRecord > 64 {
		t.Errorf("duplicate set costs %.1f bytes per record", perRecord)
	}

	// The Validator, written in 32 KiB pieces: its heap is the line
	// buffer and the duplicate set.
	base = heap()
	v := dumpfmt.NewValidator(dumpfmt.ValidateOptions{})
	w := &sampler{w: v, every: 500, sample: func() { peak = max(peak, heap()) }}
	peak = 0
	buf := make([]byte, 32<<10)
	if _, err := io.CopyBuffer(w, struct{ io.Reader }{stream()}, buf); err != nil {
		t.Fatal(err)
	}
	s, err := v.Close()
	if err != nil {
		t.Fatal(err)
	}
	perRecord = float64(int64(peak)-int64(base)) / float64(s.Principals+s.Policies)
	runtime.KeepAlive(v)
	t.Logf("validator: %d lines (%d bytes) in %d writes, heap growth at peak %.1f bytes per record", s.Lines, s.Bytes, w.n, perRecord)
	if perRecord > 64 {
		t.Errorf("validator heap grew by %.1f bytes per record", perRecord)
	}
}

// sampler calls sample every so many writes.
type sampler struct {
	w      io.Writer
	n      int
	every  int
	sample func()
}

func (s *sampler) Write(p []byte) (int, error) {
	if s.n++; s.n%s.every == 0 {
		s.sample()
	}
	return s.w.Write(p)
}
