package kpropd

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokprop/gokprop/iprop"
)

// fakePrimary scripts a primary's answers: each GetUpdates or FullResync
// call takes the next step, which must be for that call.
type fakePrimary struct {
	mu       sync.Mutex
	steps    []step
	dials    int
	closed   int
	dialErrs []error
}

type step struct {
	call   string // "get" or "resync"
	incr   *iprop.IncrResult
	full   *iprop.FullResyncResult
	err    error
	expect iprop.Last // for "get": the position the replica must send
}

func (f *fakePrimary) dial(ctx context.Context) (IpropSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials++
	if len(f.dialErrs) > 0 {
		err := f.dialErrs[0]
		f.dialErrs = f.dialErrs[1:]
		return nil, err
	}
	return &fakeSession{f: f}, nil
}

func (f *fakePrimary) next(t string) (step, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.steps) == 0 {
		return step{}, errors.New("script exhausted")
	}
	s := f.steps[0]
	if s.call != t {
		return step{}, errors.New("unexpected " + t + " call; script wants " + s.call)
	}
	f.steps = f.steps[1:]
	return s, nil
}

type fakeSession struct {
	f      *fakePrimary
	closed bool
}

func (s *fakeSession) GetUpdates(ctx context.Context, last iprop.Last) (*iprop.IncrResult, error) {
	st, err := s.f.next("get")
	if err != nil {
		return nil, err
	}
	if last != st.expect {
		return nil, errors.New("replica sent the wrong position")
	}
	return st.incr, st.err
}

func (s *fakeSession) FullResyncExt(ctx context.Context) (*iprop.FullResyncResult, error) {
	st, err := s.f.next("resync")
	if err != nil {
		return nil, err
	}
	return st.full, st.err
}

func (s *fakeSession) Close() error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.f.closed++
	}
	return nil
}

type fakeReplica struct {
	mu      sync.Mutex
	last    iprop.Last
	batches [][]iprop.Update
	fail    error
}

func (r *fakeReplica) Last() (iprop.Last, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last, nil
}

func (r *fakeReplica) Apply(ctx context.Context, ups []iprop.Update) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, ups)
	if r.fail != nil {
		r.last = iprop.Last{Sno: 1}
		return r.fail
	}
	u := ups[len(ups)-1]
	r.last = iprop.Last{Sno: u.Sno, Time: u.Time}
	return nil
}

// recorder keeps the poller's log messages.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := rec.Message
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "seconds" || a.Key == "status" {
			m += " " + a.Key + "=" + a.Value.String()
		}
		return true
	})
	r.msgs = append(r.msgs, m)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }
func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n")
}

// newPoller returns a poller over f and rep whose waits return at once,
// recording their lengths, unless a test kicks them.
func newPoller(f *fakePrimary, rep *fakeReplica, rec *recorder, waits *[]time.Duration) *Poller {
	p := &Poller{
		Dial:     f.dial,
		Client:   "kiprop/replica@R",
		Replica:  rep,
		Interval: 2 * time.Second,
		Logger:   slog.New(rec),
	}
	p.wait = func(ctx context.Context, d time.Duration, kick <-chan struct{}) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}
	return p
}

var (
	t1 = iprop.Last{Sno: 6, Time: iprop.Time{Seconds: 100, Useconds: 7}}
	t2 = iprop.Last{Sno: 8, Time: iprop.Time{Seconds: 200, Useconds: 9}}
)

func upd(l iprop.Last) iprop.Update {
	return iprop.Update{Principal: "a@R", Sno: l.Sno, Time: l.Time, Commit: true}
}

func TestPollerIncrementalThenSynchronized(t *testing.T) {
	f := &fakePrimary{steps: []step{
		{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdateOK, Last: t2, Updates: []iprop.Update{upd(iprop.Last{Sno: 7}), upd(t2)}}},
		{call: "get", expect: t2, incr: &iprop.IncrResult{Status: iprop.UpdateNil, Last: t2}},
		{call: "get", expect: t2, incr: &iprop.IncrResult{Status: iprop.UpdateNil, Last: t2}},
	}}
	rep := &fakeReplica{last: t1}
	rec := &recorder{}
	var waits []time.Duration
	p := newPoller(f, rep, rec, &waits)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	p.wait = func(ctx context.Context, d time.Duration, kick <-chan struct{}) error {
		waits = append(waits, d)
		if calls++; calls == 3 {
			cancel()
		}
		return ctx.Err()
	}
	if err := p.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	want := "incremental propagation enabled\nconnecting\nconnected\npolling\ngot updates\nupdates applied\nwaiting seconds=2\n" +
		"polling\nsynchronized\nwaiting seconds=2\npolling\nsynchronized\nwaiting seconds=2"
	if got := rec.text(); got != want {
		t.Fatalf("log:\n%s\nwant\n%s", got, want)
	}
	if len(rep.batches) != 1 || len(rep.batches[0]) != 2 || f.dials != 1 {
		t.Fatalf("batches %v, dials %d", rep.batches, f.dials)
	}
}

func TestPollerRunOnce(t *testing.T) {
	f := &fakePrimary{steps: []step{{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdateNil, Last: t1}}}}
	rec := &recorder{}
	var waits []time.Duration
	p := newPoller(f, &fakeReplica{last: t1}, rec, &waits)
	p.RunOnce = true
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(rec.text(), "polling\nsynchronized") || len(waits) != 0 || f.closed != 1 {
		t.Fatalf("log:\n%s\nwaits %v closed %d", rec.text(), waits, f.closed)
	}
}

// A full resync: requested once, waited for (a poll during the wait sees
// the resync still needed and does not ask again), and with RunOnce the
// run goes on until the dump is loaded and a poll gets the updates after
// it.
func TestPollerFullResyncRunOnce(t *testing.T) {
	one := iprop.Last{Sno: 1, Time: iprop.Time{Seconds: 5}}
	f := &fakePrimary{steps: []step{
		{call: "get", expect: one, incr: &iprop.IncrResult{Status: iprop.UpdateFullResyncNeeded, Last: t2}},
		{call: "resync", full: &iprop.FullResyncResult{Status: iprop.UpdateOK}},
		{call: "get", expect: one, incr: &iprop.IncrResult{Status: iprop.UpdateFullResyncNeeded, Last: t2}},
		{call: "get", expect: t2, incr: &iprop.IncrResult{Status: iprop.UpdateNil, Last: t2}},
	}}
	rep := &fakeReplica{last: one}
	rec := &recorder{}
	var waits []time.Duration
	p := newPoller(f, rep, rec, &waits)
	p.RunOnce = true
	p.wait = func(ctx context.Context, d time.Duration, kick <-chan struct{}) error {
		waits = append(waits, d)
		if len(waits) == 2 {
			// The listener loads the dump and kicks the poller.
			rep.mu.Lock()
			rep.last = t2
			rep.mu.Unlock()
			p.Poll()
			select {
			case <-kick:
			case <-time.After(10 * time.Second):
				return errors.New("no kick")
			}
		}
		return nil
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "incremental propagation enabled\nconnecting\nconnected\npolling\nfull resync needed\nfull resync granted\nwaiting seconds=2\n" +
		"polling\nstill waiting for full resync\nwaiting seconds=2\npolling\nsynchronized"
	if got := rec.text(); got != want {
		t.Fatalf("log:\n%s\nwant\n%s", got, want)
	}
}

// After iprop_resync_timeout a resync still needed is requested again.
func TestPollerResyncTimeout(t *testing.T) {
	one := iprop.Last{Sno: 1}
	need := &iprop.IncrResult{Status: iprop.UpdateFullResyncNeeded}
	f := &fakePrimary{steps: []step{
		{call: "get", expect: one, incr: need},
		{call: "resync", full: &iprop.FullResyncResult{Status: iprop.UpdateOK}},
		{call: "get", expect: one, incr: need},
		{call: "get", expect: one, incr: need},
		{call: "resync", full: &iprop.FullResyncResult{Status: iprop.UpdatePermDenied}},
	}}
	rec := &recorder{}
	var waits []time.Duration
	p := newPoller(f, &fakeReplica{last: one}, rec, &waits)
	clock := time.Unix(1000, 0)
	p.now = func() time.Time { return clock }
	p.ResyncTimeout = time.Minute
	p.wait = func(ctx context.Context, d time.Duration, kick <-chan struct{}) error {
		waits = append(waits, d)
		if len(waits) == 2 {
			clock = clock.Add(time.Minute)
		}
		return nil
	}
	err := p.Run(context.Background())
	if !errors.Is(err, ErrIpropPermissionDenied) {
		t.Fatalf("Run: %v", err)
	}
	want := "full resync needed\nfull resync granted\nwaiting seconds=2\npolling\nstill waiting for full resync\nwaiting seconds=2\npolling\nfull resync needed\nfull resync denied\nbailing"
	if got := rec.text(); !strings.HasSuffix(got, want) {
		t.Fatalf("log:\n%s\nwant suffix\n%s", got, want)
	}
}

func TestPollerRefusals(t *testing.T) {
	for _, c := range []struct {
		steps []step
		err   error
		log   string
	}{
		{[]step{{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdatePermDenied}}}, ErrIpropPermissionDenied, "get updates denied\nbailing"},
		{[]step{{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdateError}}}, ErrIpropPrimaryError, "get updates error\nbailing"},
		{[]step{{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdateFullResyncNeeded}},
			{call: "resync", full: &iprop.FullResyncResult{Status: iprop.UpdateError}}}, ErrIpropPrimaryError, "full resync needed\nfull resync error\nbailing"},
	} {
		rec := &recorder{}
		var waits []time.Duration
		f := &fakePrimary{steps: c.steps}
		p := newPoller(f, &fakeReplica{last: t1}, rec, &waits)
		p.RunOnce = true // a refusal ends even a -t run
		if err := p.Run(context.Background()); !errors.Is(err, c.err) {
			t.Errorf("Run: %v, want %v", err, c.err)
		}
		if got := rec.text(); !strings.HasSuffix(got, c.log) {
			t.Errorf("log:\n%s\nwant suffix\n%s", got, c.log)
		}
		if f.closed != 1 {
			t.Errorf("session closed %d times", f.closed)
		}
	}
}

// Busy answers and failed connections back off 2<<n seconds, capped at
// 300, and a success resets the count; a failed call reconnects at once.
func TestPollerBackoffAndReconnect(t *testing.T) {
	var steps []step
	for i := 0; i < 9; i++ {
		steps = append(steps, step{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdateBusy}})
	}
	steps = append(steps,
		step{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdateNil}},
		step{call: "get", expect: t1, err: errors.New("connection reset")},
		step{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdateNil}},
	)
	f := &fakePrimary{steps: steps, dialErrs: []error{errors.New("refused"), errors.New("refused")}}
	rec := &recorder{}
	var waits []time.Duration
	p := newPoller(f, &fakeReplica{last: t1}, rec, &waits)
	ctx, cancel := context.WithCancel(context.Background())
	p.wait = func(ctx context.Context, d time.Duration, kick <-chan struct{}) error {
		waits = append(waits, d)
		if len(waits) == 13 {
			cancel()
		}
		return ctx.Err()
	}
	p.Run(ctx)
	s := time.Second
	want := []time.Duration{4 * s, 8 * s, // two failed dials
		4 * s, 8 * s, 16 * s, 32 * s, 64 * s, 128 * s, 256 * s, 300 * s, 300 * s, // busy
		2 * s, // synchronized: the poll interval
		2 * s, // after the reconnect
	}
	if len(waits) < len(want) {
		t.Fatalf("waits %v\nlog:\n%s", waits, rec.text())
	}
	for i, w := range want {
		if waits[i] != w {
			t.Fatalf("wait %d is %v, want %v (all: %v)", i, waits[i], w, waits)
		}
	}
	if f.dials != 4 || !strings.Contains(rec.text(), "get updates failed\nconnecting\nconnected\npolling\nsynchronized") {
		t.Fatalf("dials %d, log:\n%s", f.dials, rec.text())
	}
}

// A failed apply is logged and polling goes on (the replica asks for a
// full resync next).
func TestPollerApplyFailure(t *testing.T) {
	f := &fakePrimary{steps: []step{
		{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdateOK, Last: t2, Updates: []iprop.Update{upd(t2)}}},
	}}
	rec := &recorder{}
	var waits []time.Duration
	p := newPoller(f, &fakeReplica{last: t1, fail: errors.New("disk full")}, rec, &waits)
	p.RunOnce = true
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(rec.text(), "got updates\napply failed") {
		t.Fatalf("log:\n%s", rec.text())
	}
}

// Poll before Run, during a poll, or many times: one immediate poll.
func TestPollerKickCoalesces(t *testing.T) {
	p := &Poller{}
	p.Poll()
	p.Poll()
	p.Poll()
	k := p.kicks()
	select {
	case <-k:
	default:
		t.Fatal("no kick kept")
	}
	select {
	case <-k:
		t.Fatal("kicks did not coalesce")
	default:
	}
}

// The real timer: a long wait ends at once with Poll.
func TestPollerSleepKick(t *testing.T) {
	p := &Poller{}
	done := make(chan error)
	go func() { done <- p.sleep(context.Background(), time.Hour, p.kicks()) }()
	p.Poll()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Poll did not end the wait")
	}
}

// In iprop mode the loader runs MIT kpropd's "load [-d DB] -i FILE".
func TestKDB5UtilIpropArgs(t *testing.T) {
	k := &KDB5Util{Path: "/usr/sbin/kdb5_util", Realm: "R", Database: "/db/principal", Iprop: true}
	got := strings.Join(k.Args("/f"), " ")
	if want := "/usr/sbin/kdb5_util -r R load -d /db/principal -i /f"; got != want {
		t.Fatalf("%s\nwant %s", got, want)
	}
}

// Position reports the replica's place after an applied batch (the
// primary may hold more than the batch brought) and when it is up to
// date; not after a failed apply.
func TestPollerPosition(t *testing.T) {
	t3 := iprop.Last{Sno: 9, Time: iprop.Time{Seconds: 260, Useconds: 1}}
	f := &fakePrimary{steps: []step{
		{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdateOK, Last: t3, Updates: []iprop.Update{upd(iprop.Last{Sno: 7}), upd(t2)}}},
		{call: "get", expect: t2, incr: &iprop.IncrResult{Status: iprop.UpdateOK, Last: t3, Updates: []iprop.Update{upd(t3)}}},
		{call: "get", expect: t3, incr: &iprop.IncrResult{Status: iprop.UpdateNil, Last: t3}},
	}}
	rep := &fakeReplica{last: t1}
	var waits []time.Duration
	p := newPoller(f, rep, &recorder{}, &waits)
	type pos struct{ replica, primary iprop.Last }
	var got []pos
	p.Position = func(replica, primary iprop.Last) { got = append(got, pos{replica, primary}) }
	ctx, cancel := context.WithCancel(context.Background())
	p.wait = func(ctx context.Context, d time.Duration, kick <-chan struct{}) error {
		if len(waits) == 2 {
			cancel()
		}
		waits = append(waits, d)
		return ctx.Err()
	}
	if err := p.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	want := []pos{{t2, t3}, {t3, t3}, {t3, t3}}
	if !slices.Equal(got, want) {
		t.Fatalf("positions %v, want %v", got, want)
	}

	// A failed apply reports nothing.
	f = &fakePrimary{steps: []step{
		{call: "get", expect: t1, incr: &iprop.IncrResult{Status: iprop.UpdateOK, Last: t2, Updates: []iprop.Update{upd(t2)}}},
	}}
	rep = &fakeReplica{last: t1, fail: errors.New("disk full")}
	p = newPoller(f, rep, &recorder{}, &waits)
	p.RunOnce = true
	got = nil
	p.Position = func(replica, primary iprop.Last) { got = append(got, pos{replica, primary}) }
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("positions after a failed apply: %v", got)
	}
}
