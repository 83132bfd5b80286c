package netctx

import (
	"context"
	"net"
	"time"
)

// Bind makes every pending and future read and write on conn fail at once
// when ctx is cancelled or its deadline passes, until the returned stop
// function is called. It does this with one context.AfterFunc that sets a
// deadline in the past, as crypto/tls does for a handshake; it never
// copies ctx's deadline onto conn, so nothing has to be restored
// afterwards.
//
// stop detaches conn from ctx. It reports whether it did so before ctx
// ended; if not, it returns once the interruption is complete (conn's
// deadline is then in the past) and the caller should report ctx.Err().
func Bind(ctx context.Context, conn net.Conn) (stop func() bool) {
	done := make(chan struct{})
	unhook := context.AfterFunc(ctx, func() {
		defer close(done)
		_ = conn.SetDeadline(aLongTimeAgo)
	})
	return func() bool {
		if unhook() {
			return true
		}
		<-done
		return false
	}
}

// aLongTimeAgo is a deadline in the past: it fails I/O immediately.
var aLongTimeAgo = time.Unix(1, 0)
