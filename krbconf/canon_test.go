package krbconf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"

	"github.com/gokprop/gokprop/krb5"
)

// fakeResolver is a deterministic HostResolver: names maps a host to its
// canonical name and addresses, ptr maps an address to its name.
type fakeResolver struct {
	names map[string]fakeHost
	ptr   map[string]string
	calls []string
}

type fakeHost struct {
	canon string
	addrs []string
}

func (f *fakeResolver) LookupCanonicalName(_ context.Context, host string) (string, []netip.Addr, error) {
	f.calls = append(f.calls, "fwd "+host)
	h, ok := f.names[host]
	if !ok {
		return "", nil, errors.New("no such host")
	}
	var addrs []netip.Addr
	for _, a := range h.addrs {
		addrs = append(addrs, netip.MustParseAddr(a))
	}
	return h.canon, addrs, nil
}

func (f *fakeResolver) LookupAddrName(_ context.Context, a netip.Addr) (string, error) {
	f.calls = append(f.calls, "rev "+a.String())
	if n, ok := f.ptr[a.String()]; ok {
		return n, nil
	}
	return "", errors.New("no PTR")
}

func newFakeResolver() *fakeResolver {
	return &fakeResolver{
		names: map[string]fakeHost{
			"vm":              {"vm", []string{"127.0.0.1"}},
			"VM":              {"vm", []string{"127.0.0.1"}},
			"replica":         {"replica.corp.example.com.", []string{"192.0.2.7", "192.0.2.8"}},
			"alias.example":   {"Real.Example.COM.", []string{"192.0.2.9"}},
			"nocanon":         {"", []string{"192.0.2.10"}},
			"sql.example.com": {"db1.example.com", []string{"192.0.2.11"}},
			"192.0.2.7":       {"192.0.2.7", []string{"192.0.2.7"}},
		},
		ptr: map[string]string{
			"127.0.0.1": "localhost",
			"192.0.2.7": "replica-a.corp.example.com",
			"192.0.2.8": "replica-b.corp.example.com",
		},
	}
}

func TestExpandHostname(t *testing.T) {
	tests := []struct {
		conf   string
		host   string
		useDNS bool
		want   string
	}{
		// rdns on: 127.0.0.1 reverse-resolves to localhost (observed with MIT 1.20).
		{"", "vm", true, "localhost"},
		{"rdns = false", "VM", true, "vm"},
		// Reverse lookup of the FIRST address only.
		{"", "replica", true, "replica-a.corp.example.com"},
		{"rdns = false", "replica", true, "replica.corp.example.com"},
		{"rdns = false", "alias.example", true, "real.example.com"},
		// Reverse lookup fails: the forward canonical name stays.
		{"", "alias.example", true, "real.example.com"},
		// No canonical name but an address with a PTR record.
		{"rdns = false", "nocanon", true, "nocanon.site.example"},
		// Unknown to DNS: qualify_shortname, else the primary domain.
		{"qualify_shortname = corp.example.com", "unknown", true, "unknown.corp.example.com"},
		{"", "Unknown", true, "unknown.site.example"},
		{"qualify_shortname = \"\"", "unknown", true, "unknown"},
		{"", "unknown.example.", true, "unknown.example"},
		// DNS produced a name: never qualified, even if single-label.
		{"rdns = false", "vm", true, "vm"},
		// Without DNS.
		{"", "vm", false, "vm.site.example"},
		{"qualify_shortname = q.example", "Host", false, "host.q.example"},
		{"", "Host.Example.COM..", false, "host.example.com."},
		{"", "192.0.2.7", true, "replica-a.corp.example.com"},
		{"rdns = false", "192.0.2.7", true, "192.0.2.7"},
		{"", "", false, ".site.example"},
	}
	for _, tt := range tests {
		cfg := mustParse(t, "[libdefaults]\n"+tt.conf+"\n")
		res := newFakeResolver()
		c := &Canonicalizer{Config: cfg, Resolver: res, PrimaryDomain: func() string { return "site.example" }}
		if got := c.ExpandHostname(context.Background(), tt.host, tt.useDNS); got != tt.want {
			t.Errorf("%q, %q, dns=%v: got %q, want %q (calls %q)", tt.conf, tt.host, tt.useDNS, got, tt.want, res.calls)
		}
		if !tt.useDNS && len(res.calls) != 0 {
			t.Errorf("%q without DNS made lookups %q", tt.host, res.calls)
		}
	}
}

func TestPrincipalAndCandidates(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		conf  string
		host  string
		realm string
		want  []string
	}{
		{"", "vm", "R", []string{"host/localhost@R"}},
		{"dns_canonicalize_hostname = true\nrdns = false", "VM", "R", []string{"host/vm@R"}},
		{"dns_canonicalize_hostname = false", "VM", "R", []string{"host/vm.site.example@R"}},
		{"dns_canonicalize_hostname = false\nqualify_shortname = \"\"", "VM", "R", []string{"host/vm@R"}},
		// fallback: no DNS first, then DNS; duplicates dropped.
		{"dns_canonicalize_hostname = fallback\nqualify_shortname = \"\"", "VM", "R", []string{"host/vm@R", "host/localhost@R"}},
		{"dns_canonicalize_hostname = fallback\nqualify_shortname = \"\"\nrdns = false", "VM", "R", []string{"host/vm@R"}},
		{"dns_canonicalize_hostname = fallback", "replica", "R", []string{"host/replica.site.example@R", "host/replica-a.corp.example.com@R"}},
		// Trailers (":port" / ":instance") are kept, IPv6 literals are not split.
		{"rdns = false", "sql.example.com:1433", "R", []string{"host/db1.example.com:1433@R"}},
		{"dns_canonicalize_hostname = false\nqualify_shortname = \"\"", "::1", "R", []string{"host/::1@R"}},
		// MIT qualifies any name without a dot, address literals included.
		{"dns_canonicalize_hostname = false", "::1", "R", []string{"host/::1.site.example@R"}},
		// Realm from [domain_realm], else the default realm.
		{"default_realm = DEF\ndns_canonicalize_hostname = false\n[domain_realm]\n.corp.example.com = CORP", "A.Corp.Example.Com", "", []string{"host/a.corp.example.com@CORP"}},
		{"default_realm = DEF\ndns_canonicalize_hostname = false\n[domain_realm]\ncorp.example.com = CORP", "a.b.corp.example.com", "", []string{"host/a.b.corp.example.com@CORP"}},
		{"default_realm = DEF\ndns_canonicalize_hostname = false", "x.other.org", "", []string{"host/x.other.org@DEF"}},
		// Empty host: the local host name.
		{"dns_canonicalize_hostname = false", "", "R", []string{"host/myhost.site.example@R"}},
	}
	for _, tt := range tests {
		cfg := mustParse(t, "[libdefaults]\n"+tt.conf+"\n")
		c := &Canonicalizer{
			Config:        cfg,
			Resolver:      newFakeResolver(),
			PrimaryDomain: func() string { return "site.example" },
			Hostname:      func() (string, error) { return "MyHost", nil },
		}
		ps, err := c.HostPrincipals(ctx, "", tt.host, tt.realm)
		if err != nil {
			t.Errorf("%q %q: %v", tt.conf, tt.host, err)
			continue
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
			if p.Name.NameType != nametype.KRB_NT_SRV_HST {
				t.Errorf("%v: name-type %d", p, p.Name.NameType)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q %q: got %q, want %q", tt.conf, tt.host, got, tt.want)
		}
	}

	// In fallback mode Principal keeps the name as given.
	cfg := mustParse(t, "[libdefaults]\ndns_canonicalize_hostname = fallback\n")
	c := &Canonicalizer{Config: cfg, Resolver: newFakeResolver()}
	p, err := c.Principal(ctx, "host", "Replica.Example.", "R")
	if err != nil || p.String() != "host/Replica.Example.@R" {
		t.Errorf("fallback Principal = %v, %v", p, err)
	}
	// Non-host principals have one candidate, themselves.
	np, _ := krb5.ParsePrincipal("host/VM@R", "")
	if got := c.Candidates(ctx, np); len(got) != 1 || !got[0].Equal(np) {
		t.Errorf("NT-PRINCIPAL candidates = %v", got)
	}
	if _, err := (&Canonicalizer{Config: mustParse(t, "")}).Principal(ctx, "host", "h", ""); !errors.Is(err, ErrNoDefaultRealm) {
		t.Errorf("no realm: %v", err)
	}
}

func TestPrimaryDomain(t *testing.T) {
	dir := t.TempDir()
	rc := filepath.Join(dir, "resolv.conf")
	host := func() (string, error) { return "box.from-hostname.example", nil }
	writeFile(t, rc, "nameserver 10.0.0.1\ndomain first.example\nsearch a.example b.example\n")
	if got := primaryDomain("", rc, host); got != "a.example" {
		t.Errorf("search: %q", got)
	}
	writeFile(t, rc, "search a.example b.example\ndomain last.example\n")
	if got := primaryDomain("", rc, host); got != "last.example" {
		t.Errorf("domain after search: %q", got)
	}
	if got := primaryDomain("env.example other", rc, host); got != "env.example" {
		t.Errorf("LOCALDOMAIN: %q", got)
	}
	writeFile(t, rc, "nameserver 10.0.0.1\n")
	if got := primaryDomain("", rc, host); got != "from-hostname.example" {
		t.Errorf("hostname: %q", got)
	}
	if got := primaryDomain("", filepath.Join(dir, "missing"), func() (string, error) { return "plain", nil }); got != "" {
		t.Errorf("nothing: %q", got)
	}
}

func TestNetResolverLiteralsAndHosts(t *testing.T) {
	ctx := context.Background()
	var r NetResolver
	canon, addrs, err := r.LookupCanonicalName(ctx, "127.0.0.1")
	if err != nil || canon != "127.0.0.1" || len(addrs) != 1 || addrs[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("literal: %q %v %v", canon, addrs, err)
	}
	// localhost comes from /etc/hosts on every system this runs on.
	canon, addrs, err = r.LookupCanonicalName(ctx, "localhost")
	if err != nil || canon == "" || strings.HasSuffix(canon, ".") || len(addrs) == 0 || !addrs[0].IsLoopback() || addrs[0].Is4In6() {
		t.Errorf("localhost: %q %v %v", canon, addrs, err)
	}
}

func ExampleCanonicalizer_HostPrincipals() {
	cfg, _ := ParseConfig(strings.NewReader(`
[libdefaults]
	dns_canonicalize_hostname = false
	qualify_shortname = example.org
`), "krb5.conf")
	c := &Canonicalizer{Config: cfg}
	ps, _ := c.HostPrincipals(context.Background(), "host", "Replica1", "EXAMPLE.ORG")
	fmt.Println(ps[0])
	// Output: host/replica1.example.org@EXAMPLE.ORG
}
