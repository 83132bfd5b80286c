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

func ExampleWatch() {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	stop := netctx.Watch(ctx, a)
	defer stop()
	_, err := a.Read(make([]byte, 1)) // nobody writes: the deadline ends it
	fmt.Println(errors.Is(err, os.ErrDeadlineExceeded))
	// Output: true
}
