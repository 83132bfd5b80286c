// Command kdbdump inspects MIT kdb5_util dump files without loading them.
//
//	kdbdump check [--json] [--partial] [--stash FILE] FILE...
//	kdbdump cat [--json] FILE
//	kdbdump list [--json] FILE
//	kdbdump stats [--json] [--now UNIXTIME] FILE
//	kdbdump diff [--json] A B
//
// FILE "-" is standard input. check exits 1 when a dump is invalid; diff
// exits 0 when the dumps hold the same principals and policies, 1 when
// they differ; any command exits 2 on a usage or I/O error.
package main
