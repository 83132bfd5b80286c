package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
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

func TestParseArgs(t *testing.T) {
	var stderr bytes.Buffer
	o, _ := parseArgs([]string{"kpropd", "-S", "-D", "-d", "-t", "-rR", "-s", "/kt", "-f", "/from", "-F", "/db",
		"-p", "/kdb5_util", "-x", "a", "-x", "b", "-P", "7754", "-a", "/acl", "-A", "admin", "--pid-file=/run/p"}, &stderr)
	if o == nil {
		t.Fatalf("parseArgs failed: %s", stderr.String())
	}
	want := options{realm: "R", keytab: "/kt", file: "/from", database: "/db", kdb5util: "/kdb5_util", port: "7754",
		acl: "/acl", pidFile: "/run/p", debug: 1, nodaemon: 1, runOnce: true, adminServer: "admin", dbArgs: []string{"a", "b"}}
	if !reflect.DeepEqual(*o, want) {
		t.Errorf("parseArgs = %+v, want %+v", *o, want)
	}
	if o, _ := parseArgs([]string{"kpropd", "--no-verify"}, &stderr); o == nil || !o.noVerify {
		t.Errorf("--no-verify: %+v", o)
	}
	o, _ = parseArgs([]string{"kpropd"}, &stderr)
	if o.file != "/var/lib/krb5kdc/from_master" || o.acl != "/etc/krb5kdc/kpropd.acl" || o.kdb5util != kpropd.DefaultKDB5Util || o.noVerify {
		t.Errorf("Debian defaults: %+v", o)
	}
	for _, bad := range [][]string{{"kpropd", "extra"}, {"kpropd", "-z"}, {"kpropd", "--pid-file"}} {
		stderr.Reset()
		if o, code := parseArgs(bad, &stderr); o != nil || code != 1 || !strings.Contains(stderr.String(), "Usage: kpropd [-r realm]") {
			t.Errorf("parseArgs(%q) = %v, %d, %q", bad, o, code, stderr.String())
		}
	}
}

// The kpropd package's records come out in MIT kpropd's words, for a
// transfer that succeeds and one whose client is refused.
func TestMITLines(t *testing.T) {
	const realm = "GOKPROP.TEST"
	primary := krb5.HostPrincipal("host", "primary.test", realm)
	replica := krb5.HostPrincipal("host", "replica.test", realm)
	kt, err := krbtest.Keytab(krbtest.Key{Principal: replica, KVNO: 1, Enctype: krb5.EnctypeAES256CTSSHA1, Password: "k"})
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	allow := true
	done := make(chan struct{}, 4)
	srv := &kpropd.Server{
		Auth: &krbauth.ServerConfig{
			GetKeytab: func() (*keytab.Keytab, error) { return kt, nil },
			Principal: replica,
		},
		Authorizer: kpropd.AuthorizerFunc(func(_ context.Context, p *kpropd.Peer) error {
			if !allow {
				return fmt.Errorf("%w %s", kpropd.ErrNotAuthorized, p.Client)
			}
			return nil
		}),
		File:        filepath.Join(t.TempDir(), "from_master"),
		Loader:      kpropd.LoaderFunc(func(context.Context, string) error { return nil }),
		Logger:      slog.New(mitHandler{next: &lineHandler{w: &out, level: slog.LevelDebug}}),
		ConnContext: withConn,
		ConnState: func(_ net.Conn, st kpropd.ConnState) {
			if st == kpropd.StateClosed {
				done <- struct{}{}
			}
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	push := func() {
		creds, err := krbtest.Credentials[krbauth.Credentials](kt, primary, replica, krb5.EnctypeAES256CTSSHA1, 1, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		dump := []byte("kdb5_util load_dump version 7\n")
		kprop.Propagate(context.Background(), conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}}, bytes.NewReader(dump), int64(len(dump)))
		conn.Close()
		<-done
	}
	// The server logs that it is waiting again once a connection is over,
	// after the connection's last line.
	waitWaiting := func(n int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for strings.Count(out.String(), "waiting for a kprop connection\n") < n {
			if time.Now().After(deadline) {
				t.Fatalf("no waiting line %d; output:\n%s", n, out.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitWaiting(1)
	push()
	waitWaiting(2)
	allow = false
	push()
	waitWaiting(3)
	// Each line once, when its event happens: no waiting line right after
	// an accept, no load line for a connection that loaded nothing.
	want := `waiting for a kprop connection
Connection from \S+
krb5_recvauth\(\d+, kprop5_01, host/replica.test@GOKPROP.TEST, ...\)
authenticated client: host/primary.test@GOKPROP.TEST \(etype == aes256-cts-hmac-sha1-96\)
Full propagation transfer started.
Full propagation transfer finished.
calling kdb5_util to load database
Database load process for full propagation completed.
waiting for a kprop connection
Connection from \S+
krb5_recvauth\(\d+, kprop5_01, host/replica.test@GOKPROP.TEST, ...\)
authenticated client: host/primary.test@GOKPROP.TEST \(etype == aes256-cts-hmac-sha1-96\)
Rejected connection from unauthorized principal host/primary.test@GOKPROP.TEST
waiting for a kprop connection
`
	if got := out.String(); !regexp.MustCompile("^" + want + "$").MatchString(got) {
		t.Errorf("lines:\n%s\nwant (as a regexp):\n%s", got, want)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
