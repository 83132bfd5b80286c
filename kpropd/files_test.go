package kpropd_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// The received dump is written to a File.temp created exclusively with
// mode 0600; a File.temp planted in the replica's directory (a symbolic
// or hard link to another file) is refused rather than written through,
// and a leftover one of ours is reused with mode 0600.
func TestTempFileIsSafe(t *testing.T) {
	f := newFixture(t, 18, nil)
	temp := f.srv.File + ".temp"
	victim := filepath.Join(f.dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	dump := randomDump(t, 5000)
	for _, plant := range []struct {
		name string
		make func() error
	}{
		{"symbolic link", func() error { return os.Symlink(victim, temp) }},
		{"dangling symbolic link", func() error { return os.Symlink(filepath.Join(f.dir, "nothing"), temp) }},
		{"hard link", func() error { return os.Link(victim, temp) }},
	} {
		if err := plant.make(); err != nil {
			t.Fatal(err)
		}
		_, err := f.push(t, 18, dump, nil)
		var re *krbauth.RemoteError
		if !errors.As(err, &re) || !strings.HasSuffix(re.Text, "while opening the database file") {
			t.Errorf("%s as File.temp: %v, want a refusal", plant.name, err)
		}
		f.finished(t, 1)
		if b, _ := os.ReadFile(victim); string(b) != "precious" {
			t.Fatalf("%s as File.temp: the victim was overwritten (%d bytes)", plant.name, len(b))
		}
		if _, err := os.Stat(filepath.Join(f.dir, "nothing")); !os.IsNotExist(err) {
			t.Fatalf("%s: the link's target was created", plant.name)
		}
		if err := os.Remove(temp); err != nil {
			t.Fatal(err)
		}
	}
	// A leftover of an interrupted transfer, of ours, world-readable.
	if err := os.WriteFile(temp, []byte("half a dump"), 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(temp, 0o666)
	if _, err := f.push(t, 18, dump, nil); err != nil {
		t.Fatalf("with a leftover File.temp: %v", err)
	}
	<-f.loaded
	st, err := os.Stat(f.srv.File)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("installed file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	// A fresh one is created 0600 whatever the umask.
	os.Remove(f.srv.File)
	if _, err := f.push(t, 18, dump, nil); err != nil {
		t.Fatal(err)
	}
	<-f.loaded
	if st, err := os.Stat(f.srv.File); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("installed file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
}

// No name that comes from the network becomes a path: a client whose
// principal looks like a path, sending a dump full of paths, makes the
// server touch only File, File.temp and its replay cache.
func TestNetworkNamesNeverBecomePaths(t *testing.T) {
	var rc string
	f := newFixture(t, 18, func(s *kpropd.Server) {
		rc = filepath.Join(filepath.Dir(s.File), "rcache2")
		s.Auth.ReplayCache = krbauth.NewFileReplayCache(rc)
		s.Authorizer = kpropd.AuthorizerFunc(func(context.Context, *kpropd.Peer) error { return nil })
	})
	parent := filepath.Dir(f.dir)
	before, _ := os.ReadDir(parent)
	evil, err := krb5.ParsePrincipal("host/../../../../tmp/evil/..@"+realm, realm)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := krbtest.Credentials[krbauth.Credentials](f.kt, evil, replica, 18, 3, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dump := "kdb5_util load_dump version 7\nprinc\t../../etc/passwd\n" + f.dir + "/x\n"
	conn, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := kprop.Propagate(context.Background(), conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}}, strings.NewReader(dump), int64(len(dump))); err != nil {
		t.Fatal(err)
	}
	<-f.loaded
	f.finished(t, 1)
	entries, _ := os.ReadDir(f.dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"from_master", "rcache2"}; !slices.Equal(names, want) {
		t.Errorf("the server's directory holds %q, want %q", names, want)
	}
	after, _ := os.ReadDir(parent)
	if len(after) != len(before) {
		t.Errorf("the directory above the server's changed: %d entries, then %d", len(before), len(after))
	}
	if _, err := os.Stat("/tmp/evil"); !os.IsNotExist(err) {
		t.Errorf("/tmp/evil exists: %v", err)
	}
}
