package iprop

import (
	"context"
	"fmt"

	"github.com/gokprop/gokprop/oncrpc"
	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// RPCConfig returns the oncrpc.Config of a client of program 100423
// version 1.
func RPCConfig() oncrpc.Config {
	return oncrpc.Config{Program: Program, Version: Version}
}

// A Client makes the iprop calls a replica makes, over an oncrpc.Client
// for Program and Version (see RPCConfig), each authenticated by the
// Client's Auth. MIT's kadmind answers only RPCSEC_GSS calls from a
// kiprop/* principal; anything else gets AUTH_TOOWEAK.
type Client struct {
	rpc  *oncrpc.Client
	auth oncrpc.Auth
}

// NewClient returns a Client making calls on rpc with auth (nil means
// AUTH_NONE).
func NewClient(rpc *oncrpc.Client, auth oncrpc.Auth) *Client {
	return &Client{rpc: rpc, auth: auth}
}

// Null calls IPROP_NULL, which does nothing but authenticate.
func (c *Client) Null(ctx context.Context) error {
	res, err := c.rpc.Call(ctx, ProcNull, c.auth, nil)
	if err != nil {
		return err
	}
	if len(res) != 0 {
		return fmt.Errorf("iprop: IPROP_NULL returned %d bytes of results", len(res))
	}
	return nil
}

// GetUpdates calls IPROP_GET_UPDATES with the replica's position and
// returns the primary's answer: the updates after last (UpdateOK),
// UpdateNil, UpdateFullResyncNeeded, or a refusal.
func (c *Client) GetUpdates(ctx context.Context, last Last) (*IncrResult, error) {
	res, err := c.rpc.Call(ctx, ProcGetUpdates, c.auth, last.AppendXDR(nil))
	if err != nil {
		return nil, err
	}
	return DecodeIncrResult(res)
}

// FullResyncExt calls IPROP_FULL_RESYNC_EXT, asking the primary to send a
// full dump in format vers at most (IpropxVersion1 is what MIT's kpropd
// asks for). A primary without the procedure answers with an error
// matching oncrpc.ErrProcUnavail; MIT's kpropd then calls FullResync.
func (c *Client) FullResyncExt(ctx context.Context, vers uint32) (*FullResyncResult, error) {
	res, err := c.rpc.Call(ctx, ProcFullResyncExt, c.auth, xdr.AppendUint32(nil, vers))
	if err != nil {
		return nil, err
	}
	return DecodeFullResyncResult(res)
}

// FullResync calls IPROP_FULL_RESYNC, the version-less request of
// primaries older than MIT 1.11.
func (c *Client) FullResync(ctx context.Context) (*FullResyncResult, error) {
	res, err := c.rpc.Call(ctx, ProcFullResync, c.auth, nil)
	if err != nil {
		return nil, err
	}
	return DecodeFullResyncResult(res)
}
