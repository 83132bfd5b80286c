#!/usr/bin/env bash
# Incremental propagation speed, MIT kpropd against ours, on one primary
# of N principals (MIT krb5kdc and kadmind serving iprop on 127.0.0.1):
#
#  1. full resync: a replica with no database asks for one; the time until
#     its kpropd is up to date ("KDC is synchronized with primary.", or
#     the updates since the dump applied: kadmind's dump, which it reuses
#     while its log covers it, kprop, kdb5_util load -i; ours also indexes
#     the dump);
#  2. a batch of 10 changes: 10 modprinc on the primary in one kadmin.local
#     session, then SIGUSR1; each kpropd's own "Incremental updates: 10
#     updates / N us" line (from its GET_UPDATES call until the updates are
#     in the database and the update log). For ours, the applier's share
#     of it comes from its -d -d line;
#  3. latency: with iprop_replica_poll = 1s and the replica's KDC running,
#     the time from the start of "kadmin.local addprinc" on the primary to
#     the first successful kinit against the replica's KDC alone (kinit is
#     retried every 20 ms), each after a pause of 0 to 1 s from a
#     sequence both kpropds get (LATENCY_SEED). The worst case is a whole
#     poll cycle plus the apply and the kinit.
#
# Usage: scripts/iprop-bench.sh [N]      (or: make bench-iprop N=...)
#   N        principals (default 1000000); BATCHES (default 5),
#            SAMPLES (default 10) and LATENCY_SEED (default 1) in the
#            environment
# The realm is generated (internal/gendump) and loaded with kdb5_util
# load (its principals have keys no KDC can use; krbtgt, kiprop, host and
# the latency test's principals get real ones); everything lives in a temporary directory. Needs MIT krb5 and Go.
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
export LC_ALL=C
unset KRB5_CONFIG KRB5_KDC_PROFILE KRB5_KTNAME KRB5_CLIENT_KTNAME KRB5CCNAME \
	KRB5RCACHEDIR KRB5RCACHETYPE KRB5_TRACE KPROP_PORT 2>/dev/null || true
cd "$(dirname "$0")/.."

N=${1:-1000000}
[ "$N" -ge 100 ] || { echo "iprop-bench: N must be at least 100" >&2; exit 1; }
BATCHES=${BATCHES:-5}
SAMPLES=${SAMPLES:-10}
LATENCY_SEED=${LATENCY_SEED:-1}
GO=${GO:-go}
REALM=BENCH.TEST
host=$(uname -n | tr '[:upper:]' '[:lower:]')

die() { printf 'iprop-bench: %s\n' "$*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk "BEGIN { printf \"%.3f\", $2 - $1 }"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/iprop-bench.XXXXXX")
pids=()
cleanup() {
	local rc=$? p
	trap - EXIT
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "${BENCH_KEEP:-}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT

for b in krb5kdc kadmind kdb5_util kadmin.local kpropd kprop kinit; do
	command -v "$b" >/dev/null || die "MIT $b is missing"
done
kdb5_util=$(command -v kdb5_util)
mit_kpropd=$(command -v kpropd)
mit_kprop=$(command -v kprop)
"$GO" build -o "$work/bin/" ./cmd/kpropd ./internal/gendump
our_kpropd=$work/bin/kpropd

free_port() {
	local p used
	used=$(cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null | awk 'NR>1 {split($2, a, ":"); print a[2]}')
	while :; do
		p=$((20000 + RANDOM % 40000))
		grep -qix "$(printf '%04X' "$p")" <<<"$used" || break
	done
	printf '%s' "$p"
}
kdc_port=$(free_port)
iprop_port=$(free_port)
kprop_port=$(free_port)
kadmind_port=$(free_port)
kpasswd_port=$(free_port)

# krb5conf FILE KDC_PORT [LINES...]
krb5conf() {
	local f=$1 port=$2
	shift 2
	{
		printf '[libdefaults]\n\tdefault_realm = %s\n\tdns_lookup_kdc = false\n' "$REALM"
		printf '\tdns_canonicalize_hostname = false\n\trdns = false\n\tqualify_shortname = ""\n'
		for l in "$@"; do printf '\t%s\n' "$l"; done
		printf '[realms]\n\t%s = {\n\t\tkdc = 127.0.0.1:%s\n\t\tadmin_server = localhost\n\t}\n' "$REALM" "$port"
	} >"$f"
}
# kdcconf DIR KDC_PORT [REALM_LINES...]
kdcconf() {
	local d=$1 port=$2
	shift 2
	{
		printf '[kdcdefaults]\n\tkdc_listen = 127.0.0.1:%s\n\tkdc_tcp_listen = 127.0.0.1:%s\n' "$port" "$port"
		printf '[realms]\n\t%s = {\n\t\tdatabase_name = %s/principal\n\t\tkey_stash_file = %s/stash\n' "$REALM" "$d" "$d"
		printf '\t\tacl_file = %s/kadm5.acl\n\t\tiprop_enable = true\n\t\tiprop_port = %s\n' "$d" "$iprop_port"
		printf '\t\tiprop_logfile = %s/principal.ulog\n' "$d"
		for l in "$@"; do printf '\t\t%s\n' "$l"; done
		printf '\t}\n[logging]\n\tkdc = FILE:%s/kdc.log\n\tadmin_server = FILE:%s/kadmind.log\n\tdefault = FILE:%s/krb5.log\n' "$d" "$d" "$d"
	} >"$d/kdc.conf"
}
# on DIR CMD...: run CMD with DIR's Kerberos environment.
on() {
	local d=$1
	shift
	env KRB5_CONFIG="$d/krb5.conf" KRB5_KDC_PROFILE="$d/kdc.conf" KRB5_KTNAME="FILE:$d/keytab" \
		KRB5CCNAME="FILE:$d/ccache" KRB5RCACHEDIR="$d" "$@"
}
# bg_on DIR CMD... &: on, replacing the background subshell, so that $!
# is the daemon's own pid.
bg_on() {
	local d=$1
	shift
	exec env KRB5_CONFIG="$d/krb5.conf" KRB5_KDC_PROFILE="$d/kdc.conf" KRB5_KTNAME="FILE:$d/keytab" \
		KRB5CCNAME="FILE:$d/ccache" KRB5RCACHEDIR="$d" "$@"
}
# wait_count FILE PATTERN COUNT PID: wait until FILE has COUNT lines
# matching PATTERN while PID lives.
wait_count() {
	local c
	while c=$(grep -c -- "$2" "$1" 2>/dev/null); [ "${c:-0}" -lt "$3" ]; do
		kill -0 "$4" 2>/dev/null || die "process $4 exited: $(tail -n 5 "$1")"
		sleep 0.01
	done
}

# The primary.
p=$work/primary
mkdir -p "$p"
krb5conf "$p/krb5.conf" "$kdc_port"
kdcconf "$p" "$kdc_port" "kadmind_listen = 127.0.0.1:$kadmind_port" "kpasswd_listen = 127.0.0.1:$kpasswd_port" "iprop_listen = 127.0.0.1:$iprop_port"
on "$p" kdb5_util -r "$REALM" create -s -P bench-master >/dev/null
on "$p" kdb5_util -r "$REALM" dump "$p/km.dump"
t0=$(now)
"$work/bin/gendump" -n "$N" -realm "$REALM" -km "$p/km.dump" >"$p/gen.dump"
t1=$(now)
on "$p" kdb5_util -r "$REALM" load "$p/gen.dump"
t2=$(now)
rm -f "$p/gen.dump"
say "primary: $N principals generated in $(elapsed "$t0" "$t1") s, loaded in $(elapsed "$t1" "$t2") s"
on "$p" kadmin.local -r "$REALM" >/dev/null 2>&1 <<-EOF
	cpw -randkey krbtgt/$REALM
	addprinc -randkey kadmin/admin
	addprinc -randkey kadmin/changepw
	addprinc -randkey kiprop/$host
	addprinc -randkey kiprop/localhost
	addprinc -randkey host/$host
	addprinc -randkey host/localhost
	ktadd -k $p/keytab -norandkey host/$host
EOF
printf 'kiprop/%s@%s p\n' "$host" "$REALM" >"$p/kadm5.acl"
bg_on "$p" krb5kdc -n -r "$REALM" >"$p/krb5kdc.out" 2>&1 &
pids+=($!)
bg_on "$p" kadmind -nofork -r "$REALM" -p "$kdb5_util" -K "$mit_kprop" -F "$p/datatrans" -k "$kprop_port" >"$p/kadmind.out" 2>&1 &
kadmind_pid=$!
pids+=($kadmind_pid)
wait_count "$p/kadmind.out" 'starting' 1 "$kadmind_pid"

declare -A full batch apply latency
users=()
# Existing principals to modify: the generator names principal i
# user<i> when i % 10 < 6.
for ((i = 0; i < 1000; i++)); do users+=("$(printf 'user%07d' $(((i * 9973 % (N / 10)) * 10 + i % 6)))"); done

bench() { # NAME KPROPD
	local name=$1 kpropd=$2
	local r=$work/$name rk b i s kp t0 t1
	mkdir -p "$r"
	rk=$(free_port)
	cp "$p/stash" "$r/stash"
	printf 'host/%s@%s\n' "$host" "$REALM" >"$r/kpropd.acl"
	on "$p" kadmin.local -r "$REALM" -q "ktadd -k $r/keytab -norandkey host/localhost host/$host kiprop/$host" >/dev/null
	# kpropd's krb5.conf: the primary's KDC for its kiprop tickets; the
	# client's: the replica's KDC only.
	krb5conf "$r/krb5.conf" "$kdc_port" "ignore_acceptor_hostname = true"
	krb5conf "$r/client.conf" "$rk"
	kpropd_args=(-D -d -A localhost -P "$kprop_port" -f "$r/from_master" -p "$kdb5_util" -a "$r/kpropd.acl" -s "$r/keytab" -r "$REALM")
	[ "$name" = ours ] && kpropd_args=(-d "${kpropd_args[@]}")

	# 1. Full resync.
	kdcconf "$r" "$rk" "iprop_replica_poll = 1s" "iprop_resync_timeout = 600s"
	t0=$(now)
	bg_on "$r" "$kpropd" "${kpropd_args[@]}" >"$r/kpropd-full.log" 2>&1 &
	kp=$!
	pids+=($kp)
	# Up to date: synchronized, or the updates made since the dump that
	# was sent (kadmind reuses a dump still covered by its log) applied.
	wait_count "$r/kpropd-full.log" 'KDC is synchronized with primary\|Incremental updates: ' 1 "$kp"
	t1=$(now)
	full[$name]=$(elapsed "$t0" "$t1")
	kill "$kp"
	wait "$kp" 2>/dev/null || true

	# 2. Batches of 10, kicked with SIGUSR1.
	kdcconf "$r" "$rk" "iprop_replica_poll = 600s"
	bg_on "$r" "$kpropd" "${kpropd_args[@]}" >"$r/kpropd-batch.log" 2>&1 &
	kp=$!
	pids+=($kp)
	wait_count "$r/kpropd-batch.log" 'Waiting for 600 seconds' 1 "$kp"
	for ((b = 1; b <= BATCHES; b++)); do
		{
			for ((i = 0; i < 10; i++)); do
				printf 'modprinc -maxlife %dm %s\n' $((60 + b * 10 + i)) "${users[$(((b * 10 + i + ${#name} * 100) % ${#users[@]}))]}"
			done
		} | on "$p" kadmin.local -r "$REALM" >/dev/null 2>&1
		kill -USR1 "$kp"
		wait_count "$r/kpropd-batch.log" 'Incremental updates: ' "$b" "$kp"
		wait_count "$r/kpropd-batch.log" 'Waiting for 600 seconds' $((b + 1)) "$kp"
	done
	batch[$name]=$(grep -o 'Incremental updates: [0-9]* updates / [0-9]* us' "$r/kpropd-batch.log" | awk '{print $3 ":" $6}' | tr '\n' ' ')
	apply[$name]=$({ grep -o 'applied updates updates=[0-9]* .* total=[^ ]*' "$r/kpropd-batch.log" || true; } | sed 's/.*total=//' | tr '\n' ' ')
	kill "$kp"
	wait "$kp" 2>/dev/null || true

	# 3. Latency from addprinc to a ticket from the replica's KDC.
	kdcconf "$r" "$rk" "iprop_replica_poll = 1s"
	bg_on "$r" krb5kdc -n -r "$REALM" >"$r/krb5kdc.out" 2>&1 &
	pids+=($!)
	bg_on "$r" "$kpropd" "${kpropd_args[@]}" >"$r/kpropd-latency.log" 2>&1 &
	kp=$!
	pids+=($kp)
	wait_count "$r/kpropd-latency.log" 'Waiting for 1 seconds' 1 "$kp"
	latency[$name]=""
	# A pause of 0 to 1 s (in milliseconds, so that the changes land at
	# any point of the poll cycle) before each sample, from the same
	# sequence for both kpropds.
	RANDOM=$LATENCY_SEED
	for ((s = 1; s <= SAMPLES; s++)); do
		sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
		t0=$(now)
		on "$p" kadmin.local -r "$REALM" -q "addprinc -pw Bench-Passw0rd lat-$name-$s" >/dev/null 2>&1
		for ((i = 0; i < 500; i++)); do
			if on "$r" env KRB5_CONFIG="$r/client.conf" kinit "lat-$name-$s" <<<"Bench-Passw0rd" >/dev/null 2>&1; then
				break
			fi
			sleep 0.02
		done
		t1=$(now)
		[ "$i" -lt 500 ] || die "$name: no ticket for lat-$name-$s from the replica's KDC"
		latency[$name]+="$(elapsed "$t0" "$t1") "
	done
	kill "$kp"
	wait "$kp" 2>/dev/null || true
}

stats() { # VALUES... -> "median M, max X"
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median %s, max %s (n=%d)", m, v[NR], NR }'
}

bench mit "$mit_kpropd"
bench ours "$our_kpropd"

say ""
say "== $N principals, $(nproc) CPUs ($(uname -n)), MIT kpropd $(dpkg-query -W -f '${Version}' krb5-kpropd 2>/dev/null || echo '?')"
for name in mit ours; do
	say "$name:"
	say "  full resync (empty replica to synchronized): ${full[$name]} s"
	us=()
	for x in ${batch[$name]}; do us+=("${x#*:}"); done
	say "  batch of 10 changes, GET_UPDATES to applied: $(stats "${us[@]}") us   [updates:us ${batch[$name]}]"
	[ -n "${apply[$name]}" ] && say "  of which the applier (ours): ${apply[$name]}"
	# shellcheck disable=SC2086
	say "  addprinc to ticket from the replica's KDC, poll 1 s: $(stats ${latency[$name]}) s   [${latency[$name]}]"
done
