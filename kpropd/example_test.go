package kpropd_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
	"github.com/gokprop/gokprop/krbconf"
)

// Run a replica's kpropd as MIT's defaults would: keytab and ACL read for
// every connection, dumps loaded with kdb5_util.
func ExampleServer() {
	me := krb5.HostPrincipal("host", "kdc2.example.com", "EXAMPLE.COM")
	srv := &kpropd.Server{
		Auth: &krbauth.ServerConfig{
			GetKeytab: func() (*keytab.Keytab, error) { return krbconf.LoadKeytab("FILE:/etc/krb5.keytab") },
			Principal: me,
		},
		Authorizer: kpropd.ACLFile("/etc/krb5kdc/kpropd.acl"),
		File:       "/var/lib/krb5kdc/from_master",
		Loader:     &kpropd.KDB5Util{Realm: "EXAMPLE.COM"},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	// ... until the daemon is told to stop:
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println(srv.Shutdown(ctx))
	// Output: <nil>
}

// The kpropd.acl rules: the principal, optionally followed by the enctype
// the client's ticket must use.
func ExampleParseACL() {
	acl, _ := kpropd.ParseACL(strings.NewReader("host/kdc1.example.com@EXAMPLE.COM aes256-cts\n"))
	client := krb5.HostPrincipal("host", "kdc1.example.com", "EXAMPLE.COM")
	fmt.Println(acl.Authorize(context.Background(), &kpropd.Peer{Client: client, TicketEnctype: krb5.EnctypeAES256CTSSHA1}))
	fmt.Println(acl.Authorize(context.Background(), &kpropd.Peer{Client: client, TicketEnctype: krb5.EnctypeAES128CTSSHA1}))
	// Output:
	// <nil>
	// unauthorized principal host/kdc1.example.com@EXAMPLE.COM
}

// KDB5Util runs what MIT kpropd runs.
func ExampleKDB5Util_Args() {
	k := &kpropd.KDB5Util{Realm: "EXAMPLE.COM", Database: "/var/lib/krb5kdc/principal"}
	fmt.Println(strings.Join(k.Args("/var/lib/krb5kdc/from_master"), " "))
	// Output: /usr/sbin/kdb5_util -r EXAMPLE.COM load -d /var/lib/krb5kdc/principal /var/lib/krb5kdc/from_master
}
