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

// Propagate a dump to a kpropd. Here both ends run in this process, and
// the example plays the KDC: it mints the ticket for the replica's host
// service from the replica's keytab with gokrb5's messages.NewTicket. A
// real primary gets the ticket from its KDC (see Example_fromKDC) and
// talks to MIT's kpropd or ours on the replica.
func ExamplePropagate() {
	const realm = "EXAMPLE.COM"
	primary := krb5.HostPrincipal("host", "kdc1.example.com", realm)
	replica := krb5.HostPrincipal("host", "kdc2.example.com", realm)

	// The replica's keytab, and a ticket for its host service.
	kt := keytab.New()
	if err := kt.AddEntry("host/kdc2.example.com", realm, "not a real key", time.Now(), 1, int32(krb5.EnctypeAES256CTSSHA1)); err != nil {
		log.Fatal(err)
	}
	now := time.Now().UTC()
	tkt, sessionKey, err := messages.NewTicket(primary.Name, realm, replica.Name, realm, types.NewKrbFlags(), kt,
		int32(krb5.EnctypeAES256CTSSHA1), 1, now, now, now.Add(time.Hour), time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	creds := &krbauth.Credentials{Client: primary, Server: replica, Ticket: tkt, SessionKey: sessionKey,
		AuthTime: now, StartTime: now, EndTime: now.Add(time.Hour)}

	// The replica.
	dir, err := os.MkdirTemp("", "kprop-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	srv := &kpropd.Server{
		Auth: &krbauth.ServerConfig{
			GetKeytab: func() (*keytab.Keytab, error) { return kt, nil },
			Principal: replica,
		},
		File: filepath.Join(dir, "from_master"),
		Authorizer: kpropd.AuthorizerFunc(func(ctx context.Context, p *kpropd.Peer) error {
			fmt.Println("authorizing", p.Client)
			return nil
		}),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	// The primary.
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	dump := []byte("kdb5_util load_dump version 7\n")
	cfg := &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}}
	res, err := kprop.Propagate(context.Background(), conn, cfg, bytes.NewReader(dump), int64(len(dump)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sent %d bytes in %d chunk(s) with %s\n", res.Size, res.Chunks, res.Enctype)
	// Output:
	// authorizing host/kdc1.example.com@EXAMPLE.COM
	// sent 30 bytes in 1 chunk(s) with aes256-cts-hmac-sha1-96
}
