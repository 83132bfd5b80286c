package kpropd_test

import (
	"context"
	"fmt"

	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/kpropd"
)

// examplePrimary answers as kadmind does for a replica one update behind.
type examplePrimary struct{ last iprop.Last }

func (p *examplePrimary) GetUpdates(ctx context.Context, last iprop.Last) (*iprop.IncrResult, error) {
	if last == p.last {
		return &iprop.IncrResult{Status: iprop.UpdateNil, Last: p.last}, nil
	}
	u := iprop.Update{Principal: "bob@EXAMPLE.TEST", Sno: p.last.Sno, Time: p.last.Time, Commit: true}
	return &iprop.IncrResult{Status: iprop.UpdateOK, Last: p.last, Updates: []iprop.Update{u}}, nil
}
func (p *examplePrimary) FullResyncExt(ctx context.Context) (*iprop.FullResyncResult, error) {
	return &iprop.FullResyncResult{Status: iprop.UpdateOK}, nil
}
func (p *examplePrimary) Close() error { return nil }

// exampleReplica is a database that only remembers its position.
type exampleReplica struct{ last iprop.Last }

func (r *exampleReplica) Last() (iprop.Last, error) { return r.last, nil }
func (r *exampleReplica) Apply(ctx context.Context, ups []iprop.Update) error {
	for _, u := range ups {
		fmt.Println("apply", u.Sno, u.Principal)
		r.last = iprop.Last{Sno: u.Sno, Time: u.Time}
	}
	return nil
}

// One cycle (kpropd -t): the replica, at serial number 17, gets update 18.
// A real program dials kiprop sessions and applies to a replica.DB.
func ExamplePoller() {
	p := &kpropd.Poller{
		Dial: func(ctx context.Context) (kpropd.IpropSession, error) {
			return &examplePrimary{last: iprop.Last{Sno: 18, Time: iprop.Time{Seconds: 1796115250}}}, nil
		},
		Replica: &exampleReplica{last: iprop.Last{Sno: 17, Time: iprop.Time{Seconds: 1796115228}}},
		RunOnce: true,
	}
	err := p.Run(context.Background())
	fmt.Println("done:", err)
	// Output:
	// apply 18 bob@EXAMPLE.TEST
	// done: <nil>
}
