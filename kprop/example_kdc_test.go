package kprop_test

import (
	"context"
	"log"
	"net"

	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/krbauth"
	"github.com/gokprop/gokprop/krbconf"
	"github.com/gokprop/gokprop/krbkdc"
)

// What a primary KDC does, as MIT's kprop does it: a ticket for the
// replica's host service from the KDC with the primary's host key, then
// the dump kdb5_util wrote, to the replica's kprop port. (It needs a
// realm, so it is not run here.)
func Example_fromKDC() {
	ctx := context.Background()
	cfg, err := krbconf.LoadConfig() // KRB5_CONFIG or /etc/krb5.conf
	if err != nil {
		log.Fatal(err)
	}
	realm, err := cfg.DefaultRealm()
	if err != nil {
		log.Fatal(err)
	}
	canon := &krbconf.Canonicalizer{Config: cfg}
	client, err := canon.Principal(ctx, "host", "", realm) // this host
	if err != nil {
		log.Fatal(err)
	}
	server, err := canon.Principal(ctx, "host", "kdc2.example.com", realm)
	if err != nil {
		log.Fatal(err)
	}
	kt, err := krbconf.LoadKeytab(krbconf.KeytabName(cfg))
	if err != nil {
		log.Fatal(err)
	}
	creds, err := (&krbkdc.KDCClient{Config: cfg}).GetInitialCredentials(ctx, kt, client, server)
	if err != nil {
		log.Fatal(err)
	}

	dump, err := kprop.OpenDump("/var/lib/krb5kdc/replica_datatrans")
	if err != nil {
		log.Fatal(err)
	}
	defer dump.Close()
	conn, err := net.Dial("tcp", "kdc2.example.com:754")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	auth := krbauth.ClientConfig{Credentials: creds, ClockSkew: cfg.ClockSkew()}
	if _, err := kprop.Propagate(ctx, conn, &kprop.Config{Auth: auth}, dump, dump.Size); err != nil {
		log.Fatal(err)
	}
	if err := kprop.WriteLastProp("/var/lib/krb5kdc/replica_datatrans", "kdc2.example.com"); err != nil {
		log.Fatal(err)
	}
}
