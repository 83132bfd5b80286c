#!/bin/sh
# Regenerates testdata/mit/ from a throwaway MIT realm: one dump in every
# format kdb5_util writes (-b7, -r13, -r18, default, -i0, -i1), the stash
# file, and a keytab extracted with -norandkey so tests can check key
# decryption against MIT's own answer. Needs MIT krb5 (kdb5_util,
# kadmin.local). Run from the dumpfmt directory: sh testdata/mkmit.sh
set -eu
out=$(pwd)/testdata/mit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
realm=DUMPFMT.TEST
cat >"$tmp/krb5.conf" <<CONF
[libdefaults]
 default_realm = $realm
[realms]
 $realm = {
  kdc = 127.0.0.1:1
  admin_server = 127.0.0.1:1
  database_name = $tmp/principal
  key_stash_file = $tmp/stash
  iprop_enable = true
  iprop_port = 1
  iprop_logfile = $tmp/ulog
 }
CONF
export KRB5_CONFIG="$tmp/krb5.conf" KRB5_KDC_PROFILE="$tmp/krb5.conf"
kdb5_util create -s -P masterpw -r $realm >/dev/null
k() { kadmin.local -r $realm -q "$1" >/dev/null 2>&1; }
k "addpol -maxfailure 3 -failurecountinterval 60 -lockoutduration 120 -allowedkeysalts aes256-cts:normal,aes128-cts:special lockpol"
k "addpol -maxlife 1d -minlength 6 -history 2 simple"
k "addprinc -pw pw1 -policy lockpol alice"
k "cpw -pw pw2 -keepold alice"
k "setstr alice foo bar"
k "addprinc -nokey -expire 2030-01-01 nokey"
k "addprinc -pw pw3 -e aes128-cts:special $(printf 'h\303\251llo/w\303\266rld')"
k "addprinc -randkey svc/host.dumpfmt.test"
k "ktadd -k $tmp/alice.keytab -norandkey alice"
for f in b7 r13 r18 i0 i1; do kdb5_util dump -$f "$out/dump-$f"; done
kdb5_util dump "$out/dump-r111"
rm -f "$out"/*.dump_ok
cp "$tmp/stash" "$out/stash"
cp "$tmp/alice.keytab" "$out/alice.keytab"
