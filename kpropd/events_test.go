package kpropd_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// Events reports a transfer's size, its progress and its outcome, for a
// propagation that succeeds and for one the Authorizer refuses.
func TestEvents(t *testing.T) {
	client := krb5.HostPrincipal("host", "events-primary.test", "EVENTS.TEST")
	server := krb5.HostPrincipal("host", "events-replica.test", "EVENTS.TEST")
	kt, err := krbtest.Keytab(krbtest.Key{Principal: server, KVNO: 1, Enctype: krb5.EnctypeAES128CTSSHA1, Password: "k"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []kpropd.Event
	allow := true
	closed := make(chan struct{}, 2)
	srv := &kpropd.Server{
		Auth: &krbauth.ServerConfig{GetKeytab: func() (*keytab.Keytab, error) { return kt, nil }, Principal: server},
		Authorizer: kpropd.AuthorizerFunc(func(context.Context, *kpropd.Peer) error {
			if !allow {
				return kpropd.ErrNotAuthorized
			}
			return nil
		}),
		File: filepath.Join(t.TempDir(), "from_master"),
		Events: func(e kpropd.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
		},
		ConnState: func(_ net.Conn, st kpropd.ConnState) {
			if st == kpropd.StateClosed {
				closed <- struct{}{}
			}
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	dump := bytes.Repeat([]byte("0123456789abcdef"), 5000) // three chunks
	push := func() error {
		creds, err := krbtest.Credentials[krbauth.Credentials](kt, client, server, krb5.EnctypeAES128CTSSHA1, 1, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_, err = kprop.Propagate(context.Background(), conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}, MITWire: true}, bytes.NewReader(dump), int64(len(dump)))
		conn.Close()
		<-closed
		return err
	}
	if err := push(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := events
	events = nil
	mu.Unlock()
	size := uint64(len(dump))
	want := []kpropd.Event{
		{Kind: kpropd.EventStarted, Size: size},
		{Kind: kpropd.EventReceived, Size: size, Received: 32768},
		{Kind: kpropd.EventReceived, Size: size, Received: 65536},
		{Kind: kpropd.EventReceived, Size: size, Received: size},
		{Kind: kpropd.EventDone},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		g := got[i]
		if g.Conn == nil || g.Kind != want[i].Kind || g.Size != want[i].Size || g.Received != want[i].Received || g.Err != nil {
			t.Errorf("event %d: %v %+v, want %v %+v", i, g.Kind, g, want[i].Kind, want[i])
		}
	}

	allow = false
	if err := push(); err == nil {
		t.Fatal("a refused client's propagation succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	var te *kpropd.TransferError
	if len(events) != 1 || events[0].Kind != kpropd.EventDone || !errors.As(events[0].Err, &te) || te.Step != kpropd.StepAuthorize {
		t.Errorf("refused: events %+v", events)
	}
	if s := kpropd.EventReceived.String(); s != "received" {
		t.Errorf("EventReceived.String() = %q", s)
	}
}
