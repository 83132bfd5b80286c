package krbtest_test

import (
	"fmt"
	"time"

	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

func ExampleCredentials() {
	svc := krb5.HostPrincipal("host", "kdc2.example.com", "EXAMPLE.COM")
	kt, _ := krbtest.Keytab(krbtest.Key{Principal: svc, KVNO: 2, Enctype: krb5.EnctypeAES256CTSSHA384, Password: "x"})
	cl := krb5.HostPrincipal("host", "kdc1.example.com", "EXAMPLE.COM")
	c, err := krbtest.Credentials[krbauth.Credentials](kt, cl, svc, krb5.EnctypeAES256CTSSHA384, 2, time.Now(), time.Hour)
	fmt.Println(err, c.Ticket.EncPart.KVNO, len(c.SessionKey.KeyValue))
	// Output: <nil> 2 32
}
