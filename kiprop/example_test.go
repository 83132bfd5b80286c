package kiprop_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gokprop/gokprop/kiprop"
	"github.com/gokprop/gokprop/krbconf"
)

// A replica's configuration names the primary's kadmind the way MIT's
// kpropd reads it; Dial(ctx, cfg) then sets up the session, and
// GetUpdates polls.
func Example() {
	prof, err := krbconf.ParseConfig(strings.NewReader(`
[realms]
	EXAMPLE.TEST = {
		admin_server = kdc1.example.test:749
		iprop_port = 2121
	}
`), "kdc.conf")
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := &kiprop.Config{Realm: "EXAMPLE.TEST", Profile: prof}
	host, _ := cfg.AdminServerHost()
	port, _ := cfg.IpropPort()
	svc, _ := cfg.ServicePrincipal()
	fmt.Printf("%s:%d as %s\n", host, port, svc)

	cfg.AdminServer = "[2001:db8::1]:749" // kpropd -A
	svc, _ = cfg.ServicePrincipal()
	fmt.Println(svc)

	noPort := &kiprop.Config{Realm: "OTHER.TEST", Profile: prof}
	_, err = noPort.IpropPort()
	fmt.Println(errors.Is(err, kiprop.ErrNoIpropPort))
	// Output:
	// kdc1.example.test:2121 as kiprop/kdc1.example.test@EXAMPLE.TEST
	// kiprop/2001:db8::1@EXAMPLE.TEST
	// true
}
