package iprop_test

import (
	"fmt"

	"github.com/gokprop/gokprop/iprop"
)

func Example() {
	// The update MIT's primary logs for "kadmin.local delprinc gina".
	u := &iprop.Update{Principal: "gina@EXAMPLE.TEST", Sno: 9, Time: iprop.Time{Seconds: 1796115206}, Deleted: true}
	b := u.AppendXDR(nil)
	fmt.Println(len(b), "bytes")

	got, err := iprop.DecodeUpdate(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Principal, got.Sno, got.Deleted)

	// A GET_UPDATES answer for a replica that is up to date.
	r := &iprop.IncrResult{Last: iprop.Last{Sno: 9, Time: u.Time}, Status: iprop.UpdateNil}
	dec, _ := iprop.DecodeIncrResult(r.AppendXDR(nil))
	fmt.Println(dec.Status)
	// Output:
	// 56 bytes
	// gina@EXAMPLE.TEST 9 true
	// UPDATE_NIL
}
