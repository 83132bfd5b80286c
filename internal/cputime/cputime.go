package cputime

import (
	"testing"
	"time"
)

// ReportRate reports bytesPerOp × b.N bytes per CPU-second used since
// start (a Now taken before the benchmark loop) as the metric
// "MB/cpu-s". It reports nothing where the CPU time is unknown.
func ReportRate(b *testing.B, start time.Duration, bytesPerOp int64) {
	used := Now() - start
	if used <= 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(bytesPerOp)*float64(b.N)/used.Seconds()/1e6, "MB/cpu-s")
}
