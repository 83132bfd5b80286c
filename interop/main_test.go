package interop

import (
	"os"
	"testing"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// populated is the principal count of the propagated database.
const populated = 10000

// snapOptions are the options of snap's realm: des3 and rc4 session keys
// must be allowed for the cells that propagate with them.
var snapOptions = mitrealm.Options{AllowDES3: true, AllowRC4: true, Trace: true}

// snap is the populated realm every propagation cell loads into a fresh
// primary.
var snap = mitrealm.NewSnapshot(snapOptions, populated)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, err := range []error{snap.Close(), removePrograms()} {
		if err != nil && code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
