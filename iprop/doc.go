// Package iprop holds the wire types and the client calls of MIT
// Kerberos's incremental propagation (iprop): how a replica KDC asks the
// primary's kadmind for the principal changes it has not seen yet.
//
// Every type of MIT's iprop.x is here as a Go type with an exact XDR
// encoding: Update (kdb_incr_update_t, one principal change, also the
// body of an update log entry), Attr (the kdbe_val_t union of changed
// attributes, including types iprop.x does not define), Key, Principal,
// TLData, Time, Last (kdb_last_t, a replica's position), IncrResult and
// FullResyncResult, and Status with MIT's names. Decoding is strict and
// bounded (see MaxString and the other Max constants): what decodes
// re-encodes to the same bytes, and no count or length from the input is
// allocated for before the input is checked to hold it.
//
// Client makes the four calls of program 100423 version 1 (Null,
// GetUpdates, FullResync and FullResyncExt) over an oncrpc.Client, with
// an oncrpc.Auth supplying the authentication. MIT's kadmind serves iprop
// only to RPCSEC_GSS callers authenticated as a kiprop/* principal with
// the "p" privilege in kadm5.acl; RPCSEC_GSS itself is not part of this
// package.
//
// What a replica does with the updates is elsewhere: package ulog keeps
// MIT's update log file, and package iprop/merge applies an update to a
// principal record as MIT's replica does.
package iprop
