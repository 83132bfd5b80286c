package replica

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/iproptest"
	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/iprop"
)

// copyOfReplica makes a new host holding the scenario's replica as it
// was before MIT kpropd ran: its records (lockout state included) loaded
// from the "before" dump without touching any update log, and its update
// log byte for byte.
func copyOfReplica(t *testing.T, s *iproptest.Scenario) *mitrealm.Host {
	t.Helper()
	r := s.Primary.NewReplica(t)
	r.EnableIprop(t, mitrealm.IpropConfig{Port: s.PrimaryIprop.Port, ULogSize: s.ReplicaIprop.ULogSize})
	path := filepath.Join(r.Dir, "before.dump")
	if err := os.WriteFile(path, []byte(s.ReplicaDumpBefore), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := r.Command("kdb5_util", "-r", r.Realm, "load", path)
	cmd.Env = r.NoIpropEnv(t)
	if _, _, err := mitrealm.Exec(cmd, ""); err != nil {
		t.Fatal(err)
	}
	writeULog(t, r, s.ReplicaULogBefore)
	return r
}

func ulogPath(r *mitrealm.Host) string { return filepath.Join(r.Dir, "principal.ulog") }

func writeULog(t *testing.T, r *mitrealm.Host, b []byte) {
	t.Helper()
	if err := os.WriteFile(ulogPath(r), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func configFor(t *testing.T, s *iproptest.Scenario, r *mitrealm.Host) Config {
	t.Helper()
	bins := mitrealm.Require(t, "kdb5_util", "kadmin.local")
	return Config{
		Realm:       r.Realm,
		KDB5Util:    bins["kdb5_util"],
		KadminLocal: bins["kadmin.local"],
		Env:         r.Env(),
		ULog:        ulogPath(r),
		ULogSlots:   uint32(s.ReplicaIprop.ULogSize),
	}
}

// requireSameAsMIT requires r's database dump and update log to be MIT
// kpropd's, byte for byte.
func requireSameAsMIT(t *testing.T, s *iproptest.Scenario, r *mitrealm.Host) {
	t.Helper()
	got := iproptest.DumpNoIprop(t, r)
	if got != s.ReplicaDumpAfter {
		_, g := iproptest.ReadDump(t, got)
		_, w := iproptest.ReadDump(t, s.ReplicaDumpAfter)
		for n, p := range w {
			if q := g[n]; q == nil {
				t.Errorf("%s missing", n)
			} else if a, b := iproptest.PrincipalLine(t, q), iproptest.PrincipalLine(t, p); a != b {
				t.Errorf("%s differs:\nours\n%sMIT\n%s", n, a, b)
			}
		}
		for n := range g {
			if w[n] == nil {
				t.Errorf("%s should not be there", n)
			}
		}
		t.Fatal("dump differs from MIT kpropd's")
	}
	ul, err := os.ReadFile(ulogPath(r))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ul, s.ReplicaULogAfter) {
		t.Fatalf("update log differs from MIT kpropd's (%d vs %d bytes)", len(ul), len(s.ReplicaULogAfter))
	}
}

// TestApplyMatchesMITReplica applies the updates MIT kadmind sent in the
// shared scenario (every kind of change kadmin makes, a log wrap and a
// block resize on the replica, lockout state of the replica's own) to
// copies of the replica, and requires each copy's dump and update log to
// be byte-identical with what MIT kpropd made of the original.
func TestApplyMatchesMITReplica(t *testing.T) {
	s := iproptest.Run(t, iproptest.Default())
	ups := s.Updates(t)
	ctx := context.Background()

	t.Run("indexed from the full resync", func(t *testing.T) {
		r := s.Primary.NewReplica(t)
		r.EnableIprop(t, mitrealm.IpropConfig{Port: s.PrimaryIprop.Port, ULogSize: s.ReplicaIprop.ULogSize})
		cfg := configFor(t, s, r)
		db, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Load(ctx, filepath.Join(s.Primary.Dir, "iprop.dump"), func(ctx context.Context, path string) error {
			r.Load(t, path, "-i")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !db.idx.valid() {
			t.Fatal("no index after the load")
		}
		iproptest.Default().Prepare(t, r)
		// load -i stamped the log with the current time; the oracle's
		// was stamped when MIT's replica loaded the same dump.
		writeULog(t, r, s.ReplicaULogBefore)
		if got := iproptest.DumpNoIprop(t, r); got != s.ReplicaDumpBefore {
			t.Fatal("the loaded copy differs from MIT's replica before the cycle")
		}
		if err := db.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
		requireSameAsMIT(t, s, r)
		// And the index now holds what the database holds.
		requireIndexMatches(t, db, r)
	})

	t.Run("first start without an index", func(t *testing.T) {
		r := copyOfReplica(t, s)
		db, err := Open(configFor(t, s, r))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
		requireSameAsMIT(t, s, r)
		requireIndexMatches(t, db, r)
	})

	t.Run("index differs from the database", func(t *testing.T) {
		r := copyOfReplica(t, s)
		db, err := Open(configFor(t, s, r))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.rebuild(ctx, "test"); err != nil {
			t.Fatal(err)
		}
		// Make the index wrong about bob, whom the updates change.
		bob, err := db.idx.get("bob@" + r.Realm)
		if err != nil || bob == nil {
			t.Fatal(bob, err)
		}
		bob.MaxLife++
		last, _ := db.Last()
		if err := db.idx.record(last, last, []*dumpfmt.Principal{bob}, nil); err != nil {
			t.Fatal(err)
		}
		gen := db.idx.gen
		if err := db.Apply(ctx, ups); err != nil {
			t.Fatal(err)
		}
		if db.idx.gen == gen {
			t.Error("the index was not rebuilt")
		}
		requireSameAsMIT(t, s, r)
	})

	for _, at := range []string{"after the database", "after the index"} {
		t.Run("killed "+at, func(t *testing.T) {
			r := copyOfReplica(t, s)
			cfg := configFor(t, s, r)
			db, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.rebuild(ctx, "test"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			runKilled(t, cfg, at, ups)
			ul, _ := os.ReadFile(ulogPath(r))
			if !bytes.Equal(ul, s.ReplicaULogBefore) {
				t.Fatal("the update log changed before the kill")
			}
			dump := iproptest.DumpNoIprop(t, r)
			if at == "after the database" && dump != s.ReplicaDumpAfter {
				t.Fatal("the database was not written before the kill")
			}
			if at == "after the index" && dump != s.ReplicaDumpBefore {
				t.Fatal("the database was written before the kill")
			}
			// The next poll brings the same updates again.
			db, err = Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			gen := db.idx.gen
			if err := db.Apply(ctx, ups); err != nil {
				t.Fatal(err)
			}
			if db.idx.gen != gen {
				t.Error("the index was rebuilt: the repair should not need a dump")
			}
			requireSameAsMIT(t, s, r)
		})
	}

	t.Run("failure resets the update log", func(t *testing.T) {
		r := copyOfReplica(t, s)
		cfg := configFor(t, s, r)
		// A kdb5_util whose load fails, as a full disk would make it.
		fake := filepath.Join(r.Dir, "kdb5_util")
		script := "#!/bin/sh\nfor a; do [ \"$a\" = load ] && { echo 'kdb5_util: No space left on device while storing' >&2; exit 1; }; done\nexec " + cfg.KDB5Util + " \"$@\"\n"
		if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		cfg.KDB5Util = fake
		db, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Apply(ctx, ups)
		var te *ToolError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "No space left on device") {
			t.Fatalf("Apply: %v", err)
		}
		last, _ := db.Last()
		if last.Sno != 1 {
			t.Fatalf("update log not reset: at %d", last.Sno)
		}
		if out := r.Kproplog(t); !strings.Contains(out, "Last serial # : 1\n") {
			t.Fatalf("kproplog:\n%s", out)
		}
		if db.idx.valid() {
			t.Fatal("index kept after a failure")
		}
	})
}

// requireIndexMatches requires the index to hold every record of r's
// database, lockout attributes aside.
func requireIndexMatches(t *testing.T, db *DB, r *mitrealm.Host) {
	t.Helper()
	_, princs := iproptest.ReadDump(t, iproptest.DumpNoIprop(t, r))
	for n, p := range princs {
		got, err := db.idx.get(n)
		if err != nil || got == nil {
			t.Fatalf("index lacks %s: %v", n, err)
		}
		if a, b := line(t, got), line(t, noNRA(p)); a != b {
			t.Fatalf("index holds\n%sdatabase\n%s", a, b)
		}
	}
}

// runKilled runs Apply in a child process that kills itself at the given
// point.
func runKilled(t *testing.T, cfg Config, at string, ups []iprop.Update) {
	t.Helper()
	var enc []byte
	for i := range ups {
		b := ups[i].AppendXDR(nil)
		enc = binary.BigEndian.AppendUint32(enc, uint32(len(b)))
		enc = append(enc, b...)
	}
	upath := filepath.Join(t.TempDir(), "updates")
	if err := os.WriteFile(upath, enc, 0o600); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(childConfig{Config: cfg, At: at, Updates: upath})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GOKPROP_REPLICA_CHILD="+string(js))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed: %v\n%s", err, out)
	}
}

type childConfig struct {
	Config  Config
	At      string
	Updates string
}

// TestKilledChild is runKilled's child; it does nothing in a normal run.
func TestKilledChild(t *testing.T) {
	js := os.Getenv("GOKPROP_REPLICA_CHILD")
	if js == "" {
		t.Skip("only as a child of TestApplyMatchesMITReplica")
	}
	var cc childConfig
	if err := json.Unmarshal([]byte(js), &cc); err != nil {
		t.Fatal(err)
	}
	enc, err := os.ReadFile(cc.Updates)
	if err != nil {
		t.Fatal(err)
	}
	var ups []iprop.Update
	for len(enc) > 0 {
		n := binary.BigEndian.Uint32(enc)
		u, err := iprop.DecodeUpdate(enc[4 : 4+n])
		if err != nil {
			t.Fatal(err)
		}
		ups = append(ups, *u)
		enc = enc[4+n:]
	}
	db, err := Open(cc.Config)
	if err != nil {
		t.Fatal(err)
	}
	kill := func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	switch cc.At {
	case "after the database":
		db.afterDatabase = kill
	case "after the index":
		db.afterIndex = kill
	}
	err = db.Apply(context.Background(), ups)
	t.Fatalf("Apply returned (%v) instead of being killed", err)
}
