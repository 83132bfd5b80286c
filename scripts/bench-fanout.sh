#!/usr/bin/env bash
# The fan-out benchmark (make bench-fanout): one run of our kprop to three
# replicas against three runs of MIT's kprop in sequence, each replica
# taking 2 s to "load" (see BenchmarkFanout in interop/bench_fanout_test.go).
# Prints the benchmark's line and the ratio, and fails when MIT's sequence
# takes less than TARGET (2.5) times as long as the fan-out.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
TARGET=${TARGET:-2.5}
ITERATIONS=${ITERATIONS:-3}
export CI=${CI:-1}

out=$("$GO" test -run '^$' -bench '^BenchmarkFanout$' -benchtime "${ITERATIONS}x" -count 1 -timeout 20m ./interop)
printf '%s\n' "$out"
line=$(printf '%s\n' "$out" | grep '^BenchmarkFanout')
fan=$(printf '%s\n' "$line" | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "fanout-s") print $i}')
seq=$(printf '%s\n' "$line" | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "mit-seq-s") print $i}')
ratio=$(printf '%s\n' "$line" | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "mit/fanout") print $i}')
printf 'fan-out to 3 replicas: %ss; MIT kprop x3 in sequence: %ss; ratio %s (target >= %s)\n' "$fan" "$seq" "$ratio" "$TARGET"
awk -v r="$ratio" -v t="$TARGET" 'BEGIN { exit !(r >= t) }' || {
	echo "bench-fanout: ratio $ratio is below the target $TARGET" >&2
	exit 1
}
