// Package metrics exports a kpropd.Server's transfers as Prometheus
// metrics, with prometheus/client_golang.
//
// New makes the metrics on a registry of their own (with the Go runtime's
// and the process's standard collectors); Instrument hooks them to a
// Server's ConnState and Events, keeping any hooks already set; Handler
// serves the registry in the Prometheus exposition format (the kpropd
// command's --metrics-listen serves it at /metrics):
//
//	kpropd_last_success_timestamp_seconds  gauge      when the last propagation was loaded and acknowledged (0: none since start)
//	kpropd_last_success_bytes              gauge      its size
//	kpropd_transfer_duration_seconds       histogram  successful transfers, authorization to acknowledgement (load included)
//	kpropd_received_bytes_total            counter    dump bytes received, failed transfers included, as they arrive
//	kpropd_failures_total{reason}          counter    failed connections, by the step that failed
//	kpropd_transfers_in_progress           gauge      authorized transfers not yet over
//
// The reason of a failure is the kpropd.Step that failed, in snake case
// ("authenticate", "authorize", "lock", "read_block", "decode_block",
// "verify", "load", ...), "timeout" for a transfer that ran out of time,
// "shutdown" for one cut by the server stopping, or "other". Every reason
// is exported from the start with the value 0, so that increase() and
// rate() see the first failure.
//
// The alert rules in contrib/prometheus use these names: a replica is
// stale when kpropd_last_success_timestamp_seconds is more than two hours
// old in a kpropd that has run for two hours (process_start_time_seconds).
//
// # Incremental propagation
//
// A kpropd in iprop mode also exports, once its poller has placed the
// replica (IpropPosition, the kpropd.Poller's Position hook), the serial
// number of the last update the replica holds (kpropd_iprop_last_serial,
// a gauge) and how far that update's time stamp is behind the primary's
// last at the last poll (kpropd_iprop_lag_seconds, a gauge; 0 when up to
// date) and when that poll was (kpropd_iprop_last_poll_timestamp_seconds).
// In this mode kpropd_last_success_* move only with full resyncs, so the
// alert rules in contrib/prometheus judge such a replica by these instead.
// Other collectors of the same process can go on Registry.
package metrics
