package krbauth_test

import (
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

	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// A kprop-style client authenticates to a kpropd-style server over
// loopback TCP and sends a KRB-SAFE and two chained KRB-PRIVs. A real
// client gets its Credentials from an AS exchange with the KDC
// (krbkdc.KDCClient); here the example plays the KDC and mints the service
// ticket itself from the server's keytab.
func Example() {
	const realm = "EXAMPLE.ORG"
	client := krb5.HostPrincipal("host", "primary.example.org", realm)
	server := krb5.HostPrincipal("host", "replica.example.org", realm)

	// The replica's keytab, and a ticket for it (what the KDC would issue).
	kt := keytab.New()
	if err := kt.AddEntry("host/replica.example.org", realm, "not a real key", time.Now(), 1, int32(krb5.EnctypeAES128CTSSHA1)); err != nil {
		log.Fatal(err)
	}
	now := time.Now().UTC()
	tkt, sessionKey, err := messages.NewTicket(client.Name, realm, server.Name, realm, types.NewKrbFlags(), kt,
		int32(krb5.EnctypeAES128CTSSHA1), 1, now, now, now.Add(time.Hour), time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	creds := &krbauth.Credentials{Client: client, Server: server, Ticket: tkt, SessionKey: sessionKey,
		AuthTime: now, StartTime: now, EndTime: now.Add(time.Hour)}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Server side (kpropd): one connection.
	serverCfg := &krbauth.ServerConfig{
		GetKeytab:   func() (*keytab.Keytab, error) { return kt, nil },
		Principal:   server,
		ReplayCache: krbauth.NewReplayCache(),
		ApplVersion: "kprop5_01",
	}
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		c := krbauth.Server(nc, serverCfg)
		defer c.Close()
		if err := c.HandshakeContext(ctx); err != nil {
			done <- err
			return
		}
		st := c.State()
		fmt.Println("server authenticated", st.Client, "with a", st.TicketEnctype, "ticket")
		size, err := c.ReadSafe()
		if err != nil {
			done <- err
			return
		}
		c.StartChaining()
		var got []byte
		for len(got) < int(size[0]) {
			if got, err = c.ReadPriv(got); err != nil {
				done <- err
				return
			}
		}
		fmt.Printf("server received %q\n", got)
		done <- nil
	}()

	// Client side (kprop).
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	c := krbauth.Client(nc, &krbauth.ClientConfig{Credentials: creds, ApplVersion: "kprop5_01"})
	defer c.Close()
	if err := c.HandshakeContext(ctx); err != nil {
		log.Fatal(err)
	}
	if err := c.WriteSafe([]byte{11}); err != nil {
		log.Fatal(err)
	}
	c.StartChaining()
	for _, chunk := range []string{"hello ", "world"} {
		if err := c.WritePriv([]byte(chunk)); err != nil {
			log.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	// Output:
	// server authenticated host/primary.example.org@EXAMPLE.ORG with a aes128-cts-hmac-sha1-96 ticket
	// server received "hello world"
}

// A server's replay cache in MIT's file format, so that it survives a
// restart and an MIT server on the same host sees the same entries; a
// name such as krbconf.ReplayCacheName returns ("dfl:" by default).
func ExampleResolveReplayCache() {
	rc, err := krbauth.ResolveReplayCache("file2:" + filepath.Join(os.TempDir(), "example.rcache2"))
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := &krbauth.ServerConfig{ReplayCache: rc, ApplVersion: "kprop5_01"}
	fmt.Println(cfg.ReplayCache != nil)
	_, err = krbauth.ResolveReplayCache("rcache:x")
	fmt.Println(err)
	// Output:
	// true
	// "rcache:x": Replay cache type is unknown
}
