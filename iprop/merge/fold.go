package merge

import (
	"fmt"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/iprop"
)

// Lookup returns the replica's current record of the principal with the
// given canonical name (see Canonical), or nil if it has none.
type Lookup func(name string) (*dumpfmt.Principal, error)

// Result is the net effect of a batch of updates: what to store and what
// to delete so that the database ends as if the updates had been applied
// one by one.
type Result struct {
	// Put holds the records to store, by canonical name.
	Put map[string]*dumpfmt.Principal
	// Delete holds the canonical names to delete; a name the database
	// does not have counts as deleted, as MIT counts it.
	Delete map[string]bool
	// Applied is the number of updates the result includes: all of them,
	// unless one was not committed (see Fold).
	Applied int
}

// Fold computes the net effect of applying updates in order, reading
// current records through get at most once per name: a principal's
// changes fold into one record, a deletion cancels earlier puts, and a
// rename (a put under the new name, a deletion of the old, as MIT logs
// it) leaves a put and a deletion.
//
// Like MIT 1.20's ulog_replay, Fold stops at the first update that is not
// committed: MIT skips it and, through a quirk of its loop, every update
// after it in the batch. Result.Applied says how many were folded; only
// those belong in the replica's update log.
func Fold(updates []iprop.Update, get Lookup) (*Result, error) {
	type state struct {
		rec     *dumpfmt.Principal // nil: absent
		touched bool
	}
	st := map[string]*state{}
	load := func(key string) (*state, error) {
		if s, ok := st[key]; ok {
			return s, nil
		}
		rec, err := get(key)
		if err != nil {
			return nil, err
		}
		s := &state{rec: rec}
		st[key] = s
		return s, nil
	}
	res := &Result{Put: map[string]*dumpfmt.Principal{}, Delete: map[string]bool{}}
	for i := range updates {
		u := &updates[i]
		if !u.Commit {
			break
		}
		key, err := Canonical(u.Principal)
		if err != nil {
			return nil, fmt.Errorf("update %d: %w", u.Sno, err)
		}
		s, err := load(key)
		if err != nil {
			return nil, fmt.Errorf("update %d: reading %s: %w", u.Sno, key, err)
		}
		if u.Deleted {
			s.rec, s.touched = nil, true
			res.Applied++
			continue
		}
		rec, err := Apply(s.rec, u)
		if err != nil {
			return nil, err
		}
		// MIT stores the result under its own name (AttrPrinc's), which
		// replaces whatever record had that name.
		to := s
		if rec.Name != key {
			if to = st[rec.Name]; to == nil {
				to = &state{}
				st[rec.Name] = to
			}
		}
		to.rec, to.touched = rec, true
		res.Applied++
	}
	for key, s := range st {
		switch {
		case !s.touched:
		case s.rec != nil:
			res.Put[key] = s.rec
		default:
			res.Delete[key] = true
		}
	}
	return res, nil
}
