package kprop_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time (user and system) the process used so far,
// or 0 where getrusage is missing.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuRate reports MB per CPU second since cpu0, both ends together.
func cpuRate(b *testing.B, cpu0 time.Duration, bytesPerOp int64) {
	if d := cpuTime() - cpu0; d > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/1e6/d.Seconds(), "MB/cpu-s")
	}
}
