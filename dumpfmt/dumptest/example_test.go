package dumptest_test

import (
	"bytes"
	"fmt"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
)

func Example() {
	data := dumptest.Bytes(dumptest.Config{Principals: 10, Policies: 2, Seed: 1})
	s, err := dumpfmt.Validate(bytes.NewReader(data), dumpfmt.ValidateOptions{})
	fmt.Println(s.Principals, s.Policies, s.Realm, err)
	// Output: 13 2 EXAMPLE.COM <nil>
}
