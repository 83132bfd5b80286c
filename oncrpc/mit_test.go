package oncrpc_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/oncrpc"
	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// gssCred is an Auth sending a raw RPCSEC_GSS credential (RFC 2203
// rpc_gss_cred_t) and a junk verifier, without any GSS context: enough to
// see how MIT's server side judges RPCSEC_GSS calls.
type gssCred struct {
	version, proc, seq, service uint32
	handle                      []byte
	args                        []byte // replaces the call's arguments when set
}

func (g gssCred) Begin(uint32) (oncrpc.CallAuth, error) { return g, nil }
func (g gssCred) Credential() (oncrpc.OpaqueAuth, error) {
	b := xdr.AppendUint32(nil, g.version)
	b = xdr.AppendUint32(b, g.proc)
	b = xdr.AppendUint32(b, g.seq)
	b = xdr.AppendUint32(b, g.service)
	b = xdr.AppendOpaque(b, g.handle)
	return oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorRPCSECGSS, Body: b}, nil
}
func (g gssCred) Verifier([]byte) (oncrpc.OpaqueAuth, error) {
	if g.proc != 0 {
		return oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorNone}, nil // INIT: AUTH_NONE verifier
	}
	return oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorRPCSECGSS, Body: []byte("not a MIC")}, nil
}
func (g gssCred) WrapArgs(a []byte) ([]byte, error) {
	if g.args != nil {
		return g.args, nil
	}
	return a, nil
}
func (g gssCred) Validate(oncrpc.OpaqueAuth) error       { return nil }
func (g gssCred) UnwrapResults(b []byte) ([]byte, error) { return b, nil }

// flavorAuth sends a credential of any flavor: empty, or for AUTH_SYS
// with sys set, a valid authsys_parms (stamp, machine "x", uid and gid 0,
// no groups).
type flavorAuth struct {
	flavor oncrpc.Flavor
	sys    bool
}

func (f flavorAuth) Begin(uint32) (oncrpc.CallAuth, error) { return f, nil }
func (f flavorAuth) Credential() (oncrpc.OpaqueAuth, error) {
	var body []byte
	if f.sys {
		body = xdr.AppendUint32(nil, 0)
		body = xdr.AppendOpaque(body, []byte("x"))
		body = append(body, make([]byte, 12)...)
	}
	return oncrpc.OpaqueAuth{Flavor: f.flavor, Body: body}, nil
}
func (f flavorAuth) Verifier([]byte) (oncrpc.OpaqueAuth, error) { return oncrpc.OpaqueAuth{}, nil }
func (f flavorAuth) WrapArgs(a []byte) ([]byte, error)          { return a, nil }
func (f flavorAuth) Validate(oncrpc.OpaqueAuth) error           { return nil }
func (f flavorAuth) UnwrapResults(b []byte) ([]byte, error)     { return b, nil }

// TestMITKadmind calls MIT kadmind's iprop service without a GSS context
// and checks that every refusal kadmind sends decodes to the right typed
// error, over one connection that stays usable throughout.
func TestMITKadmind(t *testing.T) {
	mitrealm.Require(t, "kdb5_util", "kadmin.local", "kadmind")
	p := mitrealm.NewPrimary(t, mitrealm.Options{})
	ip := p.EnableIprop(t, mitrealm.IpropConfig{})
	p.StartKadmind(t, ip)

	conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ip.Port)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func(cfg oncrpc.Config) *oncrpc.Client {
		if cfg.Program == 0 {
			cfg.Program, cfg.Version = 100423, 1
		}
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ip.Port)))
		if err != nil {
			t.Fatal(err)
		}
		cl := oncrpc.NewClient(c, cfg)
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	iprop := oncrpc.NewClient(conn, oncrpc.Config{Program: 100423, Version: 1})
	defer iprop.Close()
	last := make([]byte, 12) // kdb_last_t: sno 0, time 0

	cases := []struct {
		name string
		cl   *oncrpc.Client
		proc uint32
		auth oncrpc.Auth
		args []byte
		want error
	}{
		// kadmind serves iprop to RPCSEC_GSS callers only.
		{"NULL with AUTH_NONE", iprop, 0, oncrpc.AuthNone, nil, oncrpc.ErrAuthTooWeak},
		{"GET_UPDATES with AUTH_NONE", iprop, 1, nil, last, oncrpc.ErrAuthTooWeak},
		{"AUTH_SYS", iprop, 0, flavorAuth{oncrpc.FlavorSys, true}, nil, oncrpc.ErrAuthTooWeak},
		{"AUTH_SYS without parameters", iprop, 0, flavorAuth{oncrpc.FlavorSys, false}, nil, oncrpc.ErrAuthBadCred},
		// A flavor MIT does not know.
		{"flavor 99", iprop, 0, flavorAuth{99, false}, nil, oncrpc.ErrAuthRejectedCred},
		// RPCSEC_GSS data without a context, or with a bad credential.
		{"GSS DATA without context", iprop, 1, gssCred{version: 1, proc: 0, seq: 1, service: 3, handle: []byte("xxxx")}, last, oncrpc.ErrGSSCredProblem},
		{"GSS version 2", iprop, 0, gssCred{version: 2, service: 3}, nil, oncrpc.ErrAuthBadCred},
		{"GSS service 4", iprop, 0, gssCred{version: 1, service: 4}, nil, oncrpc.ErrAuthBadCred},
		{"GSS INIT with a junk token", iprop, 0, gssCred{version: 1, proc: 1, service: 3, args: xdr.AppendOpaque(nil, []byte("junk"))}, nil, oncrpc.ErrAuthRejectedCred},
		{"GSS INIT on a data procedure", iprop, 1, gssCred{version: 1, proc: 1, service: 3}, last, &oncrpc.AuthError{Stat: oncrpc.AuthFailed}},
		// Programs and versions kadmind does not serve.
		{"program 99", dial(oncrpc.Config{Program: 99, Version: 1}), 0, nil, nil, oncrpc.ErrProgUnavail},
		{"iprop version 2", dial(oncrpc.Config{Program: 100423, Version: 2}), 0, nil, nil, oncrpc.ErrProgMismatch},
		// The call in 5-byte fragments is reassembled by MIT's xdrrec.
		{"fragmented call", dial(oncrpc.Config{FragmentSize: 5}), 1, nil, last, oncrpc.ErrAuthTooWeak},
	}
	for _, c := range cases {
		_, err := c.cl.Call(ctx, c.proc, c.auth, c.args)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if c.want == oncrpc.ErrProgMismatch {
			var ae *oncrpc.AcceptError
			if errors.As(err, &ae) && (ae.Low != 1 || ae.High != 1) {
				t.Errorf("%s: versions %d to %d, want 1 to 1", c.name, ae.Low, ae.High)
			}
		}
	}
}
