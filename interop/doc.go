// Package interop holds the tests that prove gokprop compatible with MIT
// krb5 by running it against real MIT programs: krb5kdc, kpropd, kprop,
// kdb5_util, kadmin.local and kinit from Debian's krb5 1.20 packages
// (krb5-kdc, krb5-admin-server, krb5-kpropd, krb5-user).
//
// Every test builds throwaway realms with the internal/mitrealm harness:
// each host lives in t.TempDir(), every daemon listens on a free 127.0.0.1
// port and is killed when its test ends. The propagation tests are cells of
// one matrix, sender × receiver × cell, where a sender is MIT kprop or a
// program with the same command line, a receiver is MIT kpropd or a
// program with the same command line, and a cell is one session enctype
// of MIT's default list (AES, Camellia, des3, rc4) or des3 host keys with
// an aes session key and no allow_des3. Every cell pushes the
// same populated database (over 10,000 principals, several policies; built
// once per test binary by a mitrealm.Snapshot) and checks that the replica
// received the exact bytes, that its kdb5_util dump equals the primary's,
// that its KDC then serves a kinit, and that the session key really had the
// cell's enctype (from the primary KDC's log, and from MIT's KRB5_TRACE
// output on the MIT ends). TestMITToMITControl is the MIT → MIT control.
// TestMITKpropdACL is the control for kpropd's ACL decisions (listed or
// not, exact names, the optional enctype compared with the ticket's).
//
// TestMITTKprop reproduces MIT's own propagation test, src/tests/t_kprop.py
// with the passes of src/util/k5test.py of krb5 1.20.1, 1.21.3 and 1.22.1
// (see tkprop_test.go), with MIT's programs, our kprop, our kpropd and
// both; TestEnctypeRefusalsMatchMIT requires MIT's messages where MIT
// refuses an enctype.
//
// To add cells for another program, build it into a temporary directory
// and pass it as a sender or receiver value to runMatrix or runACLCells.
//
// Run the tests with
//
//	go test ./interop
//
// The MIT programs are looked up in PATH and in /usr/sbin, /usr/bin and
// /sbin. Without them the tests are skipped, unless the environment
// variable CI is non-empty (CI=1 go test ./interop): then a missing MIT
// program is a failure. "make test" and the CI script set CI.
//
// This package has no API; it contains only tests.
package interop
