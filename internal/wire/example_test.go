package wire_test

import (
	"fmt"

	"github.com/gokprop/gokprop/internal/wire"
)

func ExampleAppendSize() {
	fmt.Printf("%x\n", wire.AppendSize(nil, 175277))
	fmt.Printf("%x\n", wire.AppendSize(nil, 5<<30))
	// Output:
	// 0002acad
	// 000000000000000140000000
}
