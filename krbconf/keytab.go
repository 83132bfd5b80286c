package krbconf

import (
	"fmt"
	"os"
	"strings"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/internal/liberr"
)

// DefaultKeytabName is MIT's compiled-in default keytab.
const DefaultKeytabName = "FILE:/etc/krb5.keytab"

// ErrUnknownKeytabType is MIT's KRB5_KT_UNKNOWN_TYPE: a keytab name with a
// type prefix other than FILE or WRFILE.
var ErrUnknownKeytabType error = &liberr.Error{Text: "Unknown Key table type"}

// KeytabName returns the keytab MIT programs use when none is given: the
// KRB5_KTNAME environment variable, else [libdefaults] default_keytab_name,
// else DefaultKeytabName. cfg may be nil.
func KeytabName(cfg *Config) string {
	if name := os.Getenv("KRB5_KTNAME"); name != "" {
		return name
	}
	if cfg != nil {
		if name := cfg.String("", "libdefaults", "default_keytab_name"); name != "" {
			return name
		}
	}
	return DefaultKeytabName
}

// KeytabPath resolves a keytab name to a file path as MIT's krb5_kt_resolve
// does for file keytabs: "FILE:path", "WRFILE:path" or a bare path. Other
// types fail with ErrUnknownKeytabType.
func KeytabPath(name string) (string, error) {
	typ, rest, found := strings.Cut(name, ":")
	// A one-letter "type" is a drive letter on Windows; MIT treats a name
	// whose first colon comes after a slash as a plain path.
	if !found || strings.Contains(typ, "/") {
		return name, nil
	}
	switch strings.ToUpper(typ) {
	case "FILE", "WRFILE":
		return rest, nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownKeytabType, typ)
}

// LoadKeytab reads the file keytab named by name (see KeytabPath).
func LoadKeytab(name string) (*keytab.Keytab, error) {
	path, err := KeytabPath(name)
	if err != nil {
		return nil, err
	}
	kt, err := keytab.Load(path)
	if err != nil {
		return nil, fmt.Errorf("keytab %s: %w", path, err)
	}
	return kt, nil
}
