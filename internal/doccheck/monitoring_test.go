package doccheck

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/kpropd/metrics"
)

const (
	rulesFile     = "gokprop-kpropd.rules.yml"
	rulesTestFile = "gokprop-kpropd.rules.test.yml"
)

// promtool checks the alert rules and runs their unit tests; a copy of the
// rules with the stale threshold raised must fail those tests (so they can
// fail).
func TestPrometheusRules(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	dir := filepath.Join(root, "contrib", "prometheus")
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	rules, err := os.ReadFile(filepath.Join(dir, rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(dir, rulesTestFile))
	if err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	wrong := strings.Replace(string(rules), "kpropd:last_success_age_seconds > 7200", "kpropd:last_success_age_seconds > 72000", 1)
	if wrong == string(rules) {
		t.Fatal("the stale threshold is not where this test expects it")
	}
	if err := os.WriteFile(filepath.Join(broken, rulesFile), []byte(wrong), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, rulesTestFile), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", rulesTestFile)
	cmd.Dir = broken
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("the rule tests pass with a stale threshold of 20 hours:\n%s", out)
	}
}

// exportedMetrics is the names of the metrics kpropd --metrics-listen
// serves, those of incremental propagation included (exported once its
// poller has placed the replica).
func exportedMetrics(t *testing.T) []string {
	t.Helper()
	m := metrics.New()
	m.IpropPosition(iprop.Last{Sno: 1}, iprop.Last{Sno: 1})
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	return names
}

var (
	metricRE = regexp.MustCompile(`\b(?:kpropd|process|go)_[a-z0-9_]+`)
	recordRE = regexp.MustCompile(`\bkpropd:[a-z0-9_:]+`)
)

// metricName drops a histogram series' suffix.
func metricName(s string) string {
	for _, suf := range []string{"_bucket", "_count", "_sum"} {
		if n, ok := strings.CutSuffix(s, suf); ok && strings.HasPrefix(n, "kpropd_transfer_duration") {
			return n
		}
	}
	return s
}

// The rules use only metrics kpropd exports.
func TestRulesUseExportedMetrics(t *testing.T) {
	rules, err := os.ReadFile(filepath.Join(root, "contrib", "prometheus", rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	exported := exportedMetrics(t)
	for _, m := range metricRE.FindAllString(string(rules), -1) {
		if !slices.Contains(exported, metricName(m)) {
			t.Errorf("%s uses %s, which kpropd does not export (it exports %v)", rulesFile, m, exported)
		}
	}
}

// The dashboard is valid JSON in Grafana's dashboard model and queries
// only what kpropd exports, the rules record and the rules' alerts.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "contrib", "grafana", "gokprop-kpropd.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID           string `json:"uid"`
		Title         string `json:"title"`
		SchemaVersion int    `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Name, Type string
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int    `json:"id"`
			Title      string `json:"title"`
			Type       string `json:"type"`
			Datasource struct {
				Type, UID string
			} `json:"datasource"`
			GridPos *struct{ H, W, X, Y int } `json:"gridPos"`
			Targets []struct {
				Expr  string `json:"expr"`
				RefID string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" || dash.Title == "" || dash.SchemaVersion < 30 || len(dash.Panels) == 0 {
		t.Fatalf("not a dashboard: uid %q, title %q, schema %d, %d panels", dash.UID, dash.Title, dash.SchemaVersion, len(dash.Panels))
	}
	vars := map[string]string{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" || vars["instance"] != "query" {
		t.Errorf("template variables %v, want datasource and instance", vars)
	}
	rules, err := os.ReadFile(filepath.Join(root, "contrib", "prometheus", rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	recorded := regexp.MustCompile(`record: (\S+)`).FindAllStringSubmatch(string(rules), -1)
	alerts := regexp.MustCompile(`alert: (\S+)`).FindAllStringSubmatch(string(rules), -1)
	has := func(ms [][]string, name string) bool {
		return slices.ContainsFunc(ms, func(m []string) bool { return m[1] == name })
	}
	exported := exportedMetrics(t)
	ids := map[int]bool{}
	usesRules, usesAlerts := false, false
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 || p.Type == "" || p.Title == "" {
			t.Errorf("panel %d %q: no type, title or position", p.ID, p.Title)
		}
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: data source %q, want the ${datasource} variable", p.Title, p.Datasource.UID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			if !strings.Contains(tg.Expr, `instance=~"$instance"`) {
				t.Errorf("panel %q: %q ignores the instance variable", p.Title, tg.Expr)
			}
			for _, m := range metricRE.FindAllString(tg.Expr, -1) {
				if !slices.Contains(exported, metricName(m)) {
					t.Errorf("panel %q queries %s, which kpropd does not export", p.Title, m)
				}
			}
			for _, r := range recordRE.FindAllString(tg.Expr, -1) {
				usesRules = true
				if !has(recorded, r) {
					t.Errorf("panel %q queries %s, which %s does not record", p.Title, r, rulesFile)
				}
			}
			if m := regexp.MustCompile(`ALERTS\{alertname=~"([^"]+)"`).FindStringSubmatch(tg.Expr); m != nil {
				usesAlerts = true
				for _, a := range strings.Split(m[1], "|") {
					if !has(alerts, a) {
						t.Errorf("panel %q shows alert %s, which %s does not define", p.Title, a, rulesFile)
					}
				}
			}
		}
	}
	if !usesRules || !usesAlerts {
		t.Errorf("the dashboard uses the recording rules: %v, the alerts: %v; want both", usesRules, usesAlerts)
	}
}
