package getopt_test

import (
	"fmt"

	"github.com/gokprop/gokprop/internal/getopt"
)

func ExampleParse() {
	opts, operands, _ := getopt.Parse([]string{"-rEXAMPLE.COM", "kdc2.example.com", "-d"}, "r:f:dP:s:", nil)
	fmt.Println(opts, operands)
	// Output: [{r EXAMPLE.COM} {d }] [kdc2.example.com]
}
