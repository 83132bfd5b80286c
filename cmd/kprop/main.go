// Command kprop propagates a Kerberos database dump from a primary KDC to
// the kpropd of one or more replicas. With one replica it is MIT's kprop,
// with the same flags, files, messages and exit status:
//
//	kprop [-r realm] [-f file] [-d] [-P port] [-s keytab] replica_host
//
// It authenticates as host/<this host>@REALM with a key from the keytab,
// sends the dump written by "kdb5_util dump" (default
// /var/lib/krb5kdc/replica_datatrans, which must not be newer than its
// .dump_ok marker), and prints "Database propagation to HOST: SUCCEEDED"
// once the replica has loaded it.
//
// Beyond MIT's:
//
//	kprop [-r realm] [-f file] [-d] [-P port] [-s keytab] [--dump]
//	      [--parallel N] [--log-format text|json] replica_host[:port]...
//
// several replicas are sent the dump at once (each with its own ticket,
// connection and session; the dump is read once and shared), --dump runs
// "kdb5_util dump" first and checks the result, a terminal shows a
// progress bar per replica, and --log-format writes log/slog records
// instead of MIT's error lines. See the manual page.
//
// A replica running this module's kpropd gets the dump in a faster data
// phase (AES-256-GCM records, see krbauth.State.FastData) negotiated
// during authentication; MIT's kpropd ignores the offer and gets MIT's
// wire. --mit-wire makes no offer.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gokprop/gokprop/internal/comerr"
	"github.com/gokprop/gokprop/internal/getopt"
	"github.com/gokprop/gokprop/internal/wire"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
	"github.com/gokprop/gokprop/krbconf"
	"github.com/gokprop/gokprop/krbkdc"
)

// defaultFile is Debian's KDC_DIR/replica_datatrans.
const defaultFile = "/var/lib/krb5kdc/replica_datatrans"

// stallTimeout is how long a replica may take no data while the others
// of a fan-out wait for it (kpropd's own default limit on a whole
// transfer).
const stallTimeout = 5 * time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are kprop's command-line settings.
type options struct {
	realm, file, port, keytab string
	hosts                     []string
	debug                     int
	dump                      bool
	parallel                  int
	logFormat                 string
	mitWire                   bool
}

// usage prints MIT kprop's usage message, exactly, on a command-line
// error.
func usage(prog string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "\nUsage: %s [-r realm] [-f file] [-d] [-P port] [-s keytab] replica_host\n\n", prog)
	return 1
}

// help prints the whole usage, MIT's options and ours, for --help.
func help(prog string, stdout io.Writer) int {
	fmt.Fprintf(stdout, "Usage: %s [-r realm] [-f file] [-d] [-P port] [-s keytab]\n"+
		"\t[--dump] [--parallel N] [--log-format text|json] [--mit-wire]\n"+
		"\treplica_host[:port]...\n", prog)
	return 0
}

func parseArgs(args []string, stdout, stderr io.Writer) (*options, int) {
	prog := args[0]
	o := &options{file: defaultFile}
	opts, operands, err := getopt.Parse(args[1:], "r:f:dP:s:", []string{"dump", "parallel=", "log-format=", "help", "mit-wire"})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return nil, usage(prog, stderr)
	}
	for _, op := range opts {
		switch op.Name {
		case "r":
			o.realm = op.Arg
		case "f":
			o.file = op.Arg
		case "d":
			o.debug++
		case "P":
			o.port = op.Arg
		case "s":
			o.keytab = op.Arg
		case "dump":
			o.dump = true
		case "mit-wire":
			o.mitWire = true
		case "parallel":
			n, err := strconv.Atoi(op.Arg)
			if err != nil || n < 1 {
				fmt.Fprintf(stderr, "%s: --parallel wants a positive number, not '%s'\n", prog, op.Arg)
				return nil, usage(prog, stderr)
			}
			o.parallel = n
		case "log-format":
			if op.Arg != "text" && op.Arg != "json" {
				fmt.Fprintf(stderr, "%s: --log-format is text or json, not '%s'\n", prog, op.Arg)
				return nil, usage(prog, stderr)
			}
			o.logFormat = op.Arg
		case "help":
			return nil, help(prog, stdout)
		}
	}
	if len(operands) == 0 {
		return nil, usage(prog, stderr)
	}
	o.hosts = operands
	return o, 0
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	prog := args[0]
	o, code := parseArgs(args, stdout, stderr)
	if o == nil {
		return code
	}
	targets, err := parseTargets(o.hosts, o.port)
	if err != nil {
		comerr.Print(stderr, prog, nil, "%v", err)
		return usage(prog, stderr)
	}
	out := newOutput(prog, o, targets, stdout, stderr)
	fail := func(err error, context string, a ...any) int {
		out.fatal(comerr.Line(prog, err, fmt.Sprintf(context, a...)) + "\n")
		out.finish(0)
		return 1
	}

	cfg, err := krbconf.LoadConfig()
	if err != nil {
		return fail(err, "while initializing krb5")
	}
	realm := o.realm
	if realm == "" {
		if realm, err = cfg.DefaultRealm(); err != nil {
			return fail(err, "while getting default realm")
		}
	}

	// Tickets first, as MIT kprop does: a credentials problem is reported
	// before the dump or the network is touched.
	canon := &krbconf.Canonicalizer{Config: cfg}
	client, err := canon.Principal(ctx, wire.ServiceName, "", realm)
	if err != nil {
		return fail(err, "while setting client principal name")
	}
	failed := make([]*failure, len(targets))
	servers := make([]krb5.Principal, len(targets))
	for i, t := range targets {
		if servers[i], err = canon.Principal(ctx, wire.ServiceName, t.host, realm); err != nil {
			failed[i] = &failure{stage: stageServerPrincipal, err: err}
		}
	}
	if len(targets) == 1 && failed[0] != nil {
		out.failed(0, *failed[0])
		out.finish(0)
		return 1
	}
	ktName := o.keytab
	if ktName == "" {
		ktName = krbconf.KeytabName(cfg)
	}
	if _, err := krbconf.KeytabPath(ktName); err != nil {
		return fail(err, "while resolving keytab")
	}
	kt, err := krbconf.LoadKeytab(ktName)
	if err != nil {
		return fail(err, "while getting initial credentials\n")
	}
	creds := make([]*krbauth.Credentials, len(targets))
	kdc := &krbkdc.KDCClient{Config: cfg}
	var wg sync.WaitGroup
	for i := range targets {
		if failed[i] != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := kdc.GetInitialCredentials(ctx, kt, client, servers[i])
			if err != nil {
				failed[i] = &failure{stage: stageCredentials, err: err}
				return
			}
			creds[i] = c
		}()
	}
	wg.Wait()
	live := 0
	for i := range targets {
		if failed[i] != nil {
			out.failed(i, *failed[i])
		} else {
			live++
		}
	}
	if live == 0 {
		out.finish(0)
		return 1
	}

	if o.dump {
		if code := makeDump(ctx, prog, o, realm, out, stderr); code != 0 {
			out.finish(0)
			return code
		}
	}
	dump, err := kprop.OpenDump(o.file)
	if err != nil {
		return fail(nil, "%s", dumpErrorText(err))
	}
	defer dump.Close()
	if o.dump {
		sum, err := kprop.ValidateDump(dump)
		if err != nil {
			return fail(nil, "%v while validating the database dump", err)
		}
		out.info("dump validated", "file", o.file, "principals", sum.Principals, "policies", sum.Policies, "bytes", sum.Bytes)
	}

	ok := fanout(ctx, o, targets, cfg, creds, dump, out)
	out.finish(ok)
	if ok != len(targets) {
		return 1
	}
	return 0
}

// makeDump runs "kdb5_util dump FILE" for --dump; kdb5_util's messages go
// to standard error (or into the log record).
func makeDump(ctx context.Context, prog string, o *options, realm string, out output, stderr io.Writer) int {
	k := &kprop.KDB5Util{Realm: o.realm}
	var captured lockedBuffer
	if o.logFormat == "" {
		k.Output = stderr
	} else {
		k.Output = &captured
	}
	start := time.Now()
	if err := k.Dump(ctx, o.file); err != nil {
		if o.logFormat != "" {
			out.info("kdb5_util output", "output", oneLine(captured.String()))
		}
		out.fatal(comerr.Line(prog, nil, err.Error()) + "\n")
		return 1
	}
	out.info("database dumped", "file", o.file, "realm", realm, "command", k.Args(o.file), "duration_seconds", time.Since(start).Seconds())
	return 0
}

// fanout propagates the dump to every target that has credentials and
// reports each as it finishes; it returns how many succeeded.
func fanout(ctx context.Context, o *options, targets []target, cfg *krbconf.Config, creds []*krbauth.Credentials, dump *kprop.Dump, out output) int {
	var replicas []kprop.Replica
	var index []int // replicas[j] is targets[index[j]]
	for i, t := range targets {
		if creds[i] == nil {
			continue
		}
		replicas = append(replicas, kprop.Replica{
			Name:   t.label,
			Addr:   net.JoinHostPort(t.host, t.port),
			Dial:   func(ctx context.Context) (net.Conn, error) { return dialTarget(ctx, t.host, t.port) },
			Config: mitWire(replicaConfig(cfg, creds[i]), o.mitWire),
		})
		index = append(index, i)
	}
	var mu sync.Mutex
	ok := 0
	out.begin(dump.Size)
	f := &kprop.Fanout{
		Parallel:     o.parallel,
		StallTimeout: stallTimeout,
		Started:      func(j int, _ *kprop.Replica) { out.started(index[j]) },
		Progress:     func(j int, sent int64) { out.progress(index[j], sent) },
		Done: func(j int, r kprop.ReplicaResult) {
			i := index[j]
			if r.Err != nil {
				out.failed(i, failure{stage: stagePropagate, err: r.Err})
				return
			}
			lastProp := kprop.WriteLastProp(o.file, targets[i].label)
			out.succeeded(i, r.Result, r.Duration, lastProp)
			mu.Lock()
			ok++
			mu.Unlock()
		},
	}
	f.Propagate(ctx, dump, dump.Size, replicas)
	return ok
}

// replicaConfig is a replica's propagation configuration: its
// credentials, checked with krb5.conf's clockskew as MIT's
// krb5_mk_req_extended checks them.
func replicaConfig(cfg *krbconf.Config, creds *krbauth.Credentials) *kprop.Config {
	return &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds, ClockSkew: cfg.ClockSkew()}}
}

// mitWire applies --mit-wire to a replica's configuration.
func mitWire(c *kprop.Config, on bool) *kprop.Config {
	c.MITWire = on
	return c
}

// newOutput chooses how run reports: log records with --log-format, else
// MIT's lines, with progress bars when standard error is a terminal
// (never with -d, whose lines would break them).
func newOutput(prog string, o *options, targets []target, stdout, stderr io.Writer) output {
	if o.logFormat != "" {
		level := slog.LevelInfo
		if o.debug > 0 {
			level = slog.LevelDebug
		}
		hopts := &slog.HandlerOptions{Level: level}
		var h slog.Handler = slog.NewTextHandler(stderr, hopts)
		if o.logFormat == "json" {
			h = slog.NewJSONHandler(stderr, hopts)
		}
		return &logOutput{prog: prog, targets: targets, stdout: stdout, log: slog.New(h)}
	}
	return &mitOutput{prog: prog, targets: targets, stdout: stdout, stderr: stderr, debug: o.debug > 0,
		wantBars: o.debug == 0 && isTerminal(stderr)}
}

// lockedBuffer collects kdb5_util's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
