package ulog_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/ulog"
)

func Example() {
	dir, err := os.MkdirTemp("", "ulog")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// A replica's log after "kdb5_util load -i" of a dump taken at serial
	// number 17, then one update received from the primary.
	l, err := ulog.Open(filepath.Join(dir, "principal.ulog"), ulog.Options{Slots: 100})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	t := iprop.Time{Seconds: 1796115228, Useconds: 488203}
	if err := l.SetLast(iprop.Last{Sno: 17, Time: t}); err != nil {
		log.Fatal(err)
	}
	u := &iprop.Update{Principal: "bob@EXAMPLE.TEST", Sno: 18, Time: iprop.Time{Seconds: t.Seconds + 22},
		Attrs: []iprop.Attr{{Type: iprop.AttrMaxLife, Uint32: 5400}}, Commit: true}
	if err := l.Append(u); err != nil {
		log.Fatal(err)
	}

	h, _ := l.Header()
	fmt.Println("entries", h.Num, "serial numbers", h.FirstSno, "to", h.LastSno, h.State)
	entries, _ := l.Entries()
	for _, e := range entries {
		if e.Dummy() {
			fmt.Println(e.Sno, "dummy entry")
			continue
		}
		u, _ := e.Update()
		fmt.Println(e.Sno, u.Principal, u.Attrs[0].Type)
	}
	s, _ := l.Status(iprop.Last{Sno: 17, Time: t})
	fmt.Println("a replica at 17:", s)
	// Output:
	// entries 2 serial numbers 17 to 18 Stable
	// 17 dummy entry
	// 18 bob@EXAMPLE.TEST AT_MAX_LIFE
	// a replica at 17: UPDATE_OK
}
