// Package replica keeps an MIT Kerberos replica database up to date with
// the incremental-propagation updates its primary sends, without linking
// MIT's libkdb5: it is the applier of a replica kpropd in iprop mode, and
// of any program that follows a primary's changes into a database of its
// own.
//
// A DB is one replica: its database (whatever KDB module kdb5_util
// opens), its update log (package ulog) and an index of its records. Apply
// applies the updates of one GET_UPDATES reply as MIT's kpropd does
// (ulog_replay): each principal's changes merged into its current record
// by MIT's replica rules (package iprop/merge), the database written
// first, then the updates appended to the update log for kproplog and for
// a downstream "kadmind -proponly". The batch's net effect is written in
// one step: one "kdb5_util load -update" of the changed records and one
// kadmin.local session of "delprinc -force" requests, whose output is
// checked name by name. On any failure Apply resets the update log, as MIT
// does, so that the primary's next answer is a full resync. Load installs
// that full resync ("kdb5_util load -i").
//
// MIT's tools run under the replica's own profile with one file appended
// to the krb5.conf path (KRB5_CONFIG), in the DB's directory, that turns
// iprop_enable off for the realm: MIT reads that setting's last value, so
// the programs neither map nor write the update log, which this package
// keeps with MIT's serial numbers and time stamps (a program that logged
// its own would force a full resync). Principal names reach kadmin
// quoted for its request parser (QuoteArg) and are never used as patterns.
//
// Reading the records a batch changes from the database would cost a full
// dump per batch (seconds per million principals). The DB keeps instead an
// index of the records in its directory: the full-resync dump it last
// loaded (a hard link to it), sorted by name, with a sparse table of names
// for O(log N) lookups and a journal of the batches applied since, each
// synced before the database is written and compacted into a new base
// once large. The replica's lockout attributes (last success, last
// failure, failure count), which its KDC changes and the primary never
// sends, are not in the index: each batch reads them, and each changed
// record's other fields, with one kadmin.local "getprinc -terse" session,
// and rebuilds the index from a full dump if the database differs from it
// (a change made on the replica, a lost index). A crash between the
// database and the update log leaves both the index and the database
// ahead of the log; the primary sends the same updates again, and storing
// whole records makes applying them twice the same as once.
//
// The package talks to no primary (package iprop holds the calls, and
// kpropd the poll loop); it follows MIT 1.20's rules, and applies no
// policy changes, which MIT never sends incrementally.
package replica
