package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/dumpfmt/dumptest"
	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// runOnceWorld is the configuration of an in-process kpropd: a krb5.conf
// and kdc.conf, a keytab for host/replica.test (accepted whatever this
// machine's name, with ignore_acceptor_hostname), an ACL naming the
// primary, and true(1) as kdb5_util.
type runOnceWorld struct {
	dir, keytab, acl, file, loader string
	creds                          func(t *testing.T) *krbauth.Credentials
}

func newRunOnceWorld(t *testing.T) *runOnceWorld {
	t.Helper()
	const realm = "GOKPROP.TEST"
	primary := krb5.HostPrincipal("host", "primary.test", realm)
	replica := krb5.HostPrincipal("host", "replica.test", realm)
	kt, err := krbtest.Keytab(krbtest.Key{Principal: replica, KVNO: 1, Enctype: krb5.EnctypeAES256CTSSHA1, Password: "k"})
	if err != nil {
		t.Fatal(err)
	}
	loader, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	dir := t.TempDir()
	w := &runOnceWorld{dir: dir, keytab: filepath.Join(dir, "keytab"), acl: filepath.Join(dir, "kpropd.acl"),
		file: filepath.Join(dir, "from_master"), loader: loader}
	b, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("keytab", string(b))
	write("kpropd.acl", primary.String()+"\n")
	t.Setenv("KRB5_CONFIG", write("krb5.conf", "[libdefaults]\n\tdefault_realm = "+realm+
		"\n\tdns_canonicalize_hostname = false\n\trdns = false\n\tignore_acceptor_hostname = true\n"))
	t.Setenv("KRB5_KDC_PROFILE", write("kdc.conf", "[realms]\n\t"+realm+" = {\n\t}\n"))
	t.Setenv("KRB5RCACHEDIR", dir)
	w.creds = func(t *testing.T) *krbauth.Credentials {
		c, err := krbtest.Credentials[krbauth.Credentials](kt, primary, replica, krb5.EnctypeAES256CTSSHA1, 1, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return w
}

// lineWriter hands each complete line written to it to a channel.
type lineWriter struct {
	buf   bytes.Buffer
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		select {
		case w.lines <- strings.TrimSuffix(line, "\n"):
		default:
		}
	}
}

// kpropd -t serves exactly one propagation and exits 0 once it is done:
// the connection it accepted is not dropped by the exit that follows.
// Run many times in a row (also under the race detector, by make race).
func TestRunOnceServesItsConnection(t *testing.T) {
	w := newRunOnceWorld(t)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for i := range 30 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		// kpropd verifies what it receives: send a valid dump, a different
		// one each run.
		dump := dumptest.Bytes(dumptest.Config{Principals: 3, Seed: uint64(i + 1)})
		stdout := &lineWriter{lines: make(chan string, 16)}
		var stderr syncBuffer
		type exit struct {
			code   int
			stderr string // what kpropd had printed when run returned
		}
		status := make(chan exit, 1)
		go func() {
			code := run([]string{"kpropd", "-d", "-t", "-P", strconv.Itoa(port), "-s", w.keytab, "-a", w.acl,
				"-f", w.file, "-p", w.loader}, devnull, stdout, &stderr)
			status <- exit{code, stderr.String()}
		}()
		select {
		case line := <-stdout.lines:
			if line != "ready" {
				t.Fatalf("run %d: first line %q", i+1, line)
			}
		case e := <-status:
			t.Fatalf("run %d: kpropd exited %d before it was ready: %s", i+1, e.code, e.stderr)
		case <-time.After(15 * time.Second):
			t.Fatalf("run %d: kpropd not ready", i+1)
		}
		conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		_, err = kprop.Propagate(ctx, conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: w.creds(t)}}, bytes.NewReader(dump), int64(len(dump)))
		cancel()
		conn.Close()
		if err != nil {
			t.Fatalf("run %d: propagation to kpropd -t: %v\nkpropd stderr:\n%s", i+1, err, stderr.String())
		}
		select {
		case e := <-status:
			if e.code != 0 {
				t.Fatalf("run %d: kpropd -t exited %d: %s", i+1, e.code, e.stderr)
			}
			// A process exits when run returns: by then the one
			// connection must be over.
			if !strings.Contains(e.stderr, "Database load process for full propagation completed.") {
				t.Fatalf("run %d: kpropd -t returned before its connection was done; it had printed:\n%s", i+1, e.stderr)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("run %d: kpropd -t did not exit after its propagation", i+1)
		}
		if got, _ := os.ReadFile(w.file); !bytes.Equal(got, dump) {
			t.Fatalf("run %d: installed %q", i+1, got)
		}
	}
}
