package rpcsecgss

import (
	"testing"

	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// FuzzInitRes decodes arbitrary context-creation replies.
func FuzzInitRes(f *testing.F) {
	ok := xdr.AppendOpaque(nil, []byte("xxxx"))
	ok = xdr.AppendUint32(xdr.AppendUint32(xdr.AppendUint32(ok, 0), 0), 32)
	f.Add(xdr.AppendOpaque(ok, []byte("token")))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeInitRes(b)
		if err == nil && (len(r.handle) > MaxHandle || len(r.token) > MaxInitToken) {
			t.Fatalf("bounds exceeded: %d, %d", len(r.handle), len(r.token))
		}
	})
}

// FuzzResults feeds arbitrary reply verifiers and bodies to a data call
// of each service: nothing may panic, and nothing forged may pass.
func FuzzResults(f *testing.F) {
	acc := &fakeMech{key: []byte("k")}
	seq := uint32(7)
	tok, _ := acc.Wrap(append(be32(seq), 1, 2, 3, 4), true)
	f.Add(xdr.AppendOpaque(nil, tok), []byte{})
	mic, _ := acc.GetMIC(be32(seq))
	f.Add([]byte{0, 0, 0, 0}, mic)
	f.Fuzz(func(t *testing.T, body, verf []byte) {
		for _, svc := range []Service{ServicePrivacy, ServiceIntegrity} {
			a := &Auth{sec: &fakeMech{key: []byte("k"), initiator: true}, svc: svc}
			c := &dataCall{a: a, proc: procData, seq: seq}
			c.Validate(oncrpcVerf(verf))
			c.UnwrapResults(body)
		}
	})
}
