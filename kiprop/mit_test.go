package kiprop_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokprop/gokprop/gsskrb5"
	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/kiprop"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbconf"
	"github.com/gokprop/gokprop/krbkdc"
	"github.com/gokprop/gokprop/rpcsecgss"
	"github.com/gokprop/gokprop/ulog"
)

// primary is an MIT primary serving iprop with kadmind, and the replica's
// side of the setup: a keytab with kiprop/<this host>'s keys.
type primary struct {
	h       *mitrealm.Host
	ip      *mitrealm.Iprop
	kadmind *mitrealm.Daemon
	keytab  string
	args    []string // kadmind's arguments
}

// sessionEnctypes are the session enctypes of the interop matrix that
// RFC 4121 tokens cover, plus camellia once the enctype table has it.
func sessionEnctypes() []string {
	out := []string{mitrealm.AES256SHA1, mitrealm.AES128SHA1, mitrealm.AES256SHA384, mitrealm.AES128SHA256}
	for _, c := range []string{"camellia256-cts-cmac", "camellia128-cts-cmac"} {
		if e, ok := krb5.ParseEnctype(c); ok && gsskrb5.EnctypeSupported(e) {
			out = append(out, c)
		}
	}
	return out
}

// newPrimary starts an MIT primary with iprop and kadmind, creates
// kiprop/<this host> and kiprop/localhost with keys of every session
// enctype, extracts the first into a keytab, and writes acl as
// kadm5.acl (with %s for the kiprop client principal).
func newPrimary(t *testing.T, acl string) *primary {
	t.Helper()
	mitrealm.Require(t, "krb5kdc", "kdb5_util", "kadmin.local", "kadmind")
	h := mitrealm.NewPrimary(t, mitrealm.Options{})
	h.StartKDC(t)
	p := &primary{h: h, ip: h.EnableIprop(t, mitrealm.IpropConfig{}), keytab: filepath.Join(t.TempDir(), "kiprop.keytab")}
	keys := strings.Join(sessionEnctypes(), ":normal,") + ":normal"
	cmds := []string{fmt.Sprintf("addprinc -randkey -clearpolicy -e %s %s", keys, h.KipropPrincipal())}
	if mitrealm.LocalHostname() != mitrealm.ReplicaHost {
		cmds = append(cmds, fmt.Sprintf("addprinc -randkey -clearpolicy -e %s %s", keys, h.KipropService()))
	}
	cmds = append(cmds, fmt.Sprintf("ktadd -k %s -norandkey %s", mitrealm.Quote("FILE:"+p.keytab), h.KipropPrincipal()))
	// An update larger than the log's 2048-byte blocks makes MIT resize
	// the log, which resets it (and would force a full resync in the
	// middle of a test): have it happen now.
	cmds = append(cmds, "addprinc -randkey big", "setstr big note "+strings.Repeat("y", 3000))
	h.Kadmin(t, cmds...)
	h.WriteKadmACL(t, fmt.Sprintf(acl, h.KipropPrincipal()))
	// A full resync forks kdb5_util dump and kprop: keep the dump in the
	// test's directory and send it to a port nobody listens on.
	p.args = []string{"-F", filepath.Join(h.Dir, "resync.dump"), "-k", strconv.Itoa(mitrealm.ReservePort(t))}
	p.kadmind = h.StartKadmind(t, p.ip, p.args...)
	return p
}

// config returns the session configuration of a replica on this machine
// whose krb5.conf has the given libdefaults.
func (p *primary) config(t *testing.T, libdefaults ...string) *kiprop.Config {
	t.Helper()
	var path string
	for _, kv := range p.h.ClientEnv(t, libdefaults...) {
		if v, ok := strings.CutPrefix(kv, "KRB5_CONFIG="); ok {
			path = v
		}
	}
	prof, err := krbconf.LoadConfigFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := krbconf.LoadKeytab(p.keytab)
	if err != nil {
		t.Fatal(err)
	}
	return &kiprop.Config{Realm: p.h.Realm, Profile: prof, AdminServer: mitrealm.ReplicaHost, Port: p.ip.Port, Keytab: kt, KDC: &krbkdc.KDCClient{Config: prof, RetryUnit: 100 * time.Millisecond}}
}

func enctypeConfig(e string) []string {
	return []string{"default_tkt_enctypes = " + e, "default_tgs_enctypes = " + e, "permitted_enctypes = " + e}
}

// last reads the primary's update log position.
func (p *primary) last(t *testing.T) iprop.Last {
	t.Helper()
	l, err := ulog.Open(p.ip.LogFile, ulog.Options{Slots: uint32(p.ip.ULogSize), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	last, err := l.Last()
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// waitLog waits for kadmind's log to contain line, and returns the log.
func (p *primary) waitLog(t *testing.T, line string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(p.h.Dir, "kadmind.log"))
		if strings.Contains(string(b), line) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("kadmind never logged %q:\n%s", line, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOutput waits until kadmind has printed substr n times.
func (p *primary) waitOutput(t *testing.T, substr string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(p.kadmind.Output(), substr) < n {
		if time.Now().After(deadline) {
			t.Fatalf("kadmind printed %q fewer than %d times:\n%s", substr, n, p.kadmind.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestMITKadmind runs iprop sessions against MIT kadmind for every session
// enctype: UPDATE_FULL_RESYNC_NEEDED for a replica that knows nothing,
// FULL_RESYNC_EXT granted, UPDATE_NIL at the primary's position, and
// UPDATE_OK with the updates made since, each as kadmind logs it.
func TestMITKadmind(t *testing.T) {
	p := newPrimary(t, "%s p")
	client := p.h.KipropPrincipal()
	for i, e := range sessionEnctypes() {
		t.Run(e, func(t *testing.T) {
			ctx := testCtx(t)
			s, err := kiprop.Dial(ctx, p.config(t, enctypeConfig(e)...))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			info, ok := s.Info()
			if !ok || info.SessionEnctype.String() != e || info.TokenEnctype.String() != e || info.Window != 32 || info.Client.String() != client {
				t.Fatalf("session %+v", info)
			}

			last := p.last(t)
			res, err := s.GetUpdates(ctx, last)
			if err != nil || res.Status != iprop.UpdateNil {
				t.Fatalf("GET_UPDATES at %+v: %+v %v", last, res, err)
			}
			p.waitLog(t, fmt.Sprintf("Request: iprop_get_updates_1, UPDATE_NIL; Incoming SerialNo=%d; Outgoing SerialNo=N/A, success, client=%s", last.Sno, client))

			// Real updates, one of them big enough to span several of
			// kadmind's 4000-byte fragments once many arrive at once.
			names := []string{fmt.Sprintf("user%d-a", i), fmt.Sprintf("user%d-b", i)}
			p.h.Kadmin(t, "addprinc -randkey "+names[0], "addprinc -randkey "+names[1], "setstr "+names[0]+" note "+strings.Repeat("x", 3000))
			res, err = s.GetUpdates(ctx, last)
			if err != nil || res.Status != iprop.UpdateOK || len(res.Updates) != 3 {
				t.Fatalf("GET_UPDATES after changes: %+v %v", res, err)
			}
			for j, u := range res.Updates {
				if want := names[min(j, 1)%2]; j < 2 && !strings.HasPrefix(u.Principal, want+"@") {
					t.Errorf("update %d is for %s, want %s", j, u.Principal, want)
				}
				if u.Sno != last.Sno+uint32(j)+1 {
					t.Errorf("update %d has serial number %d", j, u.Sno)
				}
			}
			now := p.last(t)
			if res.Last != now {
				t.Errorf("reply's last entry %+v, log's %+v", res.Last, now)
			}
			p.waitLog(t, fmt.Sprintf("Request: iprop_get_updates_1, UPDATE_OK; Incoming SerialNo=%d; Outgoing SerialNo=%d, success, client=%s", last.Sno, now.Sno, client))
			res, err = s.GetUpdates(ctx, iprop.Last{})
			if err != nil || res.Status != iprop.UpdateFullResyncNeeded {
				t.Fatalf("GET_UPDATES from nothing: %+v %v", res, err)
			}
			p.waitLog(t, "Request: iprop_get_updates_1, UPDATE_FULL_RESYNC_NEEDED; Incoming SerialNo=0; Outgoing SerialNo=N/A, success, client="+client)
			fr, err := s.FullResyncExt(ctx)
			if err != nil || fr.Status != iprop.UpdateOK {
				t.Fatalf("FULL_RESYNC_EXT: %+v %v", fr, err)
			}
			p.waitLog(t, "Request: iprop_full_resync_1, spawned resync process")

			// The resync child (kdb5_util dump, then a kprop that fails)
			// must be done before the next changes.
			p.waitOutput(t, "kprop: ", i+1)
			if err := s.Null(ctx); err != nil {
				t.Errorf("IPROP_NULL: %v", err)
			}
		})
	}
	log := p.waitLog(t, "iprop_get_updates_1")
	t.Logf("kadmind log:\n%s", log)
}

// TestMITEtypeNegotiation uses the default enctype lists: with an
// aes128-sha2 session key, the initiator offers MIT's preferred enctypes
// and kadmind picks aes256-sha1 for its subkey.
func TestMITEtypeNegotiation(t *testing.T) {
	p := newPrimary(t, "%s p")
	ctx := testCtx(t)
	s, err := kiprop.Dial(ctx, p.config(t, "default_tkt_enctypes = "+mitrealm.AES128SHA256))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info, _ := s.Info()
	if info.SessionEnctype.String() != mitrealm.AES128SHA256 || info.TokenEnctype.String() != mitrealm.AES256SHA1 {
		t.Errorf("session key %s, acceptor subkey %s", info.SessionEnctype, info.TokenEnctype)
	}
	if res, err := s.GetUpdates(ctx, p.last(t)); err != nil || res.Status != iprop.UpdateNil {
		t.Errorf("%+v %v", res, err)
	}
}

// TestMITPermDenied: without the p privilege kadmind answers
// UPDATE_PERM_DENIED and logs the refusal.
func TestMITPermDenied(t *testing.T) {
	p := newPrimary(t, "%s i")
	ctx := testCtx(t)
	s, err := kiprop.Dial(ctx, p.config(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.GetUpdates(ctx, iprop.Last{})
	if err != nil || res.Status != iprop.UpdatePermDenied {
		t.Fatalf("%+v %v", res, err)
	}
	fr, err := s.FullResyncExt(ctx)
	if err != nil || fr.Status != iprop.UpdatePermDenied {
		t.Fatalf("%+v %v", fr, err)
	}
	p.waitLog(t, "Unauthorized request: iprop_get_updates_1, client="+p.h.KipropPrincipal())
}

// TestMITWrongKey: a keytab whose kiprop key is not the database's fails
// at the AS exchange with the KDC's error, and a missing iprop_port is
// named.
func TestMITWrongKey(t *testing.T) {
	p := newPrimary(t, "%s p")
	cfg := p.config(t)
	client, err := krb5.ParsePrincipal(p.h.KipropPrincipal(), "")
	if err != nil {
		t.Fatal(err)
	}
	kt, err := krbtest.Keytab(krbtest.Key{Principal: client, KVNO: 1, Enctype: krb5.EnctypeAES256CTSSHA1, Password: "not the key"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keytab = kt
	_, err = kiprop.Dial(testCtx(t), cfg)
	var se *kiprop.SetupError
	if !errors.As(err, &se) || se.Step != "credentials" || !errors.Is(err, krb5.ErrBadIntegrity) && !errors.Is(err, krb5.ErrPreauthFailed) {
		t.Errorf("wrong key: %v", err)
	}

	cfg = p.config(t)
	cfg.Port = 0
	if _, err := kiprop.Dial(testCtx(t), cfg); !errors.Is(err, kiprop.ErrNoIpropPort) {
		t.Errorf("no iprop_port: %v", err)
	}
}

// TestMITKadmindRestart: when kadmind restarts under a session, the next
// call fails and the one after it works over a new session.
func TestMITKadmindRestart(t *testing.T) {
	p := newPrimary(t, "%s p")
	ctx := testCtx(t)
	s, err := kiprop.Dial(ctx, p.config(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	last := p.last(t)
	if res, err := s.GetUpdates(ctx, last); err != nil || res.Status != iprop.UpdateNil {
		t.Fatalf("%+v %v", res, err)
	}
	p.kadmind.Stop()
	p.kadmind = p.h.StartKadmind(t, p.ip, p.args...)
	if _, err := s.GetUpdates(ctx, last); err == nil {
		t.Fatal("a call over the old connection succeeded")
	} else {
		t.Logf("call after the restart: %v", err)
	}
	if _, ok := s.Info(); ok {
		t.Error("session still connected after a failed call")
	}
	res, err := s.GetUpdates(ctx, last)
	if err != nil || res.Status != iprop.UpdateNil {
		t.Fatalf("call over a new session: %+v %v", res, err)
	}
	if _, ok := s.Info(); !ok {
		t.Error("no session after a successful call")
	}
}

// proxy relays connections to addr, handing each reply record from the
// server to mutate (with its index on the connection) before it goes on.
type proxy struct {
	ln     net.Listener
	addr   string
	mutate func(i int, rec []byte) []byte
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, addr string, mutate func(i int, rec []byte) []byte) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, addr: addr, mutate: mutate}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			p.wg.Add(2)
			go func() { defer p.wg.Done(); io.Copy(s, c); s.Close() }()
			go func() { defer p.wg.Done(); p.relayReplies(c, s); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *proxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *proxy) relayReplies(dst, src net.Conn) {
	for i := 0; ; i++ {
		var rec []byte
		for {
			var h [4]byte
			if _, err := io.ReadFull(src, h[:]); err != nil {
				return
			}
			v := binary.BigEndian.Uint32(h[:])
			frag := make([]byte, v&0x7fffffff)
			if _, err := io.ReadFull(src, frag); err != nil {
				return
			}
			rec = append(rec, frag...)
			if v&0x80000000 != 0 {
				break
			}
		}
		rec = p.mutate(i, rec)
		if _, err := dst.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(rec))|0x80000000), rec...)); err != nil {
			return
		}
	}
}

// TestMITTamperedReplies relays the session through a proxy that changes
// kadmind's replies; each change must be refused.
func TestMITTamperedReplies(t *testing.T) {
	p := newPrimary(t, "%s p")
	// Reply layout: xid, REPLY, MSG_ACCEPTED, verifier flavor, length and
	// body (the MIC token: 16-byte header, then the checksum), accept
	// status, then the body (opaque Wrap token).
	verf := 20
	body := func(rec []byte) int { return verf + int(binary.BigEndian.Uint32(rec[16:])+3)&^3 + 4 + 4 }
	var saved []byte
	cases := []struct {
		name   string
		setup  bool // the change hits context creation
		mutate func(rec []byte) []byte
	}{
		{"window MIC", true, func(rec []byte) []byte { rec[verf+16] ^= 1; return rec }},
		{"reply MIC checksum", false, func(rec []byte) []byte { rec[verf+17] ^= 0x80; return rec }},
		{"reply MIC sequence number", false, func(rec []byte) []byte { rec[verf+15] ^= 1; return rec }},
		{"reply MIC direction flag", false, func(rec []byte) []byte { rec[verf+2] ^= 1; return rec }},
		{"sealed body", false, func(rec []byte) []byte { rec[len(rec)-1] ^= 1; return rec }},
		{"body header", false, func(rec []byte) []byte { rec[body(rec)+10] ^= 1; return rec }},
		{"earlier reply replayed", false, func(rec []byte) []byte {
			if saved == nil {
				return rec
			}
			return append(rec[:4:4], saved[4:]...) // the xid is the call's
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := testCtx(t)
			saved = nil
			var mu sync.Mutex
			target := 1 // replies: 0 is the INIT reply, 1 the first GET_UPDATES, 2 the second
			if c.setup {
				target = 0
			}
			if c.name == "earlier reply replayed" {
				target = 2
			}
			tampered := false
			pr := startProxy(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(p.ip.Port)), func(i int, rec []byte) []byte {
				mu.Lock()
				defer mu.Unlock()
				if i == 1 {
					saved = append([]byte(nil), rec...)
				}
				if i == target && !tampered {
					tampered = true
					return c.mutate(rec)
				}
				return rec
			})
			cfg := p.config(t)
			cfg.Port = pr.port()
			s, err := kiprop.Dial(ctx, cfg)
			if c.setup {
				var se *kiprop.SetupError
				if !errors.As(err, &se) || se.Step != "context" || !errors.Is(err, rpcsecgss.ErrBadReply) || !errors.Is(err, gsskrb5.ErrBadMIC) {
					t.Fatalf("tampered window MIC: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			last := p.last(t)
			if target == 2 {
				if _, err := s.GetUpdates(ctx, last); err != nil {
					t.Fatal(err)
				}
			}
			_, err = s.GetUpdates(ctx, last)
			if !errors.Is(err, rpcsecgss.ErrBadReply) || !rpcsecgss.NeedsNewContext(err) {
				t.Fatalf("tampered reply accepted or misreported: %v", err)
			}
			t.Logf("refused: %v", err)
			// The session recovers over a new connection (the proxy
			// tampers with one reply only).
			if res, err := s.GetUpdates(ctx, last); err != nil || res.Status != iprop.UpdateNil {
				t.Errorf("after the tampered reply: %+v %v", res, err)
			}
		})
	}
}
