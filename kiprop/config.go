package kiprop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/gsskrb5"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbconf"
	"github.com/gokprop/gokprop/krbkdc"
)

// ServiceName is the first component of the principals of incremental
// propagation, on both sides (MIT's KIPROP_SVC_NAME).
const ServiceName = "kiprop"

// DefaultCallTimeout bounds a call whose context has no deadline: MIT's
// kpropd sets a one-hour RPC timeout (CLSET_TIMEOUT).
const DefaultCallTimeout = time.Hour

// Errors of the configuration.
var (
	// ErrNoIpropPort: the realm has no iprop_port. MIT has no default
	// port for iprop (the "iprop 2121/tcp" of /etc/services is not used).
	ErrNoIpropPort = errors.New("kiprop: iprop_port is not set (it has no default)")
	// ErrNoAdminServer: neither Config.AdminServer nor the realm's
	// admin_server names the primary.
	ErrNoAdminServer = errors.New("kiprop: no admin_server for the realm")
)

// Config says how to reach a primary's kadmind for incremental
// propagation, with MIT kpropd's sources for each setting.
type Config struct {
	// Realm is the realm to follow; empty means the profile's default
	// realm (kpropd -r).
	Realm string
	// Profile is kdc.conf in front of krb5.conf, as MIT's kpropd reads
	// them (krbconf.LoadKDCConfig): [realms] admin_server and iprop_port,
	// the libdefaults of the AS exchange and of host name
	// canonicalization, the KDC locations.
	Profile *krbconf.Config
	// AdminServer overrides the realm's admin_server (kpropd -A). As in
	// MIT, a ":port" suffix (the kadmind port) is dropped, and brackets
	// around an IPv6 address are removed; the rest is used exactly as
	// given, both to connect and in the service principal
	// kiprop/<AdminServer>.
	AdminServer string
	// Port overrides the realm's iprop_port.
	Port int
	// Keytab holds the client's keys (kpropd -s); nil reads the default
	// keytab (KRB5_KTNAME, default_keytab_name, /etc/krb5.keytab).
	Keytab *keytab.Keytab
	// Client is the principal to authenticate as; the zero value means
	// kiprop/<canonical local host name>@Realm (NT-SRV-HST), as MIT's
	// kpropd computes it.
	Client krb5.Principal
	// KDC gets the credentials; nil means a krbkdc.KDCClient with Profile.
	KDC *krbkdc.KDCClient
	// Dial opens the TCP connection to the admin server; nil means a
	// net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// CallTimeout bounds each call (context establishment included)
	// when its context has no deadline; zero means DefaultCallTimeout.
	CallTimeout time.Duration
	// Logger receives debug lines about sessions; nil discards them.
	Logger *slog.Logger
	// Now and Rand are handed to the GSS context; nil means time.Now and
	// crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

func (c *Config) realm() (string, error) {
	if c.Realm != "" {
		return c.Realm, nil
	}
	r, err := c.Profile.DefaultRealm()
	if err != nil {
		return "", fmt.Errorf("kiprop: %w", err)
	}
	return r, nil
}

// AdminServerHost returns the host kpropd connects to and names its
// service after: AdminServer, else the realm's admin_server, with the
// ":port" part dropped as MIT's parse_admin_server_port drops it.
func (c *Config) AdminServerHost() (string, error) {
	realm, err := c.realm()
	if err != nil {
		return "", err
	}
	s := c.AdminServer
	if s == "" {
		s = c.Profile.RealmString(realm, "admin_server", "")
	}
	host := stripPort(s)
	if host == "" {
		return "", fmt.Errorf("%w %s", ErrNoAdminServer, realm)
	}
	return host, nil
}

// stripPort is MIT's parse_admin_server_port without the port: a name or
// address in brackets loses them and anything after; otherwise the name
// ends at the first colon.
func stripPort(s string) string {
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s[1:], ']'); end >= 0 {
			return s[1 : 1+end]
		}
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i]
	}
	return s
}

// IpropPort returns Port, else the realm's iprop_port; ErrNoIpropPort if
// neither is set.
func (c *Config) IpropPort() (int, error) {
	if c.Port > 0 {
		return c.Port, nil
	}
	realm, err := c.realm()
	if err != nil {
		return 0, err
	}
	p, err := c.Profile.Int(0, "realms", realm, "iprop_port")
	if err != nil {
		return 0, fmt.Errorf("kiprop: iprop_port for %s: %w", realm, err)
	}
	if p <= 0 || p > 65535 {
		return 0, fmt.Errorf("%w for realm %s", ErrNoIpropPort, realm)
	}
	return p, nil
}

// ServicePrincipal returns kiprop/<AdminServerHost()>@Realm, the service
// the credentials are for. Like MIT (kadm5_get_kiprop_host_srv_name) the
// host is not canonicalized.
func (c *Config) ServicePrincipal() (krb5.Principal, error) {
	realm, err := c.realm()
	if err != nil {
		return krb5.Principal{}, err
	}
	host, err := c.AdminServerHost()
	if err != nil {
		return krb5.Principal{}, err
	}
	p, err := krb5.ParsePrincipal(ServiceName+"/"+host, realm)
	if err != nil {
		return krb5.Principal{}, fmt.Errorf("kiprop: service principal: %w", err)
	}
	p.Realm = realm
	return p, nil
}

// ClientPrincipal returns Client, or kiprop/<canonical local host>@Realm
// with name type NT-SRV-HST, as MIT's kpropd builds it
// (krb5_sname_to_principal, then the realm set to kpropd's).
func (c *Config) ClientPrincipal(ctx context.Context) (krb5.Principal, error) {
	if len(c.Client.Name.NameString) > 0 {
		return c.Client, nil
	}
	realm, err := c.realm()
	if err != nil {
		return krb5.Principal{}, err
	}
	p, err := (&krbconf.Canonicalizer{Config: c.Profile}).Principal(ctx, ServiceName, "", realm)
	if err != nil {
		return krb5.Principal{}, fmt.Errorf("kiprop: client principal: %w", err)
	}
	return p, nil
}

// negotiationEnctypes are the enctypes MIT's initiator offers for the
// acceptor's subkey (krb5_get_tgs_ktypes: default_tgs_enctypes, else
// permitted_enctypes), less those without RFC 4121 tokens.
func (c *Config) negotiationEnctypes() []krb5.Enctype {
	s := c.Profile.String("", "libdefaults", "default_tgs_enctypes")
	var list []krb5.Enctype
	var err error
	if s != "" {
		list, err = krbconf.ParseEnctypeList(s, c.Profile.AllowWeakCrypto())
	} else {
		list, err = c.Profile.PermittedEnctypes()
	}
	if err != nil {
		return nil
	}
	var out []krb5.Enctype
	for _, e := range list {
		if gsskrb5.EnctypeSupported(e) {
			out = append(out, e)
		}
	}
	return out
}
