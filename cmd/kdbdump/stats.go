package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"time"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/krb5"
)

type enctypeStats struct {
	Enctype string `json:"enctype"`
	// Keys counts key data of this enctype at any kvno; Principals counts
	// principals whose newest kvno has a key of this enctype.
	Keys       int `json:"keys"`
	Principals int `json:"principals"`
}

type policyUse struct {
	Policy     string `json:"policy"`
	Principals int    `json:"principals"`
	// Defined is false for a policy principals name that the dump does
	// not hold (MIT allows this).
	Defined bool `json:"defined"`
}

type stats struct {
	File             string         `json:"file"`
	Format           string         `json:"format"`
	Principals       int            `json:"principals"`
	Policies         int            `json:"policies"`
	NoKeys           int            `json:"principals_without_keys"`
	Enctypes         []enctypeStats `json:"enctypes"`
	Kvnos            map[int]int    `json:"kvno_histogram"`
	ExpiredPasswords []string       `json:"expired_passwords"`
	Expired          []string       `json:"expired_principals"`
	LockedOut        []string       `json:"locked_out"`
	PoliciesInUse    []policyUse    `json:"policies_in_use"`
	BadKadmData      int            `json:"undecodable_kadm_data"`
	Now              int64          `json:"now"`
}

// failing is what lockout needs from a principal with failed attempts;
// the policy may come later in the dump than the principal.
type failing struct {
	name               string
	policy             string
	count              int32
	lastFailed, unlock uint32
}

func cmdStats(e *env, args []string) int {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	now := fs.Int64("now", 0, "evaluate expiry and lockout at this POSIX time (default: the current time)")
	name, ok := oneFile(e, fs, args)
	if !ok {
		return 2
	}
	if *now == 0 {
		*now = time.Now().Unix()
	}
	st := stats{File: name, Kvnos: map[int]int{}, Now: *now, ExpiredPasswords: []string{}, Expired: []string{}, LockedOut: []string{}}
	enc := map[int16]*enctypeStats{}
	uses := map[string]int{}
	policies := map[string]*dumpfmt.Policy{}
	var fails []failing
	t := uint32(*now)
	status := forEach(e, name, true, func(h dumpfmt.Header, rec dumpfmt.Record, line int) error {
		st.Format = h.Format.String()
		switch r := rec.(type) {
		case *dumpfmt.Policy:
			st.Policies++
			policies[r.Name] = r.Clone()
		case *dumpfmt.Principal:
			st.Principals++
			if len(r.KeyData) == 0 {
				st.NoKeys++
			}
			var newest uint16
			for _, k := range r.KeyData {
				newest = max(newest, k.Kvno)
			}
			seen := map[int16]bool{}
			for _, k := range r.KeyData {
				es := enc[k.Enctype]
				if es == nil {
					es = &enctypeStats{Enctype: krb5.Enctype(k.Enctype).String()}
					enc[k.Enctype] = es
				}
				es.Keys++
				if k.Kvno == newest && !seen[k.Enctype] {
					seen[k.Enctype] = true
					es.Principals++
				}
			}
			if len(r.KeyData) > 0 {
				st.Kvnos[int(newest)]++
			}
			if r.PasswordExpiration != 0 && r.PasswordExpiration <= t {
				st.ExpiredPasswords = append(st.ExpiredPasswords, r.Name)
			}
			if r.Expiration != 0 && r.Expiration <= t {
				st.Expired = append(st.Expired, r.Name)
			}
			// Undecodable KADM data means no policy, as in MIT's loader.
			pol, hasPol, err := r.PolicyName()
			if err != nil {
				st.BadKadmData++
			}
			if hasPol {
				uses[pol]++
				if r.FailAuthCount > 0 {
					unlock, _, _ := r.LastAdminUnlock()
					fails = append(fails, failing{r.Name, pol, r.FailAuthCount, r.LastFailed, unlock})
				}
			}
		}
		return nil
	})
	if status != 0 {
		return status
	}
	// MIT's lockout rule (the KDB's locked_check_p): locked when an
	// unlock did not follow the last failure, the policy sets a maximum,
	// the count reached it, and the lockout has not run out (a zero
	// duration locks until an administrator unlocks).
	for _, f := range fails {
		p := policies[f.policy]
		if p == nil || f.lastFailed <= f.unlock || p.PwMaxFail == 0 || uint32(f.count) < uint32(p.PwMaxFail) {
			continue
		}
		if p.PwLockoutDuration == 0 || f.lastFailed+uint32(p.PwLockoutDuration) > t {
			st.LockedOut = append(st.LockedOut, f.name)
		}
	}
	for _, es := range enc {
		st.Enctypes = append(st.Enctypes, *es)
	}
	sort.Slice(st.Enctypes, func(i, j int) bool {
		return st.Enctypes[i].Keys > st.Enctypes[j].Keys ||
			st.Enctypes[i].Keys == st.Enctypes[j].Keys && st.Enctypes[i].Enctype < st.Enctypes[j].Enctype
	})
	for pol, n := range uses {
		st.PoliciesInUse = append(st.PoliciesInUse, policyUse{pol, n, policies[pol] != nil})
	}
	sort.Slice(st.PoliciesInUse, func(i, j int) bool { return st.PoliciesInUse[i].Policy < st.PoliciesInUse[j].Policy })
	if st.PoliciesInUse == nil {
		st.PoliciesInUse = []policyUse{}
	}
	if *asJSON {
		j := json.NewEncoder(e.stdout)
		j.SetIndent("", "  ")
		j.Encode(st)
		return 0
	}
	w := e.stdout
	fmt.Fprintf(w, "%s: format %s, %d principals (%d without keys), %d policies\n", name, st.Format, st.Principals, st.NoKeys, st.Policies)
	fmt.Fprintf(w, "enctypes (keys at any kvno / principals at their newest kvno):\n")
	for _, es := range st.Enctypes {
		fmt.Fprintf(w, "  %-28s %8d %8d\n", es.Enctype, es.Keys, es.Principals)
	}
	fmt.Fprintf(w, "newest kvno (principals):\n")
	var kv []int
	for k := range st.Kvnos {
		kv = append(kv, k)
	}
	sort.Ints(kv)
	for _, k := range kv {
		fmt.Fprintf(w, "  %5d %8d\n", k, st.Kvnos[k])
	}
	list := func(title string, names []string) {
		fmt.Fprintf(w, "%s: %d\n", title, len(names))
		for _, n := range names {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	if st.BadKadmData > 0 {
		fmt.Fprintf(w, "principals with undecodable KADM data (treated as no policy): %d\n", st.BadKadmData)
	}
	list("expired passwords", st.ExpiredPasswords)
	list("expired principals", st.Expired)
	list("locked out", st.LockedOut)
	fmt.Fprintf(w, "policies in use: %d\n", len(st.PoliciesInUse))
	for _, u := range st.PoliciesInUse {
		note := ""
		if !u.Defined {
			note = " (not defined in this dump)"
		}
		fmt.Fprintf(w, "  %-20s %8d%s\n", u.Policy, u.Principals, note)
	}
	return 0
}
