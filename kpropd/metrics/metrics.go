package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/kpropd"
)

// Metrics holds a kpropd's Prometheus metrics (see the package
// documentation). Its methods are safe for concurrent use.
type Metrics struct {
	reg         *prometheus.Registry
	lastSuccess prometheus.Gauge
	lastBytes   prometheus.Gauge
	duration    prometheus.Histogram
	received    prometheus.Counter
	failures    *prometheus.CounterVec
	inProgress  prometheus.Gauge

	ipropOnce   sync.Once
	ipropSerial prometheus.Gauge
	ipropLag    prometheus.Gauge
	ipropPolled prometheus.Gauge

	now   func() time.Time
	mu    sync.Mutex
	conns map[net.Conn]*conn
}

// conn is what Metrics remembers of a connection in progress.
type conn struct {
	start     time.Time // authorized (StateReceiving); zero before
	size      uint64
	received  uint64
	receiving bool
}

// DurationBuckets are the upper bounds, in seconds, of
// kpropd_transfer_duration_seconds: a quarter of a second to about half
// an hour, doubling.
var DurationBuckets = prometheus.ExponentialBuckets(0.25, 2, 14)

// New returns the metrics on a new registry, which also holds the Go
// runtime and process collectors (go_*, process_*).
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kpropd_last_success_timestamp_seconds",
			Help: "When the last propagation was loaded and acknowledged, in seconds since the epoch (0: none since kpropd started).",
		}),
		lastBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kpropd_last_success_bytes",
			Help: "Size in bytes of the last propagated dump that was loaded and acknowledged.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kpropd_transfer_duration_seconds",
			Help:    "Duration of successful transfers, from authorization to acknowledgement, load included.",
			Buckets: DurationBuckets,
		}),
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kpropd_received_bytes_total",
			Help: "Dump bytes received, as they arrive, failed transfers included.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kpropd_failures_total",
			Help: "Connections that failed, by the step that failed.",
		}, []string{"reason"}),
		inProgress: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kpropd_transfers_in_progress",
			Help: "Authorized transfers being received or loaded.",
		}),
		now:   time.Now,
		conns: map[net.Conn]*conn{},
	}
	m.reg.MustRegister(m.lastSuccess, m.lastBytes, m.duration, m.received, m.failures, m.inProgress,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range Reasons() {
		m.failures.WithLabelValues(r)
	}
	return m
}

// Registry returns the registry the metrics are on, for other collectors
// of the same process (see "Incremental propagation" in the package
// documentation).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Instrument makes s report to m, through s.ConnState and s.Events; hooks
// already set are called too, after m's. Call it before s serves.
func (m *Metrics) Instrument(s *kpropd.Server) {
	prevState, prevEvents := s.ConnState, s.Events
	s.ConnState = func(c net.Conn, st kpropd.ConnState) {
		m.ConnState(c, st)
		if prevState != nil {
			prevState(c, st)
		}
	}
	s.Events = func(e kpropd.Event) {
		m.Event(e)
		if prevEvents != nil {
			prevEvents(e)
		}
	}
}

// IpropPosition records where incremental propagation has brought the
// replica: kpropd_iprop_last_serial (the serial number of the last update
// applied), kpropd_iprop_lag_seconds (how far the time stamp of that
// update is behind the primary's last, 0 when up to date) and
// kpropd_iprop_last_poll_timestamp_seconds (when the primary last
// answered, in seconds since the epoch). It is a kpropd.Poller's Position
// hook. The gauges are exported from its first call on, so a kpropd
// without incremental propagation has none.
func (m *Metrics) IpropPosition(replica, primary iprop.Last) {
	m.ipropOnce.Do(func() {
		m.ipropSerial = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kpropd_iprop_last_serial",
			Help: "Serial number of the last incremental update the replica holds.",
		})
		m.ipropLag = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kpropd_iprop_lag_seconds",
			Help: "How far the replica's last update is behind the primary's last, in seconds, at the last poll.",
		})
		m.ipropPolled = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kpropd_iprop_last_poll_timestamp_seconds",
			Help: "When the primary last placed the replica (a batch applied, or up to date), in seconds since the epoch.",
		})
		m.reg.MustRegister(m.ipropSerial, m.ipropLag, m.ipropPolled)
	})
	m.ipropPolled.Set(float64(m.now().UnixNano()) / 1e9)
	m.ipropSerial.Set(float64(replica.Sno))
	lag := float64(int64(primary.Time.Seconds)-int64(replica.Time.Seconds)) +
		float64(int64(primary.Time.Useconds)-int64(replica.Time.Useconds))/1e6
	m.ipropLag.Set(max(lag, 0))
}

// ConnState records a connection's change of state; it is a
// kpropd.Server's ConnState hook.
func (m *Metrics) ConnState(c net.Conn, st kpropd.ConnState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch st {
	case kpropd.StateNew:
		m.conns[c] = &conn{}
	case kpropd.StateReceiving:
		cs := m.conn(c)
		if !cs.receiving {
			cs.receiving = true
			cs.start = m.now()
			m.inProgress.Inc()
		}
	case kpropd.StateClosed:
		if cs, ok := m.conns[c]; ok && cs.receiving {
			m.inProgress.Dec()
		}
		delete(m.conns, c)
	}
}

// conn returns c's record, made if missing; m.mu must be held.
func (m *Metrics) conn(c net.Conn) *conn {
	cs, ok := m.conns[c]
	if !ok {
		cs = &conn{}
		m.conns[c] = cs
	}
	return cs
}

// Event records a transfer's event; it is a kpropd.Server's Events hook.
func (m *Metrics) Event(e kpropd.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs := m.conn(e.Conn)
	switch e.Kind {
	case kpropd.EventStarted:
		cs.size = e.Size
	case kpropd.EventReceived:
		if e.Received > cs.received {
			m.received.Add(float64(e.Received - cs.received))
			cs.received = e.Received
		}
	case kpropd.EventDone:
		if e.Err != nil {
			m.failures.WithLabelValues(Reason(e.Err)).Inc()
			return
		}
		now := m.now()
		m.lastSuccess.Set(float64(now.UnixNano()) / 1e9)
		m.lastBytes.Set(float64(cs.size))
		if !cs.start.IsZero() {
			m.duration.Observe(now.Sub(cs.start).Seconds())
		}
	}
}

// Reason is the reason label of kpropd_failures_total for a failed
// connection's error.
func Reason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled), errors.Is(err, kpropd.ErrServerClosed):
		return "shutdown"
	}
	var te *kpropd.TransferError
	if errors.As(err, &te) {
		if name := te.Step.String(); !strings.HasPrefix(name, "Step(") {
			return strings.ReplaceAll(name, " ", "_")
		}
	}
	return "other"
}

// Reasons lists every value Reason returns.
func Reasons() []string {
	var out []string
	for s := kpropd.Step(1); ; s++ {
		name := s.String()
		if strings.HasPrefix(name, "Step(") {
			break
		}
		out = append(out, strings.ReplaceAll(name, " ", "_"))
	}
	return append(out, "timeout", "shutdown", "other")
}
