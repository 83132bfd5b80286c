package metrics_test

import (
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/kpropd/metrics"
)

// Instrument a kpropd.Server and serve its metrics. A real program passes
// m.Handler() to an http.Server of its own (kpropd --metrics-listen).
func Example() {
	srv := &kpropd.Server{ /* Auth, Authorizer, File, Loader, ... */ }
	m := metrics.New()
	m.Instrument(srv)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "kpropd_last_success") || strings.HasPrefix(line, "kpropd_transfers") {
			fmt.Println(line)
		}
	}
	// Output:
	// kpropd_last_success_bytes 0
	// kpropd_last_success_timestamp_seconds 0
	// kpropd_transfers_in_progress 0
}
