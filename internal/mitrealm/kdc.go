package mitrealm

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// startAttempts is how many ports a daemon start tries when the chosen port
// was taken in the meantime.
const startAttempts = 5

// StartKDC starts MIT krb5kdc -n for h's realm on 127.0.0.1:KDCPort() (UDP
// and TCP), waits until it has bound its sockets, and stops it in
// t.Cleanup. If the port has been taken meanwhile it moves to another one
// and rewrites h's krb5.conf, kdc.conf and client profiles. h's database
// must exist.
func (h *Host) StartKDC(t testing.TB) *Daemon {
	t.Helper()
	path := bin(t, "krb5kdc")
	for attempt := 1; ; attempt++ {
		d, err := startDaemon(h.Command(path, "-n", "-r", h.Realm), "starting...", ReadyTimeout)
		if err == nil {
			d.cleanupWith(t)
			h.mu.Lock()
			h.kdc = d
			h.mu.Unlock()
			return d
		}
		if !addrInUse(err) || attempt == startAttempts {
			t.Fatalf("%s: %v", h.Name, err)
		}
		port := reservePort(t)
		h.mu.Lock()
		h.kdcPort = port
		err = h.writeProfiles()
		h.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// KDC returns the KDC started by StartKDC, or nil.
func (h *Host) KDC() *Daemon {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kdc
}

// KDCPort returns the 127.0.0.1 port h's KDC listens on, or will once
// started; h's krb5.conf names it.
func (h *Host) KDCPort() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kdcPort
}

// KDCLog returns h's KDC log so far ("" before the KDC has written one).
func (h *Host) KDCLog(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(h.KDCLogFile)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// KDCIssues returns the AS tickets h's KDC has logged as issued.
func (h *Host) KDCIssues(t testing.TB) []ASIssue {
	t.Helper()
	return ParseKDCLog(h.KDCLog(t))
}

// TraceLog returns h's KRB5_TRACE output so far (see Options.Trace).
func (h *Host) TraceLog(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(h.TraceFile)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// ASIssue is one ticket an MIT KDC logged as issued in reply to an AS-REQ,
// with the enctype numbers of the reply key, the ticket and the session
// key. This is how a test learns the session enctype of a propagation
// whatever program sent or received it.
type ASIssue struct {
	Client, Server         string
	Reply, Ticket, Session int32
}

// String renders the issue like the KDC log: client for server and the
// three enctype numbers.
func (a ASIssue) String() string {
	return fmt.Sprintf("%s for %s: rep=%d tkt=%d ses=%d", a.Client, a.Server, a.Reply, a.Ticket, a.Session)
}

// asIssueLine matches the KDC's log line for an issued AS ticket (MIT's
// src/kdc/kdc_log.c:log_as_req), for example:
//
//	AS_REQ (1 etypes {aes256-cts-hmac-sha1-96(18)}) 127.0.0.1: ISSUE: authtime 1795770582,
//	etypes {rep=aes256-cts-hmac-sha1-96(18), tkt=aes256-cts-hmac-sha1-96(18),
//	ses=aes256-cts-hmac-sha1-96(18)}, host/vm@R for host/localhost@R
//
// (one line). Deprecated enctypes carry a "DEPRECATED:" prefix.
var asIssueLine = regexp.MustCompile(`AS_REQ \(.*\) \S+: ISSUE: authtime \d+, etypes \{rep=[^(]*\((-?\d+)\), tkt=[^(]*\((-?\d+)\), ses=[^(]*\((-?\d+)\)\}, (.+) for (.+)$`)

// ParseKDCLog extracts the issued AS tickets from an MIT KDC log.
func ParseKDCLog(log string) []ASIssue {
	var out []ASIssue
	for _, line := range strings.Split(log, "\n") {
		m := asIssueLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		num := func(s string) int32 {
			n, _ := strconv.ParseInt(s, 10, 32)
			return int32(n)
		}
		out = append(out, ASIssue{Client: m[4], Server: m[5], Reply: num(m[1]), Ticket: num(m[2]), Session: num(m[3])})
	}
	return out
}
