package krbauth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gokprop/gokprop/krb5"
)

// Seed messages for the fuzz targets. They are deterministic (fixed keys and
// confounders), so the committed corpus under testdata/fuzz can be
// regenerated with
//
//	KRBAUTH_WRITE_FUZZ_SEEDS=1 go test -run TestWriteFuzzSeeds ./krbauth
func privSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for _, id := range implementedEnctypes() {
		c, _ := sessionPair(t, id)
		m, err := c.sealPriv(nil, []byte("database chunk"))
		if err != nil {
			t.Fatal(err)
		}
		seeds[fmt.Sprintf("priv-%d", id)] = m
	}
	c, s := sessionPair(t, krb5.EnctypeAES256CTSSHA1)
	m, _ := c.sealPriv(nil, []byte("r-address"))
	seeds["priv-truncated"] = m[:len(m)/2]
	e, _ := s.makeError(krb5.ErrBadIntegrity, "while decoding database block starting at offset 0", timeZero)
	seeds["krb-error"] = e
	safe, _ := c.makeSafe([]byte{0, 0, 1, 0})
	seeds["safe-in-place-of-priv"] = safe
	return seeds
}

func safeSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for _, id := range implementedEnctypes() {
		c, _ := sessionPair(t, id)
		m, err := c.makeSafe([]byte{0, 2, 0xac, 0xad})
		if err != nil {
			t.Fatal(err)
		}
		seeds[fmt.Sprintf("safe-%d", id)] = m
	}
	c, s := sessionPair(t, krb5.EnctypeAES128CTSSHA256)
	k := c.key.KeyValue
	b := safeBody(make([]byte, 12), derInt(testSc), clientAddr, &serverAddr)
	seeds["safe-rfc-with-raddr"] = safeMsg(b, 19, gokrb5Sum(t, k, 19, b))
	seeds["safe-heimdal-seq"] = mitSafe(t, k, safeBody([]byte("h"), tlv(idInteger, []byte{0x80}), clientAddr, nil), 19)
	e, _ := s.makeError(krb5.ErrGeneric, "Premature EOF found for database file!", timeZero)
	seeds["krb-error"] = e
	return seeds
}

func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("KRBAUTH_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set KRBAUTH_WRITE_FUZZ_SEEDS=1 to regenerate testdata/fuzz")
	}
	for target, seeds := range map[string]map[string][]byte{"FuzzOpenPriv": privSeeds(t), "FuzzReadSafe": safeSeeds(t)} {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// fuzzReceivers returns one kpropd-side session per enctype; reset puts
// one back to its state right after the handshake.
func fuzzReceivers(t testing.TB) []*session {
	var rs []*session
	for _, id := range implementedEnctypes() {
		_, s := sessionPair(t, id)
		rs = append(rs, s)
	}
	return rs
}

func resetReceiver(s *session, chained bool) {
	s.priv.Reset()
	s.chained = chained
	s.remoteSeq = testSc
	s.seqSane, s.seqHeimdal = false, false
	s.scratch = nil
}

// FuzzOpenPriv feeds arbitrary bytes to OpenPriv for every enctype, with
// and without a chained state: no panic, output no larger than the input,
// scratch no larger than the input, and a rejected message changes nothing.
func FuzzOpenPriv(f *testing.F) {
	for _, m := range privSeeds(f) {
		f.Add(m)
	}
	receivers := fuzzReceivers(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, s := range receivers {
			for _, chained := range []bool{false, true} {
				resetReceiver(s, chained)
				out, err := s.openPriv([]byte("dst"), msg)
				if len(out) > 3+len(msg) || string(out[:3]) != "dst" {
					t.Fatalf("output of %d bytes for a %d-byte message", len(out), len(msg))
				}
				if cap(s.scratch) > len(msg) {
					t.Fatalf("scratch of %d bytes for a %d-byte message", cap(s.scratch), len(msg))
				}
				if err != nil && (s.remoteSeq != testSc || s.seqSane || s.seqHeimdal) {
					t.Fatalf("rejected message changed the session: %v", err)
				}
				if err == nil && s.remoteSeq != testSc+1 {
					t.Fatal("accepted message did not advance the sequence number")
				}
			}
		}
	})
}

// FuzzReadSafe feeds arbitrary bytes to ReadSafe for every enctype.
func FuzzReadSafe(f *testing.F) {
	for _, m := range safeSeeds(f) {
		f.Add(m)
	}
	receivers := fuzzReceivers(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, s := range receivers {
			resetReceiver(s, false)
			out, err := s.readSafe(msg)
			if len(out) > len(msg) {
				t.Fatalf("output of %d bytes for a %d-byte message", len(out), len(msg))
			}
			if err != nil && (s.remoteSeq != testSc || out != nil) {
				t.Fatalf("rejected message changed the session or returned data: %v", err)
			}
		}
	})
}

// FuzzParseKRBError: any message is either not a KRB-ERROR or one the
// caller can report; nothing panics.
func FuzzParseKRBError(f *testing.F) {
	_, s := sessionPair(f, krb5.EnctypeAES256CTSSHA1)
	e, _ := s.makeError(krb5.ErrGeneric, "Load failed while loading the database", timeZero)
	f.Add(e)
	f.Add(e[:len(e)/2])
	f.Add([]byte{0x7e, 0x00})
	f.Fuzz(func(t *testing.T, msg []byte) {
		re, ok := parseKRBError(msg)
		if ok != isAppTag(msg, tagKRBError) || (ok && re == nil) {
			t.Fatalf("parseKRBError = %v, %v", re, ok)
		}
	})
}

// memRCFile is an rcFile in memory.
type memRCFile struct{ b []byte }

func (m *memRCFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memRCFile) WriteAt(p []byte, off int64) (int, error) {
	if end := off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	return copy(m.b[off:], p), nil
}

func (m *memRCFile) Sync() error { return nil }

// FuzzRCStore: whatever a replay cache file holds (a crash, another
// program, damage), storing a tag succeeds or reports a replay, and a tag
// just stored is then a replay.
func FuzzRCStore(f *testing.F) {
	f.Add([]byte{}, []byte("tag"), uint32(1_800_000_000))
	f.Add(make([]byte, 16+1023*16+5), []byte("0123456789ab"), uint32(1))
	f.Add([]byte("short"), []byte{}, uint32(0xffffffff))
	f.Fuzz(func(t *testing.T, file, tag []byte, now uint32) {
		if len(file) > 1<<20 {
			return
		}
		m := &memRCFile{b: append([]byte(nil), file...)}
		var tg [rcTagLen]byte
		copy(tg[:], tag)
		err := rcStore(m, tg, now, 300)
		if err != nil && !errors.Is(err, krb5.ErrReplay) {
			t.Fatalf("store: %v", err)
		}
		if now == 0 {
			return // a record of time 0 is an empty one, in MIT's format
		}
		if err := rcStore(m, tg, now, 300); !errors.Is(err, krb5.ErrReplay) {
			t.Fatalf("a tag just stored is not a replay: %v", err)
		}
	})
}
