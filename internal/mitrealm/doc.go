// Package mitrealm runs throwaway MIT Kerberos realms for tests.
//
// It is the shared harness of every test that proves compatibility with MIT
// krb5: like the OpenSSH-driven tests of golang.org/x/crypto/ssh/test, each
// test gets its own MIT "hosts" in t.TempDir(), each with its own krb5.conf,
// kdc.conf, database, stash, keytab and kpropd ACL, and real krb5kdc, kpropd,
// kprop, kdb5_util, kadmin.local and kinit processes on 127.0.0.1 ports.
// Every daemon is registered with t.Cleanup and its whole process group is
// killed when the test ends, also after t.Fatal.
//
// A Host is one machine's worth of MIT configuration. NewPrimary creates a
// realm database with kdb5_util create; (*Host).NewReplica makes a second
// host of the same realm that shares the master key (the stash is copied)
// but has its own database, KDC port and configuration files. Snapshot
// builds a large populated database once per test binary and loads a copy
// into each test's fresh primary, which keeps big interop matrices fast.
//
// # Host names and principals
//
// MIT kprop authenticates as host/<canon(gethostname())>@R to the service
// host/<canon(replica argument)>@R, and MIT kpropd calls itself
// host/<canon(gethostname())>@R. The generated krb5.conf sets
// dns_canonicalize_hostname = false, rdns = false and qualify_shortname = ""
// so canon() is only lowercasing: the names do not depend on DNS or on
// /etc/hosts. Both ends run on this machine, so they share gethostname().
// The replica is always addressed as "localhost" (ReplicaHost), which
// resolves everywhere, even on machines whose own host name does not; the
// replica's service principal is therefore host/localhost@R. Because that is
// not kpropd's own name, every replica's krb5.conf sets
// ignore_acceptor_hostname = true, so kpropd accepts a ticket for any host/*
// key in its keytab (MIT's src/lib/krb5/krb/rd_req_dec.c). The alternative,
// addressing the replica by the machine's host name, makes the tests depend
// on that name resolving to a loopback address. A receiver that is not MIT
// kpropd must therefore honour ignore_acceptor_hostname from KRB5_CONFIG (or
// be given host/localhost as its own principal). See KpropPrincipal and
// ReplicaPrincipal.
//
// # Missing binaries
//
// Require looks for the MIT programs in PATH and in /usr/sbin, /usr/bin and
// /sbin. When one is missing the test is skipped, unless the environment
// variable CI is set to a non-empty value: then it fails, so a CI run can
// never pass by skipping every interop test.
//
// This package is for tests only. It is not a way to run production KDCs:
// it writes master passwords and keys into temporary directories and kills
// what it starts.
package mitrealm
