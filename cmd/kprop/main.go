// Command kprop propagates a Kerberos database dump from a primary KDC to
// a replica's kpropd, as MIT's kprop does, with the same flags, files,
// messages and exit status:
//
//	kprop [-r realm] [-f file] [-d] [-P port] [-s keytab] replica_host
//
// It authenticates as host/<this host>@REALM with a key from the keytab,
// sends the dump written by "kdb5_util dump" (default
// /var/lib/krb5kdc/replica_datatrans, which must not be newer than its
// .dump_ok marker), and prints "Database propagation to HOST: SUCCEEDED"
// once the replica has loaded it.
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
	"syscall"

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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are kprop's command-line settings.
type options struct {
	realm, file, port, keytab, host string
	debug                           int
}

func usage(prog string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "\nUsage: %s [-r realm] [-f file] [-d] [-P port] [-s keytab] replica_host\n\n", prog)
	return 1
}

func parseArgs(args []string, stderr io.Writer) (*options, int) {
	prog := args[0]
	o := &options{file: defaultFile}
	opts, operands, err := getopt.Parse(args[1:], "r:f:dP:s:", nil)
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
		}
	}
	if len(operands) != 1 {
		return nil, usage(prog, stderr)
	}
	o.host = operands[0]
	return o, 0
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	prog := args[0]
	o, code := parseArgs(args, stderr)
	if o == nil {
		return code
	}
	fail := func(err error, context string, a ...any) int {
		comerr.Print(stderr, prog, err, context, a...)
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
	server, err := canon.Principal(ctx, wire.ServiceName, o.host, realm)
	if err != nil {
		return fail(err, "while setting server principal name")
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
	creds, err := (&krbkdc.KDCClient{Config: cfg}).GetInitialCredentials(ctx, kt, client, server)
	if err != nil {
		return fail(err, "while getting initial credentials\n")
	}

	dump, err := kprop.OpenDump(o.file)
	if err != nil {
		if errors.Is(err, kprop.ErrDatabaseLocked) {
			return fail(nil, "database locked")
		}
		var stale *kprop.StaleDumpError
		if errors.As(err, &stale) {
			return fail(nil, "%s", err.Error())
		}
		return fail(nil, "%s", capitalizeErr(err))
	}
	defer dump.Close()

	conn, err := dial(ctx, o.host, o.port)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return fail(nil, "%s: %s", o.host, gaiText(dnsErr))
		}
		return fail(err, "while connecting to server")
	}
	defer conn.Close()

	if _, err := kprop.Propagate(ctx, conn, propagateConfig(cfg, creds, o, stdout), dump, dump.Size); err != nil {
		return reportPropagateError(stderr, prog, err)
	}
	if err := kprop.WriteLastProp(o.file, o.host); err != nil {
		comerr.Print(stderr, prog, nil, "%s", capitalizeErr(err))
	}
	fmt.Fprintf(stdout, "Database propagation to %s: SUCCEEDED\n", o.host)
	return 0
}

// propagateConfig is the propagation's configuration: the credentials,
// checked with krb5.conf's clockskew as MIT's krb5_mk_req_extended checks
// them, and with -d a progress line per chunk, as MIT kprop prints.
func propagateConfig(cfg *krbconf.Config, creds *krbauth.Credentials, o *options, stdout io.Writer) *kprop.Config {
	c := &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds, ClockSkew: cfg.ClockSkew()}}
	if o.debug > 0 {
		c.Progress = func(sent int64) { fmt.Fprintf(stdout, "%d bytes sent.\n", sent) }
	}
	return c
}

// reportPropagateError prints a failed propagation as MIT kprop does: a
// KRB-ERROR from the replica as "Generic remote error: TEXT" or as the
// code's message "signalled from server" with the server's text, anything
// else as "MESSAGE while STEP".
func reportPropagateError(stderr io.Writer, prog string, err error) int {
	var re *krbauth.RemoteError
	if errors.As(err, &re) {
		var op *kprop.OpError
		if errors.As(err, &op) && op.Step == kprop.StepAuthenticate {
			comerr.Print(stderr, prog, krbauth.ErrSendauthRejected, "%s", op.Context())
		}
		if re.Code == krb5.ErrGeneric {
			fmt.Fprintf(stderr, "Generic remote error: %s\n", re.Text)
		} else {
			comerr.Print(stderr, prog, re.Code, "signalled from server")
			if re.Text != "" {
				fmt.Fprintf(stderr, "Error text from server: %s\n", re.Text)
			}
		}
		return 1
	}
	var sm *kprop.SizeMismatchError
	if errors.As(err, &sm) {
		comerr.Print(stderr, prog, nil, "%s", sm.Error())
		return 1
	}
	var op *kprop.OpError
	if errors.As(err, &op) {
		if errors.Is(op.Err, kprop.ErrPrematureEOF) {
			comerr.Print(stderr, prog, nil, "%s", kprop.ErrPrematureEOF.Error())
			return 1
		}
		comerr.Print(stderr, prog, op.Err, "%s", op.Context())
		return 1
	}
	comerr.Print(stderr, prog, err, "")
	return 1
}

// dial connects to the replica's kprop port: -P as a number or a service
// name, by default the krb5_prop service, which falls back to port 754
// when the services database lacks it (MIT fails there).
func dial(ctx context.Context, host, port string) (net.Conn, error) {
	n, err := wire.LookupPort(port)
	if err != nil {
		return nil, &net.DNSError{Err: "Servname not supported for ai_socktype", Name: host}
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(n)))
}

// gaiText words a resolution failure as glibc's gai_strerror does.
func gaiText(e *net.DNSError) string {
	switch {
	case e.Err == "Servname not supported for ai_socktype":
		return e.Err
	case e.IsNotFound:
		return "Name or service not known"
	case e.IsTemporary:
		return "Temporary failure in name resolution"
	}
	return e.Err
}

// capitalizeErr gives an error text the capital initial of glibc's
// strerror, which MIT's messages start with.
func capitalizeErr(err error) string {
	s := err.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
