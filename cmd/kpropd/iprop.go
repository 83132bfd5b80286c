package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gokprop/gokprop/internal/comerr"
	"github.com/gokprop/gokprop/iprop/replica"
	"github.com/gokprop/gokprop/kiprop"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krbconf"
)

// Debian's compiled-in database name (DEFAULT_KDB_FILE), from which the
// update log's default name is made.
const defaultDatabaseName = "/var/lib/krb5kdc/principal"

// ipropSettings are the realm's incremental-propagation settings as MIT
// kpropd reads them (kadm5_get_config_params with the KDC profile).
type ipropSettings struct {
	enabled       bool
	adminServer   string // -A, else admin_server; with any ":port"
	port          int    // iprop_port; 0 when unset
	logFile       string
	ulogSize      uint32
	poll          time.Duration
	resyncTimeout time.Duration
}

// lastValue returns the last value of [realms] realm tag in the profile:
// kadm5_get_config_params reads its settings with the "use last" flag,
// unlike the rest of libkrb5, so where kdc.conf and krb5.conf both set
// one, krb5.conf's (later in the path) wins.
func lastValue(cfg *krbconf.Config, realm, tag string) (string, bool) {
	vs := cfg.RealmStrings(realm, tag)
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// profileInt is MIT's profile integer (strtol in base 0 of the whole
// value).
func profileInt(s string) (int, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 0, 32)
	return int(v), err == nil
}

// readIpropSettings reads the settings; -A (adminServer) overrides
// admin_server. An unreadable value is ignored, as MIT ignores it, in
// favour of the default (or the older spelling).
func readIpropSettings(cfg *krbconf.Config, realm, adminServer string) ipropSettings {
	s := ipropSettings{ulogSize: 1000, poll: 2 * time.Minute, resyncTimeout: kpropd.DefaultTimeout}
	if v, ok := lastValue(cfg, realm, "iprop_enable"); ok {
		s.enabled, _ = krbconf.ParseBool(v)
	}
	s.adminServer = adminServer
	if s.adminServer == "" {
		s.adminServer, _ = lastValue(cfg, realm, "admin_server")
	}
	if v, ok := lastValue(cfg, realm, "iprop_port"); ok {
		if p, ok := profileInt(v); ok && p > 0 && p < 65536 {
			s.port = p
		}
	}
	if v, ok := lastValue(cfg, realm, "iprop_logfile"); ok {
		s.logFile = v
	} else {
		db, ok := lastValue(cfg, realm, "database_name")
		if !ok {
			db = defaultDatabaseName
		}
		s.logFile = db + ".ulog"
	}
	for _, tag := range []string{"iprop_ulogsize", "iprop_master_ulogsize"} {
		if v, ok := lastValue(cfg, realm, tag); ok {
			if n, ok := profileInt(v); ok && n > 0 {
				s.ulogSize = uint32(n)
				break
			}
		}
	}
	if v, ok := lastValue(cfg, realm, "iprop_resync_timeout"); ok {
		if d, err := krbconf.ParseDeltat(v); err == nil {
			s.resyncTimeout = d
		}
	}
	for _, tag := range []string{"iprop_replica_poll", "iprop_slave_poll"} {
		if v, ok := lastValue(cfg, realm, tag); ok {
			if d, err := krbconf.ParseDeltat(v); err == nil {
				s.poll = d
				break
			}
		}
	}
	if s.poll == 0 {
		s.poll = kpropd.DefaultPollInterval
	}
	return s
}

// ipropMode is kpropd's incremental-propagation mode: the replica database
// its loader and its poller share, and the poller beside the
// full-propagation listener.
type ipropMode struct {
	prog     string
	settings ipropSettings
	db       *replica.DB
	poller   *kpropd.Poller
	log      *slog.Logger
	runOnce  bool
}

// newIprop prepares iprop mode when the realm enables it: the settings
// (a missing iprop_port is an error here, where MIT would retry
// connections to port 0 forever). It returns nil when iprop is off.
func newIprop(prog string, o *options, cfg *krbconf.Config, realm string, debug int, foreground bool, stderr io.Writer) (*ipropMode, error) {
	s := readIpropSettings(cfg, realm, o.adminServer)
	if !s.enabled {
		return nil, nil
	}
	if s.port == 0 {
		return nil, fmt.Errorf("iprop_enable is set for realm %s but iprop_port is not (it has no default): set iprop_port in the realm's kdc.conf section to the primary kadmind's iprop port", realm)
	}
	return &ipropMode{prog: prog, settings: s, log: newIpropLogger(prog, debug, foreground, stderr), runOnce: o.runOnce}, nil
}

// open maps the update log (MIT kpropd's ulog_map at startup) and opens
// the replica database.
func (ip *ipropMode) open(o *options, realm string) error {
	db, err := replica.Open(replica.Config{
		Realm:     realm,
		Database:  o.database,
		DBArgs:    o.dbArgs,
		KDB5Util:  o.kdb5util,
		ULog:      ip.settings.logFile,
		ULogSlots: ip.settings.ulogSize,
		Logger:    ip.log,
	})
	if err != nil {
		return err
	}
	ip.db = db
	return nil
}

// loader wraps the full-propagation loader (kdb5_util load -i): the load
// runs with no batch applied meanwhile, and the loaded dump becomes the
// replica's index.
func (ip *ipropMode) loader(l kpropd.Loader) kpropd.Loader {
	return kpropd.LoaderFunc(func(ctx context.Context, path string) error {
		return ip.db.Load(ctx, path, l.Load)
	})
}

// newPoller makes the poller: sessions from kiprop.Dial with
// credentials from the keytab (re-read for every session).
func (ip *ipropMode) newPoller(ctx context.Context, cfg *krbconf.Config, realm, ktName string) (*kpropd.Poller, error) {
	kc := &kiprop.Config{Realm: realm, Profile: cfg, AdminServer: ip.settings.adminServer, Port: ip.settings.port}
	client, err := kc.ClientPrincipal(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := kc.AdminServerHost(); err != nil {
		return nil, fmt.Errorf("%w (incremental propagation needs the primary's admin_server in the realm's section of krb5.conf, or -A)", err)
	}
	ip.poller = &kpropd.Poller{
		Dial: func(ctx context.Context) (kpropd.IpropSession, error) {
			c := *kc
			kt, err := krbconf.LoadKeytab(ktName)
			if err != nil {
				return nil, &kiprop.SetupError{Step: "keytab", Err: err}
			}
			c.Keytab = kt
			s, err := kiprop.Dial(ctx, &c)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		IsConnectError: func(err error) bool {
			var se *kiprop.SetupError
			return errors.As(err, &se) && se.Step == "connect"
		},
		Client:        client.String(),
		Replica:       ip.db,
		Interval:      ip.settings.poll,
		ResyncTimeout: ip.settings.resyncTimeout,
		RunOnce:       ip.runOnce,
		Logger:        ip.log,
	}
	return ip.poller, nil
}

// connState is the listener's ConnState: after every connection, loaded
// or not, the poller polls at once (MIT's listener child sends its
// parent SIGUSR1).
func (ip *ipropMode) connState(_ net.Conn, st kpropd.ConnState) {
	if st == kpropd.StateClosed && ip.poller != nil {
		ip.poller.Poll()
	}
}

// serve runs the poller beside the listener until the poller stops or a
// signal ends the daemon, and returns the exit status.
func (ip *ipropMode) serve(srv *kpropd.Server, l net.Listener, sigs <-chan os.Signal, stderr io.Writer, debug bool) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	polled := make(chan error, 1)
	go func() { polled <- ip.poller.Run(ctx) }()
	stop := func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(sctx)
		scancel()
		srv.Close()
	}
	defer ip.db.Close()
	for {
		select {
		case <-polled:
			// The poller stops when the primary refuses it (or the
			// update log cannot be read): MIT's do_iprop then returns 1,
			// which com_err prints as errno 1; with -t, 0.
			stop()
			if ip.runOnce {
				return 0
			}
			if debug {
				comerr.Print(stderr, ip.prog, syscall.EPERM, "do_iprop failed.\n")
			} else {
				ip.log.Error(comerr.Line(ip.prog, syscall.EPERM, "do_iprop failed."))
			}
			return 1
		case err := <-served:
			cancel()
			<-polled
			if errors.Is(err, kpropd.ErrServerClosed) {
				return 0
			}
			comerr.Print(stderr, ip.prog, err, "while accepting connection")
			return 1
		case sig := <-sigs:
			switch sig {
			case syscall.SIGUSR1:
				ip.poller.Poll()
				continue
			case syscall.SIGHUP:
				ip.log.Info("SIGHUP received: the keytab and ACL are re-read for every connection")
				continue
			}
			cancel()
			<-polled
			stop()
			return 0
		}
	}
}
