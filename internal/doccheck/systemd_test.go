package doccheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A unit is a parsed systemd unit file: section name to its directives in
// order.
type unit struct {
	name     string
	sections map[string][]directive
}

type directive struct {
	key, value string
	line       int
}

// values returns every value of key in section.
func (u *unit) values(section, key string) []string {
	var out []string
	for _, d := range u.sections[section] {
		if d.key == key {
			out = append(out, d.value)
		}
	}
	return out
}

func (u *unit) value(section, key string) string {
	v := u.values(section, key)
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parseUnit parses the syntax of systemd.syntax(7): comment lines, section
// headers, "Key=Value" lines and backslash continuations.
func parseUnit(name string, data []byte) (*unit, error) {
	u := &unit{name: name, sections: map[string][]directive{}}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	var cont strings.Builder
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if cont.Len() == 0 && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		if cont.Len() > 0 {
			line = cont.String() + line
			cont.Reset()
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("%s:%d: bad section header %q", name, n, line)
			}
			section = line[1 : len(line)-1]
			if _, dup := u.sections[section]; dup {
				return nil, fmt.Errorf("%s:%d: section [%s] repeated", name, n, section)
			}
			u.sections[section] = nil
			continue
		}
		if section == "" {
			return nil, fmt.Errorf("%s:%d: %q outside any section", name, n, line)
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s:%d: %q is not Key=Value", name, n, line)
		}
		u.sections[section] = append(u.sections[section], directive{k, strings.TrimSpace(v), n})
	}
	if cont.Len() > 0 {
		return nil, fmt.Errorf("%s: file ends in a continuation line", name)
	}
	return u, sc.Err()
}

// known lists, per section, the directives (of systemd 252, Debian
// bookworm's) that gokprop's units may use; anything else is a typo or
// needs adding here after checking systemd's documentation.
var known = map[string][]string{
	"Unit": {"Description", "Documentation", "After", "Before", "Wants", "Requires",
		"Conflicts", "PartOf", "ConditionPathExists"},
	"Install": {"WantedBy", "RequiredBy", "Alias", "Also", "DefaultInstance"},
	"Service": {"Type", "ExecStart", "ExecStartPre", "ExecReload", "ExecStop",
		"EnvironmentFile", "Environment", "Restart", "RestartSec", "KillMode",
		"TimeoutStartSec", "TimeoutStopSec", "PIDFile", "User", "Group",
		"ProtectSystem", "ProtectHome", "ReadWritePaths", "ReadOnlyPaths",
		"InaccessiblePaths", "PrivateTmp", "PrivateDevices", "ProtectProc",
		"ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups",
		"NoNewPrivileges", "CapabilityBoundingSet", "RestrictAddressFamilies"},
	"Timer": {"OnCalendar", "OnBootSec", "OnUnitActiveSec", "RandomizedDelaySec",
		"AccuracySec", "Persistent", "Unit"},
}

var sectionsOf = map[string][]string{
	".service": {"Unit", "Service", "Install"},
	".timer":   {"Unit", "Timer", "Install"},
}

// serviceTypes are the values of Type= that systemd 252 accepts.
var serviceTypes = []string{"simple", "exec", "forking", "oneshot", "dbus", "notify", "idle"}

func loadUnits(t *testing.T) map[string]*unit {
	t.Helper()
	dir := filepath.Join(root, "contrib", "systemd")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]*unit{}
	for _, e := range entries {
		if _, ok := sectionsOf[filepath.Ext(e.Name())]; !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		u, err := parseUnit(e.Name(), b)
		if err != nil {
			t.Fatal(err)
		}
		units[e.Name()] = u
	}
	for _, want := range []string{"gokprop-kpropd.service", "gokprop-kprop.service", "gokprop-kprop.timer", "gokprop-kprop@.service", "gokprop-kprop@.timer"} {
		if units[want] == nil {
			t.Fatalf("contrib/systemd/%s is missing", want)
		}
	}
	return units
}

func TestSystemdUnitsParse(t *testing.T) {
	units := loadUnits(t)
	for name, u := range units {
		t.Run(name, func(t *testing.T) {
			allowed := sectionsOf[filepath.Ext(name)]
			for s, ds := range u.sections {
				if !slices.Contains(allowed, s) {
					t.Errorf("section [%s] does not belong in a %s unit", s, filepath.Ext(name))
				}
				for _, d := range ds {
					if !slices.Contains(known[s], d.key) {
						t.Errorf("line %d: unknown directive %s= in [%s]", d.line, d.key, s)
					}
				}
			}
			if u.value("Unit", "Description") == "" {
				t.Error("no Description=")
			}
			// A service may lack WantedBy= when a timer starts it (and a
			// template always may).
			if len(u.values("Install", "WantedBy")) == 0 {
				timer := strings.TrimSuffix(name, ".service") + ".timer"
				if filepath.Ext(name) != ".service" || !strings.Contains(name, "@") && units[timer] == nil {
					t.Error("no WantedBy=: the unit cannot be enabled")
				}
			}
			if filepath.Ext(name) == ".service" {
				checkService(t, u)
			}
			if filepath.Ext(name) == ".timer" {
				checkTimer(t, u)
			}
		})
	}
}

// checkService applies systemd's rules for [Service].
func checkService(t *testing.T, u *unit) {
	typ := u.value("Service", "Type")
	if !slices.Contains(serviceTypes, typ) {
		t.Errorf("Type=%q is not a service type", typ)
	}
	starts := u.values("Service", "ExecStart")
	if len(starts) == 0 {
		t.Error("no ExecStart=")
	}
	if len(starts) > 1 && typ != "oneshot" {
		t.Errorf("%d ExecStart= lines need Type=oneshot, not %q", len(starts), typ)
	}
	for _, key := range []string{"ExecStart", "ExecReload", "ExecStop"} {
		for _, v := range u.values("Service", key) {
			cmd := strings.TrimLeft(v, "-@:+!")
			if !strings.HasPrefix(cmd, "/") {
				t.Errorf("%s=%s: the command must be an absolute path", key, v)
			}
		}
	}
}

func checkTimer(t *testing.T, u *unit) {
	if u.value("Timer", "OnCalendar") == "" && u.value("Timer", "OnUnitActiveSec") == "" {
		t.Error("the timer has no OnCalendar= or OnUnitActiveSec=")
	}
	if got := u.values("Install", "WantedBy"); !slices.Contains(got, "timers.target") {
		t.Errorf("WantedBy=%v, want timers.target", got)
	}
}

// The units do what the README promises: kpropd in the foreground, reload
// by SIGHUP, restart on failure; kprop dumps (--dump) and sends that dump,
// hourly, to every replica of REPLICAS at once, or with the template to
// the instance's replica.
func TestSystemdUnitsBehaviour(t *testing.T) {
	units := loadUnits(t)

	kpropd := units["gokprop-kpropd.service"]
	start := strings.Fields(kpropd.value("Service", "ExecStart"))
	if len(start) == 0 || filepath.Base(start[0]) != "kpropd" || !slices.Contains(start, "-D") {
		t.Errorf("kpropd ExecStart=%v: want kpropd -D (it must not detach)", start)
	}
	if got := kpropd.value("Service", "Type"); got != "exec" && got != "simple" {
		t.Errorf("kpropd Type=%s: kpropd -D neither forks nor notifies, want exec or simple", got)
	}
	if got := kpropd.value("Service", "ExecReload"); !strings.Contains(got, "-HUP $MAINPID") {
		t.Errorf("kpropd ExecReload=%q, want a SIGHUP to $MAINPID", got)
	}
	if got := kpropd.value("Service", "Restart"); got != "on-failure" {
		t.Errorf("kpropd Restart=%q, want on-failure", got)
	}

	for name, last := range map[string]string{"gokprop-kprop.service": "$REPLICAS", "gokprop-kprop@.service": "%i"} {
		kprop := units[name]
		starts := kprop.values("Service", "ExecStart")
		if len(starts) != 1 {
			t.Fatalf("%s has %d ExecStart= lines, want 1 (kprop --dump)", name, len(starts))
		}
		prop := strings.Fields(starts[0])
		fi := slices.Index(prop, "-f")
		if filepath.Base(prop[0]) != "kprop" || !slices.Contains(prop, "--dump") || fi < 0 || fi+1 >= len(prop) ||
			!strings.HasPrefix(prop[fi+1], "/var/lib/krb5kdc/replica_datatrans") {
			t.Errorf("%s ExecStart=%v, want kprop --dump ... -f /var/lib/krb5kdc/replica_datatrans...", name, prop)
		}
		if prop[len(prop)-1] != last {
			t.Errorf("%s must propagate to %s, got %v", name, last, prop)
		}
		if got := kprop.value("Service", "Type"); got != "oneshot" {
			t.Errorf("%s Type=%s, want oneshot", name, got)
		}
	}
	if got := units["gokprop-kprop.service"].value("Service", "EnvironmentFile"); got != "/etc/default/gokprop-kprop" {
		t.Errorf("gokprop-kprop.service EnvironmentFile=%q: REPLICAS must come from /etc/default/gokprop-kprop", got)
	}
	for _, name := range []string{"gokprop-kprop.timer", "gokprop-kprop@.timer"} {
		if got := units[name].value("Timer", "OnCalendar"); got != "hourly" {
			t.Errorf("%s OnCalendar=%q, want hourly (the guide's cron line)", name, got)
		}
	}
}

// systemd-analyze verify, when installed, on copies of the units whose
// programs are replaced by stubs (it checks that they are executable) and
// with the templates instantiated. Any message fails the test: it warns
// about unknown directives and bad values but still exits 0.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	stub := filepath.Join(dir, "stub")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	repl := strings.NewReplacer("/usr/local/sbin/kpropd", stub, "/usr/local/sbin/kprop", stub,
		"/usr/sbin/kdb5_util", stub)
	src := filepath.Join(root, "contrib", "systemd")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, e := range entries {
		if _, ok := sectionsOf[filepath.Ext(e.Name())]; !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte(repl.Replace(string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, filepath.Join(dir, strings.Replace(e.Name(), "@.", "@kdc02.example.com.", 1)))
	}
	cmd := exec.Command(sa, append([]string{"verify", "--man=no"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %v: %v\n%s", args, err, out)
	}
}
