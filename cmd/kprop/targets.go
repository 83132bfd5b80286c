package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/gokprop/gokprop/internal/wire"
)

// target is one replica named on the command line.
type target struct {
	operand string // as written
	host    string // the host name or address (without brackets)
	port    string // the operand's port, else -P's, else "" (krb5_prop, 754)
	label   string // how lines and the .last_prop file name the replica
}

// parseTargets parses the replica operands: HOST, HOST:PORT, an IPv6
// address alone, or [ADDRESS]:PORT; defPort (-P) is the port of those
// without one. Each is labelled by its host, or by the operand as written
// when several operands share the host (replicas on one machine, on
// different ports).
func parseTargets(operands []string, defPort string) ([]target, error) {
	var ts []target
	count := map[string]int{}
	for _, op := range operands {
		t, err := parseTarget(op, defPort)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
		count[t.host]++
	}
	for i := range ts {
		ts[i].label = ts[i].host
		if count[ts[i].host] > 1 {
			ts[i].label = ts[i].operand
		}
	}
	return ts, nil
}

func parseTarget(op, defPort string) (target, error) {
	t := target{operand: op, host: op, port: defPort}
	bad := func() (target, error) { return target{}, fmt.Errorf("bad replica address '%s'", op) }
	switch {
	case op == "":
		return bad()
	case strings.HasPrefix(op, "["):
		end := strings.IndexByte(op, ']')
		if end < 0 {
			return bad()
		}
		t.host = op[1:end]
		rest := op[end+1:]
		switch {
		case rest == "":
		case strings.HasPrefix(rest, ":") && len(rest) > 1:
			t.port = rest[1:]
		default:
			return bad()
		}
		if t.host == "" {
			return bad()
		}
	case strings.Count(op, ":") == 1:
		h, p, _ := strings.Cut(op, ":")
		if h == "" || p == "" {
			return bad()
		}
		t.host, t.port = h, p
	}
	// Several colons without brackets: an IPv6 address alone.
	return t, nil
}

// dialTarget connects to a replica's kprop port: a number or a service
// name, by default the krb5_prop service, which falls back to port 754
// when the services database lacks it (MIT fails there).
func dialTarget(ctx context.Context, host, port string) (net.Conn, error) {
	n, err := wire.LookupPort(port)
	if err != nil {
		return nil, &net.DNSError{Err: "Servname not supported for ai_socktype", Name: host}
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(n)))
}
