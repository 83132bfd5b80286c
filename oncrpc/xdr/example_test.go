package xdr_test

import (
	"errors"
	"fmt"

	"github.com/gokprop/gokprop/oncrpc/xdr"
)

func Example() {
	// A struct { string name<>; int kvno; } on the wire.
	b := xdr.AppendOpaque(nil, []byte("alice"))
	b = xdr.AppendInt32(b, 3)
	fmt.Printf("% x\n", b)

	d := xdr.NewDecoder(b)
	name := d.Opaque(255)
	kvno := d.Int32()
	if err := d.End(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %d\n", name, kvno)

	// A length beyond the caller's bound fails before any allocation.
	d = xdr.NewDecoder([]byte{0xff, 0xff, 0xff, 0xff})
	d.Opaque(1 << 20)
	fmt.Println(errors.Is(d.Err(), xdr.ErrTooLong))
	// Output:
	// 00 00 00 05 61 6c 69 63 65 00 00 00 00 00 00 03
	// alice 3
	// true
}
