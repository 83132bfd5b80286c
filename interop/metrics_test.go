package interop

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// scrape fetches and parses a Prometheus endpoint.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// sample returns the value of name's sample whose labels include
// label=value (any sample when label is empty).
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name, label, value string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	for _, m := range f.GetMetric() {
		match := label == ""
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				match = true
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no sample %s{%s=%q}", name, label, value)
	return 0
}

// MIT kprop propagates to our kpropd --metrics-listen; the metrics scraped
// afterwards show the transfer, and a refused propagation shows as a
// failure; kpropd --log-format json writes the transfer as JSON records.
func TestKpropdMetricsAndJSONLog(t *testing.T) {
	port := mitrealm.ReservePort(t)
	w := newFanWorld(t, []kpropdKind{goKpropd}, "-d", "--log-format=json", "--metrics-listen=127.0.0.1:"+strconv.Itoa(port))
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/metrics"
	fams := scrape(t, url)
	if got := sample(t, fams, "kpropd_last_success_timestamp_seconds", "", ""); got != 0 {
		t.Errorf("last success before any: %v", got)
	}

	st, err := os.Stat(w.dump)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	w.primary.Kprop(t, w.dump, w.kpropds[0].Port)
	after := time.Now()
	// kpropd acknowledges before it is done with the connection: wait for
	// its last record, which comes after the metrics are updated.
	w.kpropds[0].WaitFor(t, `"ok":true,"loaded":true}`, 10*time.Second)
	fams = scrape(t, url)
	if got := sample(t, fams, "kpropd_last_success_bytes", "", ""); got != float64(st.Size()) {
		t.Errorf("kpropd_last_success_bytes %v, want the dump's %d", got, st.Size())
	}
	if got := sample(t, fams, "kpropd_received_bytes_total", "", ""); got != float64(st.Size()) {
		t.Errorf("kpropd_received_bytes_total %v, want %d", got, st.Size())
	}
	if got := sample(t, fams, "kpropd_last_success_timestamp_seconds", "", ""); got < float64(before.Unix()) || got > float64(after.Unix()+1) {
		t.Errorf("kpropd_last_success_timestamp_seconds %v, not between %d and %d", got, before.Unix(), after.Unix())
	}
	if got := sample(t, fams, "kpropd_transfer_duration_seconds", "", ""); got != 1 {
		t.Errorf("kpropd_transfer_duration_seconds count %v, want 1", got)
	}
	if got := sample(t, fams, "kpropd_transfers_in_progress", "", ""); got != 0 {
		t.Errorf("kpropd_transfers_in_progress %v", got)
	}
	if got := sample(t, fams, "kpropd_failures_total", "reason", "authorize"); got != 0 {
		t.Errorf("failures before a refusal: %v", got)
	}

	w.replicas[0].WriteKpropdACL(t, "host/someone.else@"+w.primary.Realm)
	o := w.run(t, w.mitKprop, w.kpropArgs([]string{"-P", strconv.Itoa(w.kpropds[0].Port)}, mitrealm.ReplicaHost)...)
	if o.status != 1 {
		t.Fatalf("a refused propagation: %+v", o)
	}
	w.kpropds[0].WaitFor(t, `"ok":false,"loaded":false}`, 10*time.Second)
	fams = scrape(t, url)
	if got := sample(t, fams, "kpropd_failures_total", "reason", "authorize"); got != 1 {
		t.Errorf("failures{reason=authorize} %v after a refusal, want 1", got)
	}
	if got := sample(t, fams, "kpropd_transfer_duration_seconds", "", ""); got != 1 {
		t.Errorf("a refusal was timed as a transfer")
	}

	// kpropd -d --log-format json: standard output has "ready", standard
	// error one JSON record per line.
	var jsonLines []string
	for _, line := range strings.Split(strings.TrimSpace(w.kpropds[0].Output()), "\n") {
		if line != "ready" {
			jsonLines = append(jsonLines, line)
		}
	}
	recs := parseJSONLines(t, strings.Join(jsonLines, "\n"))
	seen := map[string]map[string]any{}
	for _, r := range recs {
		seen[r["msg"].(string)] = r
	}
	if r := seen["transfer finished"]; r == nil || r["bytes"] != float64(st.Size()) || !strings.HasPrefix(r["peer"].(string), "127.0.0.1:") {
		t.Errorf("transfer finished record %v", r)
	}
	if r := seen["authenticated"]; r == nil || r["ticket_enctype"] != "aes256-cts-hmac-sha1-96" {
		t.Errorf("authenticated record %v", r)
	}
	if r := seen["transfer failed"]; r == nil || r["step"] != "authorize" || !strings.Contains(r["err"].(string), "Rejected connection") {
		t.Errorf("transfer failed record %v", r)
	}
}
