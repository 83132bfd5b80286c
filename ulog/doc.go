// Package ulog reads and writes MIT Kerberos's update log, the file in
// which a KDC's database changes are numbered for incremental
// propagation (kdc.conf's iprop_logfile, by default the database name
// plus ".ulog").
//
// The file is MIT's C structures in the host's byte order (kdb_log.h): a
// 40-byte header (Header) and a fixed number of slots (iprop_ulogsize,
// default 1000) of one block each (2048 bytes, grown when an update does
// not fit), each a 28-byte entry header and the XDR of an iprop.Update.
// Serial number n lives in slot (n-1) mod the slot count, so the log
// wraps, keeping the newest entries.
//
// Open checks and repairs the file as MIT's ulog_map does. The operations
// then follow MIT 1.20's kdb_log.c: Append is the replica's store of an
// applied update (with the reset on a gap in serial numbers, the wrap, and
// the 1.20 resize, which reinitializes the log), Reset is ulog_init_header
// ("kproplog -R"), SetLast is ulog_set_last (after "kdb5_util load -i"),
// Status answers a replica's position as kadmind does, and Last and
// Entries read the log as kpropd and kproplog do. Writes are synced in
// MIT's order (entry before header, header marked unstable while an entry
// is written), and every operation holds MIT's fcntl lock on the file, so
// MIT's programs and this package can share one log; the bytes written
// are those MIT writes for the same operations.
//
// The package does not talk to a primary, apply updates to a database,
// or implement the primary's side (assigning serial numbers to local
// changes), and it follows 1.20's resize, not 1.22's.
package ulog
