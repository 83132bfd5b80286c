package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// detachedEnv marks the re-executed daemon process; its value is the file
// descriptor on which the daemon reports that it is listening.
const detachedEnv = "GOKPROPD_DETACHED"

// detach starts this program again as a daemon: a new session, no
// controlling terminal, standard streams on /dev/null. It waits for the
// daemon to report that it listens (or why it could not) and returns the
// exit status for the parent, so that "kpropd" in a boot script fails
// visibly when the port is taken, where MIT's kpropd exits 0 first.
func detach(prog string, args []string, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v while daemonizing\n", prog, err)
		return 1
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v while daemonizing\n", prog, err)
		return 1
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v while daemonizing\n", prog, err)
		return 1
	}
	defer devnull.Close()
	cmd := exec.Command(exe, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Env = append(os.Environ(), detachedEnv+"=3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.ExtraFiles = []*os.File{w}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "%s: %v while daemonizing\n", prog, err)
		return 1
	}
	w.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	_ = cmd.Process.Release()
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		fmt.Fprintf(stderr, "%s: %v while daemonizing\n", prog, err)
		return 1
	case strings.TrimSpace(line) == "ok":
		return 0
	case line == "":
		fmt.Fprintf(stderr, "%s: the daemon exited before listening\n", prog)
		return 1
	}
	fmt.Fprint(stderr, line)
	return 1
}

// reportReady tells the waiting parent, in a detached daemon, that the
// daemon is listening (problem empty) or why it is not; it returns status
// unchanged.
func reportReady(status int, problem string) int {
	if os.Getenv(detachedEnv) != "3" {
		return status
	}
	os.Unsetenv(detachedEnv)
	f := os.NewFile(3, "status")
	if problem == "" {
		problem = "ok"
	}
	fmt.Fprintln(f, problem)
	f.Close()
	return status
}
