package rpcsecgss_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/gokprop/gokprop/oncrpc"
	"github.com/gokprop/gokprop/oncrpc/xdr"
	"github.com/gokprop/gokprop/rpcsecgss"
)

// A toy server that refuses every context token with AUTH_REJECTEDCRED,
// as MIT kadmind refuses one its acceptor cannot verify.
func refusingServer(conn net.Conn) {
	defer conn.Close()
	for {
		var h [4]byte
		if _, err := io.ReadFull(conn, h[:]); err != nil {
			return
		}
		call := make([]byte, binary.BigEndian.Uint32(h[:])&0x7fffffff)
		if _, err := io.ReadFull(conn, call); err != nil {
			return
		}
		reply := append([]byte{}, call[:4]...) // xid
		for _, v := range []uint32{1, 1, 1, 2} {
			// REPLY, MSG_DENIED, AUTH_ERROR, AUTH_REJECTEDCRED
			reply = xdr.AppendUint32(reply, v)
		}
		conn.Write(binary.BigEndian.AppendUint32(nil, 0x80000000|uint32(len(reply))))
		conn.Write(reply)
	}
}

// junkMech is a SecContext whose token no server accepts.
type junkMech struct{}

func (junkMech) InitSecContext([]byte) ([]byte, bool, error) { return []byte("junk"), false, nil }
func (junkMech) GetMIC([]byte) ([]byte, error)               { return nil, errors.New("no context") }
func (junkMech) VerifyMIC(_, _ []byte) error                 { return errors.New("no context") }
func (junkMech) Wrap([]byte, bool) ([]byte, error)           { return nil, errors.New("no context") }
func (junkMech) Unwrap([]byte) ([]byte, bool, error)         { return nil, false, errors.New("no context") }

// Create runs the context creation on a connection; with a Kerberos
// context (gsskrb5.NewInitiator) against kadmind it returns an Auth for
// the iprop calls: iprop.NewClient(rpc, auth).
func Example() {
	clientEnd, serverEnd := net.Pipe()
	go refusingServer(serverEnd)
	rpc := oncrpc.NewClient(clientEnd, oncrpc.Config{Program: 100423, Version: 1})
	defer rpc.Close()

	_, err := rpcsecgss.Create(context.Background(), rpc, junkMech{}, &rpcsecgss.Config{Service: rpcsecgss.ServicePrivacy})
	fmt.Println(err)
	fmt.Println("new context needed:", rpcsecgss.NeedsNewContext(err))
	// Output:
	// oncrpc: server rejected the call's authentication: AUTH_REJECTEDCRED
	// new context needed: true
}
