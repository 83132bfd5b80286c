package interop

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// programs caches the Go programs built by goProgram, one build per test
// binary; TestMain removes them.
var programs struct {
	sync.Mutex
	dir   string
	built map[string]string
}

// goProgram builds the main package pkg (an import path such as
// "github.com/gokprop/gokprop/cmd/kpropd") once per test binary and returns
// the executable's path. Use it to turn this module's programs into
// senders and receivers:
//
//	receiver{name: "Go", path: goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd")}
func goProgram(t testing.TB, pkg string) string {
	t.Helper()
	programs.Lock()
	defer programs.Unlock()
	if p, ok := programs.built[pkg]; ok {
		return p
	}
	if programs.dir == "" {
		dir, err := os.MkdirTemp("", "interop-programs-")
		if err != nil {
			t.Fatal(err)
		}
		programs.dir = dir
		programs.built = map[string]string{}
	}
	// go test puts GOROOT/bin first in the test's PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(programs.dir, path.Base(pkg))
	if b, err := exec.Command(goTool, "build", "-o", out, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	programs.built[pkg] = out
	return out
}

// removePrograms deletes what goProgram built.
func removePrograms() error {
	programs.Lock()
	defer programs.Unlock()
	if programs.dir == "" {
		return nil
	}
	return os.RemoveAll(programs.dir)
}
