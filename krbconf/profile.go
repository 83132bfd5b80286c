package krbconf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// This file reads files in MIT's profile format (krb5.conf, kdc.conf) the
// way MIT's profile library does (src/util/profile/prof_parse.c,
// prof_tree.c, prof_file.c, prof_init.c). The behaviour reproduced here,
// including the odd corners, was checked against Debian's libkrb5:
//   - everything before the first line that starts with '[' in column 0 is
//     ignored, relations included (only a module declaration is looked at);
//   - '#' and ';' start a comment only at the start of a line (after
//     blanks); "tag = value # text" keeps "# text" in the value;
//   - an unquoted value loses its trailing blanks; a quoted value ends at
//     the next unescaped '"' (or at the end of the line), knows the escapes
//     \n \t \b and takes any other escaped character literally;
//   - "tag = {" or "tag =" followed by a line starting with '{' opens a
//     subsection; a missing closing brace at the end of a file is accepted;
//   - a '*' after a section name, a closing brace or in a tag marks the node
//     final; only final sections stop the search of later files;
//   - subsections (and [sections]) of the same name within one file are
//     merged; relations keep their file order;
//   - "include FILE" and "includedir DIR" are recognised anywhere, but only
//     in column 0, and the included text starts with a fresh parser state.

// Errors of the profile parser, with MIT's texts (src/util/profile/prof_err.et).
var (
	ErrProfileSectionNotTop    = errors.New("Profile section header not at top level")
	ErrProfileSectionSyntax    = errors.New("Syntax error in profile section header")
	ErrProfileRelationSyntax   = errors.New("Syntax error in profile relation")
	ErrProfileExtraCloseBrace  = errors.New("Extra closing brace in profile")
	ErrProfileMissingOpenBrace = errors.New("Missing open brace in profile")
	ErrProfileIncludeFile      = errors.New("Included profile file could not be read")
	ErrProfileIncludeDir       = errors.New("Included profile directory could not be read")
	ErrProfileModule           = errors.New("Unexpected module declaration in profile")
	ErrProfileBadBoolean       = errors.New("Invalid boolean value")
	ErrProfileBadInteger       = errors.New("Invalid integer value")
	// ErrConfigFormat is what MIT's krb5_init_context reports for any of the
	// syntax errors above (KRB5_CONFIG_BADFORMAT). Every ProfileError caused
	// by a syntax error also matches it with errors.Is.
	ErrConfigFormat = errors.New("Improper format of Kerberos configuration file")
)

// ProfileError is an error found while reading a profile file. Err is one of
// the ErrProfile* values; Cause, when set, is the underlying I/O error.
type ProfileError struct {
	File  string // the file being read
	Line  int    // 1-based; 0 when the error is not tied to a line
	Err   error  // one of the ErrProfile* values
	Cause error  // the underlying error, or nil
}

// Error formats the error as "file:line: message".
func (e *ProfileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the ErrProfile* value, ErrConfigFormat for syntax errors,
// and the underlying cause, if any.
func (e *ProfileError) Unwrap() []error {
	errs := []error{e.Err}
	switch e.Err {
	case ErrProfileSectionNotTop, ErrProfileSectionSyntax, ErrProfileRelationSyntax,
		ErrProfileExtraCloseBrace, ErrProfileMissingOpenBrace:
		errs = append(errs, ErrConfigFormat)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// profNode is a section (relation == false) or a relation of a parsed
// profile file.
type profNode struct {
	name     string
	value    string
	relation bool
	final    bool
	parent   *profNode
	children []*profNode // ordered by name (bytewise), equal names in file order
}

// insertPos is where a new child called name goes: after every child whose
// name sorts before or equal to it, as MIT's profile_add_node does.
func (n *profNode) insertPos(name string) int {
	i := 0
	for i < len(n.children) && n.children[i].name <= name {
		i++
	}
	return i
}

func (n *profNode) insert(c *profNode) {
	i := n.insertPos(c.name)
	n.children = append(n.children, nil)
	copy(n.children[i+1:], n.children[i:])
	n.children[i] = c
	c.parent = n
}

// addSection returns the subsection called name, creating it if needed
// (sections of the same name are merged).
func (n *profNode) addSection(name string) *profNode {
	if s := n.section(name); s != nil {
		return s
	}
	s := &profNode{name: name}
	n.insert(s)
	return s
}

func (n *profNode) addRelation(name, value string, final bool) {
	n.insert(&profNode{name: name, value: value, relation: true, final: final})
}

// section returns the first subsection called name, or nil.
func (n *profNode) section(name string) *profNode {
	for _, c := range n.children {
		if !c.relation && c.name == name {
			return c
		}
	}
	return nil
}

// Parser states (MIT's STATE_INIT_COMMENT, STATE_STD_LINE, STATE_GET_OBRACE).
const (
	stateInitComment = iota
	stateStdLine
	stateGetOpenBrace
)

// maxIncludeDepth bounds include recursion; MIT has no bound and recurses
// until it runs out of file descriptors.
const maxIncludeDepth = 40

// mitLineMax is the size of MIT's line buffer: longer lines are read (and
// parsed) in pieces of at most mitLineMax-1 bytes.
const mitLineMax = 2048

type profParser struct {
	state   int
	level   int
	root    *profNode
	cur     *profNode
	module  *string // non-nil: a module declaration is allowed and stored here
	depth   int
	file    string
	lineNum int
}

// parseProfile parses one profile file's text into root. module, when not
// nil, permits a module declaration (first file only) and receives it.
func parseProfile(r io.Reader, name string, root *profNode, module *string, depth int) error {
	p := &profParser{root: root, module: module, depth: depth, file: name}
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			p.lineNum++
			for len(line) > mitLineMax-1 {
				if perr := p.parseLine(line[:mitLineMax-1]); perr != nil {
					return p.errorf(perr)
				}
				line = line[mitLineMax-1:]
			}
			if perr := p.parseLine(line); perr != nil {
				return p.errorf(perr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &ProfileError{File: name, Err: ErrProfileIncludeFile, Cause: err}
		}
	}
}

func (p *profParser) errorf(err error) error {
	var pe *ProfileError
	if errors.As(err, &pe) {
		return err // from an included file: it has its own position
	}
	return &ProfileError{File: p.file, Line: p.lineNum, Err: err}
}

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func skipBlanks(s string) string {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	return s[i:]
}

// stripEOL removes trailing CR and LF characters.
func stripEOL(s string) string {
	return strings.TrimRight(s, "\r\n")
}

// hasKeyword reports whether line starts with word followed by a blank.
func hasKeyword(line, word string) bool {
	return strings.HasPrefix(line, word) && len(line) > len(word) && isCSpace(line[len(word)])
}

func (p *profParser) parseLine(line string) error {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i] // C string semantics
	}
	if hasKeyword(line, "include") {
		return p.includeFile(stripEOL(skipBlanks(line[len("include"):])))
	}
	if hasKeyword(line, "includedir") {
		return p.includeDir(stripEOL(skipBlanks(line[len("includedir"):])))
	}
	switch p.state {
	case stateInitComment:
		if hasKeyword(line, "module") {
			if p.module == nil {
				return ErrProfileModule
			}
			*p.module = stripEOL(skipBlanks(line[len("module"):]))
			return nil
		}
		if len(line) == 0 || line[0] != '[' {
			return nil
		}
		p.state = stateStdLine
		return p.parseStdLine(line)
	case stateStdLine:
		return p.parseStdLine(line)
	default: // stateGetOpenBrace
		if s := skipBlanks(line); len(s) == 0 || s[0] != '{' {
			return ErrProfileMissingOpenBrace
		}
		p.state = stateStdLine
		return nil
	}
}

func (p *profParser) parseStdLine(line string) error {
	cp := skipBlanks(line)
	if len(cp) > 0 && (cp[0] == ';' || cp[0] == '#') {
		return nil
	}
	cp = stripEOL(cp)
	if len(cp) == 0 {
		return nil
	}
	switch cp[0] {
	case '[':
		if p.level > 0 {
			return ErrProfileSectionNotTop
		}
		end := strings.IndexByte(cp, ']')
		if end < 0 {
			return ErrProfileSectionSyntax
		}
		p.cur = p.root.addSection(cp[1:end])
		rest := cp[end+1:]
		if strings.HasPrefix(rest, "*") {
			p.cur.final = true
			rest = rest[1:]
		}
		if skipBlanks(rest) != "" {
			return ErrProfileSectionSyntax
		}
		return nil
	case '}':
		if p.level == 0 {
			return ErrProfileExtraCloseBrace
		}
		if len(cp) > 1 && cp[1] == '*' {
			p.cur.final = true
		}
		p.cur = p.cur.parent
		p.level--
		return nil
	}
	eq := strings.IndexByte(cp, '=')
	if eq <= 0 {
		return ErrProfileRelationSyntax
	}
	tag := cp[:eq]
	for i := 0; i < len(tag); i++ {
		if isCSpace(tag[i]) {
			if skipBlanks(tag[i:]) != "" {
				return ErrProfileRelationSyntax
			}
			tag = tag[:i]
			break
		}
	}
	final := false
	if i := strings.IndexByte(tag, '*'); i >= 0 {
		tag, final = tag[:i], true
	}
	value := skipBlanks(cp[eq+1:])
	subsection := false
	switch {
	case strings.HasPrefix(value, `"`):
		value = unquoteProfile(value[1:])
	case value == "":
		subsection = true
		p.state = stateGetOpenBrace
	case value[0] == '{' && skipBlanks(value[1:]) == "":
		subsection = true
	default:
		end := len(value)
		for end > 1 && isCSpace(value[end-1]) {
			end--
		}
		value = value[:end]
	}
	if subsection {
		s := p.cur.addSection(tag)
		if final {
			s.final = true
		}
		p.cur = s
		p.level++
		return nil
	}
	p.cur.addRelation(tag, value, final)
	return nil
}

// unquoteProfile decodes a quoted value (without its opening quote) up to
// the closing quote or the end of the string.
func unquoteProfile(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && s[i] != '"'; i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			default:
				c = s[i]
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// includeFile parses another file into the same tree with a fresh state.
func (p *profParser) includeFile(name string) error {
	if p.depth >= maxIncludeDepth {
		return &ProfileError{File: name, Err: ErrProfileIncludeFile, Cause: errors.New("includes nested too deeply")}
	}
	f, err := os.Open(name)
	if err != nil {
		return &ProfileError{File: p.file, Line: p.lineNum, Err: ErrProfileIncludeFile, Cause: err}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil // C's fopen accepts a directory and reading it yields nothing
	}
	return parseProfile(f, name, p.root, nil, p.depth+1)
}

// includeDir parses, in byte order of their names, the files of dir whose
// names MIT accepts.
func (p *profParser) includeDir(dir string) error {
	err := parseProfileDir(dir, p.root, p.depth+1)
	var pe *ProfileError
	if err != nil && !errors.As(err, &pe) {
		return &ProfileError{File: p.file, Line: p.lineNum, Err: ErrProfileIncludeDir, Cause: err}
	}
	return err
}

// parseProfileDir reads the files of dir that includedir would read.
func parseProfileDir(dir string, root *profNode, depth int) error {
	if depth >= maxIncludeDepth {
		return errors.New("includes nested too deeply")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents { // os.ReadDir sorts by name, like MIT's strcmp sort
		if !includableName(e.Name()) {
			continue
		}
		p := &profParser{root: root, depth: depth - 1, file: dir}
		if err := p.includeFile(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// includableName reports whether includedir reads a file of this name:
// not a dotfile, and either ending in ".conf" or made only of letters,
// digits, '-' and '_' (so editor backups and package-manager leftovers are
// skipped).
func includableName(name string) bool {
	if name == "" || name[0] == '.' {
		return false
	}
	if strings.HasSuffix(name, ".conf") {
		return true
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// loadProfileFile reads one top-level profile file (or directory, which MIT
// treats like includedir). It returns fs.ErrNotExist-matching errors for a
// missing file so the caller can skip it as MIT does.
func loadProfileFile(path string, module *string) (*profNode, error) {
	if strings.HasPrefix(path, "~/") {
		if home := os.Getenv("HOME"); home != "" {
			path = home + path[1:]
		} else if h, err := os.UserHomeDir(); err == nil {
			path = h + path[1:]
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	root := &profNode{}
	if st.IsDir() {
		if err := parseProfileDir(path, root, 0); err != nil {
			var pe *ProfileError
			if errors.As(err, &pe) {
				return nil, err
			}
			return nil, &ProfileError{File: path, Err: ErrProfileIncludeDir, Cause: err}
		}
		return root, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := parseProfile(f, path, root, module, 0); err != nil {
		return nil, err
	}
	return root, nil
}

// isSkippableOpenError reports whether MIT skips a profile file that fails
// to open with err (missing), and whether it remembers the failure
// (unreadable).
func isSkippableOpenError(err error) (skip, remember bool) {
	var pe *ProfileError
	switch {
	case errors.As(err, &pe):
		return false, false // a parse or include error inside the file
	case errors.Is(err, fs.ErrNotExist):
		return true, false
	case errors.Is(err, fs.ErrPermission):
		return true, true
	}
	return false, false
}
