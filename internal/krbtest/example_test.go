package krbtest_test

import (
	"fmt"
	"time"

	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/krbauth"
)

func ExampleCredentials() {
	svc := krbauth.HostPrincipal("host", "kdc2.example.com", "EXAMPLE.COM")
	kt, _ := krbtest.Keytab(krbtest.Key{Principal: svc, KVNO: 2, Enctype: krbauth.EnctypeAES256CTSSHA384, Password: "x"})
	cl := krbauth.HostPrincipal("host", "kdc1.example.com", "EXAMPLE.COM")
	c, err := krbtest.Credentials(kt, cl, svc, krbauth.EnctypeAES256CTSSHA384, 2, time.Now(), time.Hour)
	fmt.Println(err, c.Ticket.EncPart.KVNO, len(c.SessionKey.KeyValue))
	// Output: <nil> 2 32
}
