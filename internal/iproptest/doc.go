// Package iproptest builds the MIT Kerberos incremental-propagation
// scenario that the tests of packages iprop, ulog and iprop/merge share:
// a primary with iprop enabled, a replica made from its iprop dump with
// "kdb5_util load -i", a set of kadmin.local changes, and one MIT kpropd
// -t cycle that applies them, with the replica's update log and dump
// captured before and after. Those captures are the oracle the packages
// are compared with, byte for byte.
//
// Run needs the MIT programs (see internal/mitrealm.Require: a test is
// skipped without them, or fails when the environment variable CI is
// set). This package is for tests only.
package iproptest
