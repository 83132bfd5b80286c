package dumptest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
)

// TestSortedLikeMIT checks that principals come out in strictly increasing
// byte order of their names, as kdb5_util dump writes them from MIT's db2
// btree, whatever the count (the numbers widen past ten million).
func TestSortedLikeMIT(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 1234} {
		data := Bytes(Config{Principals: n, Policies: 2, Seed: 1})
		r := dumpfmt.NewReader(bytes.NewReader(data))
		prev, count := "", 0
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			p, ok := rec.(*dumpfmt.Principal)
			if !ok {
				continue
			}
			if count > 0 && strings.Compare(prev, p.Name) >= 0 {
				t.Fatalf("n=%d: %q after %q", n, p.Name, prev)
			}
			prev = p.Name
			count++
		}
		if count != n+3 {
			t.Errorf("n=%d: %d principals, want %d", n, count, n+3)
		}
	}
	var names []string
	for name := range sortedNames("R", 12_000_000) {
		if len(names) > 0 && names[len(names)-1] >= name {
			t.Fatalf("%q after %q", name, names[len(names)-1])
		}
		if len(names) == 8 {
			break
		}
		names = append(names, name)
	}
	if !strings.HasPrefix(names[0], "HTTP/www00000007.") {
		t.Errorf("first name %q, want eight-digit HTTP/www00000007...", names[0])
	}
}
