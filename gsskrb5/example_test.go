package gsskrb5_test

import (
	"fmt"
	"time"

	"github.com/gokprop/gokprop/gsskrb5"
	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// A client starts a context with a service ticket: the initial token goes
// to the acceptor (for RPCSEC_GSS, as the argument of an INIT call), and
// the acceptor's answer goes into the second InitSecContext.
func Example() {
	// A ticket for kiprop/primary.example, as a KDC would issue it.
	svcKey, _ := krbtest.SessionKey(krb5.EnctypeAES256CTSSHA1)
	sessionKey, _ := krbtest.SessionKey(krb5.EnctypeAES256CTSSHA1)
	creds, err := krbtest.CredentialsOf[krbauth.Credentials](krbtest.Ticket{
		Client:     krb5.HostPrincipal("kiprop", "replica.example", "EXAMPLE.TEST"),
		Server:     krb5.HostPrincipal("kiprop", "primary.example", "EXAMPLE.TEST"),
		ServiceKey: svcKey, KVNO: 1, SessionKey: sessionKey,
		AuthTime: time.Now(), EndTime: time.Now().Add(time.Hour),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, err := gsskrb5.NewInitiator(creds, &gsskrb5.Config{Flags: gsskrb5.FlagMutual | gsskrb5.FlagReplay})
	if err != nil {
		fmt.Println(err)
		return
	}
	token, done, err := ctx.InitSecContext(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("token starts %x, established: %v, flags %#x\n", token[0], done, uint32(ctx.Flags()))
	// Then: reply := <the acceptor's token>; ctx.InitSecContext(reply).
	_, err = ctx.GetMIC([]byte("too early"))
	fmt.Println(err)
	// Output:
	// token starts 60, established: false, flags 0x136
	// gsskrb5: No context has been established
}
