// Package krbkdc is the KDC client of the module: MIT's sendto_kdc (UDP
// and TCP, several KDCs raced on MIT's schedule, DNS SRV when the
// configuration lists none) and the AS exchange MIT's kprop does, from a
// keytab straight to the replica's host service with no TGT, with
// PA-ENC-TIMESTAMP pre-authentication and MIT's checks of the reply. The
// result is the krbauth.Credentials that sendauth presents.
//
// It has no credential caches and no TGS exchange.
package krbkdc
