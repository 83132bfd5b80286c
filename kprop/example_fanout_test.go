package kprop_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// Propagate one dump to three replicas at once, reading it once. Here the
// replicas are kpropd servers in this process and the example mints their
// tickets (see ExamplePropagate); a real primary gets one ticket per
// replica from its KDC with krbkdc.KDCClient.GetInitialCredentials and
// passes a *kprop.Dump from OpenDump as the dump.
func ExampleFanout() {
	const realm = "EXAMPLE.COM"
	primary := krb5.HostPrincipal("host", "kdc1.example.com", realm)
	dir, err := os.MkdirTemp("", "kprop-fanout-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	var replicas []kprop.Replica
	for i, host := range []string{"kdc2.example.com", "kdc3.example.com", "kdc4.example.com"} {
		replica := krb5.HostPrincipal("host", host, realm)
		kt := keytab.New()
		if err := kt.AddEntry("host/"+host, realm, "not a real key", time.Now(), 1, int32(krb5.EnctypeAES256CTSSHA1)); err != nil {
			log.Fatal(err)
		}
		srv := &kpropd.Server{
			Auth:       &krbauth.ServerConfig{GetKeytab: func() (*keytab.Keytab, error) { return kt, nil }, Principal: replica},
			File:       filepath.Join(dir, fmt.Sprintf("from_master%d", i)),
			Authorizer: kpropd.AuthorizerFunc(func(context.Context, *kpropd.Peer) error { return nil }),
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		go srv.Serve(l)
		defer srv.Close()

		now := time.Now().UTC()
		tkt, key, err := messages.NewTicket(primary.Name, realm, replica.Name, realm, types.NewKrbFlags(), kt,
			int32(krb5.EnctypeAES256CTSSHA1), 1, now, now, now.Add(time.Hour), time.Time{})
		if err != nil {
			log.Fatal(err)
		}
		creds := &krbauth.Credentials{Client: primary, Server: replica, Ticket: tkt, SessionKey: key,
			AuthTime: now, StartTime: now, EndTime: now.Add(time.Hour)}
		replicas = append(replicas, kprop.Replica{
			Name:   host,
			Addr:   l.Addr().String(),
			Config: &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}},
		})
	}

	dump := []byte("kdb5_util load_dump version 7\n")
	f := &kprop.Fanout{StallTimeout: time.Minute}
	for _, r := range f.Propagate(context.Background(), bytes.NewReader(dump), int64(len(dump)), replicas) {
		if r.Err != nil {
			fmt.Printf("%s: %v\n", r.Replica.Name, r.Err)
			continue
		}
		fmt.Printf("Database propagation to %s: SUCCEEDED (%d bytes)\n", r.Replica.Name, r.Result.Size)
	}
	// Output:
	// Database propagation to kdc2.example.com: SUCCEEDED (30 bytes)
	// Database propagation to kdc3.example.com: SUCCEEDED (30 bytes)
	// Database propagation to kdc4.example.com: SUCCEEDED (30 bytes)
}
