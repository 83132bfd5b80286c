package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/kpropd/metrics"
)

// serveMetrics serves srv's Prometheus metrics at http://addr/metrics
// (--metrics-listen), and those of poller's incremental propagation when
// there is one (call it before the poller runs), and returns the function
// that stops serving.
func serveMetrics(addr string, srv *kpropd.Server, poller *kpropd.Poller, log *slog.Logger) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	m.Instrument(srv)
	if poller != nil {
		poller.Position = m.IpropPosition
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server: " + err.Error())
		}
	}()
	log.Info("serving metrics on http://" + l.Addr().String() + "/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	}, nil
}
