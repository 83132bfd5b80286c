package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gokprop/gokprop/kprop"
)

// output is where run reports: MIT's lines (mitOutput) or log/slog
// records (logOutput). Its methods may be called from the replicas'
// goroutines at once.
type output interface {
	// fatal reports a failure that stops kprop before any replica is
	// sent anything; text is MIT's line(s).
	fatal(text string)
	// info reports a step of kprop itself (the dump with --dump).
	info(msg string, args ...any)
	// begin announces that the dump, of size bytes, is about to be sent.
	begin(size int64)
	started(i int)
	progress(i int, sent int64)
	failed(i int, f failure)
	// succeeded reports an acknowledged propagation; lastProp is the
	// error writing its .last_prop file, if any.
	succeeded(i int, res *kprop.Result, d time.Duration, lastProp error)
	// finish ends the report, with the summary when there are several
	// replicas.
	finish(ok int)
}

// mitOutput prints what MIT kprop prints: "Database propagation to HOST:
// SUCCEEDED" on standard output, errors in MIT's words on standard error,
// with -d "N bytes sent." after each block. With several replicas each
// replica's lines other than SUCCEEDED are prefixed with "HOST: " (they
// are otherwise MIT's lines for that replica alone), and a summary line
// ends the output. When bars is set, standard error is a terminal showing
// progress bars, and the lines wait until the bars are gone.
type mitOutput struct {
	prog           string
	targets        []target
	stdout, stderr io.Writer
	debug          bool
	wantBars       bool  // standard error is a terminal
	bars           *bars // the bars, once begin has made them

	mu      sync.Mutex
	pending []pendingLine
	bad     failedSet
}

type pendingLine struct {
	w    io.Writer
	text string
}

func (o *mitOutput) multi() bool { return len(o.targets) > 1 }

// write prints text on w at once, or keeps it for after the bars.
func (o *mitOutput) write(w io.Writer, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.bars != nil {
		o.pending = append(o.pending, pendingLine{w, text})
		return
	}
	io.WriteString(w, text)
}

// replicaText prefixes a replica's line(s) with its label when there are
// several replicas.
func (o *mitOutput) replicaText(i int, text string) string {
	if !o.multi() {
		return text
	}
	return prefixLines(o.targets[i].label+": ", text)
}

func (o *mitOutput) fatal(text string) {
	o.bad.addAll(len(o.targets))
	o.write(o.stderr, text)
}

func (o *mitOutput) begin(size int64) {
	if !o.wantBars {
		return
	}
	labels := make([]string, len(o.targets))
	for i, t := range o.targets {
		labels[i] = t.label
	}
	o.mu.Lock()
	o.bars = newBars(o.stderr, labels, size)
	o.mu.Unlock()
}

func (o *mitOutput) info(string, ...any) {}

func (o *mitOutput) started(i int) {
	if o.bars != nil {
		o.bars.started(i)
	}
}

func (o *mitOutput) progress(i int, sent int64) {
	if o.bars != nil {
		o.bars.progress(i, sent)
	}
	if o.debug {
		o.write(o.stdout, o.replicaText(i, fmt.Sprintf("%d bytes sent.\n", sent)))
	}
}

func (o *mitOutput) failed(i int, f failure) {
	o.bad.add(i)
	if o.bars != nil {
		o.bars.done(i, false)
	}
	o.write(o.stderr, o.replicaText(i, mitText(o.prog, o.targets[i].host, f)))
}

func (o *mitOutput) succeeded(i int, _ *kprop.Result, _ time.Duration, lastProp error) {
	if o.bars != nil {
		o.bars.done(i, true)
	}
	if lastProp != nil {
		o.write(o.stderr, o.replicaText(i, o.prog+": "+capitalizeErr(lastProp)+"\n"))
	}
	o.write(o.stdout, fmt.Sprintf("Database propagation to %s: SUCCEEDED\n", o.targets[i].label))
}

func (o *mitOutput) finish(ok int) {
	if o.bars != nil {
		o.bars.wait()
	}
	o.mu.Lock()
	o.bars = nil
	pending := o.pending
	o.pending = nil
	o.mu.Unlock()
	for _, p := range pending {
		io.WriteString(p.w, p.text)
	}
	if o.multi() {
		fmt.Fprintln(o.stdout, summary(o.targets, ok, o.bad.labels(o.targets)))
	}
}

// failedSet records which replicas failed.
type failedSet struct {
	mu  sync.Mutex
	idx map[int]bool
}

// addAll marks every one of n replicas as failed.
func (s *failedSet) addAll(n int) {
	for i := range n {
		s.add(i)
	}
}

func (s *failedSet) add(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx == nil {
		s.idx = map[int]bool{}
	}
	s.idx[i] = true
}

// labels lists the failed replicas' labels in command-line order.
func (s *failedSet) labels(ts []target) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for i, t := range ts {
		if s.idx[i] {
			out = append(out, t.label)
		}
	}
	return out
}

// summary is the last line of a propagation to several replicas:
// "Database propagation to 3 replicas: 2 SUCCEEDED, 1 FAILED (kdc03)".
// failed lists the labels of the replicas that failed.
func summary(ts []target, ok int, failed []string) string {
	s := fmt.Sprintf("Database propagation to %d replicas: %d SUCCEEDED", len(ts), ok)
	if ok < len(ts) {
		s += fmt.Sprintf(", %d FAILED", len(ts)-ok)
		s += " (" + strings.Join(failed, ", ") + ")"
	}
	return s
}

// logOutput reports as log/slog records on standard error (--log-format)
// instead of MIT's error lines; standard output still gets MIT's
// SUCCEEDED lines and the summary.
type logOutput struct {
	prog    string
	targets []target
	stdout  io.Writer
	log     *slog.Logger

	mu  sync.Mutex
	bad failedSet
}

func (o *logOutput) fatal(text string) {
	o.bad.addAll(len(o.targets))
	o.log.Error("propagation failed", "err", oneLine(text))
}

func (o *logOutput) begin(int64) {}

func (o *logOutput) info(msg string, args ...any) { o.log.Info(msg, args...) }

func (o *logOutput) replica(i int) slog.Attr { return slog.String("replica", o.targets[i].label) }

func (o *logOutput) started(i int) {
	o.log.Info("propagation started", o.replica(i), "host", o.targets[i].host, "port", o.targets[i].port)
}

func (o *logOutput) progress(i int, sent int64) {
	o.log.Debug("bytes sent", o.replica(i), "bytes", sent)
}

func (o *logOutput) failed(i int, f failure) {
	o.bad.add(i)
	o.log.Error("propagation failed", o.replica(i), "step", stepName(f),
		"err", oneLine(mitText(o.prog, o.targets[i].host, f)))
}

func (o *logOutput) succeeded(i int, res *kprop.Result, d time.Duration, lastProp error) {
	if lastProp != nil {
		o.log.Error("writing last_prop failed", o.replica(i), "err", capitalizeErr(lastProp))
	}
	o.log.Info("propagation succeeded", o.replica(i), "bytes", res.Size, "chunks", res.Chunks,
		"enctype", res.Enctype.String(), "fast_data", res.FastData, "duration_seconds", d.Seconds())
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.stdout, "Database propagation to %s: SUCCEEDED\n", o.targets[i].label)
}

func (o *logOutput) finish(ok int) {
	if len(o.targets) <= 1 {
		return
	}
	failed := o.bad.labels(o.targets)
	o.log.Info("propagation summary", "replicas", len(o.targets), "succeeded", ok, "failed", failed)
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintln(o.stdout, summary(o.targets, ok, failed))
}

// oneLine joins MIT's lines into one, for a log record.
func oneLine(text string) string {
	var parts []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
