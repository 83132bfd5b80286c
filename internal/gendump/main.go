// Command gendump writes a synthetic kdb5_util dump of many principals for
// a real realm, for the benchmarks: the realm's own K/M principal (read
// from a dump of it) and generated principals (package dumptest), so that
// "kdb5_util load" on a host with the realm's stash makes a database MIT's
// tools and KDC open. The generated principals' keys are random bytes, not
// keys under the master key: kadmin and kdb5_util handle them, but a
// ticket for one cannot be issued.
//
//	gendump -n 1000000 -realm R -km realm.dump > big.dump
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gendump:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gendump", flag.ContinueOnError)
	n := fs.Int("n", 1000, "principals to generate")
	realm := fs.String("realm", "", "the realm (required)")
	km := fs.String("km", "", "a kdb5_util dump of the realm, for its K/M principal (required)")
	seed := fs.Uint64("seed", 1, "seed of the generator")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *realm == "" || *km == "" {
		return errors.New("-realm and -km are required")
	}
	master, err := readMaster(*km, *realm)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(stdout, 1<<20)
	if err := dumptest.Generate(w, dumptest.Config{Realm: *realm, Principals: *n, Master: master, Seed: *seed}); err != nil {
		return err
	}
	return w.Flush()
}

// readMaster finds K/M@realm in the dump at path.
func readMaster(path, realm string) (*dumpfmt.Principal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := dumpfmt.NewReader(bufio.NewReader(f))
	rd.FileName = path
	if _, err := rd.Header(); err != nil {
		return nil, err
	}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s has no K/M@%s", path, realm)
		}
		if err != nil {
			return nil, err
		}
		if p, ok := rec.(*dumpfmt.Principal); ok && p.Name == "K/M@"+realm {
			return p, nil
		}
	}
}
