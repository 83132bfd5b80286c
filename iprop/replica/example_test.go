package replica_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/iprop/replica"
)

// Names meet kadmin's request parser quoted: spaces, quotes and a
// principal name's own backslash escapes survive.
func ExampleQuoteArg() {
	for _, name := range []string{`alice@EXAMPLE.TEST`, `space name@EXAMPLE.TEST`, `say "hi"@EXAMPLE.TEST`, `esc\/aped/inst@EXAMPLE.TEST`} {
		q, err := replica.QuoteArg(name)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("delprinc -force " + q)
	}
	// Output:
	// delprinc -force "alice@EXAMPLE.TEST"
	// delprinc -force "space name@EXAMPLE.TEST"
	// delprinc -force "say ""hi""@EXAMPLE.TEST"
	// delprinc -force "esc\/aped/inst@EXAMPLE.TEST"
}

// A program following its primary: each GET_UPDATES reply goes to Apply,
// each full resync dump to Load.
func ExampleDB() {
	db, err := replica.Open(replica.Config{
		Realm:     "EXAMPLE.TEST",
		ULog:      "/var/lib/krb5kdc/principal.ulog",
		ULogSlots: 1000,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	last, err := db.Last()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ask the primary for updates after", last.Sno)
	var reply iprop.IncrResult // from iprop.Client.GetUpdates(ctx, last)
	if reply.Status == iprop.UpdateOK {
		if err := db.Apply(context.Background(), reply.Updates); err != nil {
			// The update log is reset: the next poll asks for a full
			// resync.
			log.Print(err)
		}
	}
}
