package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// newLogger returns the daemon's logger. Events go to syslog (facility
// daemon, ident kpropd, as MIT's openlog); with -d MIT's debug lines also
// go to standard error; without syslog (no /dev/log, as in many
// containers) a foreground daemon logs to standard error instead. The
// kpropd package's structured records are worded as MIT kpropd words them
// first (mitHandler). With --log-format (format "text" or "json") what
// goes to standard error is instead the structured records themselves,
// as log/slog's text or JSON handler writes them, at the info level (debug
// with -d); syslog keeps MIT's sentences.
func newLogger(debug, foreground bool, format string, stderr io.Writer) *slog.Logger {
	var hs []slog.Handler
	sys, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, "kpropd")
	if err == nil {
		hs = append(hs, &syslogHandler{w: sys})
	}
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	toStderr := debug || err != nil && foreground
	if format != "" {
		var mit slog.Handler = mitHandler{next: slog.NewMultiHandler(hs...)}
		if len(hs) == 0 {
			mit = slog.DiscardHandler
		}
		return slog.New(slog.NewMultiHandler(mit, structuredHandler(format, level, stderr)))
	}
	if toStderr {
		hs = append(hs, &lineHandler{w: stderr, level: level})
	}
	return slog.New(mitHandler{next: slog.NewMultiHandler(hs...)})
}

// structuredHandler writes records as log/slog's text or JSON handler
// does, with values that are Stringers (addresses, enctypes, principals)
// as their strings.
func structuredHandler(format string, level slog.Level, w io.Writer) slog.Handler {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Value.Kind() == slog.KindAny {
			switch v := a.Value.Any().(type) {
			case error:
				return slog.String(a.Key, v.Error())
			case fmt.Stringer:
				return slog.String(a.Key, v.String())
			}
		}
		return a
	}}
	if format == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// mitHandler rewrites the kpropd package's records (see its package
// documentation) into the sentences MIT kpropd writes to syslog and, with
// -d, to standard error, and hands them on. Other records (the command's
// own, already in MIT's words) pass unchanged.
type mitHandler struct{ next slog.Handler }

func (h mitHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h mitHandler) Handle(ctx context.Context, r slog.Record) error {
	msg := mitText(ctx, r)
	if msg == "" {
		return nil
	}
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	return h.next.Handle(ctx, out)
}

func (h mitHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h mitHandler) WithGroup(string) slog.Handler      { return h }

// mitText is MIT kpropd's sentence for a record, or "" for a record MIT
// has no line for.
func mitText(ctx context.Context, r slog.Record) string {
	attr := func(key string) slog.Value {
		var v slog.Value
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v = a.Value.Resolve()
				return false
			}
			return true
		})
		return v
	}
	switch r.Message {
	case "waiting for connection":
		return "waiting for a kprop connection"
	case "connection":
		addr, _ := attr("peer").Any().(net.Addr)
		return "Connection from " + peerName(ctx, addr)
	case "authenticating":
		return fmt.Sprintf("krb5_recvauth(%d, %s, %s, ...)", connFD(ctx), attr("appl_version"), attr("server"))
	case "authenticated":
		return fmt.Sprintf("authenticated client: %s (etype == %s)", attr("client"), attr("ticket_enctype"))
	case "transfer started":
		return "Full propagation transfer started."
	case "transfer finished":
		return "Full propagation transfer finished."
	case "loading":
		return "calling kdb5_util to load database"
	case "transfer failed":
		if err, ok := attr("err").Any().(error); ok {
			return err.Error()
		}
	case "dump verified":
		// MIT does not verify, so it has no line for it.
		return ""
	case "waiting for turn":
		return "waiting for the propagation in progress to finish"
	case "connection done":
		// MIT's parent prints it when the child serving a connection
		// has exited; we print it only when a load has run.
		if attr("loaded").Kind() == slog.KindBool && attr("loaded").Bool() {
			return "Database load process for full propagation completed."
		}
		return ""
	}
	return r.Message
}

// connKey is the context key under which withConn stores the connection.
type connKey struct{}

// withConn is the server's ConnContext: it keeps the connection in the
// context, where mitText finds it for MIT's debug line.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// connFD is the descriptor number of the connection in ctx, for MIT's
// debug line; -1 when it has none.
func connFD(ctx context.Context) int {
	sc, ok := ctx.Value(connKey{}).(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = raw.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// peerName names the client as MIT kpropd's log does, with getnameinfo
// on the peer's socket address: its host name when the address maps back
// to one, else the address. The address is the one the socket sees: a
// kpropd listening on the IPv6 wildcard, as MIT's and ours do, sees an
// IPv4 client as "::ffff:a.b.c.d", which is not in /etc/hosts; as with
// glibc, only DNS maps such an address back to a name.
func peerName(ctx context.Context, a net.Addr) string {
	host := socketPeer(ctx)
	if host == "" {
		ta, ok := a.(*net.TCPAddr)
		if !ok {
			if a == nil {
				return ""
			}
			return a.String()
		}
		ip := ta.IP
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		host = ip.String()
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if names, err := net.DefaultResolver.LookupAddr(ctx, host); err == nil && len(names) > 0 {
		return strings.TrimSuffix(names[0], ".")
	}
	return host
}

// socketPeer is the numeric peer address of the connection in ctx as the
// kernel gives it (getpeername), or "" when it has none.
func socketPeer(ctx context.Context) string {
	sc, ok := ctx.Value(connKey{}).(syscall.Conn)
	if !ok {
		return ""
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return ""
	}
	var sa syscall.Sockaddr
	_ = raw.Control(func(fd uintptr) { sa, err = syscall.Getpeername(int(fd)) })
	if err != nil {
		return ""
	}
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr).String()
	case *syscall.SockaddrInet6:
		return netip.AddrFrom16(sa.Addr).String()
	}
	return ""
}

// lineHandler writes each record's message as one line, as MIT's
// fprintf(stderr, ...) debugging does.
type lineHandler struct {
	mu    sync.Mutex
	w     io.Writer
	level slog.Level
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := fmt.Fprintln(h.w, r.Message)
	return err
}

func (h *lineHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *lineHandler) WithGroup(string) slog.Handler      { return h }

// syslogHandler sends records to syslog at the matching priority.
type syslogHandler struct{ w *syslog.Writer }

func (h *syslogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *syslogHandler) Handle(_ context.Context, r slog.Record) error {
	switch {
	case r.Level >= slog.LevelError:
		return h.w.Err(r.Message)
	case r.Level >= slog.LevelWarn:
		return h.w.Warning(r.Message)
	}
	return h.w.Info(r.Message)
}

func (h *syslogHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *syslogHandler) WithGroup(string) slog.Handler      { return h }
