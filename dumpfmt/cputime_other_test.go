//go:build !unix

package dumpfmt_test

import "time"

func cpuTime() time.Duration { return 0 }
