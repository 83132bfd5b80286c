// Package dumptest generates synthetic kdb5_util dumps for tests and
// benchmarks: realistic in shape and size (MIT's record layout, AES key
// data of the sizes MIT stores, the tl-data kadmin writes), reproducible
// from a seed. The keys are random bytes, not encrypted under any master
// key, so MIT's kdb5_util loads such a dump, but neither a KDC nor
// kdb5_util dump can use the result unless Config.Master supplies a real
// realm's K/M principal.
//
// It is for tests and benchmarks, not for making real databases.
package dumptest
