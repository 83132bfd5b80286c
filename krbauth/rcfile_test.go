package krbauth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gokprop/gokprop/krb5"
)

// The reference vectors of the SipHash paper (Aumasson and Bernstein,
// appendix A): key 00 01 .. 0f, messages 00 01 .. (n-1).
func TestSipHash24Vectors(t *testing.T) {
	var key [rcSeedLen]byte
	for i := range key {
		key[i] = byte(i)
	}
	msg := make([]byte, 15)
	for i := range msg {
		msg[i] = byte(i)
	}
	for _, c := range []struct {
		n    int
		want uint64
	}{{0, 0x726fdb47dd0e0e31}, {15, 0xa129ca6149be45e5}} {
		if got := sipHash24(msg[:c.n], key); got != c.want {
			t.Errorf("SipHash-2-4 of %d bytes = %#x, want %#x", c.n, got, c.want)
		}
	}
}

func TestRCNextTable(t *testing.T) {
	var off, n int64 = -1, 0
	want := []struct{ off, n int64 }{{16, 1023}, {16 + 1023*16, 2048}, {16 + 1023*16 + 2048*16, 4096}}
	for _, w := range want {
		if !rcNextTable(&off, &n) || off != w.off || n != w.n {
			t.Fatalf("table at %d with %d records, want %d with %d", off, n, w.off, w.n)
		}
	}
	tables := 3
	for rcNextTable(&off, &n) {
		tables++
		if off+n*rcRecordLen > rcMaxSize {
			t.Fatalf("table %d ends at %d, past MIT's MAX_SIZE", tables, off+n*rcRecordLen)
		}
	}
	// 16 + 16*(1023 + 2048 + ... + 2048*2^15) = 2^31 - 16400 fits in
	// 2^31-1; one more table of 2^27 records would not.
	if tables != 17 {
		t.Errorf("%d tables fit, want 17", tables)
	}
}

// fileTag returns a 16-byte integrity tag whose first 12 bytes are the
// recorded tag.
func fileTag(s string) []byte {
	b := make([]byte, 16)
	copy(b, s)
	return b
}

func TestFileReplayCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rc")
	skew := 300 * time.Second
	t0 := time.Unix(1_800_000_000, 0)
	c := NewFileReplayCache(path)
	if err := c.store(fileTag("tag-a"), t0, skew); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if err := c.store(fileTag("tag-a"), t0.Add(time.Second), skew); !errors.Is(err, krb5.ErrReplay) {
		t.Errorf("replay: %v", err)
	}
	if err := c.store(fileTag("tag-b"), t0, skew); err != nil {
		t.Errorf("another tag: %v", err)
	}
	// Another cache on the same file (a restarted server) sees them.
	again := NewFileReplayCache(path)
	for _, tag := range []string{"tag-a", "tag-b"} {
		if err := again.store(fileTag(tag), t0.Add(2*time.Second), skew); !errors.Is(err, krb5.ErrReplay) {
			t.Errorf("%s after a restart: %v", tag, err)
		}
	}
	// Only the first 12 bytes count, as in MIT's records.
	long := fileTag("tag-a")
	long[15] ^= 0xff
	if err := again.store(long, t0, skew); !errors.Is(err, krb5.ErrReplay) {
		t.Errorf("tag differing after byte 12: %v", err)
	}
	// A record that is still there is a replay however old, as with MIT.
	if err := again.store(fileTag("tag-a"), t0.Add(time.Hour), skew); !errors.Is(err, krb5.ErrReplay) {
		t.Errorf("old record: %v", err)
	}

	// The layout: seed, then tag-a's record at its index in table 1.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var seed [rcSeedLen]byte
	copy(seed[:], b)
	var tag [rcTagLen]byte
	copy(tag[:], "tag-a")
	off := rcSeedLen + int64(sipHash24(tag[:], seed)%rcFirstRecords)*rcRecordLen
	found := false
	for _, o := range []int64{off, off + rcRecordLen} {
		if o+rcRecordLen <= int64(len(b)) && string(b[o:o+rcTagLen]) == string(tag[:]) &&
			binary.BigEndian.Uint32(b[o+rcTagLen:]) == uint32(t0.Unix()) {
			found = true
		}
	}
	if !found {
		t.Errorf("no record of tag-a at offset %d of the %d-byte file", off, len(b))
	}
}

// colliding returns n tags whose records go to the same index of the first
// table of the cache at path.
func colliding(t *testing.T, path string, n int) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < rcSeedLen {
		t.Fatalf("no seed in %s: %v", path, err)
	}
	var seed [rcSeedLen]byte
	copy(seed[:], b)
	var tags [][]byte
	want := int64(-1)
	for i := 0; len(tags) < n; i++ {
		var tag [rcTagLen]byte
		copy(tag[:], fmt.Sprintf("c%d", i))
		ind := int64(sipHash24(tag[:], seed) % rcFirstRecords)
		if want == -1 {
			want = ind
		}
		if ind == want {
			tags = append(tags, append(tag[:], 0, 0, 0, 0))
		}
	}
	return tags
}

// Two records share an index; a third live tag goes to the next table
// (the file grows), and an expired record is reused in place.
func TestFileReplayCacheTables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rc")
	skew := 60 * time.Second
	t0 := time.Unix(1_800_000_000, 0)
	c := NewFileReplayCache(path)
	if err := c.store(fileTag("seed me"), t0, skew); err != nil {
		t.Fatal(err)
	}
	tags := colliding(t, path, 4)
	for _, tag := range tags[:3] {
		if err := c.store(tag, t0, skew); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := os.Stat(path)
	if st.Size() <= rcSeedLen+rcFirstRecords*rcRecordLen {
		t.Errorf("file of %d bytes: the third colliding tag did not go to the second table", st.Size())
	}
	for _, tag := range tags[:3] {
		if err := c.store(tag, t0.Add(time.Second), skew); !errors.Is(err, krb5.ErrReplay) {
			t.Errorf("colliding tag not found: %v", err)
		}
	}
	// Once the first two have expired (now > stamp + skew), a new
	// colliding tag takes the first record: the file does not grow.
	size := st.Size()
	later := t0.Add(skew + time.Second)
	if err := c.store(tags[3], later, skew); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Size() != size {
		t.Errorf("file grew from %d to %d bytes instead of reusing an expired record", size, st.Size())
	}
	if err := c.store(tags[0], later, skew); err != nil {
		t.Errorf("the overwritten record is still found: %v", err)
	}
}

// Any content is a valid cache: a short or truncated file is read as far
// as it goes, as MIT reads it.
func TestFileReplayCacheDamagedFile(t *testing.T) {
	skew := 60 * time.Second
	t0 := time.Unix(1_800_000_000, 0)
	for _, size := range []int{0, 5, rcSeedLen, rcSeedLen + 7, rcSeedLen + 1023*rcRecordLen + 3} {
		path := filepath.Join(t.TempDir(), "rc")
		junk := make([]byte, size)
		for i := range junk {
			junk[i] = byte(i * 7)
		}
		if err := os.WriteFile(path, junk, 0o600); err != nil {
			t.Fatal(err)
		}
		c := NewFileReplayCache(path)
		if err := c.store(fileTag("x"), t0, skew); err != nil {
			t.Errorf("%d-byte file: %v", size, err)
			continue
		}
		if err := c.store(fileTag("x"), t0, skew); !errors.Is(err, krb5.ErrReplay) {
			t.Errorf("%d-byte file: replay not detected: %v", size, err)
		}
	}
}

// Stores from many goroutines (and so, with the lock, processes) on one
// file lose nothing.
func TestFileReplayCacheConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rc")
	t0 := time.Unix(1_800_000_000, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- NewFileReplayCache(path).store(fileTag(fmt.Sprint("t", i)), t0, time.Minute)
		}()
	}
	wg.Wait()
	for i := range 100 {
		errs <- NewFileReplayCache(path).store(fileTag(fmt.Sprint("t", i)), t0, time.Minute)
	}
	for i := range 200 {
		err := <-errs
		if i < 100 && err != nil {
			t.Errorf("store: %v", err)
		}
		if i >= 100 && !errors.Is(err, krb5.ErrReplay) {
			t.Errorf("replay %d not detected: %v", i-100, err)
		}
	}
}

func TestResolveReplayCache(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KRB5RCACHEDIR", dir)
	t0 := time.Unix(1_800_000_000, 0)
	dfl, err := ResolveReplayCache("dfl:")
	if err != nil {
		t.Fatal(err)
	}
	if err := dfl.store(fileTag("d"), t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, fmt.Sprintf("krb5_%d.rcache2", os.Geteuid()))
	if _, err := os.Stat(want); err != nil {
		t.Errorf("dfl did not write %s: %v", want, err)
	}
	// The same file as file2.
	f2, err := ResolveReplayCache("file2:" + want)
	if err != nil {
		t.Fatal(err)
	}
	if err := f2.store(fileTag("d"), t0, time.Minute); !errors.Is(err, krb5.ErrReplay) {
		t.Errorf("file2 on dfl's file: %v", err)
	}
	none, err := ResolveReplayCache("none:")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := none.store(fileTag("n"), t0, time.Minute); err != nil {
			t.Errorf("none: %v", err)
		}
	}
	if _, err := ResolveReplayCache("file2"); !errors.Is(err, ErrReplayCacheName) {
		t.Errorf("no type: %v", err)
	}
	if _, err := ResolveReplayCache("rcache:x"); !errors.Is(err, ErrReplayCacheType) {
		t.Errorf("unknown type: %v", err)
	}
	// Without KRB5RCACHEDIR: TMPDIR, then /var/tmp.
	os.Unsetenv("KRB5RCACHEDIR")
	t.Setenv("TMPDIR", "/some/tmp")
	if p := defaultReplayCachePath(); p != fmt.Sprintf("/some/tmp/krb5_%d.rcache2", os.Geteuid()) {
		t.Errorf("with TMPDIR: %s", p)
	}
	os.Unsetenv("TMPDIR")
	if p := defaultReplayCachePath(); p != fmt.Sprintf("/var/tmp/krb5_%d.rcache2", os.Geteuid()) {
		t.Errorf("default: %s", p)
	}
}

// dfl follows no symbolic link and refuses a file of another user; the
// peer is told only the errno's text.
func TestDefaultReplayCacheSafety(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KRB5RCACHEDIR", dir)
	path := defaultReplayCachePath()
	target := filepath.Join(dir, "elsewhere")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	c, _ := ResolveReplayCache("dfl:")
	err := c.store(fileTag("s"), time.Now(), time.Minute)
	if !errors.Is(err, syscall.ELOOP) {
		t.Errorf("symlink: %v", err)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("the link's target was created: %v", err)
	}
	if code, text := recvauthWireError(err); code != krb5.ErrGeneric || strings.Contains(text, dir) {
		t.Errorf("wire error %v %q", code, text)
	}
	os.Remove(path)
	if os.Geteuid() != 0 {
		t.Skip("changing a file's owner needs root")
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 12345, 12345); err != nil {
		t.Fatal(err)
	}
	err = c.store(fileTag("s"), time.Now(), time.Minute)
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), path) {
		t.Errorf("file of another user: %v", err)
	}
	if code, text := recvauthWireError(err); code != krb5.ErrGeneric || text != "Input/output error" {
		t.Errorf("wire error %v %q, want MIT's EIO text alone", code, text)
	}
	// file2 does not check the owner, as MIT's does not.
	if err := NewFileReplayCache(path).store(fileTag("s"), time.Now(), time.Minute); err != nil {
		t.Errorf("file2 on another user's file: %v", err)
	}
}
