package iprop

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"reflect"
	"testing"

	"github.com/gokprop/gokprop/oncrpc"
	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// fakePrimary answers iprop calls over a pipe: handle gets the procedure
// and arguments and returns the accept status and results.
func fakePrimary(t *testing.T, handle func(proc uint32, args []byte) (uint32, []byte)) *oncrpc.Client {
	t.Helper()
	cli, srv := net.Pipe()
	t.Cleanup(func() { cli.Close() })
	go func() {
		defer srv.Close()
		for {
			var h [4]byte
			if _, err := io.ReadFull(srv, h[:]); err != nil {
				return
			}
			msg := make([]byte, binary.BigEndian.Uint32(h[:])&0x7fffffff)
			if _, err := io.ReadFull(srv, msg); err != nil {
				return
			}
			d := xdr.NewDecoder(msg)
			xid := d.Uint32()
			d.Uint32()
			d.Uint32()
			prog, vers, proc := d.Uint32(), d.Uint32(), d.Uint32()
			for i := 0; i < 2; i++ { // credential and verifier
				d.Uint32()
				d.Opaque(400)
			}
			stat, res := uint32(oncrpc.ProgUnavail), []byte(nil)
			if prog == Program && vers == Version {
				stat, res = handle(proc, msg[d.Offset():])
			}
			out := xdr.AppendUint32(nil, xid)
			for _, v := range []uint32{1, 0, 0, 0, stat} {
				out = xdr.AppendUint32(out, v)
			}
			out = append(out, res...)
			srv.Write(binary.BigEndian.AppendUint32(nil, 0x80000000|uint32(len(out))))
			srv.Write(out)
		}
	}()
	return oncrpc.NewClient(cli, RPCConfig())
}

func TestClientCalls(t *testing.T) {
	want := &IncrResult{Last: Last{Sno: 24, Time: Time{1796115575, 816944}}, Updates: []Update{*sampleUpdate()}, Status: UpdateOK}
	var gotArgs []byte
	var gotProc uint32
	rpc := fakePrimary(t, func(proc uint32, args []byte) (uint32, []byte) {
		gotProc, gotArgs = proc, args
		switch proc {
		case ProcNull:
			return 0, nil
		case ProcGetUpdates:
			return 0, want.AppendXDR(nil)
		case ProcFullResync:
			return 0, (&FullResyncResult{Status: UpdateOK}).AppendXDR(nil)
		}
		return uint32(oncrpc.ProcUnavail), nil
	})
	c := NewClient(rpc, nil)
	ctx := context.Background()
	if err := c.Null(ctx); err != nil || gotProc != ProcNull {
		t.Fatalf("Null: %v (proc %d)", err, gotProc)
	}
	last := Last{Sno: 18, Time: Time{1796115250, 974075}}
	got, err := c.GetUpdates(ctx, last)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GetUpdates = %+v", got)
	}
	if l, err := DecodeLast(gotArgs); err != nil || l != last || gotProc != ProcGetUpdates {
		t.Errorf("server got proc %d last %+v (%v)", gotProc, l, err)
	}
	// A primary without FULL_RESYNC_EXT: the fallback kpropd makes.
	_, err = c.FullResyncExt(ctx, IpropxVersion1)
	if !errors.Is(err, oncrpc.ErrProcUnavail) || gotProc != ProcFullResyncExt || len(gotArgs) != 4 || gotArgs[3] != 1 {
		t.Fatalf("FullResyncExt: %v (proc %d, args % x)", err, gotProc, gotArgs)
	}
	fr, err := c.FullResync(ctx)
	if err != nil || fr.Status != UpdateOK || gotProc != ProcFullResync || len(gotArgs) != 0 {
		t.Fatalf("FullResync: %v %+v", err, fr)
	}
}

func TestClientBadResults(t *testing.T) {
	rpc := fakePrimary(t, func(proc uint32, args []byte) (uint32, []byte) {
		return 0, []byte{0, 0, 0, 1} // too short for any result; not empty for NULL
	})
	c := NewClient(rpc, oncrpc.AuthNone)
	ctx := context.Background()
	if err := c.Null(ctx); err == nil {
		t.Error("Null accepted results")
	}
	if _, err := c.GetUpdates(ctx, Last{}); !errors.Is(err, xdr.ErrShort) {
		t.Errorf("GetUpdates: %v", err)
	}
	if _, err := c.FullResyncExt(ctx, 1); !errors.Is(err, xdr.ErrShort) {
		t.Errorf("FullResyncExt: %v", err)
	}
}
