package dumpfmt_test

import (
	"io"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
)

// forEach calls f with every record r yields, failing tb on a read error,
// and returns the number of records.
func forEach(tb testing.TB, r *dumpfmt.Reader, f func(dumpfmt.Record)) int {
	tb.Helper()
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
		if f != nil {
			f(rec)
		}
	}
}
