package main

import "os"

func Example() {
	run([]string{"check", "../../dumpfmt/testdata/mit/dump-r13"}, nil, os.Stdout, os.Stderr)
	run([]string{"list", "../../dumpfmt/testdata/mit/dump-r13"}, nil, os.Stdout, os.Stderr)
	// Output:
	// ../../dumpfmt/testdata/mit/dump-r13: ok: 9 principals, 2 policies, format 5 (r13)
	// K/M@DUMPFMT.TEST
	// alice@DUMPFMT.TEST
	// héllo/wörld@DUMPFMT.TEST
	// kadmin/admin@DUMPFMT.TEST
	// kadmin/changepw@DUMPFMT.TEST
	// kadmin/history@DUMPFMT.TEST
	// krbtgt/DUMPFMT.TEST@DUMPFMT.TEST
	// nokey@DUMPFMT.TEST
	// svc/host.dumpfmt.test@DUMPFMT.TEST
}
