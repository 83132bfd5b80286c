package iproptest

import (
	"strings"
	"testing"
)

func TestDefaultScenario(t *testing.T) {
	s := Run(t, Default())
	if !strings.Contains(s.KpropdOutput, "Got incremental updates") {
		t.Fatalf("kpropd:\n%s", s.KpropdOutput)
	}
	ups := s.Updates(t)
	t.Logf("%d updates; kpropd:\n%s", len(ups), s.KpropdOutput)
	big := 0
	for _, u := range ups {
		var types []string
		for _, a := range u.Attrs {
			types = append(types, a.Type.String())
		}
		n := len(u.AppendXDR(nil))
		if n > 2048-28 {
			big++
		}
		t.Logf("%d %s deleted=%v %d bytes %v", u.Sno, u.Principal, u.Deleted, n, types)
	}
	if big == 0 {
		t.Error("no update larger than a 2048-byte block")
	}
	t.Logf("replica kproplog:\n%s", s.Replica.Kproplog(t, "-h"))
}
