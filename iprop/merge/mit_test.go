package merge_test

import (
	"sort"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/iproptest"
	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/iprop/merge"
)

// TestMergeMatchesMITReplica applies the updates MIT kadmind sent in the
// shared scenario to the replica's records from before the kpropd cycle,
// and requires every record to equal, as a dump line, what MIT kpropd
// left in the replica's database.
func TestMergeMatchesMITReplica(t *testing.T) {
	s := iproptest.Run(t, iproptest.Default())
	ups := s.Updates(t)
	_, before := iproptest.ReadDump(t, s.ReplicaDumpBefore)
	_, after := iproptest.ReadDump(t, s.ReplicaDumpAfter)

	get := func(name string) (*dumpfmt.Principal, error) { return before[name], nil }
	res, err := merge.Fold(ups, get)
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != len(ups) {
		t.Fatalf("folded %d of %d updates", res.Applied, len(ups))
	}
	got := map[string]*dumpfmt.Principal{}
	for name, p := range before {
		got[name] = p
	}
	for name := range res.Delete {
		delete(got, name)
	}
	for name, p := range res.Put {
		got[name] = p
	}
	compare(t, got, after)

	// The same, one update at a time through Apply.
	seq := map[string]*dumpfmt.Principal{}
	for name, p := range before {
		seq[name] = p
	}
	for i := range ups {
		u := &ups[i]
		key, err := merge.Canonical(u.Principal)
		if err != nil {
			t.Fatal(err)
		}
		if u.Deleted {
			delete(seq, key)
			continue
		}
		p, err := merge.Apply(seq[key], u)
		if err != nil {
			t.Fatal(err)
		}
		seq[p.Name] = p
	}
	compare(t, seq, after)

	// The scenario must exercise what it claims: lockout state kept,
	// renames, deletions, changed records.
	alice := after["alice@"+s.Primary.Realm]
	if alice == nil || alice.FailAuthCount != iproptest.AliceFailAuthCount || alice.LastFailed != iproptest.AliceLastFailed || alice.LastSuccess != iproptest.AliceLastSuccess {
		t.Errorf("MIT's replica did not keep alice's lockout state: %+v", alice)
	}
	for _, gone := range []string{"erin", "gina", "doomed", "oldname"} {
		if after[gone+"@"+s.Primary.Realm] != nil {
			t.Errorf("%s still on MIT's replica", gone)
		}
	}
	changed := 0
	for name, p := range after {
		if b := before[name]; b == nil || iproptest.PrincipalLine(t, b) != iproptest.PrincipalLine(t, p) {
			changed++
		}
	}
	if changed < 12 {
		t.Errorf("only %d records changed", changed)
	}
	// MIT's replica prepends tl-data the primary appends: its records are
	// not the primary's, which is why the merge must follow MIT's rules
	// and not copy the primary.
	_, primary := iproptest.ReadDump(t, iproptest.DumpNoIprop(t, s.Primary))
	reordered := 0
	for name, p := range after {
		if q := primary[name]; q != nil && !sameTLOrder(p, q) {
			reordered++
		}
	}
	if reordered == 0 {
		t.Error("no record has its tl-data in another order on the replica than on the primary")
	}
	t.Logf("%d updates folded into %d puts and %d deletions; %d records changed", len(ups), len(res.Put), len(res.Delete), changed)
}

func compare(t *testing.T, got, want map[string]*dumpfmt.Principal) {
	t.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	for n := range got {
		if want[n] == nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		g, w := got[n], want[n]
		switch {
		case g == nil:
			t.Errorf("%s: missing; MIT's replica has\n%s", n, iproptest.PrincipalLine(t, w))
		case w == nil:
			t.Errorf("%s: MIT's replica does not have it; merged\n%s", n, iproptest.PrincipalLine(t, g))
		default:
			if gl, wl := iproptest.PrincipalLine(t, g), iproptest.PrincipalLine(t, w); gl != wl {
				t.Errorf("%s differs:\nmerged\n%s\nMIT\n%s", n, gl, wl)
			}
		}
	}
}

func sameTLOrder(a, b *dumpfmt.Principal) bool {
	if len(a.TLData) != len(b.TLData) {
		return false
	}
	for i := range a.TLData {
		if a.TLData[i].Type != b.TLData[i].Type {
			return false
		}
	}
	return true
}

// The updates' own names, as kadmin quotes them, are canonical already.
func TestScenarioNamesCanonical(t *testing.T) {
	for _, n := range []string{`esc\/aped/inst@R`, `space name@R`, `ünïcødé@R`} {
		c, err := merge.Canonical(n)
		if err != nil || c != n {
			t.Errorf("%q -> %q, %v", n, c, err)
		}
	}
	_ = iprop.UpdateOK
}
