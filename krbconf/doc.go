// Package krbconf is the MIT Kerberos environment as MIT's libkrb5 sees
// it: krb5.conf and kdc.conf read with MIT's profile parser (include,
// includedir, final sections, its quirks), typed accessors for the
// settings kprop and kpropd use, MIT's delta-time grammar, enctype lists
// and the allow_des3/allow_rc4 gates, KDC addresses, keytab naming, and
// hostname canonicalization (dns_canonicalize_hostname, rdns,
// qualify_shortname) for host-based principals.
//
// It speaks no protocol: package krbauth does sendauth/recvauth and
// package krbkdc talks to KDCs.
package krbconf
