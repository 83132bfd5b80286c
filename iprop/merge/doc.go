// Package merge applies incremental-propagation updates to principal
// records exactly as an MIT Kerberos 1.20 replica does, so that a replica
// built on this package holds, record for record, what MIT kpropd would
// hold after the same updates.
//
// A primary sends deltas: only the attributes a change touched. Apply
// merges one iprop.Update into a dumpfmt.Principal (the record as
// "kdb5_util dump" prints it) with the rules of MIT's ulog_conv_2dbentry
// in the replica role: lockout attributes are never taken from the
// primary, tl-data is replaced in place or prepended (so a replica's
// tl-data order differs from its primary's), keys are replaced as a
// whole, and the modifier is recorded only with its time. Fold computes
// the net effect of a batch (the records to store and the names to
// delete), reading each current record once, which is what an applier
// needs to change the database in one step.
//
// The package only computes records. It reads no database, writes no
// update log (package ulog does) and talks to no primary (package
// iprop).
package merge
