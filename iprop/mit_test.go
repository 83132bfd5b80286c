package iprop_test

import (
	"bytes"
	"testing"

	"github.com/gokprop/gokprop/internal/iproptest"
	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/ulog"
)

// TestMITULogEntries decodes every entry MIT wrote in the shared
// scenario's logs, the primary's (kadmin.local's updates) and the
// replica's (kpropd's), and requires each to re-encode to MIT's bytes.
func TestMITULogEntries(t *testing.T) {
	s := iproptest.Run(t, iproptest.Default())
	seen := map[iprop.AttrType]int{}
	var deletes, big int
	for _, ip := range []struct {
		name    string
		path    string
		entries int
	}{{"primary", s.PrimaryIprop.LogFile, s.PrimaryIprop.ULogSize}, {"replica", s.ReplicaIprop.LogFile, s.ReplicaIprop.ULogSize}} {
		l, err := ulog.Open(ip.path, ulog.Options{Slots: uint32(ip.entries), ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		es, err := l.Entries()
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		decoded := 0
		for _, e := range es {
			if e.Dummy() {
				continue
			}
			u, err := iprop.DecodeUpdate(e.Data)
			if err != nil {
				t.Fatalf("%s entry %d: %v", ip.name, e.Sno, err)
			}
			if again := u.AppendXDR(nil); !bytes.Equal(again, e.Data) {
				t.Errorf("%s entry %d (%s) re-encodes differently", ip.name, e.Sno, u.Principal)
			}
			if u.Sno != e.Sno || u.Time != e.Time {
				t.Errorf("%s entry %d: body says sno %d time %v, header %v", ip.name, e.Sno, u.Sno, u.Time, e.Time)
			}
			// The body's committed flag: false on the primary, whose
			// header holds it; true on the replica, which stores what
			// kadmind sent.
			if u.Commit != (ip.name == "replica") {
				t.Errorf("%s entry %d: body commit %v", ip.name, e.Sno, u.Commit)
			}
			if ip.name == "primary" {
				for _, a := range u.Attrs {
					seen[a.Type]++
				}
				if u.Deleted {
					deletes++
				}
				if len(e.Data) > ulog.BlockSize-ulog.EntryHeaderSize {
					big++
				}
			}
			decoded++
		}
		t.Logf("%s: %d entries decoded and re-encoded", ip.name, decoded)
		if decoded < 8 {
			t.Errorf("%s: only %d entries", ip.name, decoded)
		}
	}
	// The scenario covers what MIT's primary sends.
	for _, a := range []iprop.AttrType{iprop.AttrFlags, iprop.AttrMaxLife, iprop.AttrMaxRenewLife, iprop.AttrExp,
		iprop.AttrPwExp, iprop.AttrPrinc, iprop.AttrKeyData, iprop.AttrTLData, iprop.AttrLen, iprop.AttrModPrinc,
		iprop.AttrModTime, iprop.AttrPwLastChange} {
		if seen[a] == 0 {
			t.Errorf("no %v in the primary's log", a)
		}
	}
	if deletes < 3 || big < 2 {
		t.Errorf("%d deletions, %d updates larger than a 2048-byte block", deletes, big)
	}
	for _, a := range []iprop.AttrType{iprop.AttrLastSuccess, iprop.AttrLastFailed, iprop.AttrFailAuthCount, iprop.AttrModWhere, iprop.AttrPwPolicy} {
		if seen[a] != 0 {
			t.Errorf("MIT 1.20's primary sent %v", a)
		}
	}
}
