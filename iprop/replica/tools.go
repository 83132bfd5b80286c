package replica

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gokprop/gokprop/dumpfmt"
)

// tools runs MIT's kdb5_util and kadmin.local on the replica's database,
// under a profile that turns incremental propagation off, so that neither
// reads nor writes the update log: this package keeps the log itself.
type tools struct {
	kdb5util, kadmin string
	realm, database  string
	dbArgs           []string
	env              []string
	dir              string // for temporary files
}

// noIpropConf is the profile appended to the search path (see
// newTools): MIT's kadm5_get_config_params, which decides whether a
// program logs to the update log, takes the last value of iprop_enable
// in the profile, so a file at the end of the path turns it off whatever
// kdc.conf and krb5.conf say.
const noIpropConf = "noiprop.conf"

// newTools prepares the commands: it writes dir/noiprop.conf, holding
// only iprop_enable = false for realm, and puts it last in the krb5.conf
// path (KRB5_CONFIG) of env. The KDC profile (KRB5_KDC_PROFILE) stays as
// the caller's environment has it, so every other setting (database_name,
// key_stash_file, dbmodules) is the one the replica's own programs read.
func newTools(cfg *Config, dir string) (*tools, error) {
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	path := filepath.Join(dir, noIpropConf)
	text := fmt.Sprintf("# Written by the replica's incremental-propagation applier: with\n"+
		"# this file last in the profile, kdb5_util and kadmin.local leave\n"+
		"# the update log alone.\n[realms]\n\t%s = {\n\t\tiprop_enable = false\n\t}\n", cfg.Realm)
	if strings.ContainsAny(cfg.Realm, "\n\r{}=[]\"") || cfg.Realm == "" {
		return nil, fmt.Errorf("replica: unusable realm name %q", cfg.Realm)
	}
	if err := writeFileSync(path, []byte(text), 0o644); err != nil {
		return nil, err
	}
	confPath := "/etc/krb5.conf"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "KRB5_CONFIG="); ok {
			confPath = v
		}
	}
	env = setEnv(env, "KRB5_CONFIG="+confPath+":"+path)
	kdb5util := cfg.KDB5Util
	if kdb5util == "" {
		kdb5util = DefaultKDB5Util
	}
	kadmin := cfg.KadminLocal
	if kadmin == "" {
		kadmin = findKadminLocal(kdb5util)
	}
	return &tools{kdb5util: kdb5util, kadmin: kadmin, realm: cfg.Realm, database: cfg.Database,
		dbArgs: cfg.DBArgs, env: env, dir: dir}, nil
}

// findKadminLocal looks for kadmin.local where kdb5util's installation
// has it: beside it (/usr/sbin), in an MIT build tree
// (kadmin/dbutil/kdb5_util, kadmin/cli/kadmin.local), else in PATH, else
// /usr/sbin.
func findKadminLocal(kdb5util string) string {
	dir := filepath.Dir(kdb5util)
	for _, c := range []string{filepath.Join(dir, "kadmin.local"), filepath.Join(dir, "..", "cli", "kadmin.local")} {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	if p, err := exec.LookPath("kadmin.local"); err == nil {
		return p
	}
	return "/usr/sbin/kadmin.local"
}

// setEnv returns env with kv ("NAME=value") replacing any NAME.
func setEnv(env []string, kv string) []string {
	name := kv[:strings.IndexByte(kv, '=')+1]
	out := make([]string, 0, len(env)+1)
	for _, e := range env {
		if !strings.HasPrefix(e, name) {
			out = append(out, e)
		}
	}
	return append(out, kv)
}

// commonArgs are the database options both programs take before their
// command: -r, -d and every -x.
func (t *tools) commonArgs() []string {
	args := []string{"-r", t.realm}
	if t.database != "" {
		args = append(args, "-d", t.database)
	}
	for _, x := range t.dbArgs {
		args = append(args, "-x", x)
	}
	return args
}

// run runs prog with args and stdin, returning what it printed.
func (t *tools) run(ctx context.Context, stdin []byte, prog string, args ...string) (stdout, stderr []byte, err error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = t.env
	cmd.Dir = t.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	// Its own process group, so that a cancelled context kills it alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if err != nil {
		err = &ToolError{Args: append([]string{prog}, args...), Output: lastLine(errb.String(), out.String()), Err: err}
	}
	return out.Bytes(), errb.Bytes(), err
}

// lastLine returns the last non-empty line of the first non-empty text.
func lastLine(texts ...string) string {
	for _, s := range texts {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
		return s
	}
	return ""
}

// ToolError reports an MIT program that failed or printed something this
// package could not account for.
type ToolError struct {
	Args   []string // the command line, program first
	Output string   // the line that tells why, if any
	Err    error    // the exit status, or what was wrong with the output
}

func (e *ToolError) Error() string {
	s := filepath.Base(e.Args[0]) + ": " + e.Err.Error()
	if e.Output != "" {
		s += ": " + e.Output
	}
	return s
}

// Unwrap returns Err.
func (e *ToolError) Unwrap() error { return e.Err }

// kadminSession runs one kadmin.local with the request lines on standard
// input.
func (t *tools) kadminSession(ctx context.Context, lines []string) (stdout, stderr []byte, err error) {
	var in bytes.Buffer
	for _, l := range lines {
		in.WriteString(l)
		in.WriteByte('\n')
	}
	return t.run(ctx, in.Bytes(), t.kadmin, t.commonArgs()...)
}

// getprincs reads the named principals with one kadmin.local session of
// "getprinc -terse" requests. A principal the database lacks maps to nil;
// one kadmin reported another error for (it cannot show a principal
// without a modifier, for one) is in unreadable with kadmin's message.
// Every name must be canonical (as krb5_unparse_name writes it), which is
// how kadmin prints it back.
func (t *tools) getprincs(ctx context.Context, names []string) (cur map[string]*terse, unreadable map[string]string, err error) {
	if len(names) == 0 {
		return map[string]*terse{}, map[string]string{}, nil
	}
	lines := make([]string, len(names))
	for i, n := range names {
		q, err := QuoteArg(n)
		if err != nil {
			return nil, nil, err
		}
		lines[i] = "getprinc -terse " + q
	}
	stdout, stderr, err := t.kadminSession(ctx, lines)
	if err != nil {
		return nil, nil, err
	}
	return parseGetprincs(t.kadmin, names, stdout, stderr)
}

// parseGetprincs accounts for each name asked for in kadmin's output.
func parseGetprincs(prog string, names []string, stdout, stderr []byte) (cur map[string]*terse, unreadable map[string]string, err error) {
	cur = make(map[string]*terse, len(names))
	unreadable = map[string]string{}
	asked := make(map[string]bool, len(names))
	for _, n := range names {
		asked[n] = true
	}
	// Records are the lines that begin with a quote (the requests kadmin
	// echoes begin with its prompt).
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "kadmin.local:  "); ok && strings.HasPrefix(rest, `"`) && strings.Contains(rest, "\t") {
			// No line break after the prompt: the record follows it.
			line = rest
		}
		if !strings.HasPrefix(line, `"`) {
			continue
		}
		rec, err := parseTerse(line)
		if err != nil {
			return nil, nil, &ToolError{Args: []string{prog, "getprinc -terse"}, Err: err}
		}
		if !asked[rec.name] || cur[rec.name] != nil {
			return nil, nil, &ToolError{Args: []string{prog, "getprinc -terse"}, Err: fmt.Errorf("unexpected record of %s", rec.name)}
		}
		cur[rec.name] = rec
	}
	// Each principal not printed must have been reported missing or
	// unreadable. Other lines on stderr (warnings) do not matter as long
	// as every name is accounted for.
	missing := map[string]bool{}
	var other []string
	for _, l := range strings.Split(string(stderr), "\n") {
		if l == "" {
			continue
		}
		if name, ok := strings.CutPrefix(l, `get_principal: Principal does not exist while retrieving "`); ok {
			if name, ok = strings.CutSuffix(name, `".`); ok {
				missing[name] = true
				continue
			}
		}
		other = append(other, l)
	}
	for _, n := range names {
		_, found := cur[n]
		switch {
		case found && missing[n]:
			return nil, nil, &ToolError{Args: []string{prog, "getprinc -terse"}, Err: fmt.Errorf("%s both shown and missing", n)}
		case missing[n]:
			cur[n] = nil
		case !found:
			// kadmin names the principal in its message: the one that
			// does is the reason.
			why := "not shown"
			for _, l := range other {
				if strings.Contains(l, `"`+n+`"`) {
					why = l
				}
			}
			unreadable[n] = why
		}
	}
	return cur, unreadable, nil
}

// delprincs deletes the named principals with one kadmin.local session of
// "delprinc -force" requests; a principal the database lacks counts as
// deleted, as MIT's replica counts it.
func (t *tools) delprincs(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	lines := make([]string, len(names))
	for i, n := range names {
		q, err := QuoteArg(n)
		if err != nil {
			return err
		}
		lines[i] = "delprinc -force " + q
	}
	stdout, stderr, err := t.kadminSession(ctx, lines)
	if err != nil {
		return err
	}
	return checkDelprincs(t.kadmin, names, stdout, stderr)
}

// checkDelprincs requires kadmin's output to report each name deleted or
// missing.
func checkDelprincs(prog string, names []string, stdout, stderr []byte) error {
	done := map[string]bool{}
	for _, l := range strings.Split(string(stdout), "\n") {
		for {
			rest, ok := strings.CutPrefix(l, "kadmin.local:  ")
			if !ok {
				break
			}
			l = rest
		}
		if rest, ok := strings.CutPrefix(l, `Principal "`); ok {
			if name, ok := strings.CutSuffix(rest, `" deleted.`); ok {
				done[name] = true
			}
		}
	}
	var other []string
	for _, l := range strings.Split(string(stderr), "\n") {
		if l == "" {
			continue
		}
		if name, ok := strings.CutPrefix(l, `delete_principal: Principal does not exist while deleting principal "`); ok {
			if name, ok = strings.CutSuffix(name, `"`); ok {
				done[name] = true
				continue
			}
		}
		other = append(other, l)
	}
	for _, n := range names {
		if !done[n] {
			return &ToolError{Args: []string{prog, "delprinc"}, Output: strings.Join(other, "; "), Err: fmt.Errorf("%s was not deleted", n)}
		}
	}
	return nil
}

// loadUpdate stores records with one "kdb5_util load -update" of a format
// 7 dump holding them.
func (t *tools) loadUpdate(ctx context.Context, recs []*dumpfmt.Principal) error {
	if len(recs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	w := dumpfmt.NewWriter(&buf, dumpfmt.Header{Format: dumpfmt.FormatR111})
	for _, r := range recs {
		if err := w.WritePrincipal(r); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	f, err := os.CreateTemp(t.dir, "update-*.dump")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(buf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	args := append(t.commonArgs(), "load", "-update", f.Name())
	_, _, err = t.run(ctx, nil, t.kdb5util, args...)
	return err
}

// dump writes a full "kdb5_util dump" of the database to path (and
// removes the path.dump_ok marker kdb5_util leaves).
func (t *tools) dump(ctx context.Context, path string) error {
	args := append(t.commonArgs(), "dump", path)
	_, _, err := t.run(ctx, nil, t.kdb5util, args...)
	os.Remove(path + ".dump_ok")
	return err
}
