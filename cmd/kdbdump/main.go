package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage:
  kdbdump check [--json] [--partial] [--stash FILE] FILE...
  kdbdump cat [--json] FILE
  kdbdump list [--json] FILE
  kdbdump stats [--json] [--now UNIXTIME] FILE
  kdbdump diff [--json] A B
FILE "-" reads standard input.
`

// env is what a subcommand may touch, so tests run it in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func(*env, []string) int{
		"check": cmdCheck,
		"cat":   cmdCat,
		"list":  cmdList,
		"stats": cmdStats,
		"diff":  cmdDiff,
	}
	f, ok := cmds[args[0]]
	if !ok {
		if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "kdbdump: unknown command %q\n%s", args[0], usage)
		return 2
	}
	return f(e, args[1:])
}

// open returns the named file, or standard input for "-".
func (e *env) open(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(e.stdin), nil
	}
	return os.Open(name)
}

func (e *env) errorf(format string, args ...any) int {
	fmt.Fprintf(e.stderr, "kdbdump: "+format+"\n", args...)
	return 2
}
