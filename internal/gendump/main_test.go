package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
)

func TestGendump(t *testing.T) {
	src := dumptest.Bytes(dumptest.Config{Realm: "R.TEST", Seed: 9})
	path := filepath.Join(t.TempDir(), "realm.dump")
	os.WriteFile(path, src, 0o600)
	var out bytes.Buffer
	if err := run([]string{"-n", "50", "-realm", "R.TEST", "-km", path}, &out); err != nil {
		t.Fatal(err)
	}
	sum, err := dumpfmt.Validate(bytes.NewReader(out.Bytes()), dumpfmt.ValidateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Principals != 53 {
		t.Errorf("%d principals", sum.Principals)
	}
	// The K/M line is the source's.
	i := bytes.Index(src, []byte("\tK/M@R.TEST\t"))
	km := src[bytes.LastIndexByte(src[:i], '\n')+1:]
	km = km[:bytes.IndexByte(km, '\n')+1]
	if !strings.Contains(out.String(), string(km)) {
		t.Error("K/M not copied")
	}
	if err := run([]string{"-n", "1", "-realm", "OTHER", "-km", path}, &out); err == nil {
		t.Error("found a K/M of another realm")
	}
}
