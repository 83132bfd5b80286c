package mitrealm

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// A Snapshot is a populated realm database built once and loaded into any
// number of fresh primaries. Building 10,000 principals takes seconds;
// loading the dump into a new host takes a fraction of that, so a test
// matrix builds once per test binary and gives every cell its own copy.
//
// Keep one Snapshot in a package-level variable of the test package and
// call Close from TestMain after m.Run:
//
//	var snap = mitrealm.NewSnapshot(mitrealm.Options{AllowDES3: true, AllowRC4: true}, 10000)
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		snap.Close()
//		os.Exit(code)
//	}
//
// The first test that needs it builds it (reporting the build in its log
// and failing if the build fails); concurrent callers wait.
type Snapshot struct {
	opts       Options
	principals int

	once  sync.Once
	dir   string
	dump  string
	stash string
	pop   Population
	ok    bool
}

// NewSnapshot describes a snapshot of a realm with opts, populated by
// Populate(n) and holding the kprop principals (AddKpropPrincipals with all
// KpropEnctypes). Nothing is built until first use.
func NewSnapshot(opts Options, principals int) *Snapshot {
	return &Snapshot{opts: opts, principals: principals}
}

// build runs once, with the first caller's t.
func (s *Snapshot) build(t testing.TB) {
	t.Helper()
	dir, err := os.MkdirTemp("", "mitrealm-snapshot-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir = dir
	start := time.Now()
	h := newHost(t, filepath.Join(dir, "build"), "snapshot", s.opts, nil)
	h.Run(t, "kdb5_util", "-r", h.Realm, "create", "-s", "-P", MasterPassword)
	created := time.Now()
	s.pop = Populate(t, h, s.principals)
	h.AddKpropPrincipals(t)
	populated := time.Now()
	s.dump = filepath.Join(dir, "dump")
	s.stash = filepath.Join(dir, "stash")
	h.Dump(t, s.dump)
	if err := copyFile(s.stash, h.Stash); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(h.Dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(s.dump)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot: %d principals built in %v (create %v, populate %v, dump %v); dump is %d bytes",
		s.pop.Principals, time.Since(start).Round(time.Millisecond), created.Sub(start).Round(time.Millisecond),
		populated.Sub(created).Round(time.Millisecond), time.Since(populated).Round(time.Millisecond), st.Size())
	s.ok = true
}

// ready builds the snapshot if needed and fails the test if the build
// failed, here or in another test.
func (s *Snapshot) ready(t testing.TB) {
	t.Helper()
	Require(t, "kdb5_util", "kadmin.local")
	s.once.Do(func() { s.build(t) })
	if !s.ok {
		t.Fatal("mitrealm: the snapshot database could not be built (see the first test that used it)")
	}
}

// NewPrimary returns a new primary host (in a new t.TempDir()) whose
// database is a copy of the snapshot, loaded with kdb5_util load under the
// snapshot's master key.
func (s *Snapshot) NewPrimary(t testing.TB) *Host {
	t.Helper()
	return s.NewPrimaryWith(t, s.opts)
}

// NewPrimaryWith is NewPrimary for a host with other options than the
// snapshot's, for example without AllowDES3. Realm and MasterKeyType must
// be the snapshot's (the database is the snapshot's, under its master
// key); the rest, such as the [libdefaults] the KDC reads, may differ.
func (s *Snapshot) NewPrimaryWith(t testing.TB, opts Options) *Host {
	t.Helper()
	s.ready(t)
	if opts.realm() != s.opts.realm() || opts.masterKeyType() != s.opts.masterKeyType() {
		t.Fatalf("mitrealm: a primary of realm %s, master key %s from a snapshot of %s, %s",
			opts.realm(), opts.masterKeyType(), s.opts.realm(), s.opts.masterKeyType())
	}
	h := newHost(t, t.TempDir(), "primary", opts, nil)
	if err := copyFile(h.Stash, s.stash); err != nil {
		t.Fatal(err)
	}
	h.Load(t, s.dump)
	return h
}

// Population describes what the snapshot holds.
func (s *Snapshot) Population(t testing.TB) Population {
	t.Helper()
	s.ready(t)
	return s.pop
}

// DumpFile returns the path of the snapshot's kdb5_util dump. Treat it as
// read-only.
func (s *Snapshot) DumpFile(t testing.TB) string {
	t.Helper()
	s.ready(t)
	return s.dump
}

// Close removes the snapshot's files. Call it after the last test.
func (s *Snapshot) Close() error {
	if s.dir == "" {
		return nil
	}
	return os.RemoveAll(s.dir)
}
