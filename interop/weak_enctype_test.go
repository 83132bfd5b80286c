package interop

import (
	"strings"
	"testing"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// TestWeakEnctypesNeedPermission: des3 and rc4 session keys are used only
// where the configuration allows them (allow_des3 / allow_rc4, as Debian's
// MIT requires of its KDC); otherwise both our programs refuse them with an
// error naming the enctype.
func TestWeakEnctypesNeedPermission(t *testing.T) {
	mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kprop")
	for _, e := range []struct{ name, allow string }{{"arcfour-hmac", "allow_rc4"}, {"des3-cbc-sha1", "allow_des3"}} {
		t.Run(e.name, func(t *testing.T) {
			primary := mitrealm.NewPrimary(t, mitrealm.Options{AllowDES3: true, AllowRC4: true})
			primary.AddKpropPrincipals(t)
			replica := primary.NewReplica(t)
			primary.SetupKprop(t, replica)
			primary.StartKDC(t)
			dump := primary.Dir + "/replica_datatrans"
			primary.Dump(t, dump)

			// Our kpropd on a replica whose krb5.conf does not allow it.
			port := freePort(t)
			cmd := replica.Command(goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"), append(replica.KpropdArgs(t, port), "-d")...)
			cmd.Env = replica.ClientEnv(t, e.allow+" = false")
			d := mitrealm.StartDaemon(t, cmd, "ready")
			kpropArgs := primary.KpropArgs(dump, port)
			mitCmd := primary.Command(mitrealm.Require(t, "kprop")["kprop"], kpropArgs...)
			mitCmd.Env = primary.ClientEnv(t, "default_tkt_enctypes = "+e.name, "permitted_enctypes = "+e.name)
			_, stderr, err := mitrealm.Exec(mitCmd, "")
			if err == nil {
				t.Fatalf("MIT kprop with a %s session key to our kpropd without %s succeeded", e.name, e.allow)
			}
			t.Logf("MIT kprop: %s", stderr)
			d.WaitFor(t, e.name, 5_000_000_000)

			// Our kprop asked for only that enctype without permission.
			goCmd := primary.Command(goProgram(t, "github.com/gokprop/gokprop/cmd/kprop"), kpropArgs...)
			goCmd.Env = primary.ClientEnv(t, "default_tkt_enctypes = "+e.name, "permitted_enctypes = "+e.name, e.allow+" = false")
			_, stderr, err = mitrealm.Exec(goCmd, "")
			t.Logf("our kprop: %s", stderr)
			t.Logf("our kpropd: %s", d.Output())
			if err == nil || !strings.Contains(stderr, e.name) {
				t.Errorf("our kprop limited to %s without %s: err %v, stderr %q", e.name, e.allow, err, stderr)
			}
		})
	}
}
