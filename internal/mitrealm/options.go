package mitrealm

// DefaultRealm is the realm name used when Options.Realm is empty.
const DefaultRealm = "GOKPROP.TEST"

// MasterPassword is the password of every harness realm's master key. It is
// public on purpose: the realms are throwaway test fixtures.
const MasterPassword = "gokprop-master-password"

// MIT's canonical names of the enctypes the interop matrix covers.
const (
	AES256SHA1   = "aes256-cts-hmac-sha1-96"
	AES128SHA1   = "aes128-cts-hmac-sha1-96"
	AES256SHA384 = "aes256-cts-hmac-sha384-192"
	AES128SHA256 = "aes128-cts-hmac-sha256-128"
	Camellia256  = "camellia256-cts-cmac"
	Camellia128  = "camellia128-cts-cmac"
	DES3         = "des3-cbc-sha1"
	RC4          = "arcfour-hmac"
)

// KpropEnctypes returns the session enctypes the interop matrix propagates
// with: every enctype of MIT's default list, the AES ones first, then
// Camellia, then the deprecated des3 and rc4. The kprop host principals
// get keys of all of them.
func KpropEnctypes() []string {
	return []string{AES256SHA1, AES128SHA1, AES256SHA384, AES128SHA256, Camellia256, Camellia128, DES3, RC4}
}

// Options configure a realm. The zero value is a working realm named
// DefaultRealm with AES keys.
type Options struct {
	// Realm is the realm name; empty means DefaultRealm.
	Realm string

	// MasterKeyType is kdc.conf's master_key_type; empty means
	// aes256-cts-hmac-sha1-96.
	MasterKeyType string

	// SupportedEnctypes is kdc.conf's supported_enctypes, the key/salt
	// types of new keys unless kadmin's -e says otherwise; empty means
	// "aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal".
	SupportedEnctypes string

	// AllowDES3 and AllowRC4 set allow_des3 = true and allow_rc4 = true in
	// [libdefaults]. Debian's 1.20.1-2+deb12u4 and later KDC refuses to
	// issue des3-cbc-sha1 or arcfour-hmac session keys without them.
	AllowDES3, AllowRC4 bool

	// LibDefaults are extra "name = value" lines for krb5.conf's
	// [libdefaults]. A name set here replaces the harness's own setting of
	// that name.
	LibDefaults []string

	// Trace makes every command of the host write a KRB5_TRACE log to the
	// host's TraceFile.
	Trace bool
}

func (o Options) realm() string {
	if o.Realm == "" {
		return DefaultRealm
	}
	return o.Realm
}

func (o Options) masterKeyType() string {
	if o.MasterKeyType == "" {
		return AES256SHA1
	}
	return o.MasterKeyType
}

func (o Options) supportedEnctypes() string {
	if o.SupportedEnctypes == "" {
		return AES256SHA1 + ":normal " + AES128SHA1 + ":normal"
	}
	return o.SupportedEnctypes
}
