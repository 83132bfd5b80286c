package kprop_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// Propagate a dump to a kpropd. In production the credentials come from
// krbkdc.KDCClient.GetInitialCredentials and the replica is MIT's kpropd or ours on
// another host; here both ends run in this process with a ticket minted
// from a test key.
func ExamplePropagate() {
	primary := krb5.HostPrincipal("host", "kdc1.example.com", "EXAMPLE.COM")
	replica := krb5.HostPrincipal("host", "kdc2.example.com", "EXAMPLE.COM")
	kt, _ := krbtest.Keytab(krbtest.Key{Principal: replica, KVNO: 1, Enctype: krb5.EnctypeAES256CTSSHA1, Password: "secret"})
	creds, _ := krbtest.Credentials[krbauth.Credentials](kt, primary, replica, krb5.EnctypeAES256CTSSHA1, 1, time.Now(), time.Hour)

	dir, _ := os.MkdirTemp("", "kprop-example")
	defer os.RemoveAll(dir)
	srv := &kpropd.Server{
		Principal: replica,
		Keytab:    func() (*keytab.Keytab, error) { return kt, nil },
		File:      filepath.Join(dir, "from_master"),
		Authorizer: kpropd.AuthorizerFunc(func(ctx context.Context, c krb5.Principal, _ krb5.Enctype) error {
			fmt.Println("authorizing", c)
			return nil
		}),
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()

	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	dump := []byte("kdb5_util load_dump version 7\n")
	res, err := kprop.Propagate(context.Background(), conn, &kprop.Config{Credentials: creds}, bytes.NewReader(dump), int64(len(dump)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("sent %d bytes in %d chunk(s) with %s\n", res.Size, res.Chunks, krb5.Enctype(res.Enctype).String())
	// Output:
	// authorizing host/kdc1.example.com@EXAMPLE.COM
	// sent 30 bytes in 1 chunk(s) with aes256-cts-hmac-sha1-96
}
