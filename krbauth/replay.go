package krbauth

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gokprop/gokprop/internal/liberr"
	"github.com/gokprop/gokprop/krb5"
)

// DefaultReplayCacheSize is the number of authenticators a ReplayCache
// made by NewReplayCache remembers at most.
const DefaultReplayCacheSize = 1 << 16

// ErrReplayCacheFull: the replay cache holds its maximum number of live
// entries, so an authenticator cannot be recorded and is refused (MIT's
// KRB5_RC_IO_SPACE). Only authenticators that decrypted with a valid
// ticket are recorded, so only authenticated clients can fill the cache.
var ErrReplayCacheFull error = &liberr.Error{Text: "Insufficient system space to store replay information"}

// Errors of ResolveReplayCache, with MIT's texts.
var (
	// ErrReplayCacheName: a name without the "type:" prefix (KRB5_RC_PARSE).
	ErrReplayCacheName error = &liberr.Error{Text: "Replay cache name parse/format error"}
	// ErrReplayCacheType: a type other than dfl, file2 or none
	// (KRB5_RC_TYPE_NOTFOUND).
	ErrReplayCacheType error = &liberr.Error{Text: "Replay cache type is unknown"}
)

// ReplayCache remembers the authenticators a server Conn has accepted so that
// a captured AP-REQ cannot be replayed (KRB_AP_ERR_REPEAT, code 34).
//
// Like MIT krb5 1.20's replay cache it identifies an authenticator by the
// integrity tag at the end of its ciphertext (k5_rc_tag_from_ciphertext),
// so the tag is recorded before the ticket times and the clock skew are
// checked, exactly where MIT records it.
//
// A ReplayCache made by NewReplayCache (or the zero value) lives in memory:
// it keeps an entry for twice the clock skew after it was recorded, long
// enough to cover every moment the same authenticator could pass the skew
// check, holds at most DefaultReplayCacheSize live entries and, when full,
// refuses new authenticators with ErrReplayCacheFull rather than forget
// live ones. It is forgotten when the process exits.
//
// One made by NewFileReplayCache or ResolveReplayCache is MIT's file
// replay cache (types "file2" and "dfl"): it survives restarts, and a
// process of MIT krb5 using the same file sees the same entries (see
// NewFileReplayCache).
//
// A ReplayCache is safe for concurrent use; share one among all the
// connections of a server.
type ReplayCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]time.Time // tag → expiry
	queue   []replayEntry        // in recording order
	head    int

	kind rcKind
	path string // rcFile2: the file
}

// rcKind is the type of a ReplayCache.
type rcKind int

const (
	rcMemory  rcKind = iota
	rcFile2          // MIT's "file2": a file at path
	rcDefault        // MIT's "dfl": file2 in KRB5RCACHEDIR, owner checked
	rcNone           // MIT's "none": records nothing
)

type replayEntry struct {
	tag    string
	expiry time.Time
}

// NewReplayCache returns an empty in-memory replay cache.
func NewReplayCache() *ReplayCache {
	return &ReplayCache{max: DefaultReplayCacheSize, entries: make(map[string]time.Time)}
}

// NewFileReplayCache returns the replay cache kept in path in MIT krb5
// 1.20's "file2" format (src/lib/krb5/rcache/rc_file2.c), which is MIT's
// file2:PATH: a 16-byte hash seed, then hash tables of 1023, 2048, 4096...
// records of a 12-byte tag (the first 12 bytes of the authenticator's
// integrity tag, zero-padded) and a 4-byte big-endian time of recording;
// a tag lives in one of two adjacent records at its SipHash-2-4 index
// (keyed by the seed, whose first byte is incremented for each further
// table). A record may be reused once now is later than its time plus the
// clock skew, but a tag that is still in the file is a replay whatever its
// age, as with MIT.
//
// The file is created with mode 0600 when the first authenticator is
// stored, and each store opens it, takes an exclusive lock on it (MIT's
// krb5_lock_file: an open file description lock, else flock), checks and
// writes one record, flushes it to stable storage before the authenticator
// is accepted, and closes it. Every state of the file is a valid cache, so
// a crash cannot corrupt it. Like MIT's, it grows only when both records at
// a tag's index are live in every table, and a table that would take it
// past 2^31-1 bytes fails the store (EOVERFLOW).
func NewFileReplayCache(path string) *ReplayCache {
	return &ReplayCache{kind: rcFile2, path: path}
}

// ResolveReplayCache returns the replay cache an MIT replay cache name
// designates, as MIT's k5_rc_resolve: "TYPE:RESIDUAL" where TYPE is
//
//   - "dfl", MIT's default: the file2 cache krb5_EUID.rcache2 in the
//     directory named by KRB5RCACHEDIR, else TMPDIR, else /var/tmp (Debian's
//     build), read at each store as MIT does; the file is opened without
//     following a symbolic link, and one not owned by the effective user
//     fails the store. The residual is ignored.
//   - "file2": NewFileReplayCache(RESIDUAL).
//   - "none": no replay detection (every authenticator is accepted).
//
// Use krbconf.ReplayCacheName for the name MIT's programs would use.
func ResolveReplayCache(name string) (*ReplayCache, error) {
	typ, residual, ok := strings.Cut(name, ":")
	if !ok {
		return nil, fmt.Errorf("%q: %w", name, ErrReplayCacheName)
	}
	switch typ {
	case "dfl":
		return &ReplayCache{kind: rcDefault}, nil
	case "file2":
		return NewFileReplayCache(residual), nil
	case "none":
		return &ReplayCache{kind: rcNone}, nil
	}
	return nil, fmt.Errorf("%q: %w", name, ErrReplayCacheType)
}

// store records tag at time now, or fails with krb5.ErrReplay if it is already
// recorded and not yet expired.
func (c *ReplayCache) store(tag []byte, now time.Time, skew time.Duration) error {
	switch c.kind {
	case rcNone:
		return nil
	case rcFile2:
		return storeFile2(c.path, false, tag, now, skew)
	case rcDefault:
		return storeFile2(defaultReplayCachePath(), true, tag, now, skew)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]time.Time)
	}
	c.expire(now)
	if exp, ok := c.entries[string(tag)]; ok && !now.After(exp) {
		return fmt.Errorf("authenticator already seen: %w", krb5.ErrReplay)
	}
	limit := c.max
	if limit <= 0 {
		limit = DefaultReplayCacheSize
	}
	if len(c.entries) >= limit {
		return ErrReplayCacheFull
	}
	e := replayEntry{tag: string(tag), expiry: now.Add(2 * skew)}
	c.entries[e.tag] = e.expiry
	c.queue = append(c.queue, e)
	return nil
}

// defaultReplayCachePath is where MIT's dfl type keeps its file.
func defaultReplayCachePath() string {
	dir, ok := os.LookupEnv("KRB5RCACHEDIR")
	if !ok {
		if dir, ok = os.LookupEnv("TMPDIR"); !ok {
			dir = "/var/tmp"
		}
	}
	return fmt.Sprintf("%s/krb5_%d.rcache2", dir, os.Geteuid())
}

// expire forgets the entries recorded longest ago while they are expired.
// With different skews an entry may outlive its expiry until the entries
// before it expire; it is never forgotten early.
func (c *ReplayCache) expire(now time.Time) {
	for c.head < len(c.queue) && now.After(c.queue[c.head].expiry) {
		e := c.queue[c.head]
		if exp, ok := c.entries[e.tag]; ok && exp.Equal(e.expiry) {
			delete(c.entries, e.tag)
		}
		c.queue[c.head] = replayEntry{}
		c.head++
	}
	if c.head > 0 && c.head >= len(c.queue)/2 {
		n := copy(c.queue, c.queue[c.head:])
		clear(c.queue[n:])
		c.queue = c.queue[:n]
		c.head = 0
	}
}

// len reports the number of recorded entries (for tests).
func (c *ReplayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// errNotOwned is the cause of a dfl store refused because the file belongs
// to another user.
var errNotOwned = errors.New("replay cache file is not owned by the effective user")
