package krbauth

import (
	"fmt"
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

// ReplayCache remembers the authenticators a server Conn has accepted so that
// a captured AP-REQ cannot be replayed (KRB_AP_ERR_REPEAT, code 34).
//
// Like MIT krb5 1.20's replay cache it identifies an authenticator by the
// integrity tag at the end of its ciphertext (k5_rc_tag_from_ciphertext),
// so the tag is recorded before the ticket times and the clock skew are
// checked, exactly where MIT records it. An entry is kept for twice the
// clock skew after it was recorded: long enough to cover every moment the
// same authenticator could pass the skew check. The cache lives in memory
// only (MIT's is a file that survives restarts) and holds at most
// DefaultReplayCacheSize live entries; when it is full new authenticators
// are refused with ErrReplayCacheFull rather than forgetting live ones.
//
// A ReplayCache is safe for concurrent use; share one among all the
// connections of a server. The zero value is an empty cache.
type ReplayCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]time.Time // tag → expiry
	queue   []replayEntry        // in recording order
	head    int
}

type replayEntry struct {
	tag    string
	expiry time.Time
}

// NewReplayCache returns an empty replay cache.
func NewReplayCache() *ReplayCache {
	return &ReplayCache{max: DefaultReplayCacheSize, entries: make(map[string]time.Time)}
}

// store records tag at time now, or fails with krb5.ErrReplay if it is already
// recorded and not yet expired.
func (c *ReplayCache) store(tag []byte, now time.Time, skew time.Duration) error {
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
