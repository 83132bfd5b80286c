// Package kprop is the sending side of MIT Kerberos full database
// propagation: what MIT's kprop does on a primary KDC, as a library.
//
// Propagate takes a connection to a replica's kpropd, a ticket for the
// replica's host service (krbkdc.KDCClient.GetInitialCredentials, in the
// Config's Auth) and a kdb5_util dump, and runs the whole exchange over a
// krbauth.Conn: sendauth with mutual authentication, the dump size as a
// KRB-SAFE, the dump as chained KRB-PRIV chunks, and the replica's
// acknowledgement, which arrives only after the replica has loaded the
// dump. Send is the same exchange after a handshake the caller ran. Both
// speak MIT's wire protocol byte for byte, so the peer may be MIT kpropd
// or package kpropd, except that Propagate offers the fast data phase
// (krbauth.ClientConfig.FastData, unless Config.MITWire is set): MIT
// kpropd ignores the offer, package kpropd accepts it, and the dump then
// goes as AES-256-GCM records of krbauth.FastRecordSize bytes
// (Result.FastData). A failure is an *OpError naming the Step that failed.
//
// Fanout (or PropagateAll) sends one dump to several replicas at once,
// each with its own connection, handshake and session, reading the dump
// once: a producer fills a ring of chunk buffers of fixed size (4 MiB,
// whatever the dump's size and the number of replicas) that every
// replica's propagation consumes, so memory stays flat, the replicas
// advance within a ring's length of each other, and one that fails is
// dropped at once (one that hangs, after Fanout.StallTimeout).
//
// OpenDump opens a dump the way MIT kprop does (shared lock, ".dump_ok"
// freshness check) and WriteLastProp records success in MIT's
// ".last_prop" file. KDB5Util makes the dump first with "kdb5_util dump",
// and ValidateDump checks it with package dumpfmt before it is sent.
// Flag parsing, krb5.conf and the keytab belong to the kprop command, not
// to this package.
package kprop
