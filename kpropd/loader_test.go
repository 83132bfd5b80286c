package kpropd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A failed load keeps MIT's message and the error it came from.
func TestKDB5UtilLoadError(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "kdb5_util")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\necho first\necho 'kdb5_util: restore failed' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := (&KDB5Util{Path: prog}).Load(context.Background(), "/nonexistent/dump")
	var le *LoadError
	if !errors.As(err, &le) || le.Msg != prog+" returned a bad exit status (3): kdb5_util: restore failed" {
		t.Fatalf("err = %v", err)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("the exit status is not in the error's chain: %v", err)
	}
	if err.Error() != le.Msg {
		t.Errorf("Error() = %q", err.Error())
	}
}
