package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"strings"
	"sync"
	"time"

	"github.com/gokprop/gokprop/internal/comerr"
)

// newIpropLogger returns the logger of iprop mode's poller and replica
// database. MIT's do_iprop writes each event to up to three places, with
// different words: a -d line on standard error, a syslog message, and
// (for failed RPC calls, clnt_perror) standard error whatever -d says;
// com_err lines go to standard error with -d and to syslog without. The
// poller's records (see kpropd.Poller) are worded here as MIT words them.
func newIpropLogger(prog string, debug int, foreground bool, stderr io.Writer) *slog.Logger {
	h := &ipropHandler{prog: prog, stderr: stderr, verbose: debug > 1}
	if debug > 0 {
		h.debug = stderr
	}
	sys, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, "kpropd")
	if err == nil {
		h.sys = sys
	} else if foreground && debug == 0 {
		// No syslog (a container): a foreground daemon logs its syslog
		// messages to standard error instead, as the listener does.
		h.sysFallback = stderr
	}
	return slog.New(h)
}

type ipropHandler struct {
	prog        string
	debug       io.Writer // -d lines; nil without -d
	stderr      io.Writer // clnt_perror lines
	sys         *syslog.Writer
	sysFallback io.Writer
	// verbose (kpropd -d -d) adds the replica database's own debug and
	// info records to the -d lines, which otherwise are MIT's alone.
	verbose bool
	mu      sync.Mutex
}

func (h *ipropHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *ipropHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *ipropHandler) WithGroup(string) slog.Handler            { return h }

// ipropOutput is what one record becomes.
type ipropOutput struct {
	debug  []string // -d lines, in order
	sys    string   // syslog message
	sysPri slog.Level
	always string // a line for standard error in any case
	comerr string // a com_err line: standard error with -d, else syslog
	// comerrFirst puts the com_err line before the debug lines after
	// the first (MIT prints "kadm5 initialization failed!", the com_err
	// line, then the sleep).
	comerrAfter int
}

func (h *ipropHandler) Handle(_ context.Context, r slog.Record) error {
	out := h.words(r)
	h.mu.Lock()
	defer h.mu.Unlock()
	if out.always != "" {
		fmt.Fprintln(h.stderr, out.always)
	}
	for i, l := range out.debug {
		if i == out.comerrAfter && out.comerr != "" {
			h.comerr(out.comerr)
		}
		if h.debug != nil {
			fmt.Fprintln(h.debug, l)
		}
	}
	if out.comerr != "" && out.comerrAfter >= len(out.debug) {
		h.comerr(out.comerr)
	}
	if out.sys != "" {
		h.syslog(out.sysPri, out.sys)
	}
	return nil
}

func (h *ipropHandler) comerr(line string) {
	if h.debug != nil {
		fmt.Fprintln(h.debug, line)
		return
	}
	h.syslog(slog.LevelError, line)
}

func (h *ipropHandler) syslog(l slog.Level, msg string) {
	switch {
	case h.sys != nil:
		switch {
		case l >= slog.LevelError:
			h.sys.Err(msg)
		case l >= slog.LevelWarn:
			h.sys.Warning(msg)
		default:
			h.sys.Info(msg)
		}
	case h.sysFallback != nil:
		fmt.Fprintln(h.sysFallback, msg)
	}
}

// words returns MIT's wording of a record.
func (h *ipropHandler) words(r slog.Record) ipropOutput {
	attrs := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Resolve()
		return true
	})
	u := func(k string) uint64 {
		v := attrs[k]
		switch v.Kind() {
		case slog.KindUint64:
			return v.Uint64()
		case slog.KindInt64:
			return uint64(v.Int64())
		}
		return 0
	}
	errText := func() string {
		if e, ok := attrs["err"].Any().(error); ok {
			return comerr.Message(e)
		}
		return attrs["err"].String()
	}
	errLine := func(context string) string {
		e, _ := attrs["err"].Any().(error)
		return comerr.Line(h.prog, e, context)
	}
	pos := func(format string) string {
		return fmt.Sprintf(format, uint32(u("sno")), uint32(u("sec")), uint32(u("usec")))
	}
	secs := func(k string) int {
		if d, ok := attrs[k].Any().(time.Duration); ok {
			return int(d / time.Second)
		}
		return int(u(k))
	}
	var o ipropOutput
	switch r.Message {
	case "incremental propagation enabled":
		o.debug = []string{"Incremental propagation enabled"}
	case "connecting":
		o.debug = []string{"Initializing kadm5 as client " + attrs["client"].String()}
	case "connected":
		o.debug = []string{"kadm5 initialization succeeded"}
	case "connect failed":
		o.comerrAfter = 1
		if attrs["rpc"].Bool() {
			o.comerr = errLine("while attempting to connect to primary KDC ... retrying")
			o.debug = []string{"kadm5 initialization failed!", fmt.Sprintf("Sleeping %d seconds to re-initialize kadm5 (RPC ERROR)", secs("backoff"))}
		} else {
			o.comerr = errLine("while initializing " + h.prog + " interface, retrying")
			o.debug = []string{"kadm5 initialization failed!", fmt.Sprintf("Sleeping %d seconds to re-initialize kadm5 (krb5kdc not running?)", secs("backoff"))}
		}
	case "polling":
		o.debug = []string{pos("Calling iprop_get_updates_1 (sno=%d sec=%d usec=%d)")}
	case "get updates failed":
		o.always = "iprop_get_updates call failed: " + errText()
		o.debug = []string{"Reinitializing iprop because get updates failed"}
	case "full resync needed":
		o.debug = []string{"Full resync needed"}
		o.sys, o.sysPri = "kpropd: Full resync needed.", slog.LevelInfo
	case "still waiting for full resync":
		o.debug = []string{"Still waiting for full resync"}
	case "full resync failed":
		o.always = "iprop_full_resync call failed: " + errText()
	case "full resync granted":
		o.debug = []string{"Full resync request granted"}
		o.sys, o.sysPri = "Full resync request granted.", slog.LevelInfo
	case "full resync busy":
		o.debug = []string{"Exponential backoff"}
	case "full resync denied":
		o.debug = []string{"Full resync permission denied"}
		o.sys, o.sysPri = "Full resync, permission denied.", slog.LevelError
	case "full resync error":
		o.debug = []string{"Full resync error from primary"}
		o.sys, o.sysPri = " Full resync, error returned from primary KDC.", slog.LevelError
	case "full resync invalid":
		o.debug = []string{"Full resync invalid result from primary"}
		o.sys, o.sysPri = "Full resync, invalid return from primary KDC.", slog.LevelError
	case "got updates":
		o.debug = []string{pos("Got incremental updates (sno=%d sec=%d usec=%d)")}
	case "apply failed":
		o.debug = []string{fmt.Sprintf("ulog_replay failed (%s), updates not registered", errText())}
		o.sys, o.sysPri = fmt.Sprintf("ulog_replay failed (%s), updates not registered.", errText()), slog.LevelError
	case "updates applied":
		var us int64
		if d, ok := attrs["elapsed"].Any().(time.Duration); ok {
			us = d.Microseconds()
		}
		line := fmt.Sprintf("Incremental updates: %d updates / %d us", u("updates"), us)
		o.debug = []string{line}
		o.sys, o.sysPri = line, slog.LevelInfo
	case "get updates denied":
		o.debug = []string{"get_updates permission denied"}
		o.sys, o.sysPri = "get_updates, permission denied.", slog.LevelError
	case "get updates error":
		o.debug = []string{"get_updates error from primary"}
		o.sys, o.sysPri = "get_updates, error returned from primary KDC.", slog.LevelError
	case "primary busy":
		o.debug = []string{"get_updates primary busy; backoff"}
	case "synchronized":
		o.debug = []string{"KDC is synchronized with primary."}
	case "get updates invalid":
		o.debug = []string{"get_updates invalid result from primary"}
		o.sys, o.sysPri = "get_updates, invalid return from primary KDC.", slog.LevelError
	case "backing off":
		o.debug = []string{fmt.Sprintf("Busy signal received from primary, backoff for %d secs", secs("seconds"))}
	case "waiting":
		o.debug = []string{fmt.Sprintf("Waiting for %d seconds before checking for updates again", secs("seconds"))}
	case "reading position failed":
		o.comerr = errLine("reading update log header")
	case "bailing":
		o.debug = []string{"ERROR returned by primary, bailing"}
		o.sys, o.sysPri = "ERROR returned by primary KDC, bailing.", slog.LevelError
	default:
		// The replica database's own records: warnings and errors as
		// -d lines (all of them with -d -d), and from info up
		// (index rebuilds) to syslog.
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		})
		if h.verbose || r.Level >= slog.LevelWarn {
			o.debug = []string{b.String()}
		}
		if r.Level >= slog.LevelInfo {
			o.sys, o.sysPri = b.String(), r.Level
		}
	}
	return o
}
