package krbconf

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// dumpTree renders a parsed profile in the format of MIT's
// profile_flush_to_buffer, so expectations can be checked against MIT.
func dumpTree(root *profNode) string {
	var b strings.Builder
	dumpNode(&b, root, 0)
	return b.String()
}

func dumpNode(b *strings.Builder, n *profNode, level int) {
	for _, c := range n.children {
		if !c.relation {
			continue
		}
		b.WriteString(strings.Repeat("\t", level))
		b.WriteString(c.name + " = ")
		if needQuotes(c.value) {
			b.WriteByte('"')
			r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\b", `\b`)
			b.WriteString(r.Replace(c.value))
			b.WriteByte('"')
		} else {
			b.WriteString(c.value)
		}
		b.WriteByte('\n')
	}
	for _, c := range n.children {
		if c.relation {
			continue
		}
		final := ""
		if c.final {
			final = "*"
		}
		if level == 0 {
			fmt.Fprintf(b, "[%s]%s\n", c.name, final)
			dumpNode(b, c, level+1)
			b.WriteByte('\n')
			continue
		}
		fmt.Fprintf(b, "%s%s = {\n", strings.Repeat("\t", level), c.name)
		dumpNode(b, c, level+1)
		fmt.Fprintf(b, "%s}%s\n", strings.Repeat("\t", level), final)
	}
}

func needQuotes(s string) bool {
	return s == "" || isCSpace(s[0]) || isCSpace(s[len(s)-1]) || strings.ContainsAny(s, "\n\t\b")
}

func parseTree(t *testing.T, text string) (*profNode, error) {
	t.Helper()
	root := &profNode{}
	var module string
	err := parseProfile(strings.NewReader(text), "test.conf", root, &module, 0)
	return root, err
}

// TestProfileSyntax covers every construct of the format; the expected
// trees and errors were checked against Debian's MIT libkrb5.
func TestProfileSyntax(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // dump, when no error
		err  error
		line int
	}{
		{"relations before the first section are ignored", "x = 1\n[a]\nb = 2\n", "[a]\n\tb = 2\n\n", nil, 0},
		{"indented section header before any section is a comment", " [a]\nb = 2\n", "", nil, 0},
		{"comments and blank lines", "[a]\n  ; c\n# c\n\n\tb\t=\t1\t\n", "[a]\n\tb = 1\n\n", nil, 0},
		{"comment text after a value is part of it", "[a]\nb = v # c\n", "[a]\n\tb = v # c\n\n", nil, 0},
		{"quoted value with escapes, rest of line ignored", "[a]\nb = \"x\\ty\\\"z\\q\" junk\n", "[a]\n\tb = \"x\\ty\"zq\"\n\n", nil, 0},
		{"unterminated quote", "[a]\nb = \"abc\n", "[a]\n\tb = abc\n\n", nil, 0},
		{"trailing backslash in quotes", "[a]\nb = \"a\\\n", "[a]\n\tb = a\\\n\n", nil, 0},
		{"empty quoted value", "[a]\nb = \"\"\n", "[a]\n\tb = \"\"\n\n", nil, 0},
		{"value keeps later equals signs", "[a]\nb==1\n", "[a]\n\tb = =1\n\n", nil, 0},
		{"subsection", "[a]\nb = {\n c = 1\n}\n", "[a]\n\tb = {\n\t\tc = 1\n\t}\n\n", nil, 0},
		{"brace on the next line", "[a]\nb =\n{ ignored = 1\nc = 2\n}\n", "[a]\n\tb = {\n\t\tc = 2\n\t}\n\n", nil, 0},
		{"unterminated brace accepted", "[a]\nb = {\nc = 1\n", "[a]\n\tb = {\n\t\tc = 1\n\t}\n\n", nil, 0},
		{"one-line braces are a value", "[a]\nb = { c = 1 }\n", "[a]\n\tb = { c = 1 }\n\n", nil, 0},
		{"final flags", "[a]*\nb* = 1\nc = {\n}*\nd* = {\n}\n", "[a]*\n\tb = 1\n\tc = {\n\t}*\n\td = {\n\t}*\n\n", nil, 0},
		{"sections and subsections merge, relations keep order", "[a]\nb = 1\nc = {\nx = 1\n}\n[z]\n[a]\nb = 2\nc = {\nx = 2\n}\n",
			"[a]\n\tb = 1\n\tb = 2\n\tc = {\n\t\tx = 1\n\t\tx = 2\n\t}\n\n[z]\n\n", nil, 0},
		{"children sorted by name", "[b]\n[a]\nz = 1\ny = 2\nz = 3\n", "[a]\n\ty = 2\n\tz = 1\n\tz = 3\n\n[b]\n\n", nil, 0},
		{"blanks after section header", "[a]  \t\nb=1\n", "[a]\n\tb = 1\n\n", nil, 0},
		{"CRLF line ends", "[a]\r\nb = v\r\nc = \"q\"\r\n", "[a]\n\tb = v\n\tc = q\n\n", nil, 0},
		{"module line in the first file", "module lib.so:arg\n[a]\nb=1\n", "[a]\n\tb = 1\n\n", nil, 0},
		{"closing brace at top level", "[a]\n}\n", "", ErrProfileExtraCloseBrace, 2},
		{"blank line instead of open brace", "[a]\nb =\n\n{\n}\n", "", ErrProfileMissingOpenBrace, 3},
		{"comment instead of open brace", "[a]\nb =\n# c\n{\n}\n", "", ErrProfileMissingOpenBrace, 3},
		{"blank in tag", "[a]\nb c = 1\n", "", ErrProfileRelationSyntax, 2},
		{"no tag", "[a]\n= 1\n", "", ErrProfileRelationSyntax, 2},
		{"no equals", "[a]\nb\n", "", ErrProfileRelationSyntax, 2},
		{"unterminated section header", "[a\nb=1\n", "", ErrProfileSectionSyntax, 1},
		{"junk after section header", "[a] x\n", "", ErrProfileSectionSyntax, 1},
		{"section inside braces", "[a]\nb = {\n[c]\n}\n", "", ErrProfileSectionNotTop, 3},
		{"module line after a section", "[a]\nmodule x:y\n", "", ErrProfileRelationSyntax, 2},
		{"indented include is a relation", "[a]\n  include /x\n", "", ErrProfileRelationSyntax, 2},
		{"missing include", "[a]\ninclude /nonexistent/krb5.conf\n", "", ErrProfileIncludeFile, 2},
		{"missing includedir", "[a]\nincludedir /nonexistent/krb5.conf.d\n", "", ErrProfileIncludeDir, 2},
		{"include of nothing", "[a]\ninclude \n", "", ErrProfileIncludeFile, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := parseTree(t, tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
				var pe *ProfileError
				if !errors.As(err, &pe) || pe.Line != tt.line {
					t.Errorf("error %v: want line %d", err, tt.line)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := dumpTree(root); got != tt.want {
				t.Errorf("tree:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestProfileSyntaxErrorsAreConfigFormat(t *testing.T) {
	for _, in := range []string{"[a]\n}\n", "[a\n", "[a]\nb\n", "[a]\nb =\n\n", "[a]\nb = {\n[c]\n"} {
		_, err := ParseConfig(strings.NewReader(in), "x.conf")
		if !errors.Is(err, ErrConfigFormat) {
			t.Errorf("%q: %v does not match ErrConfigFormat", in, err)
		}
	}
	_, err := ParseConfig(strings.NewReader("[a]\ninclude /nonexistent\n"), "x.conf")
	if errors.Is(err, ErrConfigFormat) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("include failure: %v", err)
	}
}

func TestProfileModuleOnlyInFirstFile(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.conf")
	b := filepath.Join(dir, "b.conf")
	writeFile(t, a, "module plugin.so:residual\n[libdefaults]\ndefault_realm = A\n")
	writeFile(t, b, "module other.so:x\n[libdefaults]\ndefault_realm = B\n")
	c, err := LoadConfigFiles(a)
	if err != nil {
		t.Fatal(err)
	}
	if c.moduleName() != "plugin.so:residual" {
		t.Errorf("Module() = %q", c.moduleName())
	}
	if _, err := LoadConfigFiles(a, b); !errors.Is(err, ErrProfileModule) {
		t.Errorf("module in second file: %v, want ErrProfileModule", err)
	}
	// The first file that exists is the "first" one.
	if _, err := LoadConfigFiles(filepath.Join(dir, "missing"), b); err != nil {
		t.Errorf("module in first existing file: %v", err)
	}
	// An included file may not declare a module.
	writeFile(t, a, "[x]\ninclude "+b+"\n")
	if _, err := LoadConfigFiles(a); !errors.Is(err, ErrProfileModule) {
		t.Errorf("module in included file: %v", err)
	}
}

func TestProfileLongLinesAreSplitLikeMIT(t *testing.T) {
	// MIT reads lines into a 2048-byte buffer; the rest of a longer line
	// is parsed as a line of its own.
	long := "[a]\nb = " + strings.Repeat("x", 3000) + "\n"
	root, err := parseTree(t, long)
	if err == nil {
		t.Fatalf("3000-byte value accepted: %s", dumpTree(root)[:40])
	}
	if !errors.Is(err, ErrProfileRelationSyntax) {
		t.Errorf("error = %v", err)
	}
	ok := "[a]\nb = " + strings.Repeat("x", 2000) + "\n"
	root, err = parseTree(t, ok)
	if err != nil {
		t.Fatal(err)
	}
	if v := root.section("a").children[0].value; len(v) != 2000 {
		t.Errorf("value length %d", len(v))
	}
}

func TestIncludableName(t *testing.T) {
	for name, want := range map[string]bool{
		"crypto-policies": true, "kcm_default_ccache": true, "A-b_9": true, "x.conf": true,
		".conf": false, ".hidden.conf": false, "x.conf~": false, "x.rpmsave": false,
		"x.dpkg-old": false, "a b": false, "": false, "#x#": false,
	} {
		if got := includableName(name); got != want {
			t.Errorf("includableName(%q) = %v", name, got)
		}
	}
}

func TestIncludeAndIncludedir(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "conf.d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(d, "z.conf"), "[a]\nb = dconf\n")
	writeFile(t, filepath.Join(d, "A_b-1"), "[a]\nb = plain\n")
	writeFile(t, filepath.Join(d, "x.conf~"), "[a]\nb = backup\n")
	writeFile(t, filepath.Join(d, ".h.conf"), "[a]\nb = dot\n")
	writeFile(t, filepath.Join(d, "y.rpmsave"), "[a]\nb = rpm\n")
	if err := os.Mkdir(filepath.Join(d, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	inc := filepath.Join(dir, "inc.conf")
	// The included file starts with a fresh state: its leading relation is
	// ignored and it cannot continue the includer's section.
	writeFile(t, inc, "x = 1\n[q]\nr = 1\n[a]\nb = inc\n")
	main := filepath.Join(dir, "krb5.conf")
	writeFile(t, main, "[a]\nb = 0\nincludedir "+d+"\nb = 1\ninclude "+inc+"\nb = 2\n")
	c, err := LoadConfigFiles(main)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Strings("a", "b"), []string{"0", "plain", "dconf", "1", "inc", "2"}; !slices.Equal(got, want) {
		t.Errorf("a.b = %q, want %q", got, want)
	}
	if got := c.Strings("q", "r"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("q.r = %q", got)
	}
	// A directory named in the file list is read like includedir.
	c, err = LoadConfigFiles(d)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Strings("a", "b"); !slices.Equal(got, []string{"plain", "dconf"}) {
		t.Errorf("directory profile a.b = %q", got)
	}
	// Recursive includes end with an error instead of exhausting the process.
	loop := filepath.Join(dir, "loop.conf")
	writeFile(t, loop, "[a]\ninclude "+loop+"\n")
	if _, err := LoadConfigFiles(loop); !errors.Is(err, ErrProfileIncludeFile) {
		t.Errorf("include loop: %v", err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// randomProfile generates profile-like text that exercises the parser's
// corners.
func randomProfile(r *rand.Rand) string {
	pieces := []string{
		"[libdefaults]", "[realms]", "[a]*", " [b]", "[a] x", "[c", "x = 1", "b = 2", "b*= 3",
		"b = \"q\\tu\\\"o\" t", "b = \"open", "  c =  v  ", "c = v # not a comment", "# c", "; c", "",
		"R = {", "R =", "{", "}", "}*", "{ x = 1", "k = { v }", "bad tag = 1", "= 1", "noeq",
		"\tkdc = host:88", "kdc = [::1]:88", "\r", "x==y", "r*x = 1", "module m:x",
	}
	n := 1 + r.IntN(12)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(pieces[r.IntN(len(pieces))])
		if r.IntN(10) == 0 {
			b.WriteString("\r")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestProfileMatchesMIT compares the parser with MIT's own profile library
// on the fixtures and on generated input. It needs a C compiler and
// Debian's libkrb5 and is skipped without them.
func TestProfileMatchesMIT(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler")
	}
	lib := "/usr/lib/" + runtime.GOARCH + "-linux-gnu/libkrb5.so.3"
	if runtime.GOARCH == "amd64" {
		lib = "/usr/lib/x86_64-linux-gnu/libkrb5.so.3"
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skip("no MIT libkrb5")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "profdump")
	out, err := exec.Command(cc, "-o", bin, "testdata/conf/profdump.c", "-l:libkrb5.so.3", "-l:libcom_err.so.2").CombinedOutput()
	if err != nil {
		t.Skipf("cannot build the MIT profile helper: %v\n%s", err, out)
	}
	mit := func(path string) string {
		out, _ := exec.Command(bin, path).Output()
		return string(out)
	}
	ours := func(path string) string {
		root, err := loadProfileFile(path, nil)
		if err != nil {
			var pe *ProfileError
			if errors.As(err, &pe) {
				return "error: " + pe.Err.Error() + "\n"
			}
			return "error: " + err.Error() + "\n"
		}
		return dumpTree(root)
	}
	files, _ := filepath.Glob("testdata/conf/*.conf")
	for _, f := range files {
		if strings.Contains(f, "fedora") {
			continue // its includedir names the real /etc/krb5.conf.d
		}
		if m, o := mit(f), ours(f); m != o {
			t.Errorf("%s: MIT:\n%s\nours:\n%s", f, m, o)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	p := filepath.Join(dir, "gen.conf")
	for i := 0; i < 3000; i++ {
		text := randomProfile(r)
		writeFile(t, p, text)
		if m, o := mit(p), ours(p); m != o {
			t.Fatalf("input %q:\nMIT:\n%s\nours:\n%s", text, m, o)
		}
	}
}
