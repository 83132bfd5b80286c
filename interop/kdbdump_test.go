package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildKdbdump compiles cmd/kdbdump into a temporary directory.
func buildKdbdump(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kdbdump")
	// go test puts GOROOT/bin first in the test's PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/gokprop/gokprop/cmd/kdbdump").CombinedOutput()
	if err != nil {
		t.Fatalf("building kdbdump: %v\n%s", err, out)
	}
	return bin
}

// TestKdbdumpOnMITDumps runs the kdbdump program on dumps MIT wrote: check
// (with the realm's stash), cat reproducing each format, and diff seeing a
// change made with kadmin.local.
func TestKdbdumpOnMITDumps(t *testing.T) {
	primary := dumpRealm(t)
	bin := buildKdbdump(t)
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	var files []string
	for _, f := range dumpFormats {
		data := dumpWith(t, primary, f)
		path := filepath.Join(t.TempDir(), f.name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
		out, errs, code := run("cat", path)
		if code != 0 || out != string(data) {
			t.Errorf("cat %s: exit %d, identical %v, %s", f.name, code, out == string(data), errs)
		}
	}
	out, errs, code := run(append([]string{"check", "--stash", primary.Stash}, files...)...)
	if code != 0 || strings.Count(out, "master key ok") != len(files) {
		t.Fatalf("check: exit %d\n%s%s", code, out, errs)
	}
	t.Logf("kdbdump check:\n%s", out)

	before := files[3]
	primary.Kadmin(t, "modprinc -maxlife 1234 bob", "delprinc -force gen00009", "addprinc -randkey newcomer")
	after := filepath.Join(t.TempDir(), "after")
	if err := os.WriteFile(after, dumpWith(t, primary, dumpFormats[3]), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code = run("diff", before, after)
	r := primary.Realm
	for _, want := range []string{"- principal gen00009@" + r + "\n", "+ principal newcomer@" + r + "\n", "~ principal bob@" + r + ": max_life ("} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s%s", want, out, errs)
		}
	}
	if code != 1 {
		t.Errorf("diff exit %d, want 1", code)
	}
	if _, _, code := run("diff", before, before); code != 0 {
		t.Errorf("diff of a dump with itself: exit %d", code)
	}
}
