// Package netctx binds a context to a net.Conn, whose reads and writes
// take no context of their own: one helper, Bind, makes the connection's
// I/O fail when the context ends, without touching its deadlines
// otherwise.
package netctx
