package oncrpc_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/gokprop/gokprop/oncrpc"
	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// A toy server that answers every call with PROC_UNAVAIL, as MIT kadmind
// answers an iprop procedure it does not know.
func procUnavailServer(conn net.Conn) {
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
		for _, v := range []uint32{1, 0, 0, 0, 3} {
			// REPLY, MSG_ACCEPTED, AUTH_NONE verifier, PROC_UNAVAIL
			reply = xdr.AppendUint32(reply, v)
		}
		conn.Write(binary.BigEndian.AppendUint32(nil, 0x80000000|uint32(len(reply))))
		conn.Write(reply)
	}
}

func Example() {
	clientEnd, serverEnd := net.Pipe()
	go procUnavailServer(serverEnd)

	c := oncrpc.NewClient(clientEnd, oncrpc.Config{Program: 100423, Version: 1})
	defer c.Close()
	args := xdr.AppendUint32(nil, 1) // IPROP_FULL_RESYNC_EXT(1)
	_, err := c.Call(context.Background(), 3, oncrpc.AuthNone, args)
	fmt.Println(err)
	fmt.Println(errors.Is(err, oncrpc.ErrProcUnavail))
	// Output:
	// oncrpc: server replied PROC_UNAVAIL
	// true
}
