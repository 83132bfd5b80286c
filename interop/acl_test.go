package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// aclCase is one kpropd ACL and whether a propagation with a session key of
// enctype must get through it. The kprop principals' keys are aes256-sha1
// first, so the KDC encrypts every ticket with aes256-cts-hmac-sha1-96
// whatever the session enctype.
type aclCase struct {
	name    string
	acl     func(client string) []string
	enctype string
	accept  bool
}

func aclCases() []aclCase {
	return []aclCase{
		{"listed", func(c string) []string { return []string{"host/other@GOKPROP.TEST", c} }, mitrealm.AES128SHA1, true},
		{"not listed", func(c string) []string { return []string{"host/other@GOKPROP.TEST"} }, mitrealm.AES128SHA1, false},
		{"empty", func(c string) []string { return nil }, mitrealm.AES128SHA1, false},
		{"longer name only", func(c string) []string { return []string{c + "X", c + ".example"} }, mitrealm.AES128SHA1, false},
		// The enctype after the name is compared with the ticket's
		// enctype, not the session key's (MIT's kpropd.c:authorized_principal).
		{"ticket enctype", func(c string) []string { return []string{c + " " + mitrealm.AES256SHA1} }, mitrealm.AES128SHA1, true},
		{"session enctype", func(c string) []string { return []string{c + "\t" + mitrealm.AES128SHA1} }, mitrealm.AES128SHA1, false},
	}
}

// runACLCells runs every aclCase with sender s and receiver r on a small
// realm.
func runACLCells(t *testing.T, s sender, r receiver) {
	for _, tc := range aclCases() {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc")
			primary := mitrealm.NewPrimary(t, mitrealm.Options{})
			primary.AddPrincipal(t, "someone", "")
			primary.AddKpropPrincipals(t, mitrealm.AES256SHA1, mitrealm.AES128SHA1)
			replica := primary.NewReplica(t)
			primary.SetupKprop(t, replica)
			replica.WriteKpropdACL(t, tc.acl(primary.KpropPrincipal())...)
			primary.StartKDC(t)
			kpropd := replica.StartKpropdBinary(t, r.path, "-d")
			dump := filepath.Join(primary.Dir, "dump")
			primary.Dump(t, dump)

			cmd := primary.Command(s.path, primary.KpropArgs(dump, kpropd.Port)...)
			cmd.Env = primary.ClientEnv(t, "default_tkt_enctypes = "+tc.enctype)
			stdout, stderr, err := mitrealm.Exec(cmd, "")
			ok := err == nil && strings.Contains(stdout, mitrealm.KpropSucceeded)
			if ok != tc.accept {
				t.Fatalf("propagation succeeded = %v, want %v; kprop: %v\nstdout:\n%s\nstderr:\n%s\nkpropd:\n%s",
					ok, tc.accept, err, stdout, stderr, kpropd.Output())
			}
			switch {
			case !tc.accept:
				kpropd.WaitFor(t, "Rejected connection from unauthorized principal", 30*time.Second)
			case r.doneLine != "":
				kpropd.WaitFor(t, r.doneLine, 30*time.Second)
			}
			_, statErr := os.Stat(replica.DatabaseName)
			if loaded := statErr == nil; loaded != tc.accept {
				t.Errorf("replica database exists = %v, want %v", loaded, tc.accept)
			}
			if !tc.accept {
				t.Logf("kprop, rejected: %s", strings.TrimSpace(stderr))
			}
		})
	}
}

// TestMITKpropdACL is the control for kpropd ACL decisions: MIT kprop to
// MIT kpropd.
func TestMITKpropdACL(t *testing.T) {
	runACLCells(t, mitSender(t), mitReceiver(t))
}
