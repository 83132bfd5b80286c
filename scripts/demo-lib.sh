# Shared by scripts/demo.sh and scripts/demo-iprop.sh (sourced, not run):
# the messages, the cleanup trap, the work directory, MIT krb5's
# installation, the choice of mode, the network namespaces, free ports and starting daemons.
# The caller sets demo_name (its name in messages and the work directory),
# ns_tag (the namespaces' names: gokprop-TAG-PID-kdc01/-kdc02) and
# mit_bins (the MIT programs it needs) before sourcing this file.
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
			for f in "$work"/kdc0?/kdc.log "$work"/kdc0?/*.out "$work"/kdc0?/*.log; do
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
		printf '\n%s: FAILED (exit %s)\n' "$demo_name" "$rc" >&2
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

work=$(mktemp -d "${TMPDIR:-/tmp}/gokprop-$demo_name.XXXXXX")
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
	local ns1=gokprop-$ns_tag-$$-kdc01 ns2=gokprop-$ns_tag-$$-kdc02 err
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

# start HOST LOGFILE CMD...: start a daemon on HOST, output in LOGFILE.
start() {
	local h=$1 log=$2
	shift 2
	printf '%s# %s &\n' "$h" "$(show "$@")"
	exec_on_host "$h" "$@" >"${dir[$h]}/$log" 2>&1 &
	last_pid=$!
	pids+=("$last_pid")
}
