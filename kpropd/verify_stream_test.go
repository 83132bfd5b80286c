package kpropd_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krbauth"
)

// TestVerifyWhileReceiving: with its default validation, kpropd checks
// each record of the dump as it is decrypted and the lines across records
// in order. A dump damaged inside a record, on the line that crosses from
// one record to the next, or with a name repeated around that line, is
// refused with the error dumpfmt.Validate gives for it (the same line and
// field), in the fast data phase (256 KiB records) and on MIT's wire (32
// KiB), and nothing is installed; names out of order there make a valid
// dump (Validate's verdict), installed as sent, as is the undamaged one.
func TestVerifyWhileReceiving(t *testing.T) {
	dump := dumptest.Bytes(dumptest.Config{Realm: "TEST.ORG", Principals: 12000, Policies: 3, KeyVersions: 1, Seed: 7})
	lines := bytes.SplitAfter(dump, []byte("\n"))
	// lineAt returns the index of the line holding byte off.
	lineAt := func(off int) int {
		for i, n := 0, 0; i < len(lines); i++ {
			if n += len(lines[i]); n > off {
				return i
			}
		}
		t.Fatalf("offset %d past the dump", off)
		return 0
	}
	join := func(ls [][]byte) []byte { return bytes.Join(ls, nil) }
	hexDamage := func(i int) []byte {
		ls := append([][]byte(nil), lines...)
		l := bytes.Clone(ls[i])
		l[len(l)-20] = 'g' // in the last key's hex
		ls[i] = l
		return join(ls)
	}
	swap := func(i int) []byte {
		ls := append([][]byte(nil), lines...)
		ls[i], ls[i+1] = ls[i+1], ls[i]
		return join(ls)
	}
	repeat := func(i int) []byte {
		return join(append(append(append([][]byte(nil), lines[:i+1]...), lines[i]), lines[i+1:]...))
	}
	for _, w := range []struct {
		name   string
		mit    bool
		record int
	}{{"fast", false, krbauth.FastRecordSize}, {"mit-wire", true, 32 << 10}} {
		t.Run(w.name, func(t *testing.T) {
			cross := lineAt(5 * w.record) // the line from record 4 into record 5
			inside := lineAt(3*w.record + w.record/2)
			cases := map[string][]byte{
				"inside a record":          hexDamage(inside),
				"repeated inside a record": repeat(inside),
				"across records":           hexDamage(cross),
				"swapped across records":   swap(cross),
				"swapped after the cut":    swap(cross + 1),
				"repeated across":          repeat(cross),
				"repeated before the cut":  repeat(cross - 1),
			}
			for name, bad := range cases {
				_, want := dumpfmt.Validate(bytes.NewReader(bad), dumpfmt.ValidateOptions{FileName: "from_master", Duplicates: dumpfmt.DuplicatesSorted})
				f := newFixture(t, 18, func(s *kpropd.Server) {
					s.Validate = &dumpfmt.ValidateOptions{Duplicates: dumpfmt.DuplicatesSorted}
				})
				_, err := f.pushWire(t, 18, bad, nil, w.mit)
				f.finished(t, 1)
				if want == nil {
					// Out of order but valid: accepted, as Validate accepts it.
					if got, _ := os.ReadFile(f.srv.File); err != nil || !bytes.Equal(got, bad) {
						t.Errorf("%s: %v, %d bytes installed; want the dump installed", name, err, len(got))
					}
					continue
				}
				var pe *dumpfmt.ParseError
				if !errors.As(want, &pe) || pe.Line < 2 {
					t.Fatalf("%s: the damaged dump validates as %v", name, want)
				}
				var re *krbauth.RemoteError
				if !errors.As(err, &re) || re.Text != pe.Error()+" while verifying the received database" {
					t.Errorf("%s: %v, want %q", name, err, pe.Error())
				}
				assertUntouched(t, f)
				assertNoTemp(t, f)
			}
			f := newFixture(t, 18, func(s *kpropd.Server) {
				s.Validate = &dumpfmt.ValidateOptions{Duplicates: dumpfmt.DuplicatesSorted}
			})
			if _, err := f.pushWire(t, 18, dump, nil, w.mit); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(f.srv.File); !bytes.Equal(got, dump) {
				t.Errorf("installed %d bytes, not the dump", len(got))
			}
		})
	}
}
