package iproptest_test

import (
	"fmt"
	"strings"

	"github.com/gokprop/gokprop/internal/iproptest"
)

func ExampleDefault() {
	opts := iproptest.Default()
	renames := 0
	for _, c := range opts.After {
		if strings.HasPrefix(c, "renprinc") {
			renames++
		}
	}
	fmt.Println(len(opts.After), "changes reach the replica;", renames, "are renames")
	fmt.Println("replica log slots:", opts.ReplicaULogSize)
	// Output:
	// 28 changes reach the replica; 2 are renames
	// replica log slots: 8
}
