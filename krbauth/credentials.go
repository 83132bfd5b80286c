package krbauth

import (
	"time"

	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
)

// Credentials is a service ticket with its session key, as an AS exchange
// returns it: what the client side of a Conn presents to the server.
type Credentials struct {
	Client     krb5.Principal
	Server     krb5.Principal
	Ticket     messages.Ticket
	SessionKey types.EncryptionKey
	AuthTime   time.Time
	StartTime  time.Time
	EndTime    time.Time
}
