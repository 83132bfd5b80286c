#!/usr/bin/env bash
# The "set up a secondary KDC" scenario, end to end, with gokprop's kprop
# and kpropd in place of MIT's: a throwaway realm EXAMPLE.COM with a
# primary KDC (kdc01) and a secondary KDC (kdc02), a full propagation, and
# a kinit answered by the secondary once the primary is stopped.
#
# Usage: scripts/demo.sh   (or: make demo)
#
# Environment:
#   GO=path        the go command (default: go, else /usr/local/go/bin/go)
#   DEMO_MODE=auto|netns|loopback
#                  netns: kdc01 and kdc02 are two network namespaces joined
#                  by a veth pair, each with its own host name (a UTS
#                  namespace) and /etc/hosts (a bind mount private to the
#                  namespace), so kprop and kpropd really run on two
#                  "hosts" and use the standard ports 88 and 754 there.
#                  loopback: both on 127.0.0.1 with free high ports; the
#                  replica is addressed as "localhost" and accepts tickets
#                  for any host/* key in its keytab
#                  (ignore_acceptor_hostname). auto (the default) uses
#                  netns when this is root and the kernel allows it.
#   DEMO_KEEP=1    keep the work directory (daemons are stopped anyway)
#   DEMO_PROGRAMS=mit
#                  run the same scenario with MIT's kprop and kpropd, as a
#                  control to compare the output with (default: gokprop)
#
# MIT krb5 (krb5-kdc krb5-admin-server krb5-kpropd krb5-user) is installed
# with apt-get when missing, which needs root. Nothing outside the work
# directory is written: every MIT program is pointed at it with KRB5_CONFIG
# and KRB5_KDC_PROFILE, and kprop/kpropd with their -f, -s, -a and -p
# flags. The system's /etc/krb5.conf, /etc/krb5kdc and /var/lib/krb5kdc
# are never read or written, and no system service is started.
set -euo pipefail

export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
export LC_ALL=C
# Nothing from the caller's Kerberos environment leaks into the demo.
unset KRB5_CONFIG KRB5_KDC_PROFILE KRB5_KTNAME KRB5_CLIENT_KTNAME KRB5CCNAME \
	KRB5RCACHEDIR KRB5RCACHETYPE KRB5_TRACE KPROP_PORT 2>/dev/null || true

cd "$(dirname "$0")/.."
start_time=$(date +%s.%N)

REALM=EXAMPLE.COM
MASTER_PASSWORD=demo-master-password
USER_PASSWORD=alice-password
mit_bins="krb5kdc kdb5_util kadmin.local kinit klist"
mit_pkgs="krb5-kdc krb5-admin-server krb5-kpropd krb5-user"

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Cleanup: stop every daemon we started (by pid), delete the namespaces we
# created, remove the work directory. Runs on every exit, also on failure
# and on Ctrl-C.
# ---------------------------------------------------------------------------
work=""
pids=()
namespaces=()
policy_created=""
cleanup() {
	local rc=$? pid ns
	trap - EXIT INT TERM HUP
	set +e
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for ns in "${namespaces[@]}"; do
		# Anything still running in our namespaces was started by us.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns delete "$ns" 2>/dev/null
	done
	[ -n "$policy_created" ] && rm -f "$policy_created"
	if [ -n "$work" ] && [ -d "$work" ]; then
		if [ "$rc" != 0 ]; then
			local f
			for f in "$work"/kdc0?/kdc.log "$work"/kdc0?/*.out "$work"/kdc02/kpropd.log; do
				[ -s "$f" ] || continue
				printf '\n--- %s\n' "${f#"$work"/}" >&2
				tail -n 20 "$f" >&2
			done
		fi
		if [ "${DEMO_KEEP:-}" = 1 ]; then
			say "demo: kept $work"
		else
			rm -rf "$work"
		fi
	fi
	if [ "$rc" != 0 ]; then
		printf '\ndemo: FAILED (exit %s)\n' "$rc" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------------------
# Prerequisites: MIT krb5 and Go.
# ---------------------------------------------------------------------------
missing_mit() {
	local b
	for b in $mit_bins; do
		command -v "$b" >/dev/null 2>&1 || return 0
	done
	return 1
}

if missing_mit; then
	[ "$(id -u)" = 0 ] || die "MIT krb5 programs are missing; as root, run: apt-get install $mit_pkgs"
	step "Install MIT krb5 ($mit_pkgs)"
	export DEBIAN_FRONTEND=noninteractive
	# The packages' scripts must not start the system's KDC, kadmind or
	# kpropd.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod +x "$policy"
		policy_created=$policy
	fi
	apt-get update
	apt-get install -y --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		$mit_pkgs
	if [ -n "$policy_created" ]; then
		rm -f "$policy_created"
		policy_created=""
	fi
	missing_mit && die "MIT krb5 programs still missing after installing $mit_pkgs"
fi
kdb5_util=$(command -v kdb5_util)

GO=${GO:-go}
command -v "$GO" >/dev/null 2>&1 || die "the go command ($GO) is not installed; set GO=/path/to/go"

work=$(mktemp -d "${TMPDIR:-/tmp}/gokprop-demo.XXXXXX")
chmod 700 "$work"
bin=$work/bin

case ${DEMO_PROGRAMS:-gokprop} in
gokprop)
	step "Build gokprop's kprop and kpropd"
	say "\$ $GO build -o $bin/ ./cmd/kprop ./cmd/kpropd"
	"$GO" build -o "$bin/" ./cmd/kprop ./cmd/kpropd
	# Every host finds our kprop and kpropd first.
	path=$bin:$PATH
	programs="kprop and kpropd are gokprop's (\$WORK/bin)"
	;;
mit)
	command -v kprop >/dev/null && command -v kpropd >/dev/null ||
		die "MIT's kprop and kpropd are not installed (krb5-admin-server, krb5-kpropd)"
	path=$PATH
	programs="kprop and kpropd are MIT's ($(command -v kprop), $(command -v kpropd))"
	;;
*) die "DEMO_PROGRAMS must be gokprop or mit" ;;
esac

# ---------------------------------------------------------------------------
# The two "hosts".
# ---------------------------------------------------------------------------
mode=${DEMO_MODE:-auto}
netns_reason=""

# netns_setup creates two namespaces joined by a veth pair and checks that
# a command can run in them with its own host name and /etc/hosts. It
# returns non-zero (with netns_reason set) when that is not possible.
netns_setup() {
	if [ "$(id -u)" != 0 ]; then netns_reason="not root"; return 1; fi
	for c in ip unshare mount; do
		command -v "$c" >/dev/null 2>&1 || { netns_reason="no $c command"; return 1; }
	done
	local ns1=gokprop-demo-$$-kdc01 ns2=gokprop-demo-$$-kdc02 err
	if ! err=$(ip netns add "$ns1" 2>&1); then netns_reason="ip netns add: $err"; return 1; fi
	namespaces+=("$ns1")
	if ! err=$(ip netns add "$ns2" 2>&1); then netns_reason="ip netns add: $err"; return 1; fi
	namespaces+=("$ns2")
	if ! err=$({ ip link add eth0 netns "$ns1" type veth peer name eth0 netns "$ns2" &&
		ip -n "$ns1" addr add 192.0.2.1/24 dev eth0 &&
		ip -n "$ns2" addr add 192.0.2.2/24 dev eth0 &&
		ip -n "$ns1" link set lo up && ip -n "$ns1" link set eth0 up &&
		ip -n "$ns2" link set lo up && ip -n "$ns2" link set eth0 up; } 2>&1); then
		netns_reason="ip link: $err"
		return 1
	fi
	ns[kdc01]=$ns1
	ns[kdc02]=$ns2
	fqdn[kdc01]=kdc01.example.com
	fqdn[kdc02]=kdc02.example.com
	cat >"$work/hosts" <<-HOSTS
		127.0.0.1	localhost
		192.0.2.1	kdc01.example.com kdc01
		192.0.2.2	kdc02.example.com kdc02
	HOSTS
	# Host names come from that file alone, whatever the system's
	# nsswitch.conf puts first (a name service reached over a Unix socket
	# would answer from outside the namespace).
	if [ -f /etc/nsswitch.conf ]; then
		sed 's/^hosts:.*/hosts: files/' /etc/nsswitch.conf >"$work/nsswitch.conf"
	fi
	if ! err=$(on_host kdc01 sh -c 'test "$(uname -n)" = kdc01.example.com && grep -q kdc02 /etc/hosts' 2>&1); then
		netns_reason="cannot set a host name and /etc/hosts in a namespace: $err"
		return 1
	fi
}

netns_teardown() {
	local n
	for n in "${namespaces[@]}"; do
		ip netns delete "$n" 2>/dev/null || true
	done
	namespaces=()
}

declare -A ns=() fqdn=() dir=()
dir[kdc01]=$work/kdc01
dir[kdc02]=$work/kdc02
mkdir -p "${dir[kdc01]}" "${dir[kdc02]}"

# on_host HOST CMD...: run CMD on HOST, in HOST's directory and with HOST's
# Kerberos environment; in netns mode inside HOST's namespaces.
on_host() {
	(exec_on_host "$@")
}

# exec_on_host HOST CMD...: on_host in place of the current (sub)shell.
# Every layer execs the next, so a daemon started as "exec_on_host ... &"
# has the pid $!.
exec_on_host() {
	local h=$1
	shift
	local d=${dir[$h]}
	local -a env=(env "PATH=$path" "KRB5_CONFIG=$d/krb5.conf" "KRB5_KDC_PROFILE=$d/kdc.conf"
		"KRB5_KTNAME=FILE:$d/krb5.keytab" "KRB5CCNAME=FILE:$d/ccache" "KRB5RCACHEDIR=$d/rcache")
	if [ "$mode" = netns ]; then
		exec_in_ns "${ns[$h]}" "${fqdn[$h]}" "$d" "${env[@]}" "$@"
	else
		cd "$d" && exec "${env[@]}" "$@"
	fi
}

# exec_in_ns NS HOSTNAME DIR CMD...: run CMD in network namespace NS with
# its own UTS namespace (host name HOSTNAME) and mount namespace, where the
# demo's hosts and nsswitch.conf are bind-mounted over /etc's, and
# /dev/null over /dev/log, so that kpropd's syslog messages stay out of
# the system's log.
exec_in_ns() {
	exec ip netns exec "$1" unshare --uts --mount -- sh -c '
		if command -v hostname >/dev/null 2>&1; then hostname "$1"; else printf %s "$1" >/proc/sys/kernel/hostname; fi &&
		mount --bind "$2/hosts" /etc/hosts &&
		if [ -f "$2/nsswitch.conf" ]; then mount --bind "$2/nsswitch.conf" /etc/nsswitch.conf; fi &&
		if [ -S /dev/log ]; then mount --bind /dev/null /dev/log; fi &&
		cd "$3" && shift 3 && exec "$@"' \
		sh "$2" "$work" "$3" "${@:4}"
}

# run HOST CMD...: show "HOST# CMD" and run it, its output indented.
run() {
	local h=$1
	shift
	printf '%s# %s\n' "$h" "$(show "$@")"
	on_host "$h" "$@" 2>&1 | sed 's/^/    /'
}

# show CMD...: CMD as a shell line, with the work directory abbreviated.
show() {
	local out="" a
	for a in "$@"; do
		a=${a//$work/\$WORK}
		case $a in
		*[[:space:]\"\']*) a="'$a'" ;;
		esac
		out+="${out:+ }$a"
	done
	printf '%s' "$out"
}

if [ "$mode" = auto ] || [ "$mode" = netns ]; then
	want=$mode
	mode=netns
	if netns_setup; then
		:
	else
		[ "$want" = netns ] && die "network namespaces unavailable: $netns_reason"
		netns_teardown
		mode=loopback
	fi
fi
[ "$mode" = netns ] || [ "$mode" = loopback ] || die "DEMO_MODE must be auto, netns or loopback, not $mode"

# free_port prints a TCP and UDP port that nothing listens on.
free_port() {
	local p used
	used=$(cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null |
		awk 'NR>1 {split($2, a, ":"); print a[2]}')
	while :; do
		p=$((20000 + RANDOM % 40000))
		grep -qix "$(printf '%04X' "$p")" <<<"$used" || break
	done
	printf '%s' "$p"
}

if [ "$mode" = netns ]; then
	primary_host=kdc01.example.com
	replica_host=kdc02.example.com # what kprop is given
	kdc_addr[1]=kdc01.example.com
	kdc_addr[2]=kdc02.example.com
	kdc_listen[1]=""
	kdc_listen[2]=""
	kprop_port=()
	kpropd_port=()
	say ""
	say "Hosts: two network namespaces joined by a veth pair:"
	say "  kdc01.example.com 192.0.2.1 (primary KDC, kprop)"
	say "  kdc02.example.com 192.0.2.2 (secondary KDC, kpropd)"
	say "each with its own host name and /etc/hosts; KDCs on port 88, kpropd on 754."
else
	# Both "hosts" are this machine: gethostname() is the same for both,
	# so the replica is addressed as localhost and its kpropd accepts a
	# ticket for host/localhost (ignore_acceptor_hostname).
	primary_host=$(uname -n | tr '[:upper:]' '[:lower:]')
	replica_host=localhost
	p1=$(free_port)
	p2=$(free_port)
	p3=$(free_port)
	kdc_addr[1]=127.0.0.1:$p1
	kdc_addr[2]=127.0.0.1:$p2
	kdc_listen[1]=127.0.0.1:$p1
	kdc_listen[2]=127.0.0.1:$p2
	kprop_port=(-P "$p3")
	kpropd_port=(-P "$p3")
	say ""
	say "Hosts: both on this machine (loopback mode${netns_reason:+; network namespaces unavailable: $netns_reason}):"
	say "  primary:   KDC on 127.0.0.1:$p1, host principal host/$primary_host"
	say "  secondary: KDC on 127.0.0.1:$p2, kpropd on port $p3, host principal host/localhost"
fi
primary_princ=host/$primary_host@$REALM
replica_princ=host/$replica_host@$REALM
say "Work directory \$WORK = $work; $programs."

# ---------------------------------------------------------------------------
# Configuration files, as /etc/krb5.conf and /etc/krb5kdc/kdc.conf would be.
# ---------------------------------------------------------------------------
write_krb5_conf() { # HOST EXTRA_LIBDEFAULT_LINES...
	local h=$1 extra=""
	shift
	for l in "$@"; do
		extra+="    $l"$'\n'
	done
	{
		printf '[libdefaults]\n    default_realm = %s\n' "$REALM"
		printf '    dns_lookup_kdc = false\n    dns_lookup_realm = false\n'
		printf '%s' "$extra"
		printf '\n[realms]\n    %s = {\n        kdc = %s\n        kdc = %s\n    }\n' \
			"$REALM" "${kdc_addr[1]}" "${kdc_addr[2]}"
	} >"${dir[$h]}/krb5.conf"
}

write_kdc_conf() { # HOST INDEX
	local d=${dir[$1]} listen=""
	if [ -n "${kdc_listen[$2]}" ]; then
		listen="
		        kdc_listen = ${kdc_listen[$2]}
		        kdc_tcp_listen = ${kdc_listen[$2]}"
	fi
	cat >"$d/kdc.conf" <<-CONF
		[realms]
		    $REALM = {
		        database_name = $d/principal
		        key_stash_file = $d/.k5.$REALM
		        master_key_type = aes256-cts-hmac-sha1-96
		        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal$listen
		    }

		[logging]
		    kdc = FILE:$d/kdc.log
		    admin_server = FILE:$d/kadmind.log
		    default = FILE:$d/krb5.log
	CONF
}

for h in kdc01 kdc02; do
	mkdir -p "${dir[$h]}/rcache"
done
if [ "$mode" = netns ]; then
	# MIT's defaults: host names are canonicalized with the resolver,
	# which finds them in the namespaces' /etc/hosts.
	write_krb5_conf kdc01
	write_krb5_conf kdc02
else
	# Host principal names from host names as given, without the
	# resolver; the replica accepts a ticket for any host/* key in its
	# keytab, as it is addressed as localhost and calls itself by this
	# machine's name.
	nodns=("dns_canonicalize_hostname = false" "rdns = false" 'qualify_shortname = ""')
	write_krb5_conf kdc01 "${nodns[@]}"
	write_krb5_conf kdc02 "${nodns[@]}" "ignore_acceptor_hostname = true"
fi
write_kdc_conf kdc01 1
write_kdc_conf kdc02 2

# wait_for FILE PATTERN PID WHAT: wait until FILE has a line matching
# PATTERN while PID lives.
wait_for() {
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || die "$4 exited: $(cat "$1" 2>/dev/null)"
		sleep 0.1
	done
	die "$4 not ready after 30s"
}

# start HOST LOGFILE CMD...: start a daemon on HOST, output in LOGFILE.
start() {
	local h=$1 log=$2
	shift 2
	printf '%s# %s &\n' "$h" "$(show "$@")"
	exec_on_host "$h" "$@" >"${dir[$h]}/$log" 2>&1 &
	last_pid=$!
	pids+=("$last_pid")
}

# ---------------------------------------------------------------------------
# The guide's steps.
# ---------------------------------------------------------------------------
step "1. Primary: create the realm database and start the KDC"
run kdc01 kdb5_util -r "$REALM" create -s -P "$MASTER_PASSWORD"
run kdc01 kadmin.local -r "$REALM" -q "addprinc -pw $USER_PASSWORD alice"
start kdc01 krb5kdc.out krb5kdc -n -r "$REALM"
kdc01_pid=$last_pid
wait_for "${dir[kdc01]}/kdc.log" 'commencing operation' "$kdc01_pid" "the primary KDC"

step "2. Host principals for both KDCs, and their keytabs"
run kdc01 kadmin.local -r "$REALM" -q "addprinc -randkey $primary_princ"
run kdc01 kadmin.local -r "$REALM" -q "addprinc -randkey $replica_princ"
run kdc01 kadmin.local -r "$REALM" -q "ktadd -k krb5.keytab $primary_princ"
# kdc02's keytab: the guide runs kadmin on kdc02; here kadmin.local on the
# primary writes it and it is copied over, as scp would.
run kdc01 kadmin.local -r "$REALM" -q "ktadd -k kdc02.keytab $replica_princ"
say "(copy to kdc02, as scp would)"
run kdc01 mv kdc02.keytab "${dir[kdc02]}/krb5.keytab"
run kdc02 klist -k -e krb5.keytab

step "3. Secondary: kpropd.acl, the stash from the primary, and kpropd"
printf '%s\n%s\n' "$primary_princ" "$replica_princ" >"${dir[kdc02]}/kpropd.acl"
run kdc02 cat kpropd.acl
say "(copy the primary's stash to kdc02, as scp would)"
run kdc01 cp ".k5.$REALM" "${dir[kdc02]}/"
start kdc02 kpropd.log kpropd -D -d -r "$REALM" -s krb5.keytab -a kpropd.acl -f from_master -p "$kdb5_util" "${kpropd_port[@]}"
kpropd_pid=$last_pid
wait_for "${dir[kdc02]}/kpropd.log" '^ready$' "$kpropd_pid" "kpropd"
say "    ready"

step "4. Primary: dump the database and propagate it with kprop"
run kdc01 kdb5_util -r "$REALM" dump replica_datatrans
kprop_cmd=(kprop -r "$REALM" -f replica_datatrans -s krb5.keytab "${kprop_port[@]}" "$replica_host")
printf 'kdc01# %s\n' "$(show "${kprop_cmd[@]}")"
kprop_rc=0
out=$(on_host kdc01 "${kprop_cmd[@]}" 2>&1) || kprop_rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
[ "$kprop_rc" = 0 ] || die "kprop failed (exit $kprop_rc)"
grep -qx "Database propagation to $replica_host: SUCCEEDED" <<<"$out" ||
	die "kprop did not print \"Database propagation to $replica_host: SUCCEEDED\""
[ -s "${dir[kdc02]}/from_master" ] || die "kpropd did not write from_master"
say "kdc02's kpropd, meanwhile (-d: each step on stderr):"
sed -e '1d' -e 's/^/    /' "${dir[kdc02]}/kpropd.log"

step "5. Secondary: the propagated database is the primary's; start its KDC"
run kdc02 kdb5_util -r "$REALM" dump replica_check
run kdc01 kdb5_util -r "$REALM" dump primary_check
if cmp -s "${dir[kdc01]}/primary_check" "${dir[kdc02]}/replica_check"; then
	say "    kdb5_util dump on kdc02 is identical to kdc01's ($(wc -l <"${dir[kdc02]}/replica_check") lines)"
else
	die "the secondary's database differs from the primary's"
fi
start kdc02 krb5kdc.out krb5kdc -n -r "$REALM"
kdc02_pid=$last_pid
wait_for "${dir[kdc02]}/kdc.log" 'commencing operation' "$kdc02_pid" "the secondary KDC"

step "6. Stop the primary KDC; kinit on kdc01 gets its ticket from the secondary"
printf 'kdc01# kill %s   # krb5kdc\n' "$kdc01_pid"
kill "$kdc01_pid"
wait "$kdc01_pid" 2>/dev/null || true
printf 'kdc01# %s\n' "echo \$PASSWORD | kinit alice"
on_host kdc01 env KRB5_TRACE="${dir[kdc01]}/kinit.trace" kinit alice <<<"$USER_PASSWORD" 2>&1 | sed 's/^/    /'
say "kinit's KRB5_TRACE, abridged:"
grep -E 'Sending initial|Received answer|Response was not' "${dir[kdc01]}/kinit.trace" | sed -e 's/^\[[0-9]*\] [0-9.]*: /    /'
run kdc01 klist
issued=$(grep "ISSUE.*alice@$REALM for krbtgt/$REALM@$REALM" "${dir[kdc02]}/kdc.log" || true)
[ -n "$issued" ] || die "the secondary KDC's log shows no ticket issued to alice"
say "The secondary KDC's log (kdc02:\$WORK/kdc02/kdc.log):"
printf '%s\n' "$issued" | sed 's/^/    /'
if grep -q "ISSUE.*alice@$REALM" "${dir[kdc01]}/kdc.log"; then
	die "the primary KDC issued alice's ticket"
fi

end_time=$(date +%s.%N)
printf '\ndemo: OK in %ss (%s mode)\n' "$(awk "BEGIN { printf \"%.1f\", $end_time - $start_time }")" "$mode"
