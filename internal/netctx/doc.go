// Package netctx applies a context's deadline and cancellation to a
// net.Conn, whose reads and writes take no context of their own.
package netctx
