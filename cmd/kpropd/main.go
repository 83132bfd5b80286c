// Command kpropd receives Kerberos database propagations on a replica KDC,
// as MIT's kpropd does, with the same flags, files and messages:
//
//	kpropd [-r realm] [-s keytab] [-d] [-D] [-S] [-f replica_file]
//	       [-F kerberos_db_file] [-p kdb5_util_pathname] [-x db_args]*
//	       [-P port] [-a acl_file] [-A admin_server] [--pid-file=pid_file]
//
// and options of its own: --no-verify (see below), --mit-wire,
// --metrics-listen and --log-format.
//
// A kprop of this module offers a faster data phase (AES-256-GCM records,
// see krbauth.State.FastData), which kpropd accepts unless --mit-wire is
// given; MIT's kprop never offers it and always gets MIT's wire.
//
// Started from inetd (standard input is a socket) it serves that one
// connection; otherwise it listens on the kprop port (krb5_prop, else 754)
// on every address. Each authenticated and authorized transfer is written
// to FILE.temp, checked as it arrives (unless --no-verify: see
// dumpfmt.Validator), renamed to FILE (default
// /var/lib/krb5kdc/from_master) and loaded with "kdb5_util load" before
// the primary is told it succeeded.
// Authenticators are recorded in MIT's replay cache (KRB5RCACHENAME,
// KRB5RCACHETYPE, default_rcache_name, else krb5_EUID.rcache2 in
// KRB5RCACHEDIR or /var/tmp), which MIT's kpropd on the same host shares
// and which survives restarts.
//
// With iprop_enable in the realm's kdc.conf section, a standalone kpropd
// also polls the primary's kadmind for incremental updates (iprop.go),
// and loads the full resyncs the listener receives with "load -i".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/comerr"
	"github.com/gokprop/gokprop/internal/getopt"
	"github.com/gokprop/gokprop/internal/wire"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krbauth"
	"github.com/gokprop/gokprop/krbconf"
)

// Debian's compiled-in defaults.
const (
	defaultFile = "/var/lib/krb5kdc/from_master"
	defaultACL  = "/etc/krb5kdc/kpropd.acl"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	realm, keytab, file, database, kdb5util, port, acl, pidFile string
	adminServer                                                 string
	dbArgs                                                      []string
	debug, nodaemon                                             int
	runOnce, noVerify, mitWire                                  bool
	metricsListen, logFormat                                    string
	help                                                        bool
}

func usage(prog string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "\nUsage: %s [-r realm] [-s keytab] [-d] [-D] [-S]\n"+
		"\t[-f replica_file] [-F kerberos_db_file ]\n"+
		"\t[-p kdb5_util_pathname] [-x db_args]* [-P port]\n"+
		"\t[-a acl_file] [-A admin_server] [--pid-file=pid_file]\n", prog)
	return 1
}

// help prints the whole usage, MIT's options and ours, for --help.
func help(prog string, stdout io.Writer) int {
	fmt.Fprintf(stdout, "Usage: %s [-r realm] [-s keytab] [-d] [-D] [-S]\n"+
		"\t[-f replica_file] [-F kerberos_db_file ]\n"+
		"\t[-p kdb5_util_pathname] [-x db_args]* [-P port]\n"+
		"\t[-a acl_file] [-A admin_server] [--pid-file=pid_file]\n"+
		"\t[--metrics-listen=addr] [--log-format=text|json] [--no-verify] [--mit-wire]\n", prog)
	return 0
}

func parseArgs(args []string, stderr io.Writer) (*options, int) {
	prog := args[0]
	o := &options{file: defaultFile, kdb5util: kpropd.DefaultKDB5Util, acl: defaultACL}
	opts, operands, err := getopt.Parse(args[1:], "A:f:F:p:P:r:s:DdSa:tx:", []string{"pid-file=", "metrics-listen=", "log-format=", "help", "no-verify", "mit-wire"})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return nil, usage(prog, stderr)
	}
	if len(operands) != 0 {
		return nil, usage(prog, stderr)
	}
	for _, op := range opts {
		switch op.Name {
		case "f":
			o.file = op.Arg
		case "F":
			o.database = op.Arg
		case "p":
			o.kdb5util = op.Arg
		case "P":
			o.port = op.Arg
		case "r":
			o.realm = op.Arg
		case "s":
			o.keytab = op.Arg
		case "D":
			o.nodaemon++
		case "d":
			o.debug++
		case "a":
			o.acl = op.Arg
		case "t":
			o.runOnce = true
		case "pid-file":
			o.pidFile = op.Arg
		case "no-verify":
			o.noVerify = true
		case "mit-wire":
			o.mitWire = true
		case "metrics-listen":
			o.metricsListen = op.Arg
		case "log-format":
			if op.Arg != "text" && op.Arg != "json" {
				fmt.Fprintf(stderr, "%s: --log-format is text or json, not '%s'\n", prog, op.Arg)
				return nil, usage(prog, stderr)
			}
			o.logFormat = op.Arg
		case "help":
			o.help = true
		case "A":
			o.adminServer = op.Arg
		case "x":
			o.dbArgs = append(o.dbArgs, op.Arg)
		case "S":
			// Obsolete: standalone mode is detected.
		}
	}
	return o, 0
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	prog := args[0]
	o, code := parseArgs(args, stderr)
	if o == nil {
		return code
	}
	if o.help {
		return help(prog, stdout)
	}
	fail := func(err error, context string, a ...any) int {
		comerr.Print(stderr, prog, err, context, a...)
		return 1
	}

	cfg, err := krbconf.LoadKDCConfig()
	if err != nil {
		return fail(err, "while initializing krb5")
	}
	realm := o.realm
	if realm == "" {
		if realm, err = cfg.DefaultRealm(); err != nil {
			return fail(err, "Unable to get default realm")
		}
	}
	ctx := context.Background()
	me, err := (&krbconf.Canonicalizer{Config: cfg}).Principal(ctx, wire.ServiceName, "", realm)
	if err != nil {
		return fail(err, "while trying to construct my service name")
	}
	timeout, err := cfg.RealmDuration(realm, "iprop_resync_timeout", kpropd.DefaultTimeout)
	if err != nil {
		return fail(err, "while initializing")
	}
	permitted, err := cfg.PermittedEnctypes()
	if err != nil {
		return fail(err, "while initializing")
	}

	log := newLogger(o.debug > 0, o.nodaemon > 0, o.logFormat, stderr)
	// With iprop_enable, incremental propagation (see iprop.go).
	ip, err := newIprop(prog, o, cfg, realm, o.debug, o.nodaemon > 0, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}

	ktName := o.keytab
	if ktName == "" {
		ktName = krbconf.KeytabName(cfg)
	}
	rcName, err := krbconf.ReplayCacheName(cfg)
	if err != nil {
		return fail(err, "while getting the replay cache name")
	}
	rcache, err := krbauth.ResolveReplayCache(rcName)
	if err != nil {
		return fail(err, "while resolving replay cache %s", rcName)
	}
	loader := &kpropd.KDB5Util{Path: o.kdb5util, Realm: realm, Database: o.database, Iprop: ip != nil}
	switch {
	case o.debug > 0 && o.logFormat == "":
		loader.Output = stderr
		loader.Started = func(pid int) { fmt.Fprintf(stderr, "Load PID is %d\n", pid) }
	case o.debug > 0:
		// Records only on standard error; kdb5_util's last line is in
		// the error of a failed load.
		loader.Started = func(pid int) { log.Debug("Load PID is " + strconv.Itoa(pid)) }
	}
	// Verify before load: a dump that is not what kdb5_util dump writes
	// is refused before it replaces anything. MIT's dumps come sorted by
	// principal name, which lets the check run in flat memory.
	var validate *dumpfmt.ValidateOptions
	if !o.noVerify {
		validate = &dumpfmt.ValidateOptions{Duplicates: dumpfmt.DuplicatesSorted}
	}
	srv := &kpropd.Server{
		Auth: &krbauth.ServerConfig{
			GetKeytab:              func() (*keytab.Keytab, error) { return krbconf.LoadKeytab(ktName) },
			Principal:              me,
			AcceptAnyHostPrincipal: cfg.IgnoreAcceptorHostname(),
			PermittedEnctypes:      permitted,
			SessionEnctypeAllowed:  cfg.EnctypeUsable,
			ClockSkew:              cfg.ClockSkew(),
			ReplayCache:            rcache,
			ApplVersion:            wire.ApplVersion,
		},
		MITWire:     o.mitWire,
		Authorizer:  kpropd.ACLFile(o.acl),
		File:        o.file,
		Validate:    validate,
		Loader:      loader,
		Timeout:     timeout,
		Logger:      log,
		ConnContext: withConn,
	}

	if ip != nil {
		srv.Loader = ip.loader(loader)
		srv.ConnState = ip.connState
	}

	if isSocket(stdin) {
		// inetd: one connection on standard input; iprop mode loads
		// with -i but never polls.
		if ip != nil {
			if err := ip.open(o, realm); err != nil {
				return fail(err, "Unable to map log!\n")
			}
			defer ip.db.Close()
		}
		conn, err := net.FileConn(stdin)
		if err != nil {
			return fail(err, "while checking if stdin is a socket")
		}
		if o.metricsListen != "" {
			log.Warn("--metrics-listen is ignored when started from inetd")
		}
		if err := srv.ServeConn(ctx, conn); err != nil {
			return 1
		}
		return 0
	}

	port, err := wire.LookupPort(o.port)
	if err != nil {
		return fail(err, "while binding listener socket")
	}
	daemonize := o.debug == 0 && o.nodaemon == 0
	if daemonize && os.Getenv(detachedEnv) == "" {
		// Like MIT's daemon(0, 0), but the parent waits until the
		// daemon listens, so that a bind failure is an exit status.
		return detach(prog, args, stderr)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
	if err != nil {
		return reportReady(fail(err, "while binding listener socket"), comerr.Line(prog, err, "while binding listener socket"))
	}
	if ip != nil {
		if err := ip.open(o, realm); err != nil {
			l.Close()
			return reportReady(fail(err, "Unable to map log!\n"), comerr.Line(prog, err, "Unable to map log!"))
		}
		if _, err := ip.newPoller(ctx, cfg, realm, ktName); err != nil {
			l.Close()
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return reportReady(1, prog+": "+err.Error())
		}
	} else if o.runOnce {
		l = &onceListener{Listener: l}
	}
	if o.metricsListen != "" {
		var poller *kpropd.Poller
		if ip != nil {
			poller = ip.poller
		}
		stopMetrics, err := serveMetrics(o.metricsListen, srv, poller, log)
		if err != nil {
			l.Close()
			return reportReady(fail(err, "while binding metrics listener"), comerr.Line(prog, err, "while binding metrics listener"))
		}
		defer stopMetrics()
	}
	if o.pidFile != "" {
		if err := os.WriteFile(o.pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			msg := fmt.Sprintf("Could not write pid file %s: %s", o.pidFile, comerr.Message(err))
			log.Error(msg)
			return reportReady(1, prog+": "+msg)
		}
	}
	if !daemonize {
		// MIT's sentinel for test frameworks and supervisors.
		fmt.Fprintln(stdout, "ready")
	}
	reportReady(0, "")

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if ip != nil {
		// SIGUSR1 polls at once, as it makes MIT kpropd's poller.
		signal.Notify(sigs, syscall.SIGQUIT, syscall.SIGUSR1)
		return ip.serve(srv, l, sigs, stderr, o.debug > 0)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	for {
		select {
		case err := <-served:
			if errors.Is(err, kpropd.ErrServerClosed) || errors.Is(err, errOnce) {
				waitIdle(srv)
				return 0
			}
			return fail(err, "while accepting connection")
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				// The keytab and the ACL are read for every connection,
				// so a reload needs nothing more than this.
				log.Info("SIGHUP received: the keytab and ACL are re-read for every connection")
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = srv.Shutdown(ctx)
			cancel()
			return 0
		}
	}
}

func isSocket(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeSocket != 0
}

// onceListener hands out one connection, then reports errOnce (MIT's
// undocumented -t: serve exactly one propagation).
type onceListener struct {
	net.Listener
	mu   sync.Mutex
	done bool
}

var errOnce = errors.New("served once")

func (l *onceListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return nil, errOnce
	}
	c, err := l.Listener.Accept()
	if err == nil {
		l.done = true
		l.Listener.Close()
	}
	return c, err
}

// waitIdle lets transfers in progress finish before the process exits.
func waitIdle(srv *kpropd.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 24*time.Hour)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
