package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// value returns the value of the sample name{labels} gathered from reg
// (labels as `k="v"`, empty for none); name may carry a histogram's
// _count or _sum suffix.
func value(t *testing.T, reg *prometheus.Registry, name, labels string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		base, suffix := f.GetName(), ""
		if !strings.HasPrefix(name, base) {
			continue
		}
		suffix = name[len(base):]
		if suffix != "" && suffix != "_count" && suffix != "_sum" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelString(m) != labels {
				continue
			}
			switch {
			case suffix == "" && m.Gauge != nil:
				return m.GetGauge().GetValue()
			case suffix == "" && m.Counter != nil:
				return m.GetCounter().GetValue()
			case suffix == "_count" && m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			case suffix == "_sum" && m.Histogram != nil:
				return m.GetHistogram().GetSampleSum()
			}
		}
	}
	t.Fatalf("no sample %s{%s}", name, labels)
	return 0
}

func labelString(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
	}
	return strings.Join(parts, ",")
}
