package netctx_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/gokprop/gokprop/internal/netctx"
)

func ExampleBind() {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	stop := netctx.Bind(ctx, a)
	_, err := a.Read(make([]byte, 1)) // nobody writes: the context ends it
	fmt.Println(errors.Is(err, os.ErrDeadlineExceeded), stop())
	// Output: true false
}
