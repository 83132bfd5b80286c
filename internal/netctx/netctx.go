package netctx

import (
	"context"
	"errors"
	"fmt"
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

// Do runs f, which does blocking I/O on conn, under ctx: the
// context's deadline is set on conn for the duration (and cleared
// afterwards), and cancellation sets a deadline in the past so that a
// blocked read or write returns. If ctx ended while f ran, the error
// matches ctx.Err() as well as the I/O error it caused.
func Do(ctx context.Context, conn net.Conn, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dl, hasDeadline := ctx.Deadline()
	if hasDeadline {
		if err := conn.SetDeadline(dl); err != nil {
			return err
		}
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		conn.SetDeadline(time.Unix(1, 0))
	})
	err := f()
	interrupted := !stop()
	if interrupted {
		// The interruption has started; let it finish before undoing it.
		<-done
	}
	if hasDeadline || interrupted {
		conn.SetDeadline(time.Time{})
	}
	if interrupted {
		if err == nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	if err != nil && hasDeadline && isTimeout(err) && !time.Now().Before(dl) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
