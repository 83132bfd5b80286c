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
demo_name=demo
ns_tag=demo
# The shared parts: messages, cleanup, MIT krb5, modes, namespaces.
. scripts/demo-lib.sh
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
