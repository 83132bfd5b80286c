package cputime_test

import (
	"fmt"
	"time"

	"github.com/gokprop/gokprop/internal/cputime"
)

// A benchmark takes Now before its loop and calls ReportRate after it:
//
//	start := cputime.Now()
//	for b.Loop() { ... }
//	cputime.ReportRate(b, start, bytesPerOp)
func Example() {
	start := cputime.Now()
	sum := 0
	for i := range 10_000_000 {
		sum += i
	}
	used := cputime.Now() - start
	fmt.Println(sum > 0, used >= 0 && used < time.Minute)
	// Output: true true
}
