package interop

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/internal/wire"
	"github.com/gokprop/gokprop/krbauth"
)

// The reliability group: one test per fault family, each run against our
// kpropd and, as the control, MIT's. For each it records whether the
// replica's database (kdb5_util dump) is byte-identical before and after
// the fault (unless a transfer legitimately completed: then whether it
// holds what was sent), whether kpropd serves the next propagation, and
// what the sender saw, in one parsable line per run:
//
//	RELIABILITY family=F impl=ours|MIT intact=true|false serving=true|false sender="..."
//
// Our kpropd must keep the database intact and go on serving; MIT's is
// observed, not judged. MIT kprop is the sender wherever it can be; a
// proxy between it and kpropd cuts, tampers with, replays, drops or
// delays its frames.

// relWorld is a primary with a KDC and three dumps of growing databases
// (several chunks each), and a replica without a kpropd.
type relWorld struct {
	*parityWorld
	base, fault, next string // dumps: the replica's database, the one the fault carries, the next propagation
}

func newRelWorld(t *testing.T) *relWorld {
	t.Helper()
	mitrealm.Require(t, "kdb5_util", "kadmin.local", "krb5kdc", "kprop", "kpropd")
	p := &parityWorld{
		mitKprop: mitrealm.Require(t, "kprop")["kprop"],
		goKprop:  goProgram(t, "github.com/gokprop/gokprop/cmd/kprop"),
	}
	p.primary = mitrealm.NewPrimary(t, mitrealm.Options{})
	p.primary.AddKpropPrincipals(t)
	var cmds []string
	for i := range 400 {
		cmds = append(cmds, fmt.Sprintf("addprinc -randkey -clearpolicy user%03d", i))
	}
	p.primary.Kadmin(t, cmds...)
	p.replica = p.primary.NewReplica(t)
	p.primary.SetupKprop(t, p.replica)
	p.primary.StartKDC(t)
	w := &relWorld{parityWorld: p}
	dump := func(name, addprinc string) string {
		if addprinc != "" {
			p.primary.Kadmin(t, "addprinc -randkey -clearpolicy "+addprinc)
		}
		path := filepath.Join(p.primary.Dir, name+".dump")
		p.primary.Dump(t, path)
		return path
	}
	w.base = dump("base", "")
	w.fault = dump("fault", "carried-by-the-fault")
	w.next = dump("next", "next-propagation")
	p.dump = w.base
	if st, _ := os.Stat(w.fault); st.Size() < 3*32768 {
		t.Fatalf("fault dump of %d bytes: too few chunks", st.Size())
	}
	return w
}

// relImpl is a kpropd under test.
type relImpl struct {
	name string // "ours" or "MIT"
	path string
}

func relImpls(t *testing.T) []relImpl {
	return []relImpl{
		{"ours", goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd")},
		{"MIT", mitrealm.Require(t, "kpropd")["kpropd"]},
	}
}

// kpropdOpts are how a family runs kpropd: its environment (nil: the
// replica's), extra arguments, and a wrapper (disk full).
type kpropdOpts struct {
	env  func(t *testing.T, w *relWorld) []string
	args func(t *testing.T, w *relWorld) []string
	wrap func(t *testing.T, w *relWorld, cmd *exec.Cmd) *exec.Cmd
}

// start runs impl on the replica with -d and o.
func (w *relWorld) start(t *testing.T, impl relImpl, o kpropdOpts) *mitrealm.Kpropd {
	t.Helper()
	var env, extra []string
	if o.env != nil {
		env = o.env(t, w)
	}
	if o.args != nil {
		extra = o.args(t, w)
	}
	d := w.replica.StartKpropdCommand(t, func(port int) *exec.Cmd {
		cmd := w.replica.Command(impl.path, append(append(w.replica.KpropdArgs(t, port), "-d"), extra...)...)
		if env != nil {
			cmd.Env = env
		}
		if o.wrap != nil {
			cmd = o.wrap(t, w, cmd)
		}
		return cmd
	})
	d.WaitFor(t, "waiting for a kprop connection", 10*time.Second)
	return d
}

// push runs MIT kprop with dump to port.
func (w *relWorld) push(t *testing.T, port int, dump string) outcome {
	t.Helper()
	args := w.args(port, mitrealm.ReplicaHost)
	args[3] = dump
	return w.kprop(t, w.mitKprop, nil, args...)
}

func (o outcome) succeeded() bool {
	return o.status == 0 && strings.Contains(o.stdout, mitrealm.KpropSucceeded)
}

// line is what an administrator saw of the outcome, on one line.
func (o outcome) line() string {
	s := strings.TrimSpace(o.stdout + o.stderr)
	if s == "" {
		s = fmt.Sprintf("(nothing, exit %d)", o.status)
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " / ")), " ")
}

const waitingLine = "waiting for a kprop connection"

// waitIdle waits until d has finished with every connection since its
// output had n waiting lines: it printed another one, it is its last line,
// and nothing more comes for a moment (MIT kpropd prints it before each
// accept, ours whenever its last connection is done).
func waitIdle(t *testing.T, d *mitrealm.Kpropd, n int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out := d.Output()
		if strings.Count(out, waitingLine) > n && strings.HasSuffix(strings.TrimRight(out, "\n"), waitingLine) {
			time.Sleep(300 * time.Millisecond)
			if d.Output() == out {
				return
			}
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become idle; output:\n%s", d.Name, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// relFamily is one fault family.
type relFamily struct {
	opts kpropdOpts
	// fault injects the fault against d and returns what the sender saw.
	fault func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string
	// completes names the dump a legitimate transfer installs during the
	// fault ("" if none may).
	completes func(w *relWorld) string
	// before prepares the replica's database when the base dump is not
	// the state to keep (the replay family); it returns the dump the
	// database holds.
	before func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string
	// restart, if set, replaces d before the fault (the replay family).
	restart bool
	// after, if set, undoes the fault's lasting effect once the
	// database has been checked, before the next propagation (disk full).
	after func(t *testing.T, w *relWorld, d *mitrealm.Kpropd)
	// ours checks what the sender saw with our kpropd.
	ours func(t *testing.T, sender string)
}

// runFamily runs f against both kpropds.
func runFamily(t *testing.T, family string, f relFamily) {
	t.Parallel()
	w := newRelWorld(t)
	for _, impl := range relImpls(t) {
		t.Run(impl.name, func(t *testing.T) {
			w.replica.Load(t, w.base)
			d := w.start(t, impl, f.opts)
			want := w.base
			if f.before != nil {
				want = f.before(t, w, d)
			}
			if f.restart {
				d.Stop()
				d = w.start(t, impl, f.opts)
			}
			before := w.replica.DumpString(t)
			if wantDump := string(readFile(t, want)); before != wantDump {
				t.Fatalf("the replica's database is not %s before the fault", filepath.Base(want))
			}
			n := strings.Count(d.Output(), waitingLine)
			sender := f.fault(t, w, d)
			waitIdle(t, d, n)
			after := w.replica.DumpString(t)
			intact := after == before
			if f.completes != nil {
				intact = after == string(readFile(t, f.completes(w)))
			}
			if f.after != nil {
				f.after(t, w, d)
			}
			o := w.push(t, d.Port, w.next)
			serving := o.succeeded() && w.replica.DumpString(t) == string(readFile(t, w.next))
			t.Logf("RELIABILITY family=%s impl=%s intact=%v serving=%v sender=%q", family, impl.name, intact, serving, sender)
			if impl.name != "ours" {
				return
			}
			if !intact {
				t.Errorf("%s: the replica's database changed", family)
			}
			if !serving {
				t.Errorf("%s: the next propagation failed: %s\nkpropd:\n%s", family, o.line(), d.Output())
			}
			if f.ours != nil {
				f.ours(t, sender)
			}
		})
	}
}

// wantSender fails unless the sender saw each of the substrings.
func wantSender(subs ...string) func(t *testing.T, sender string) {
	return func(t *testing.T, sender string) {
		t.Helper()
		for _, s := range subs {
			if !strings.Contains(sender, s) {
				t.Errorf("the sender saw %q, want %q in it", sender, s)
			}
		}
	}
}

// throughProxy pushes the fault dump with MIT kprop through a proxy with
// edit to d.
func throughProxy(edit frameEdit) func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
	return func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
		p := newProxy(t, d.Port, edit)
		return w.push(t, p.port(), w.fault).line()
	}
}

// onChunk applies do to the second chunk, the frame after the first.
func onChunk(do func(frame, prev []byte) ([][]byte, proxyAction)) frameEdit {
	var prev []byte
	return func(i int, frame []byte) ([][]byte, proxyAction) {
		if i == frameChunk+1 {
			return do(frame, prev)
		}
		prev = frame
		return [][]byte{frame}, relayNext
	}
}

// resyncTimeout is kdc.conf's iprop_resync_timeout for the families whose
// connections MIT kpropd only drops when its alarm fires.
func resyncTimeout(d string) func(t *testing.T, w *relWorld) []string {
	return func(t *testing.T, w *relWorld) []string {
		return kdcConfEnv(t, w.replica, "iprop_resync_timeout = "+d)
	}
}

// rawGreeting sends greeting in place of the sendauth exchange, closes its
// side and reports what came back.
func rawGreeting(greeting []byte) func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
	return func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(d.Port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(greeting)
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		b, err := io.ReadAll(c)
		return fmt.Sprintf("%d bytes back (%x), then %v", len(b), b[:min(len(b), 8)], errOrEOF(err))
	}
}

func errOrEOF(err error) string {
	if err == nil {
		return "EOF"
	}
	return err.Error()
}

// lyingSender authenticates with our library and announces declared
// bytes, then sends the whole fault dump (and, if it announced more,
// closes its side) and reports the answer.
func lyingSender(declared func(size int) uint64) func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
	return func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
		dump := readFile(t, w.fault)
		conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(d.Port))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := krbauth.Client(conn, &krbauth.ClientConfig{Credentials: goCredentials(t, w.parityWorld), ApplVersion: wire.ApplVersion})
		if err := c.HandshakeContext(ctx); err != nil {
			return "handshake: " + err.Error()
		}
		size := declared(len(dump))
		if err := c.WriteSafe(wire.AppendSize(nil, size)); err != nil {
			return "size: " + err.Error()
		}
		c.StartChaining()
		for off := 0; off < len(dump); off += 32768 {
			if err := c.WritePriv(dump[off:min(off+32768, len(dump))]); err != nil {
				return fmt.Sprintf("chunk at %d: %v", off, err)
			}
		}
		if size > uint64(len(dump)) {
			conn.(*net.TCPConn).CloseWrite()
		}
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.ReadSafe(); err != nil {
			return "answer: " + strings.ReplaceAll(err.Error(), "\n", " / ")
		}
		return "acknowledged"
	}
}

func TestReliability(t *testing.T) {
	t.Run("cut_connection", func(t *testing.T) {
		runFamily(t, "cut-connection", relFamily{
			fault: throughProxy(onChunk(func(frame, _ []byte) ([][]byte, proxyAction) { return nil, relayCut })),
			ours:  wantSender("kprop: "),
		})
	})
	t.Run("tampered_chunk", func(t *testing.T) {
		runFamily(t, "tampered-chunk", relFamily{
			fault: throughProxy(onChunk(func(frame, _ []byte) ([][]byte, proxyAction) {
				f := append([]byte(nil), frame...)
				f[len(f)/2] ^= 0x40
				return [][]byte{f}, relayNext
			})),
			ours: wantSender("Decrypt integrity check failed signalled from server", "Error text from server: while decoding database block starting at offset 32768"),
		})
	})
	t.Run("replayed_chunk", func(t *testing.T) {
		runFamily(t, "replayed-chunk", relFamily{
			fault: throughProxy(onChunk(func(frame, prev []byte) ([][]byte, proxyAction) {
				return [][]byte{prev, frame}, relayNext
			})),
			ours: wantSender("while decoding database block starting at offset 32768"),
		})
	})
	t.Run("dropped_chunk", func(t *testing.T) {
		runFamily(t, "dropped-chunk", relFamily{
			fault: throughProxy(onChunk(func(frame, _ []byte) ([][]byte, proxyAction) { return nil, relayNext })),
			ours:  wantSender("while decoding database block starting at offset 32768"),
		})
	})
	t.Run("replayed_session_after_restart", func(t *testing.T) {
		var session []byte
		runFamily(t, "replayed-session-after-restart", relFamily{
			before: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
				// A legitimate propagation of the fault dump, recorded,
				// then a newer one: the replay must not roll it back.
				session = recordSession(t, w.parityWorld, d.Port, w.fault)
				if o := w.push(t, d.Port, w.base); !o.succeeded() {
					t.Fatalf("propagation after the recorded one: %s", o.line())
				}
				return w.base
			},
			restart: true,
			fault: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
				r := replaySession(t, d.Port, session)
				switch {
				case r.krbError != nil:
					return fmt.Sprintf("KRB-ERROR %d %s", r.krbError.ErrorCode, strings.TrimRight(r.krbError.EText, "\x00"))
				case r.accepted:
					return "AP-REQ accepted"
				}
				return fmt.Sprintf("answer %d, then the connection closed", r.answer)
			},
			ours: wantSender("KRB-ERROR 34 Request is a replay"),
		})
	})
	acl := func(t *testing.T, family string, change func(t *testing.T, w *relWorld), sender ...string) {
		runFamily(t, family, relFamily{
			fault: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
				change(t, w)
				defer func() {
					os.RemoveAll(w.replica.KpropdACL)
					w.replica.WriteKpropdACL(t, w.primary.KpropPrincipal())
				}()
				return w.push(t, d.Port, w.fault).line()
			},
			ours: wantSender(sender...),
		})
	}
	t.Run("acl_missing", func(t *testing.T) {
		acl(t, "acl-missing", func(t *testing.T, w *relWorld) { os.Remove(w.replica.KpropdACL) },
			"Generic remote error: Rejected connection from unauthorized principal")
	})
	t.Run("acl_unreadable", func(t *testing.T) {
		// Root reads any file: the ACL is made a directory, which opens
		// but cannot be read.
		acl(t, "acl-unreadable", func(t *testing.T, w *relWorld) {
			os.Remove(w.replica.KpropdACL)
			if err := os.Mkdir(w.replica.KpropdACL, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "Generic remote error: Rejected connection from unauthorized principal")
	})
	t.Run("acl_not_listed", func(t *testing.T) {
		acl(t, "acl-not-listed", func(t *testing.T, w *relWorld) {
			w.replica.WriteKpropdACL(t, "host/someone.else@"+w.primary.Realm)
		}, "Generic remote error: Rejected connection from unauthorized principal")
	})
	t.Run("clock_skew", func(t *testing.T) {
		// The replica tolerates one second; the proxy holds the AP-REQ
		// for two and a half.
		runFamily(t, "clock-skew", relFamily{
			opts: kpropdOpts{env: func(t *testing.T, w *relWorld) []string { return w.replica.ClientEnv(t, "clockskew = 1") }},
			fault: throughProxy(func(i int, frame []byte) ([][]byte, proxyAction) {
				if i == frameAPReq {
					time.Sleep(2500 * time.Millisecond)
				}
				return [][]byte{frame}, relayNext
			}),
			ours: wantSender("Clock skew too great"),
		})
	})
	t.Run("oversized_length", func(t *testing.T) {
		// After authentication, a length prefix of almost 4 GiB in place
		// of the size message, and nothing more.
		runFamily(t, "oversized-length", relFamily{
			opts: kpropdOpts{env: resyncTimeout("3s")},
			fault: throughProxy(func(i int, frame []byte) ([][]byte, proxyAction) {
				if i == frameSize {
					return [][]byte{{0xff, 0xff, 0xff, 0xf0}}, relayHold
				}
				return [][]byte{frame}, relayNext
			}),
			// What kprop sees depends on whether it is still writing when
			// kpropd hangs up (our kpropd tells it "Message too large
			// while reading database size" if it is reading).
		})
	})
	t.Run("garbage_greeting", func(t *testing.T) {
		junk := make([]byte, 64)
		for i := range junk {
			junk[i] = byte(i*37 + 11)
		}
		runFamily(t, "garbage-greeting", relFamily{opts: kpropdOpts{env: resyncTimeout("3s")}, fault: rawGreeting(junk)})
	})
	t.Run("http_greeting", func(t *testing.T) {
		runFamily(t, "http-greeting", relFamily{opts: kpropdOpts{env: resyncTimeout("3s")},
			fault: rawGreeting([]byte("GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: probe\r\n\r\n"))})
	})
	t.Run("tls_greeting", func(t *testing.T) {
		runFamily(t, "tls-greeting", relFamily{
			opts: kpropdOpts{env: resyncTimeout("3s")},
			fault: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
				c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(d.Port))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				err = tls.Client(c, &tls.Config{ServerName: "localhost", InsecureSkipVerify: true}).HandshakeContext(ctx)
				return "TLS handshake: " + errOrEOF(err)
			},
		})
	})
	t.Run("declared_size_larger", func(t *testing.T) {
		runFamily(t, "declared-size-larger", relFamily{
			fault: lyingSender(func(n int) uint64 { return uint64(n) + 100000 }),
			ours:  wantSender("Software caused connection abort while reading database block starting at offset"),
		})
	})
	t.Run("declared_size_smaller", func(t *testing.T) {
		runFamily(t, "declared-size-smaller", relFamily{
			fault: lyingSender(func(n int) uint64 { return uint64(n) / 2 }),
			ours:  wantSender("for database file"),
		})
	})
	t.Run("disk_full", func(t *testing.T) {
		runFamily(t, "disk-full", diskFullFamily(t))
	})
	t.Run("failing_load", func(t *testing.T) {
		// kdb5_util fails once, as when the database cannot be written.
		var flag string
		runFamily(t, "failing-load", relFamily{
			opts: kpropdOpts{args: func(t *testing.T, w *relWorld) []string {
				flag = filepath.Join(w.replica.Dir, "fail-next-load")
				p := filepath.Join(w.replica.Dir, "failing_kdb5_util")
				script := "#!/bin/sh\nif [ -e " + flag + " ]; then rm -f " + flag + "; echo 'kdb5_util: cannot load' >&2; exit 1; fi\nexec " +
					mitrealm.Require(t, "kdb5_util")["kdb5_util"] + " \"$@\"\n"
				if err := os.WriteFile(p, []byte(script), 0o700); err != nil {
					t.Fatal(err)
				}
				return []string{"-p", p}
			}},
			fault: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
				if err := os.WriteFile(flag, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return w.push(t, d.Port, w.fault).line()
			},
			ours: wantSender("Generic remote error: Load failed while loading the database"),
		})
	})
	t.Run("invalid_dump", func(t *testing.T) {
		runFamily(t, "invalid-dump", relFamily{
			fault: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
				bad := filepath.Join(w.primary.Dir, "invalid.dump")
				b := readFile(t, w.fault)
				// A dump cut in the middle of a principal line.
				if err := os.WriteFile(bad, b[:len(b)/2], 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(bad+".dump_ok", nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return w.push(t, d.Port, bad).line()
			},
			// Ours verifies the dump as it streams in and refuses it
			// before anything is loaded; MIT's loader fails on it.
			ours: wantSender("truncated dump: last line has no newline"),
		})
	})
	t.Run("concurrent_senders", func(t *testing.T) {
		var last string
		runFamily(t, "concurrent-senders", relFamily{
			opts: kpropdOpts{args: func(t *testing.T, w *relWorld) []string { return []string{"-p", slowLoader(t, w.replica, "1")} }},
			fault: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
				runs := concurrentKprops(t, w.parityWorld, d.Port, w.fault, w.base)
				last = runs[len(runs)-1].dump
				var seen []string
				for _, r := range runs {
					seen = append(seen, filepath.Base(r.dump)+": "+r.line())
				}
				return strings.Join(seen, " ; ")
			},
			completes: func(*relWorld) string { return last },
			ours: func(t *testing.T, sender string) {
				if strings.Count(sender, "SUCCEEDED") != 2 {
					t.Errorf("the senders saw %q, want two SUCCEEDED", sender)
				}
			},
		})
	})
	t.Run("held_connections", func(t *testing.T) {
		// Two clients connect and say nothing while a propagation
		// runs; MIT kpropd, serving one connection at a time, only gets
		// to it once its alarm has dropped each of them.
		runFamily(t, "held-connections", relFamily{
			opts: kpropdOpts{env: resyncTimeout("2s")},
			fault: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
				var held []net.Conn
				for range 2 {
					c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(d.Port))
					if err != nil {
						t.Fatal(err)
					}
					held = append(held, c)
				}
				time.Sleep(200 * time.Millisecond)
				start := time.Now()
				o := w.push(t, d.Port, w.fault)
				for _, c := range held {
					c.Close()
				}
				return fmt.Sprintf("%s (after %.1fs)", o.line(), time.Since(start).Seconds())
			},
			completes: func(w *relWorld) string { return w.fault },
			ours:      wantSender(mitrealm.KpropSucceeded),
		})
	})
	t.Run("connect_storm", func(t *testing.T) {
		// 60 connections opened and dropped at once, some sending a
		// byte, while a propagation runs.
		runFamily(t, "connect-storm", relFamily{
			fault: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
				var wg sync.WaitGroup
				for g := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range 15 {
							c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(d.Port), time.Second)
							if err != nil {
								continue
							}
							if (g+i)%2 == 0 {
								c.Write([]byte{0})
							}
							c.Close()
						}
					}()
				}
				o := w.push(t, d.Port, w.fault)
				wg.Wait()
				return o.line()
			},
			completes: func(w *relWorld) string { return w.fault },
			ours:      wantSender(mitrealm.KpropSucceeded),
		})
	})
}

// diskFullFamily runs kpropd in a mount namespace of its own where the
// directory of its received dump (-f) is a small tmpfs, filled up but for
// less than a dump before the fault, freed again before the next
// propagation. The test reaches the tmpfs through /proc/PID/root.
func diskFullFamily(t *testing.T) relFamily {
	if _, err := exec.LookPath("unshare"); err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the disk-full family needs root and unshare(1)")
		}
		t.Skip("the disk-full family needs root and unshare(1)")
	}
	const size = 4 << 20 // the tmpfs; a dump is a few hundred kilobytes
	dir := func(w *relWorld) string { return filepath.Join(w.replica.Dir, "full") }
	var filler string
	return relFamily{
		opts: kpropdOpts{
			args: func(t *testing.T, w *relWorld) []string {
				if err := os.MkdirAll(dir(w), 0o700); err != nil {
					t.Fatal(err)
				}
				return []string{"-f", filepath.Join(dir(w), "from_primary")}
			},
			wrap: func(t *testing.T, w *relWorld, cmd *exec.Cmd) *exec.Cmd {
				script := "mount -t tmpfs -o size=" + strconv.Itoa(size) + ",mode=0700 none " + mitrealm.Quote(dir(w)) + ` && exec "$0" "$@"`
				wrapped := exec.Command("unshare", append([]string{"-m", "sh", "-c", script, cmd.Path}, cmd.Args[1:]...)...)
				wrapped.Env, wrapped.Dir = cmd.Env, cmd.Dir
				return wrapped
			},
		},
		fault: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) string {
			st, err := os.Stat(w.fault)
			if err != nil {
				t.Fatal(err)
			}
			filler = fmt.Sprintf("/proc/%d/root%s/filler", d.Pid(), dir(w))
			f, err := os.OpenFile(filler, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			// Fill the tmpfs but for half a dump.
			chunk := make([]byte, 64<<10)
			for left := int64(size) - st.Size()/2; left > 0; left -= int64(len(chunk)) {
				if _, err := f.Write(chunk[:min(int64(len(chunk)), left)]); err != nil {
					break
				}
			}
			f.Close()
			return w.push(t, d.Port, w.fault).line()
		},
		after: func(t *testing.T, w *relWorld, d *mitrealm.Kpropd) {
			// The operator frees space.
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
		},
		ours: wantSender("Generic remote error: No space left on device while writing database block starting at offset"),
	}
}
