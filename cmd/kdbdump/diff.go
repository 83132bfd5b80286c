package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"strconv"

	"github.com/gokprop/gokprop/dumpfmt"
)

type diffEntry struct {
	Type   string   `json:"type"`
	Name   string   `json:"name"`
	Fields []string `json:"fields,omitempty"`
}

type diffResult struct {
	Equal   bool        `json:"equal"`
	Header  string      `json:"header_note,omitempty"`
	Added   []diffEntry `json:"added"`
	Removed []diffEntry `json:"removed"`
	Changed []diffEntry `json:"changed"`
}

// cmdDiff compares the principals and policies of two dumps. It holds the
// first dump's records in memory (about the size of that dump) and
// streams the second. The header and the policy line layout are not
// compared as data: a version 5 and a version 7 dump of the same database
// are equal if their records are.
func cmdDiff(e *env, args []string) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		return e.errorf("diff: need two files")
	}
	a, b := fs.Arg(0), fs.Arg(1)
	if a == "-" && b == "-" {
		return e.errorf("diff: only one file can be standard input")
	}
	princs := map[string]*dumpfmt.Principal{}
	pols := map[string]*dumpfmt.Policy{}
	var ha, hb dumpfmt.Header
	status := forEach(e, a, false, func(h dumpfmt.Header, rec dumpfmt.Record, line int) error {
		ha = h
		switch r := rec.(type) {
		case *dumpfmt.Principal:
			princs[canonical(r.Name)] = r
		case *dumpfmt.Policy:
			pols[r.Name] = r
		}
		return nil
	})
	if status != 0 {
		return 2
	}
	res := diffResult{Added: []diffEntry{}, Removed: []diffEntry{}, Changed: []diffEntry{}}
	status = forEach(e, b, true, func(h dumpfmt.Header, rec dumpfmt.Record, line int) error {
		hb = h
		switch r := rec.(type) {
		case *dumpfmt.Principal:
			key := canonical(r.Name)
			old, ok := princs[key]
			if !ok {
				res.Added = append(res.Added, diffEntry{Type: "principal", Name: r.Name})
				return nil
			}
			delete(princs, key)
			if f := principalDiff(old, r); len(f) > 0 {
				res.Changed = append(res.Changed, diffEntry{Type: "principal", Name: r.Name, Fields: f})
			}
		case *dumpfmt.Policy:
			old, ok := pols[r.Name]
			if !ok {
				res.Added = append(res.Added, diffEntry{Type: "policy", Name: r.Name})
				return nil
			}
			delete(pols, r.Name)
			if f := policyDiff(old, r); len(f) > 0 {
				res.Changed = append(res.Changed, diffEntry{Type: "policy", Name: r.Name, Fields: f})
			}
		}
		return nil
	})
	if status != 0 {
		return 2
	}
	for _, p := range princs {
		res.Removed = append(res.Removed, diffEntry{Type: "principal", Name: p.Name})
	}
	for _, p := range pols {
		res.Removed = append(res.Removed, diffEntry{Type: "policy", Name: p.Name})
	}
	sortEntries(res.Removed)
	if ha != hb {
		res.Header = fmt.Sprintf("headers differ: %s vs %s", headerText(ha), headerText(hb))
	}
	res.Equal = len(res.Added)+len(res.Removed)+len(res.Changed) == 0
	if *asJSON {
		j := json.NewEncoder(e.stdout)
		j.SetIndent("", "  ")
		j.Encode(res)
	} else {
		w := e.stdout
		if res.Header != "" {
			fmt.Fprintf(w, "# %s\n", res.Header)
		}
		for _, d := range res.Removed {
			fmt.Fprintf(w, "- %s %s\n", d.Type, d.Name)
		}
		for _, d := range res.Added {
			fmt.Fprintf(w, "+ %s %s\n", d.Type, d.Name)
		}
		for _, d := range res.Changed {
			fmt.Fprintf(w, "~ %s %s:", d.Type, d.Name)
			for i, f := range d.Fields {
				sep := ","
				if i == 0 {
					sep = ""
				}
				fmt.Fprintf(w, "%s %s", sep, f)
			}
			fmt.Fprintln(w)
		}
	}
	if res.Equal {
		return 0
	}
	return 1
}

func sortEntries(d []diffEntry) {
	sort.Slice(d, func(i, j int) bool {
		if d[i].Type != d[j].Type {
			return d[i].Type > d[j].Type // principals first
		}
		return d[i].Name < d[j].Name
	})
}

func headerText(h dumpfmt.Header) string {
	s := "format " + h.Format.String()
	if h.Format == dumpfmt.FormatIprop || h.Format == dumpfmt.FormatIpropX {
		s += fmt.Sprintf(" serial %d time %d.%06d", h.Serial, h.Seconds, h.Microseconds)
	}
	return s
}

// canonical is the name as MIT would print it, so that two spellings of
// one principal match.
func canonical(name string) string {
	p, err := dumpfmt.ParseName(name)
	if err != nil {
		return name
	}
	return p.String()
}

func principalDiff(a, b *dumpfmt.Principal) []string {
	var f []string
	num := func(name string, x, y int64) {
		if x != y {
			f = append(f, fmt.Sprintf("%s (%d -> %d)", name, x, y))
		}
	}
	num("len", int64(a.BaseLength), int64(b.BaseLength))
	num("attributes", int64(a.Attributes), int64(b.Attributes))
	num("max_life", int64(a.MaxLife), int64(b.MaxLife))
	num("max_renewable_life", int64(a.MaxRenewableLife), int64(b.MaxRenewableLife))
	num("expiration", int64(a.Expiration), int64(b.Expiration))
	num("pw_expiration", int64(a.PasswordExpiration), int64(b.PasswordExpiration))
	num("last_success", int64(a.LastSuccess), int64(b.LastSuccess))
	num("last_failed", int64(a.LastFailed), int64(b.LastFailed))
	num("fail_auth_count", int64(a.FailAuthCount), int64(b.FailAuthCount))
	if pa, pb := keyShape(a), keyShape(b); pa != pb {
		f = append(f, fmt.Sprintf("keys (%s -> %s)", pa, pb))
	} else if !keysEqual(a.KeyData, b.KeyData) {
		f = append(f, "keys (contents)")
	}
	f = append(f, tlDiff(a.TLData, b.TLData)...)
	if !bytes.Equal(a.EData, b.EData) {
		f = append(f, "e_data")
	}
	return f
}

// keyShape describes the kvnos and enctypes of a key list.
func keyShape(p *dumpfmt.Principal) string {
	if len(p.KeyData) == 0 {
		return "none"
	}
	var b []byte
	for i, k := range p.KeyData {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendUint(b, uint64(k.Kvno), 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(k.Enctype), 10)
	}
	return string(b)
}

func keysEqual(a, b []dumpfmt.KeyData) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Version != y.Version || x.Kvno != y.Kvno || x.Enctype != y.Enctype || x.SaltType != y.SaltType ||
			!bytes.Equal(x.Key, y.Key) || !bytes.Equal(x.Salt, y.Salt) {
			return false
		}
	}
	return true
}

// tlDiff names the tl-data types whose items differ.
func tlDiff(a, b []dumpfmt.TLData) []string {
	byType := func(tl []dumpfmt.TLData) map[int16][][]byte {
		m := map[int16][][]byte{}
		for _, t := range tl {
			m[t.Type] = append(m[t.Type], t.Contents)
		}
		return m
	}
	ma, mb := byType(a), byType(b)
	var types []int
	for t := range ma {
		types = append(types, int(t))
	}
	for t := range mb {
		if _, ok := ma[t]; !ok {
			types = append(types, int(t))
		}
	}
	sort.Ints(types)
	var f []string
	for _, t := range types {
		x, y := ma[int16(t)], mb[int16(t)]
		same := len(x) == len(y)
		for i := 0; same && i < len(x); i++ {
			same = bytes.Equal(x[i], y[i])
		}
		if !same {
			f = append(f, "tl-data "+dumpfmt.TLName(int16(t)))
		}
	}
	return f
}

func policyDiff(a, b *dumpfmt.Policy) []string {
	var f []string
	nums := []struct {
		name string
		x, y int32
	}{
		{"pw_min_life", a.PwMinLife, b.PwMinLife}, {"pw_max_life", a.PwMaxLife, b.PwMaxLife},
		{"pw_min_length", a.PwMinLength, b.PwMinLength}, {"pw_min_classes", a.PwMinClasses, b.PwMinClasses},
		{"pw_history_num", a.PwHistoryNum, b.PwHistoryNum}, {"policy_refcnt", a.PolicyRefcnt, b.PolicyRefcnt},
		{"pw_max_fail", a.PwMaxFail, b.PwMaxFail}, {"pw_failcnt_interval", a.PwFailcntInterval, b.PwFailcntInterval},
		{"pw_lockout_duration", a.PwLockoutDuration, b.PwLockoutDuration}, {"attributes", a.Attributes, b.Attributes},
		{"max_life", a.MaxLife, b.MaxLife}, {"max_renewable_life", a.MaxRenewableLife, b.MaxRenewableLife},
	}
	for _, n := range nums {
		if n.x != n.y {
			f = append(f, fmt.Sprintf("%s (%d -> %d)", n.name, n.x, n.y))
		}
	}
	if a.AllowedKeysalts != b.AllowedKeysalts {
		f = append(f, fmt.Sprintf("allowed_keysalts (%q -> %q)", a.AllowedKeysalts, b.AllowedKeysalts))
	}
	return append(f, tlDiff(a.TLData, b.TLData)...)
}
