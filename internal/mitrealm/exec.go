package mitrealm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// CommandTimeout bounds every command the harness runs to completion; a
// command still running then has its process group killed.
const CommandTimeout = 2 * time.Minute

// baseEnviron is the process environment without the variables that steer
// MIT programs or translate their messages, plus LC_ALL=C so that output
// such as kprop's "SUCCEEDED" line is never localized.
func baseEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "KRB5") || strings.HasPrefix(name, "KPROP") ||
			strings.HasPrefix(name, "LC_") || name == "LANG" || name == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// Environ returns the environment the harness starts every program with
// before adding its own variables: the process environment without the
// variables that steer MIT programs (KRB5*, KPROP*) or translate their
// messages, plus LC_ALL=C. Tests that lay out their own realms start from
// it.
func Environ() []string { return baseEnviron() }

// SetEnv returns env with each "NAME=value" in kvs replacing any earlier
// setting of NAME.
func SetEnv(env []string, kvs ...string) []string {
	out := append([]string(nil), env...)
	for _, kv := range kvs {
		name, _, _ := strings.Cut(kv, "=")
		out = removeEnv(out, name)
		out = append(out, kv)
	}
	return out
}

func removeEnv(env []string, name string) []string {
	out := env[:0]
	for _, kv := range env {
		if n, _, _ := strings.Cut(kv, "="); n != name {
			out = append(out, kv)
		}
	}
	return out
}

// Exec runs cmd to completion with stdin as its standard input and returns
// what it printed. It starts cmd in its own process group and kills that
// group after CommandTimeout. The error, if any, includes stderr.
func Exec(cmd *exec.Cmd, stdin string) (stdout, stderr string, err error) {
	var outBuf, errBuf bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf
	cmd.WaitDelay = 5 * time.Second
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return "", "", fmt.Errorf("mitrealm: starting %s: %w", cmd.Path, err)
	}
	pid := cmd.Process.Pid
	timer := time.AfterFunc(CommandTimeout, func() { signalGroup(pid, syscall.SIGKILL) })
	err = cmd.Wait()
	timedOut := !timer.Stop()
	stdout, stderr = outBuf.String(), errBuf.String()
	switch {
	case timedOut:
		err = fmt.Errorf("mitrealm: %s killed after %v: %s", commandLine(cmd), CommandTimeout, strings.TrimSpace(stderr))
	case err != nil:
		err = fmt.Errorf("mitrealm: %s: %w: %s", commandLine(cmd), err, strings.TrimSpace(stderr))
	}
	return stdout, stderr, err
}

// commandLine renders cmd for messages.
func commandLine(cmd *exec.Cmd) string {
	return strings.Join(cmd.Args, " ")
}

// Env returns the environment every command of h runs with: the process
// environment without KRB5*, KPROP* and locale variables, plus
// KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5_KTNAME (h.Keytab), KRB5CCNAME (a
// private file ccache), KRB5RCACHEDIR (a private directory), LC_ALL=C and,
// with Options.Trace, KRB5_TRACE.
func (h *Host) Env() []string {
	env := SetEnv(baseEnviron(),
		"KRB5_CONFIG="+h.KRB5Conf,
		"KRB5_KDC_PROFILE="+h.KDCConf,
		"KRB5_KTNAME=FILE:"+h.Keytab,
		"KRB5CCNAME=FILE:"+h.CCache,
		"KRB5RCACHEDIR="+h.RCacheDir,
	)
	if h.opts.Trace {
		env = append(env, "KRB5_TRACE="+h.TraceFile)
	}
	return env
}

// Command returns a command running the named program (looked up with
// LookPath; a path is used as is) in h.Dir with h.Env().
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	path, err := LookPath(name)
	if err != nil {
		path = name
	}
	cmd := exec.Command(path, args...)
	cmd.Env = h.Env()
	cmd.Dir = h.Dir
	setProcessGroup(cmd)
	return cmd
}

// Run runs an MIT program on h and returns its standard output. The test
// fails, showing stderr, if the program is missing (see Require) or exits
// with an error.
func (h *Host) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	return h.RunInput(t, "", name, args...)
}

// RunInput is Run with stdin as the program's standard input.
func (h *Host) RunInput(t testing.TB, stdin, name string, args ...string) string {
	t.Helper()
	path := name
	if !strings.Contains(name, "/") {
		path = bin(t, name)
	}
	out, _, err := Exec(h.Command(path, args...), stdin)
	if err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	return out
}
