#!/bin/sh
# Runs MIT krb5's own test of incremental propagation, src/tests/t_iprop.py,
# unmodified, against this repository's kpropd (and, with --our-kprop, its
# kprop too), with the installed MIT programs for everything else.
#
#   scripts/mit-tiprop.sh [--our-kprop] MIT_SOURCE [TAG]
#
# MIT_SOURCE is a krb5 source tree (the directory holding src/) or a git
# repository of krb5 (bare or not), from which src/util/k5test.py and
# src/tests/t_iprop.py are read at TAG (default krb5-1.20.1-final). The
# script makes a throwaway directory laid out as k5test.py expects of a
# build tree (config.status, runenv.py, kprop/kpropd, kadmin/cli/kadmin.local,
# ...), whose programs are links to ours and to MIT's installed ones
# (Debian's krb5-kdc, krb5-admin-server, krb5-kpropd, krb5-user), and runs
# the script there. It needs python3. k5test uses ports 61000-61009.
set -eu

our_kprop=no
if [ "${1:-}" = "--our-kprop" ]; then
	our_kprop=yes
	shift
fi
src=${1:?usage: $0 [--our-kprop] MIT_SOURCE [TAG]}
tag=${2:-krb5-1.20.1-final}
GO=${GO:-go}
here=$(cd "$(dirname "$0")/.." && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/mit-tiprop.XXXXXX")
trap 'rm -rf "$work"' EXIT
b=$work/src

fetch() { # path-in-krb5 destination
	if [ -f "$src/$1" ]; then
		cp "$src/$1" "$2"
	else
		git -C "$src" show "$tag:$1" >"$2"
	fi
}
mkdir -p "$b/lib/krb5/krb" "$b/util" "$b/tests" "$b/kprop" "$b/kadmin/server" \
	"$b/kadmin/cli" "$b/kadmin/dbutil" "$b/kadmin/ktutil" "$b/kdc"
fetch src/util/k5test.py "$b/util/k5test.py"
fetch src/tests/t_iprop.py "$b/tests/t_iprop.py"
touch "$b/config.status"
printf "env = {}\nhave_lmdb = 'no'\ntls_impl = 'no'\nsizeof_time_t = 8\ntclsh = ''\nasan = 'no'\n" >"$b/runenv.py"

mit() { # program -> its installed path
	for d in /usr/sbin /usr/bin /sbin; do
		if [ -x "$d/$1" ]; then echo "$d/$1"; return; fi
	done
	echo "MIT $1 not found" >&2
	exit 1
}
"$GO" build -o "$work/kpropd" "$here/cmd/kpropd"
ln -s "$work/kpropd" "$b/kprop/kpropd"
if [ $our_kprop = yes ]; then
	"$GO" build -o "$work/kprop" "$here/cmd/kprop"
	ln -s "$work/kprop" "$b/kprop/kprop"
else
	ln -s "$(mit kprop)" "$b/kprop/kprop"
fi
ln -s "$(mit kproplog)" "$b/kprop/kproplog"
ln -s "$(mit kadmind)" "$b/kadmin/server/kadmind"
ln -s "$(mit kadmin.local)" "$b/kadmin/cli/kadmin.local"
ln -s "$(mit kadmin)" "$b/kadmin/cli/kadmin"
ln -s "$(mit kdb5_util)" "$b/kadmin/dbutil/kdb5_util"
ln -s "$(mit ktutil)" "$b/kadmin/ktutil/ktutil"
ln -s "$(mit krb5kdc)" "$b/kdc/krb5kdc"
for c in kinit klist kvno kdestroy kpasswd kswitch; do
	mkdir -p "$b/clients/$c"
	ln -s "$(mit $c)" "$b/clients/$c/$c"
done
# plugin_base_dir: MIT's installed modules (the db2 KDB module, preauth).
plugins=$(dirname "$(find /usr/lib -path '*/krb5/plugins/kdb/db2.so' | head -n 1)")
ln -s "$(dirname "$plugins")" "$b/plugins"

cd "$b/tests"
status=0
PYTHONPATH=$b/util python3 t_iprop.py || status=$?
if [ $status -ne 0 ]; then
	echo "t_iprop.py failed; its log:" >&2
	tail -n 60 testlog >&2
else
	grep '^\*\*\* Success' testlog || true
fi
exit $status
