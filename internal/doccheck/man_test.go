package doccheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// root is the repository's top directory, relative to this package.
const root = "../.."

// requireTool returns the path of a program the test needs: it skips the
// test when the program is missing, or fails it when CI is set.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found (Debian package %s); CI is set, so this is a failure", name, pkg)
		}
		t.Skipf("%s not found (Debian package %s)", name, pkg)
	}
	return p
}

var built struct {
	sync.Mutex
	dir string
}

// buildCommand builds ./cmd/<name> into a directory shared by the tests
// and returns the executable's path.
func buildCommand(t *testing.T, name string) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if built.dir == "" {
		d, err := os.MkdirTemp("", "doccheck-")
		if err != nil {
			t.Fatal(err)
		}
		built.dir = d
	}
	out := filepath.Join(built.dir, name)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	// go test puts GOROOT/bin first in the test's PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "build", "-o", out, "./cmd/"+name)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, b)
	}
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// groffLint renders page with every warning enabled and returns what groff
// printed on standard error.
func groffLint(t *testing.T, groff, page string) string {
	t.Helper()
	cmd := exec.Command(groff, "-mandoc", "-Tutf8", "-ww", "-z", page)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("groff %s: %v\n%s", page, err, stderr.String())
	}
	return stderr.String()
}

// render returns page as plain ASCII text, 80 columns wide.
func render(t *testing.T, groff, page string) string {
	t.Helper()
	cmd := exec.Command(groff, "-mandoc", "-Tascii", "-rLL=80n", "-P-c", "-P-b", "-P-u", "-P-o", page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("groff %s: %v\n%s", page, err, stderr.String())
	}
	return stdout.String()
}

// sections splits a rendered page at its section headings (lines in
// capitals at the left margin).
func sections(text string) map[string]string {
	out := map[string]string{}
	heading := regexp.MustCompile(`^[A-Z][A-Z ]+$`)
	cur := ""
	for _, line := range strings.Split(text, "\n") {
		if heading.MatchString(line) {
			cur = line
			continue
		}
		if cur != "" {
			out[cur] += line + "\n"
		}
	}
	return out
}

// optionRE matches an option in a usage message or a synopsis: -x, or
// --long-name, after a bracket or a space.
var optionRE = regexp.MustCompile(`(?:^|[\[\s])(--?[A-Za-z][A-Za-z-]*)`)

func options(s string) []string {
	var out []string
	for _, m := range optionRE.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// tags returns the options that head an entry of a rendered tagged list:
// the first word of a line indented by the page's left margin alone.
func tags(section string) []string {
	var out []string
	for _, line := range strings.Split(section, "\n") {
		rest, ok := strings.CutPrefix(line, "     ")
		if !ok || strings.HasPrefix(rest, " ") {
			continue
		}
		if f := strings.Fields(rest); len(f) > 0 && strings.HasPrefix(f[0], "-") {
			out = append(out, strings.SplitN(f[0], "=", 2)[0])
		}
	}
	return out
}

// usage returns the command's whole usage message: what --help prints
// (our programs' options beyond MIT's are listed there only, since a
// command-line error prints MIT's usage message exactly), else the usage
// message an invalid option makes it print.
func usage(t *testing.T, exe string) string {
	t.Helper()
	cmd := exec.Command(exe, "--help")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.Output(); err == nil {
		if u, ok := afterUsage(string(out)); ok {
			return u
		}
	}
	cmd = exec.Command(exe, "-Z")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("%s -Z: want a failed exit, got %v", exe, err)
	}
	u, ok := afterUsage(stderr.String())
	if !ok {
		t.Fatalf("%s -Z printed no usage message:\n%s", exe, stderr.String())
	}
	return u
}

// afterUsage returns what follows "Usage: PROGRAM" in s.
func afterUsage(s string) (string, bool) {
	i := strings.Index(s, "Usage:")
	if i < 0 {
		return "", false
	}
	parts := strings.SplitN(s[i:], " ", 3)
	if len(parts) < 3 {
		return "", false
	}
	return parts[2], true
}

func TestManPages(t *testing.T) {
	for _, name := range []string{"kprop", "kpropd"} {
		t.Run(name, func(t *testing.T) {
			groff := requireTool(t, "groff", "groff-base")
			page := filepath.Join(root, "man", name+".8")
			if _, err := os.Stat(page); err != nil {
				t.Fatal(err)
			}
			if w := groffLint(t, groff, page); w != "" {
				t.Errorf("groff warns about %s:\n%s", page, w)
			}
			text := render(t, groff, page)
			secs := sections(text)
			for _, s := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES", "EXIT STATUS", "SEE ALSO"} {
				if strings.TrimSpace(secs[s]) == "" {
					t.Errorf("%s: section %s missing or empty", page, s)
				}
			}
			if !strings.HasPrefix(strings.TrimSpace(secs["NAME"]), name+" ") {
				t.Errorf("%s: NAME does not start with %q: %q", page, name, secs["NAME"])
			}

			// The synopsis lists the options the program's usage lists,
			// no more and no fewer, and OPTIONS describes each.
			want := options(usage(t, buildCommand(t, name)))
			if len(want) < 3 {
				t.Fatalf("%s: found only %v in its usage message", name, want)
			}
			got := options(secs["SYNOPSIS"])
			if !slices.Equal(got, want) {
				t.Errorf("%s SYNOPSIS options %v, but %s's usage lists %v", page, got, name, want)
			}
			described := tags(secs["OPTIONS"])
			for _, o := range want {
				if !slices.Contains(described, o) {
					t.Errorf("%s: option %s is not described under OPTIONS", page, o)
				}
			}
		})
	}
}

func TestDemoScriptSyntax(t *testing.T) {
	bash := requireTool(t, "bash", "bash")
	for _, name := range []string{"demo.sh", "demo-iprop.sh", "bench-fanout.sh"} {
		script := filepath.Join(root, "scripts", name)
		if b, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
			t.Fatalf("bash -n %s: %v\n%s", script, err, b)
		}
		st, err := os.Stat(script)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable; make runs it directly", script)
		}
	}
}
