package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/kpropd/metrics"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

var (
	client = krb5.HostPrincipal("host", "metrics-primary.test", "METRICS.TEST")
	server = krb5.HostPrincipal("host", "metrics-replica.test", "METRICS.TEST")
)

// testServer is an instrumented in-process kpropd whose Loader waits for
// a signal, so that a test can look at the metrics during a transfer.
type testServer struct {
	m      *metrics.Metrics
	srv    *kpropd.Server
	addr   string
	kt     *keytab.Keytab
	load   chan error    // the Loader's result, one per load
	loads  chan struct{} // a value when a load starts
	closed chan struct{}
	allow  bool
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	kt, err := krbtest.Keytab(krbtest.Key{Principal: server, KVNO: 1, Enctype: krb5.EnctypeAES256CTSSHA1, Password: "k"})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{m: metrics.New(), kt: kt, load: make(chan error, 1), loads: make(chan struct{}, 1),
		closed: make(chan struct{}, 4), allow: true}
	ts.srv = &kpropd.Server{
		Auth: &krbauth.ServerConfig{GetKeytab: func() (*keytab.Keytab, error) { return kt, nil }, Principal: server},
		Authorizer: kpropd.AuthorizerFunc(func(context.Context, *kpropd.Peer) error {
			if !ts.allow {
				return kpropd.ErrNotAuthorized
			}
			return nil
		}),
		File: filepath.Join(t.TempDir(), "from_master"),
		Loader: kpropd.LoaderFunc(func(ctx context.Context, _ string) error {
			ts.loads <- struct{}{}
			return <-ts.load
		}),
		// A hook already set keeps working.
		ConnState: func(_ net.Conn, st kpropd.ConnState) {
			if st == kpropd.StateClosed {
				ts.closed <- struct{}{}
			}
		},
	}
	ts.m.Instrument(ts.srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	go ts.srv.Serve(l)
	t.Cleanup(func() { ts.srv.Close() })
	return ts
}

// push propagates dump and returns Propagate's error once the server is
// done with the connection.
func (ts *testServer) push(t *testing.T, dump []byte) <-chan error {
	t.Helper()
	creds, err := krbtest.Credentials[krbauth.Credentials](ts.kt, client, server, krb5.EnctypeAES256CTSSHA1, 1, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			done <- err
			return
		}
		_, err = kprop.Propagate(context.Background(), conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}}, bytes.NewReader(dump), int64(len(dump)))
		conn.Close()
		<-ts.closed
		done <- err
	}()
	return done
}

func TestMetricsOfTransfers(t *testing.T) {
	ts := newTestServer(t)
	m := ts.m
	reg := m.Registry()
	dump := bytes.Repeat([]byte("x"), 100_000)

	before := time.Now()
	done := ts.push(t, dump)
	<-ts.loads
	// Loading: the transfer is in progress and every byte counted.
	if got := value(t, reg, "kpropd_transfers_in_progress", ""); got != 1 {
		t.Errorf("in progress during the load: %v", got)
	}
	if got := value(t, reg, "kpropd_received_bytes_total", ""); got != float64(len(dump)) {
		t.Errorf("received bytes during the load: %v", got)
	}
	if got := value(t, reg, "kpropd_last_success_timestamp_seconds", ""); got != 0 {
		t.Errorf("last success before any: %v", got)
	}
	ts.load <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := value(t, reg, "kpropd_transfers_in_progress", ""); got != 0 {
		t.Errorf("in progress after: %v", got)
	}
	last := value(t, reg, "kpropd_last_success_timestamp_seconds", "")
	if last < float64(before.Unix()) || last > float64(time.Now().Unix()+1) {
		t.Errorf("last success %v, not between %v and now", last, before.Unix())
	}
	if got := value(t, reg, "kpropd_last_success_bytes", ""); got != float64(len(dump)) {
		t.Errorf("last success bytes %v", got)
	}
	if got := value(t, reg, "kpropd_transfer_duration_seconds_count", ""); got != 1 {
		t.Errorf("duration count %v", got)
	}

	// A failed load and a refused client count as failures, by reason.
	done = ts.push(t, dump)
	<-ts.loads
	ts.load <- errors.New("kdb5_util failed")
	if err := <-done; err == nil {
		t.Fatal("a failed load succeeded")
	}
	ts.allow = false
	if err := <-ts.push(t, dump); err == nil {
		t.Fatal("a refused client succeeded")
	}
	for reason, want := range map[string]float64{"load": 1, "authorize": 1, "read_block": 0, "timeout": 0} {
		if got := value(t, reg, "kpropd_failures_total", `reason="`+reason+`"`); got != want {
			t.Errorf("failures{reason=%q} = %v, want %v", reason, got, want)
		}
	}
	if got := value(t, reg, "kpropd_received_bytes_total", ""); got != 2*float64(len(dump)) {
		t.Errorf("received bytes %v, want both dumps'", got)
	}
	if got := value(t, reg, "kpropd_transfer_duration_seconds_count", ""); got != 1 {
		t.Errorf("a failure was timed: count %v", got)
	}
}

// The handler serves the exposition format, with the standard process
// metrics the alert rules use.
func TestHandler(t *testing.T) {
	m := metrics.New()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{"# TYPE kpropd_transfer_duration_seconds histogram", "kpropd_last_success_timestamp_seconds 0",
		`kpropd_failures_total{reason="authenticate"} 0`, "process_start_time_seconds", "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in:\n%s", want, body)
		}
	}
	if problems, err := testutil.GatherAndLint(m.Registry()); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

func TestReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&kpropd.TransferError{Step: kpropd.StepDecodeBlock, Err: errors.New("x")}, "decode_block"},
		{&kpropd.TransferError{Step: kpropd.StepAuthenticate, Err: context.DeadlineExceeded}, "timeout"},
		{kpropd.ErrServerClosed, "shutdown"},
		{errors.New("?"), "other"},
	} {
		if got := metrics.Reason(c.err); got != c.want {
			t.Errorf("Reason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	r := metrics.Reasons()
	if !slices.Contains(r, "send_ack") || !slices.Contains(r, "other") || slices.Contains(r, "") {
		t.Errorf("Reasons() = %q", r)
	}
}

func TestIpropPosition(t *testing.T) {
	m := metrics.New()
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	if body := scrape(); strings.Contains(body, "kpropd_iprop_") {
		t.Fatalf("iprop metrics before any poll:\n%s", body)
	}
	at := func(sno, sec, usec uint32) iprop.Last {
		return iprop.Last{Sno: sno, Time: iprop.Time{Seconds: sec, Useconds: usec}}
	}
	m.IpropPosition(at(41, 1000, 750000), at(44, 1012, 250000))
	if v := value(t, m.Registry(), "kpropd_iprop_last_serial", ""); v != 41 {
		t.Errorf("last serial %v, want 41", v)
	}
	if v := value(t, m.Registry(), "kpropd_iprop_lag_seconds", ""); v != 11.5 {
		t.Errorf("lag %v, want 11.5", v)
	}
	if v := value(t, m.Registry(), "kpropd_iprop_last_poll_timestamp_seconds", ""); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last poll %v, not now", v)
	}
	m.IpropPosition(at(44, 1012, 250000), at(44, 1012, 250000))
	if v := value(t, m.Registry(), "kpropd_iprop_lag_seconds", ""); v != 0 {
		t.Errorf("lag when up to date %v, want 0", v)
	}
	// A primary whose clock went back is not a negative lag.
	m.IpropPosition(at(45, 2000, 0), at(46, 1990, 0))
	if v := value(t, m.Registry(), "kpropd_iprop_lag_seconds", ""); v != 0 {
		t.Errorf("lag %v, want 0", v)
	}
	if problems, err := testutil.GatherAndLint(m.Registry()); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}
