// Package cputime measures the CPU time the process has used, for
// benchmarks that report throughput per CPU-second ("MB/cpu-s") next to
// the wall-clock MB/s: on a shared machine the wall clock measures the
// neighbours as much as the code, CPU time (every thread, GC included)
// does not.
package cputime
