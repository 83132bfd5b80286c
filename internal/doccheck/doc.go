// Package doccheck tests the parts of gokprop that are not Go code: the
// manual pages in man/, the systemd units in contrib/systemd and the demo
// script in scripts/.
//
// The manual pages must render with groff without a single warning, and
// their SYNOPSIS must list exactly the options that cmd/kprop and
// cmd/kpropd print in their usage message, each of them described under
// OPTIONS. The systemd units are parsed here (sections, known directives,
// absolute command paths, the rules systemd applies to Type and ExecStart)
// and, when systemd-analyze is installed, verified by it too. The demo
// script must pass "bash -n".
//
// groff is required when the environment variable CI is non-empty (the CI
// script installs groff-base); elsewhere its absence skips the manual page
// tests. systemd-analyze is optional everywhere.
//
// This package has no API; it contains only tests.
package doccheck
