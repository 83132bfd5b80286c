package krbauth_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// ExampleSendAuth authenticates a kprop-style client to a kpropd-style
// server over loopback TCP. A real client gets its Credentials from an AS
// exchange with the KDC; here the example plays the KDC and mints the
// service ticket itself from the server's keytab.
func ExampleSendAuth() {
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
	type result struct {
		s   *krbauth.Session
		err error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer conn.Close()
		s, err := krbauth.RecvAuth(ctx, conn, &krbauth.ServerConfig{
			Keytab:      kt,
			Principal:   server,
			ReplayCache: krbauth.NewReplayCache(),
		})
		done <- result{s, err}
	}()

	// Client side (kprop).
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	cs, err := krbauth.SendAuth(ctx, conn, &krbauth.ClientConfig{Credentials: creds})
	if err != nil {
		log.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		log.Fatal(r.err)
	}
	ss := r.s
	fmt.Println("server authenticated", ss.Client())
	fmt.Println("ticket enctype", krb5.Enctype(ss.TicketEnctype()).String())
	fmt.Println("sequence numbers mirrored:", cs.LocalSeq() == ss.RemoteSeq() && ss.LocalSeq() == cs.RemoteSeq())
	// Output:
	// server authenticated host/primary.example.org@EXAMPLE.ORG
	// ticket enctype aes128-cts-hmac-sha1-96
	// sequence numbers mirrored: true
}
