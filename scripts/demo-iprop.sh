#!/usr/bin/env bash
# Incremental propagation, end to end: a throwaway realm EXAMPLE.COM whose
# primary KDC (kdc01) runs MIT's kadmind serving iprop, and a secondary
# (kdc02) whose kpropd is gokprop's in iprop mode (iprop_enable in its
# kdc.conf). kpropd asks for a full resync, which kadmind sends with
# gokprop's kprop; then a principal added on the primary reaches kdc02
# incrementally and gets its ticket from kdc02's KDC seconds later.
# kproplog shows the update logs on both sides.
#
# Usage: scripts/demo-iprop.sh   (or: make demo-iprop)
#
# Environment:
#   GO=path        the go command (default: go, else /usr/local/go/bin/go)
#   DEMO_MODE=auto|netns|loopback
#                  netns: kdc01 and kdc02 are two network namespaces joined
#                  by a veth pair, each with its own host name and
#                  /etc/hosts, using the standard ports (88, 749, 754) and
#                  iprop_port 2121. loopback: both on 127.0.0.1 with free
#                  high ports; the replica is addressed as localhost.
#                  auto (the default) uses netns when this is root and
#                  the kernel allows it.
#   DEMO_KEEP=1    keep the work directory (daemons are stopped anyway)
#   DEMO_PROGRAMS=mit
#                  the same with MIT's kprop and kpropd, as a control
#
# MIT krb5 (krb5-kdc krb5-admin-server krb5-kpropd krb5-user) is installed
# with apt-get when missing, which needs root. Nothing outside the work
# directory is written; the system's /etc/krb5.conf, /etc/krb5kdc and
# /var/lib/krb5kdc are never read or written, and no system service is
# started.
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
mit_bins="krb5kdc kadmind kdb5_util kadmin.local kproplog kinit klist"
demo_name=demo-iprop
ns_tag=ipdemo
# The shared parts: messages, cleanup, MIT krb5, modes, namespaces.
. scripts/demo-lib.sh
if [ "$mode" = netns ]; then
	primary_host=kdc01.example.com
	replica_host=kdc02.example.com
	admin_server=kdc01.example.com
	kdc_addr[1]=kdc01.example.com
	kdc_addr[2]=kdc02.example.com
	kdc_listen[1]=""
	kdc_listen[2]=""
	iprop_port=2121
	kadmind_listen=""
	kprop_port=()  # kadmind's kprop and kpropd use port 754
	kpropd_port=()
	say ""
	say "Hosts: two network namespaces joined by a veth pair:"
	say "  kdc01.example.com 192.0.2.1 (primary: KDC, kadmind serving iprop on port $iprop_port)"
	say "  kdc02.example.com 192.0.2.2 (secondary: kpropd in iprop mode, KDC)"
	kiprop_client=kiprop/kdc02.example.com
else
	# Both "hosts" are this machine: kpropd calls itself
	# kiprop/<this host>, reaches kadmind as "localhost" (so the
	# service is kiprop/localhost), and kadmind sends full resyncs to
	# <this host>, whose host key kdc02's keytab holds too.
	primary_host=$(uname -n | tr '[:upper:]' '[:lower:]')
	replica_host=localhost
	admin_server=localhost
	p1=$(free_port)
	p2=$(free_port)
	p3=$(free_port)
	iprop_port=$(free_port)
	kadmind_listen="kadmind_listen = 127.0.0.1:$(free_port)
        kpasswd_listen = 127.0.0.1:$(free_port)
        iprop_listen = 127.0.0.1:$iprop_port"
	kdc_addr[1]=127.0.0.1:$p1
	kdc_addr[2]=127.0.0.1:$p2
	kdc_listen[1]=127.0.0.1:$p1
	kdc_listen[2]=127.0.0.1:$p2
	kprop_port=(-k "$p3")
	kpropd_port=(-P "$p3")
	say ""
	say "Hosts: both on this machine (loopback mode${netns_reason:+; network namespaces unavailable: $netns_reason}):"
	say "  primary:   KDC on 127.0.0.1:$p1, kadmind's iprop on port $iprop_port"
	say "  secondary: KDC on 127.0.0.1:$p2, kpropd's listener on port $p3"
	kiprop_client=kiprop/$primary_host
fi
primary_princ=host/$primary_host@$REALM
replica_princ=host/$replica_host@$REALM
kiprop_client=$kiprop_client@$REALM
kiprop_service=kiprop/$admin_server@$REALM
say "Work directory \$WORK = $work; $programs."

# ---------------------------------------------------------------------------
# Configuration files, as /etc/krb5.conf and /etc/krb5kdc/kdc.conf would be.
# ---------------------------------------------------------------------------
write_krb5_conf() { # HOST FILE KDC_INDEXES EXTRA_LIBDEFAULT_LINES...
	local h=$1 file=$2 kdcs=$3 extra="" i
	shift 3
	for l in "$@"; do
		extra+="    $l"$'\n'
	done
	{
		printf '[libdefaults]\n    default_realm = %s\n' "$REALM"
		printf '    dns_lookup_kdc = false\n    dns_lookup_realm = false\n'
		printf '%s' "$extra"
		printf '\n[realms]\n    %s = {\n' "$REALM"
		for i in $kdcs; do
			printf '        kdc = %s\n' "${kdc_addr[$i]}"
		done
		printf '        admin_server = %s\n    }\n' "$admin_server"
	} >"${dir[$h]}/$file"
}

write_kdc_conf() { # HOST INDEX EXTRA_REALM_LINES
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
		        acl_file = $d/kadm5.acl
		        master_key_type = aes256-cts-hmac-sha1-96
		        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal$listen
		        iprop_enable = true
		        iprop_port = $iprop_port
		        iprop_logfile = $d/principal.ulog
		        $3
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
	nodns=()
	write_krb5_conf kdc01 krb5.conf "1 2"
	write_krb5_conf kdc02 krb5.conf "1 2"
else
	nodns=("dns_canonicalize_hostname = false" "rdns = false" 'qualify_shortname = ""')
	write_krb5_conf kdc01 krb5.conf "1 2" "${nodns[@]}"
	write_krb5_conf kdc02 krb5.conf "1 2" "${nodns[@]}" "ignore_acceptor_hostname = true"
fi
write_kdc_conf kdc01 1 "$kadmind_listen"
write_kdc_conf kdc02 2 "iprop_replica_poll = 2s"

# wait_for FILE PATTERN PID WHAT: wait until FILE has a line matching
# PATTERN while PID lives.
wait_for() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || die "$4 exited: $(cat "$1" 2>/dev/null)"
		sleep 0.1
	done
	die "$4: no \"$2\" after 60s"
}

# show_log FILE FROM_LINE: the lines of FILE from FROM_LINE on, indented.
show_log() {
	sed -n "$2,\$p" "$1" | sed 's/^/    /'
}

case ${DEMO_PROGRAMS:-gokprop} in
gokprop) kprop_path=$bin/kprop kpropd_path=$bin/kpropd ;;
*) kprop_path=$(command -v kprop) kpropd_path=$(command -v kpropd) ;;
esac

# ---------------------------------------------------------------------------
# The steps.
# ---------------------------------------------------------------------------
step "1. Primary: the realm, with incremental propagation on (iprop_enable in kdc.conf)"
run kdc01 grep -E 'iprop_' kdc.conf
run kdc01 kdb5_util -r "$REALM" create -s -P "$MASTER_PASSWORD"
run kdc01 kadmin.local -r "$REALM" -q "addprinc -pw $USER_PASSWORD alice"
start kdc01 krb5kdc.out krb5kdc -n -r "$REALM"
kdc01_pid=$last_pid
wait_for "${dir[kdc01]}/kdc.log" 'commencing operation' "$kdc01_pid" "the primary KDC"

step "2. Principals: host keys for full resyncs, kiprop for the incremental polls"
run kdc01 kadmin.local -r "$REALM" -q "addprinc -randkey $primary_princ"
[ "$replica_princ" = "$primary_princ" ] || run kdc01 kadmin.local -r "$REALM" -q "addprinc -randkey $replica_princ"
run kdc01 kadmin.local -r "$REALM" -q "addprinc -randkey $kiprop_client"
[ "$kiprop_service" = "$kiprop_client" ] || run kdc01 kadmin.local -r "$REALM" -q "addprinc -randkey $kiprop_service"
run kdc01 kadmin.local -r "$REALM" -q "ktadd -k krb5.keytab $primary_princ"
keys="$replica_princ $kiprop_client"
[ "$mode" = netns ] || keys="$keys $primary_princ" # full resyncs go to this host's name
run kdc01 kadmin.local -r "$REALM" -q "ktadd -k kdc02.keytab -norandkey $keys"
say "(copy to kdc02, as scp would)"
run kdc01 mv kdc02.keytab "${dir[kdc02]}/krb5.keytab"
run kdc02 klist -k krb5.keytab
printf '%s p\n' "$kiprop_client" >"${dir[kdc01]}/kadm5.acl"
run kdc01 cat kadm5.acl

step "3. Primary: kadmind serves iprop; it sends full resyncs with kprop"
start kdc01 kadmind.out kadmind -nofork -r "$REALM" -p "$kdb5_util" -K "$kprop_path" -F "${dir[kdc01]}/replica_datatrans" "${kprop_port[@]}"
kadmind_pid=$last_pid
wait_for "${dir[kdc01]}/kadmind.out" 'starting' "$kadmind_pid" "kadmind"
show_log "${dir[kdc01]}/kadmind.out" 1

step "4. Secondary: an empty replica (stash and keytab only); kpropd in iprop mode"
printf '%s\n' "$primary_princ" >"${dir[kdc02]}/kpropd.acl"
run kdc01 cp ".k5.$REALM" "${dir[kdc02]}/"
run kdc02 grep -E 'iprop_' kdc.conf
start kdc02 kpropd.log "$kpropd_path" -D -d -r "$REALM" -s krb5.keytab -a kpropd.acl -f from_master -p "$kdb5_util" "${kpropd_port[@]}"
kpropd_pid=$last_pid
wait_for "${dir[kdc02]}/kpropd.log" 'KDC is synchronized with primary' "$kpropd_pid" "kpropd"
say "kdc02's kpropd (-d): the first poll, the full resync, and the poll after it:"
show_log "${dir[kdc02]}/kpropd.log" 1
seen=$(wc -l <"${dir[kdc02]}/kpropd.log")
say "kadmind on kdc01, meanwhile:"
show_log "${dir[kdc01]}/kadmind.out" 2

step "5. The update logs: the primary's, and the replica's after the full resync"
run kdc01 kproplog -h
run kdc02 kproplog -h
start kdc02 krb5kdc.out krb5kdc -n -r "$REALM"
kdc02_pid=$last_pid
wait_for "${dir[kdc02]}/kdc.log" 'commencing operation' "$kdc02_pid" "the secondary KDC"

step "6. A principal added on the primary gets its ticket from kdc02's KDC seconds later"
write_krb5_conf kdc01 kdc02-only.conf "2" ${nodns[@]+"${nodns[@]}"}
t0=$(date +%s.%N)
run kdc01 kadmin.local -r "$REALM" -q "addprinc -pw $USER_PASSWORD bob"
wait_for "${dir[kdc02]}/kpropd.log" 'Incremental updates: 1 updates' "$kpropd_pid" "kpropd"
printf 'kdc01# %s\n' "echo \$PASSWORD | KRB5_CONFIG=kdc02-only.conf kinit bob   # kdc02's KDC only"
kinit_rc=1
for ((i = 0; i < 100; i++)); do
	if out=$(on_host kdc01 env KRB5_CONFIG="${dir[kdc01]}/kdc02-only.conf" kinit bob <<<"$USER_PASSWORD" 2>&1); then
		kinit_rc=0
		break
	fi
	sleep 0.1
done
t1=$(date +%s.%N)
[ "$kinit_rc" = 0 ] || die "kinit bob against kdc02 failed: $out"
printf '%s\n' "$out" | sed 's/^/    /'
run kdc01 klist
say "kdc02's kpropd (-d):"
show_log "${dir[kdc02]}/kpropd.log" "$((seen + 1))"
issued=$(grep "ISSUE.*bob@$REALM for krbtgt/$REALM@$REALM" "${dir[kdc02]}/kdc.log" || true)
[ -n "$issued" ] || die "kdc02's KDC log shows no ticket issued to bob"
say "kdc02's KDC log:"
printf '%s\n' "$issued" | sed 's/^/    /'
say "From addprinc on kdc01 to bob's ticket from kdc02: $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s (poll interval 2 s)"

step "7. The update logs again: bob's addition on both sides"
run kdc01 kproplog -e 1
run kdc02 kproplog -e 1

end_time=$(date +%s.%N)
printf '\ndemo-iprop: OK in %ss (%s mode)\n' "$(awk "BEGIN { printf \"%.1f\", $end_time - $start_time }")" "$mode"
