#!/usr/bin/env bash
# Propagation benchmark: MIT kprop/kpropd against gokprop's, in one run.
#
# Usage: scripts/bench.sh          (make bench: a 1,000,000-principal dump)
#        scripts/bench.sh large    (make bench-large: a dump over 4 GiB)
#
# It runs BenchmarkPropagation (or BenchmarkPropagationLarge) of ./interop,
# which generates a dump the way MIT's kdb5_util writes one (principals in
# btree order), sets up a throwaway realm (internal/mitrealm: KDC,
# keytabs, kpropd.acl), then alternates MIT kprop → MIT kpropd, our
# kprop → our kpropd, our kprop → MIT kpropd and MIT kprop → our kpropd
# three times, each under /usr/bin/time -v, with both kpropds
# at their defaults (ours verifies the dump as it arrives) and /bin/true
# as the loader. It prints every run's throughput, the CPU seconds of
# both ends and their peak RSS, then the ratios against the targets.
#
# Needs MIT krb5 (krb5-kdc krb5-admin-server krb5-kpropd krb5-user) and
# GNU time. The machine's other load shows in the wall times: compare the
# ratios of one run, and repeat.
#
# Environment:
#   GO=path                    the go command (default: go)
#   GOKPROP_BENCH_PRINCIPALS=n the principal count of "make bench"
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

bench=BenchmarkPropagation
if [ "${1:-}" = large ]; then
	bench=BenchmarkPropagationLarge
	# The dump (about 4.5 GB), the replica's copy and its .temp while
	# the next run arrives, with room to spare.
	need=$((16 * 1024 * 1024)) # KiB
	tmp=${TMPDIR:-/tmp} # where the test's directories go
	avail=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
	if [ "$avail" -lt "$need" ]; then
		echo "bench-large: $tmp has $((avail / 1024 / 1024)) GiB free, needs 16 GiB" >&2
		exit 1
	fi
	export GOKPROP_BENCH_LARGE=1
fi
for p in /usr/bin/time kprop kpropd krb5kdc kdb5_util kadmin.local; do
	if ! command -v "$p" >/dev/null; then
		echo "bench: $p not found (packages: time krb5-kdc krb5-admin-server krb5-kpropd krb5-user)" >&2
		exit 1
	fi
done
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -sr), $("$GO" version | cut -d' ' -f3)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$GO" test -count=1 -run '^$' -bench "^$bench\$" -benchtime 1x -timeout 120m ./interop
