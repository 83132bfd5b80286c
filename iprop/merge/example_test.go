package merge_test

import (
	"fmt"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/iprop/merge"
)

func Example() {
	// bob on a replica, with two failed logins of the replica's own.
	bob := &dumpfmt.Principal{Name: "bob@EXAMPLE.TEST", BaseLength: 38, MaxLife: 36000, FailAuthCount: 2}
	db := map[string]*dumpfmt.Principal{bob.Name: bob}

	// "modprinc -maxlife 90m bob" on the primary, then a deletion of
	// carol, as the primary sends them.
	updates := []iprop.Update{
		{Principal: "bob@EXAMPLE.TEST", Sno: 18, Commit: true, Attrs: []iprop.Attr{
			{Type: iprop.AttrMaxLife, Uint32: 5400},
			{Type: iprop.AttrPrinc, Principal: iprop.Principal{Realm: "EXAMPLE.TEST",
				Components: []iprop.Component{{Data: "bob"}}, NameType: 1}},
		}},
		{Principal: "carol@EXAMPLE.TEST", Sno: 19, Commit: true, Deleted: true},
	}
	res, err := merge.Fold(updates, func(name string) (*dumpfmt.Principal, error) { return db[name], nil })
	if err != nil {
		fmt.Println(err)
		return
	}
	b := res.Put["bob@EXAMPLE.TEST"]
	fmt.Println(b.Name, b.MaxLife, b.FailAuthCount)
	fmt.Println(res.Delete)
	// Output:
	// bob@EXAMPLE.TEST 5400 2
	// map[carol@EXAMPLE.TEST:true]
}
