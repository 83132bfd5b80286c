package krbconf

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
)

// HostResolver answers the two questions MIT's hostname canonicalization
// asks the system resolver (src/lib/krb5/os/sn2princ.c).
type HostResolver interface {
	// LookupCanonicalName resolves host like getaddrinfo with AI_CANONNAME:
	// it returns the canonical name ("" if the resolver gives none) and the
	// addresses in the resolver's order of preference.
	LookupCanonicalName(ctx context.Context, host string) (canon string, addrs []netip.Addr, err error)
	// LookupAddrName returns the name of addr like getnameinfo with
	// NI_NAMEREQD, failing when there is none.
	LookupAddrName(ctx context.Context, addr netip.Addr) (string, error)
}

// NetResolver is the HostResolver built on a *net.Resolver (nil means
// net.DefaultResolver).
//
// With Go's cgo resolver, LookupCNAME is getaddrinfo with AI_CANONNAME and
// LookupAddr is getnameinfo, exactly what MIT calls. The pure-Go resolver
// (the default on Linux for "files dns" in nsswitch.conf) answers both from
// /etc/hosts first (canonical name = first name on the address's line) and
// then from DNS (following the CNAME chain, PTR records), which gives the
// same answers for the usual configurations; it ignores other NSS sources
// (LDAP, myhostname, sss, ...). Addresses come in Go's RFC 6724 order,
// which matches glibc's default ordering. Address literals are returned as
// given, as glibc does.
type NetResolver struct {
	Resolver *net.Resolver // nil means net.DefaultResolver
}

func (r NetResolver) resolver() *net.Resolver {
	if r.Resolver != nil {
		return r.Resolver
	}
	return net.DefaultResolver
}

// LookupCanonicalName implements HostResolver.
func (r NetResolver) LookupCanonicalName(ctx context.Context, host string) (string, []netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return host, []netip.Addr{a}, nil
	}
	res := r.resolver()
	addrs, err := res.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return "", nil, err
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	canon, err := res.LookupCNAME(ctx, host)
	if err != nil {
		canon = ""
	}
	return strings.TrimSuffix(canon, "."), addrs, nil
}

// LookupAddrName implements HostResolver.
func (r NetResolver) LookupAddrName(ctx context.Context, addr netip.Addr) (string, error) {
	names, err := r.resolver().LookupAddr(ctx, addr.Unmap().String())
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", errors.New("no name for " + addr.String())
	}
	return strings.TrimSuffix(names[0], "."), nil
}

// Canonicalizer turns host names into host-based principals as MIT 1.20's
// krb5_sname_to_principal and k5_canonprinc do, following the
// configuration's dns_canonicalize_hostname, rdns and qualify_shortname.
// The zero value uses an empty configuration (MIT's defaults), the system
// resolver, /etc/resolv.conf and os.Hostname.
type Canonicalizer struct {
	// Config supplies dns_canonicalize_hostname, rdns, qualify_shortname
	// and [domain_realm]; nil behaves as an empty configuration.
	Config *Config
	// Resolver answers DNS questions; nil means NetResolver{}.
	Resolver HostResolver
	// PrimaryDomain returns the domain appended to single-label names when
	// qualify_shortname is not set; nil means the system's first DNS search
	// domain, as MIT finds it with res_ninit: LOCALDOMAIN, else the last
	// "search" or "domain" line of /etc/resolv.conf, else the domain part
	// of the host name.
	PrimaryDomain func() string
	// Hostname returns the local host name; nil means os.Hostname (which
	// is what gethostname returns).
	Hostname func() (string, error)
}

func (c *Canonicalizer) resolver() HostResolver {
	if c != nil && c.Resolver != nil {
		return c.Resolver
	}
	return NetResolver{}
}

// localHostname returns the local host name as gethostname does.
func (c *Canonicalizer) localHostname() (string, error) {
	if c != nil && c.Hostname != nil {
		return c.Hostname()
	}
	return os.Hostname()
}

func (c *Canonicalizer) config() *Config {
	if c == nil {
		return nil
	}
	return c.Config
}

// systemPrimaryDomain returns the first DNS search domain (see
// Canonicalizer.PrimaryDomain).
func systemPrimaryDomain() string {
	return primaryDomain(os.Getenv("LOCALDOMAIN"), "/etc/resolv.conf", os.Hostname)
}

func primaryDomain(localDomain, resolvConf string, hostname func() (string, error)) string {
	if f := strings.Fields(localDomain); len(f) > 0 {
		return f[0]
	}
	domain := ""
	if f, err := os.Open(resolvConf); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && (fields[0] == "search" || fields[0] == "domain") {
				domain = fields[1]
			}
		}
	}
	if domain == "" {
		if h, err := hostname(); err == nil {
			if i := strings.IndexByte(h, '.'); i >= 0 {
				domain = h[i+1:]
			}
		}
	}
	return domain
}

func (c *Canonicalizer) primaryDomain() string {
	if c != nil && c.PrimaryDomain != nil {
		return c.PrimaryDomain()
	}
	return systemPrimaryDomain()
}

// qualify appends qualify_shortname (or the primary domain when it is not
// set) to host; "" when there is nothing to append.
func (c *Canonicalizer) qualify(host string) string {
	domain, ok := c.config().QualifyShortname()
	if !ok {
		domain = c.primaryDomain()
	}
	if domain == "" {
		return ""
	}
	return host + "." + domain
}

// ExpandHostname canonicalizes host as MIT's expand_hostname does. With
// useDNS: the canonical name from a forward lookup, then (if rdns) the
// reverse name of the first address. If DNS produced no name and host is a
// single label, qualify_shortname (or the primary domain) is appended.
// Finally the name is lowercased (ASCII) and one trailing dot removed.
// Resolver failures are not errors: the name just stays as it is.
func (c *Canonicalizer) ExpandHostname(ctx context.Context, host string, useDNS bool) string {
	cfg := c.config()
	canon, fromDNS := host, false
	if useDNS {
		res := c.resolver()
		cn, addrs, err := res.LookupCanonicalName(ctx, host)
		if err == nil {
			if cn != "" {
				canon, fromDNS = cn, true
			}
			if cfg.RDNS() && len(addrs) > 0 {
				if name, err := res.LookupAddrName(ctx, addrs[0]); err == nil && name != "" {
					canon, fromDNS = name, true
				}
			}
		}
	}
	if !fromDNS && !strings.Contains(host, ".") {
		if q := c.qualify(host); q != "" {
			canon = q
		}
	}
	b := []byte(canon)
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	if n := len(b); n > 0 && b[n-1] == '.' {
		b = b[:n-1]
	}
	return string(b)
}

// splitTrailer splits "host:port" or "host:instance" (MSSQLSvc-style) into
// host and ":trailer"; names with several colons (IPv6) have no trailer.
func splitTrailer(s string) (host, trailer string) {
	i := strings.IndexByte(s, ':')
	if i < 0 || i == len(s)-1 || strings.IndexByte(s[i+1:], ':') >= 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// hostRealm maps a host to a realm through [domain_realm] (the host, then
// each parent domain with and without its leading dot), falling back to
// the default realm.
func hostRealm(cfg *Config, host string) (string, error) {
	if !isAddrLiteral(host) {
		for p := host; ; {
			if r, ok := cfg.lookup("domain_realm", p); ok && r != "" {
				return r, nil
			}
			if strings.HasPrefix(p, ".") {
				p = p[1:]
				continue
			}
			i := strings.IndexByte(p, '.')
			if i < 0 {
				break
			}
			p = p[i:]
		}
	}
	return cfg.DefaultRealm()
}

// Principal builds service/host@realm with name-type NT-SRV-HST as MIT's
// krb5_sname_to_principal does, the realm then being forced to realm as
// kprop and kpropd do (kprop_util.c sn2princ_realm). An empty host means
// the local host name, an empty service "host". An empty realm is taken
// from [domain_realm] for the canonical host, else the default realm (MIT
// would leave the referral realm, which only TGS referrals resolve).
//
// With dns_canonicalize_hostname = fallback the host is returned exactly as
// given (not even lowercased); Candidates then lists the names to try, as
// MIT defers canonicalization to the point of use.
func (c *Canonicalizer) Principal(ctx context.Context, service, host, realm string) (krb5.Principal, error) {
	cfg := c.config()
	if service == "" {
		service = "host"
	}
	if host == "" {
		h, err := c.localHostname()
		if err != nil {
			return krb5.Principal{}, err
		}
		host = h
	}
	mode := cfg.DNSCanonicalizeHostname()
	if mode != CanonFallback {
		h, trailer := splitTrailer(host)
		host = c.ExpandHostname(ctx, h, mode == CanonTrue) + trailer
	}
	if realm == "" {
		h, _ := splitTrailer(host)
		r, err := hostRealm(cfg, h)
		if err != nil {
			return krb5.Principal{}, err
		}
		realm = r
	}
	return krb5.HostPrincipal(service, host, realm), nil
}

// Candidates returns the principals to try for p, as MIT's k5_canonprinc
// iterates them: p itself, unless dns_canonicalize_hostname is fallback
// and p is a two-component NT-SRV-HST name; then the host canonicalized
// without DNS, followed by the DNS-canonicalized host when it differs.
// Every candidate keeps p's service, name-type and realm.
func (c *Canonicalizer) Candidates(ctx context.Context, p krb5.Principal) []krb5.Principal {
	if p.Name.NameType != nametype.KRB_NT_SRV_HST || len(p.Name.NameString) != 2 || p.Name.NameString[1] == "" ||
		c.config().DNSCanonicalizeHostname() != CanonFallback {
		return []krb5.Principal{p}
	}
	h, trailer := splitTrailer(p.Name.NameString[1])
	var out []krb5.Principal
	prev := ""
	for _, useDNS := range []bool{false, true} {
		host := c.ExpandHostname(ctx, h, useDNS) + trailer
		if host == prev {
			continue
		}
		prev = host
		out = append(out, krb5.Principal{
			Name:  types.PrincipalName{NameType: p.Name.NameType, NameString: []string{p.Name.NameString[0], host}},
			Realm: p.Realm,
		})
	}
	return out
}

// HostPrincipals returns the candidate principals for service on host in
// realm: one for dns_canonicalize_hostname true or false, one or two
// (without DNS first) for fallback.
func (c *Canonicalizer) HostPrincipals(ctx context.Context, service, host, realm string) ([]krb5.Principal, error) {
	p, err := c.Principal(ctx, service, host, realm)
	if err != nil {
		return nil, err
	}
	return c.Candidates(ctx, p), nil
}
