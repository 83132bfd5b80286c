package kprop_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// Credentials that ended ten minutes ago pass with an hour of clock skew
// (Auth.ClockSkew, which cmd/kprop takes from krb5.conf) and fail with the
// default five minutes, before anything is sent.
func TestPropagateHonoursClockSkew(t *testing.T) {
	primary := krb5.HostPrincipal("host", "kdc1.example.com", "EXAMPLE.COM")
	replica := krb5.HostPrincipal("host", "kdc2.example.com", "EXAMPLE.COM")
	kt, err := krbtest.Keytab(krbtest.Key{Principal: replica, KVNO: 1, Enctype: krb5.EnctypeAES256CTSSHA1, Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := &kpropd.Server{
		Auth: &krbauth.ServerConfig{
			GetKeytab: func() (*keytab.Keytab, error) { return kt, nil },
			Principal: replica,
			ClockSkew: time.Hour,
		},
		File:       filepath.Join(t.TempDir(), "from_master"),
		Authorizer: kpropd.AuthorizerFunc(func(context.Context, *kpropd.Peer) error { return nil }),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	creds, err := krbtest.Credentials[krbauth.Credentials](kt, primary, replica, krb5.EnctypeAES256CTSSHA1, 1, time.Now().Add(-70*time.Minute), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dump := []byte("kdb5_util load_dump version 7\n")
	push := func(skew time.Duration) error {
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		cfg := &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds, ClockSkew: skew}}
		_, err = kprop.Propagate(context.Background(), conn, cfg, bytes.NewReader(dump), int64(len(dump)))
		return err
	}
	if err := push(time.Hour); err != nil {
		t.Errorf("with an hour of skew: %v", err)
	}
	err = push(0)
	var op *kprop.OpError
	if !errors.As(err, &op) || op.Step != kprop.StepAuthenticate || !errors.Is(err, krb5.ErrTktExpired) {
		t.Errorf("with the default skew: %v", err)
	}
}
