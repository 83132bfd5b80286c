// Package doccheck tests the parts of gokprop that are not Go code: the
// manual pages in man/, the systemd units in contrib/systemd, the
// monitoring files in contrib/prometheus and contrib/grafana, and the demo
// script in scripts/.
//
// The manual pages must render with groff without a single warning, and
// their SYNOPSIS must list exactly the options that cmd/kprop and
// cmd/kpropd print in their usage message, each of them described under
// OPTIONS. The systemd units are parsed here (sections, known directives,
// absolute command paths, the rules systemd applies to Type and ExecStart)
// and, when systemd-analyze is installed, verified by it too. The demo
// script must pass "bash -n". The Prometheus rules in contrib/prometheus
// must pass "promtool check rules" and their unit tests ("promtool test
// rules", which must fail for a wrong threshold), and they and the
// Grafana dashboard in contrib/grafana may use only the metrics kpropd
// exports, the series the rules record and the alerts they define.
//
// groff and promtool are required when the environment variable CI is
// non-empty (the CI script installs groff-base and prometheus); elsewhere
// their absence skips the manual page and rule tests. systemd-analyze is
// optional everywhere.
//
// This package has no API; it contains only tests.
package doccheck
