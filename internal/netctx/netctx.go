// Package netctx applies a context's deadline and cancellation to a
// net.Conn, whose reads and writes take no context of their own.
package netctx

import (
	"context"
	"net"
	"time"
)

// Watch makes ctx's deadline apply to conn and, when ctx is cancelled or
// expires, makes every pending and future read and write on conn fail at
// once, until the returned stop function is called. stop does not undo a
// deadline already set.
func Watch(ctx context.Context, conn net.Conn) (stop func()) {
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	unhook := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
	return func() { unhook() }
}

// aLongTimeAgo is a deadline in the past: it fails I/O immediately.
var aLongTimeAgo = time.Unix(1, 0)
