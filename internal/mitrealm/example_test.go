package mitrealm_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// The KDC log tells which enctypes the KDC used for an AS exchange,
// whichever programs were at either end.
func ExampleParseKDCLog() {
	log := "Nov 27 09:09:42 vm krb5kdc[10592](info): AS_REQ (1 etypes {DEPRECATED:des3-cbc-sha1(16)}) 127.0.0.1: " +
		"ISSUE: authtime 1795770582, etypes {rep=DEPRECATED:des3-cbc-sha1(16), tkt=aes256-cts-hmac-sha1-96(18), " +
		"ses=DEPRECATED:des3-cbc-sha1(16)}, host/vm@GOKPROP.TEST for host/localhost@GOKPROP.TEST\n"
	for _, is := range mitrealm.ParseKDCLog(log) {
		fmt.Println(is.Client, "->", is.Server, "session enctype", is.Session, "ticket enctype", is.Ticket)
	}
	// Output:
	// host/vm@GOKPROP.TEST -> host/localhost@GOKPROP.TEST session enctype 16 ticket enctype 18
}

// A propagation from MIT kprop to MIT kpropd, as a test writes it.
func Example_propagation() {
	test := func(t *testing.T) {
		mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kprop", "kpropd")
		primary := mitrealm.NewPrimary(t, mitrealm.Options{})
		pop := mitrealm.Populate(t, primary, 100)
		primary.AddKpropPrincipals(t)

		replica := primary.NewReplica(t)
		primary.SetupKprop(t, replica) // keytabs for both ends, kpropd ACL
		primary.StartKDC(t)
		kpropd := replica.StartKpropd(t, "-d")

		dump := primary.Dir + "/dump"
		primary.Dump(t, dump)
		primary.Kprop(t, dump, kpropd.Port, "default_tkt_enctypes = aes128-cts-hmac-sha1-96")
		kpropd.WaitFor(t, "Database load process for full propagation completed", 30*time.Second)

		sent, _ := os.ReadFile(dump)
		if replica.DumpString(t) != string(sent) {
			t.Error("the replica's database differs from the primary's")
		}
		replica.StartKDC(t)
		replica.Kinit(t, pop.User, pop.Password) // fails the test if kinit fails
	}
	_ = test
}
