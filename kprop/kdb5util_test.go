package kprop_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
	"github.com/gokprop/gokprop/kprop"
)

func TestKDB5UtilArgs(t *testing.T) {
	k := &kprop.KDB5Util{Realm: "EXAMPLE.COM"}
	if got, want := k.Args("/d"), []string{kprop.DefaultKDB5Util, "-r", "EXAMPLE.COM", "dump", "/d"}; !slices.Equal(got, want) {
		t.Errorf("Args = %q, want %q", got, want)
	}
	k = &kprop.KDB5Util{Path: "/x/kdb5_util"}
	if got, want := k.Args("/d"), []string{"/x/kdb5_util", "dump", "/d"}; !slices.Equal(got, want) {
		t.Errorf("Args = %q, want %q", got, want)
	}
}

// fakeKDB5Util writes a script that behaves as kdb5_util dump does with
// body run for "dump FILE" ($3 is FILE after -r REALM).
func fakeKDB5Util(t *testing.T, body string) string {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	p := filepath.Join(t.TempDir(), "kdb5_util")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// A dump made and checked: the file, the marker OpenDump accepts, and a
// summary; a kdb5_util failure is a DumpError with its exit status, and
// what kdb5_util printed goes to Output.
func TestKDB5UtilDumpAndValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.src")
	if err := os.WriteFile(good, dumptest.Bytes(dumptest.Config{Principals: 5}), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "replica_datatrans")
	var out bytes.Buffer
	k := &kprop.KDB5Util{Path: fakeKDB5Util(t, `[ "$1 $2 $3" = "-r EXAMPLE.COM dump" ] || exit 2
cp "`+good+`" "$4" && : > "$4.dump_ok" && echo dumped`), Realm: "EXAMPLE.COM", Output: &out}
	if err := k.Dump(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	if out.String() != "dumped\n" {
		t.Errorf("output %q", out.String())
	}
	d, err := kprop.OpenDump(file)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sum, err := kprop.ValidateDump(d)
	if err != nil || sum.Principals != 5+3 || sum.Realm != "EXAMPLE.COM" {
		t.Errorf("ValidateDump = %+v, %v", sum, err)
	}
	if off, _ := d.Seek(0, 1); off != 0 {
		t.Errorf("ValidateDump moved the offset to %d", off)
	}

	bad := &kprop.KDB5Util{Path: fakeKDB5Util(t, `echo "kdb5_util: Cannot find realm" >&2; exit 1`), Output: &out}
	err = bad.Dump(context.Background(), file)
	var de *kprop.DumpError
	if !errors.As(err, &de) || !strings.HasSuffix(err.Error(), "dump returned a bad exit status (1)") {
		t.Errorf("failing kdb5_util: %v", err)
	}
	missing := &kprop.KDB5Util{Path: filepath.Join(dir, "none")}
	if err := missing.Dump(context.Background(), file); !errors.As(err, &de) {
		t.Errorf("missing kdb5_util: %v", err)
	}
}

// A dump that is not a valid kdb5_util dump is refused with the line and
// field.
func TestValidateDumpRefusesGarbage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "d")
	if err := os.WriteFile(file, []byte("kdb5_util load_dump version 7\nprinc\tgarbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file+".dump_ok", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := kprop.OpenDump(file)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = kprop.ValidateDump(d)
	var pe *dumpfmt.ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || !strings.HasPrefix(err.Error(), file+":2:") {
		t.Errorf("ValidateDump = %v, want a ParseError at %s:2", err, file)
	}
}
