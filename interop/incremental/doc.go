// Package incremental holds the interop tests of incremental propagation
// with MIT Kerberos as the primary: MIT kadmind serves iprop, and MIT
// kpropd and this module's kpropd, each in iprop mode on its own copy of
// one replica, must apply the same updates into byte-identical databases
// (kdb5_util dump) and update logs, scenario by scenario and for every
// session enctype; and MIT's own test of incremental propagation,
// src/tests/t_iprop.py, is reproduced stage by stage with this module's
// kpropd (with MIT's kprop, and with this module's kprop sending the full
// resyncs).
//
// The package has only tests; they need the MIT programs (see
// internal/mitrealm).
package incremental
