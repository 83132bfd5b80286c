package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/filelock"
	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/iprop/merge"
	"github.com/gokprop/gokprop/ulog"
)

// DefaultKDB5Util is where Debian's krb5-kdc package installs kdb5_util.
const DefaultKDB5Util = "/usr/sbin/kdb5_util"

// Config describes a replica: its realm and database as MIT's tools are
// told about them, and its update log.
type Config struct {
	// Realm is the replica's realm (kdb5_util -r, kadmin.local -r).
	// Required.
	Realm string
	// Database, if set, is the database name passed as -d (MIT kpropd's
	// -F); DBArgs are passed as -x (MIT kpropd's -x).
	Database string
	DBArgs   []string

	// KDB5Util is the kdb5_util program (MIT kpropd's -p); empty means
	// DefaultKDB5Util. KadminLocal is kadmin.local; empty means the one
	// beside KDB5Util (or in an MIT build tree's kadmin/cli), else
	// kadmin.local in PATH, else /usr/sbin/kadmin.local.
	KDB5Util, KadminLocal string
	// Env is the environment of those programs; nil means this
	// process's. Its KRB5_KDC_PROFILE and KRB5_CONFIG name the replica's
	// profile, as for MIT kpropd (see the package documentation for what
	// is added to it).
	Env []string

	// ULog is the update log (kdc.conf's iprop_logfile); required.
	// ULogSlots is its entry count (iprop_ulogsize); zero means MIT's
	// default.
	ULog      string
	ULogSlots uint32

	// Dir holds the package's index of the database's records and its
	// generated profile; empty means ULog + ".replica". Give each replica
	// its own.
	Dir string

	// Logger receives debug records of each batch and warnings when the
	// index has to be rebuilt; nil discards them.
	Logger *slog.Logger
}

// A DB is an MIT Kerberos replica database kept up to date with
// incremental-propagation updates. Open it once per replica; its methods
// are safe for concurrent use and run one at a time.
type DB struct {
	cfg    Config
	log    *ulog.Log
	tools  *tools
	lock   *os.File // the index directory's lock
	logger *slog.Logger

	mu  sync.Mutex
	idx *index

	// afterIndex and afterDatabase, if set (by tests), run after a
	// batch's index journal frame and after its database writes.
	afterIndex, afterDatabase func()
}

// Open opens the replica: its update log (created or repaired as MIT's
// ulog_map does, so a failure here is MIT kpropd's "Unable to map log!")
// and the index in Dir, which it locks against a second DB on the same
// replica.
func Open(cfg Config) (*DB, error) {
	if cfg.Realm == "" {
		return nil, errors.New("replica: no realm")
	}
	if cfg.ULog == "" {
		return nil, errors.New("replica: no update log")
	}
	if cfg.Dir == "" {
		cfg.Dir = cfg.ULog + ".replica"
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(cfg.Dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := filelock.Lock(lock, filelock.Exclusive, false); err != nil {
		lock.Close()
		return nil, fmt.Errorf("replica: %s: %w (another applier uses this replica)", cfg.Dir, err)
	}
	db := &DB{cfg: cfg, lock: lock, logger: cfg.Logger}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	fail := func(err error) (*DB, error) {
		db.Close()
		return nil, err
	}
	if db.log, err = ulog.Open(cfg.ULog, ulog.Options{Slots: cfg.ULogSlots}); err != nil {
		return fail(err)
	}
	if db.tools, err = newTools(&cfg, cfg.Dir); err != nil {
		return fail(err)
	}
	if db.idx, err = openIndex(cfg.Dir); err != nil {
		// An index that cannot be read is rebuilt from the database.
		db.logger.Warn("replica index unreadable; it will be rebuilt", "dir", cfg.Dir, "err", err)
		db.idx = &index{dir: cfg.Dir, overlay: map[string]overlayEntry{}}
		if ierr := db.idx.invalidate(); ierr != nil {
			return fail(ierr)
		}
	}
	return db, nil
}

// Close closes the update log and releases the index.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	var err error
	if db.idx != nil {
		db.idx.closeFiles()
	}
	if db.log != nil {
		err = db.log.Close()
	}
	if db.lock != nil {
		db.lock.Close()
	}
	return err
}

// Log returns the replica's update log.
func (db *DB) Log() *ulog.Log { return db.log }

// Last returns the position the replica reports to its primary: the
// serial number and time of its update log's last entry.
func (db *DB) Last() (iprop.Last, error) { return db.log.Last() }

// Apply applies a batch of updates (a GET_UPDATES reply's) to the
// database and records them in the update log, as MIT's ulog_replay does:
// the database first, the log second, updates only up to the first one
// not committed. The batch is applied as its net effect: one
// "kdb5_util load -update" of the changed records and one kadmin.local
// session of deletions, under a profile without incremental propagation.
// The replica's lockout attributes (last success, last failure, failure
// count) are read from the database and kept.
//
// On any error the update log is reset, as MIT resets it, so that the
// primary answers the next poll with a full resync; the index is dropped
// too. A crash between the database and the log leaves a state the next
// batch (the primary sends the same updates again) repairs.
func (db *DB) Apply(ctx context.Context, updates []iprop.Update) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if len(updates) == 0 || !updates[0].Commit {
		return nil
	}
	err := db.apply(ctx, updates)
	if err != nil {
		if rerr := db.log.Reset(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("resetting the update log: %w", rerr))
		}
		if ierr := db.idx.invalidate(); ierr != nil {
			err = errors.Join(err, fmt.Errorf("dropping the index: %w", ierr))
		}
	}
	return err
}

func (db *DB) apply(ctx context.Context, updates []iprop.Update) error {
	start := time.Now()
	last, err := db.log.Last()
	if err != nil {
		return err
	}
	rebuilt := false
	if !db.idx.valid() {
		if err := db.rebuild(ctx, "no index"); err != nil {
			return err
		}
		rebuilt = true
	}
	names, err := lookedUp(updates)
	if err != nil {
		return err
	}
	cur, unreadable, err := db.tools.getprincs(ctx, names)
	if err != nil {
		return err
	}
	if !rebuilt {
		if err := db.check(names, cur, unreadable, last); err != nil {
			db.logger.Warn("replica index differs from the database; rebuilding it", "err", err)
			if err := db.rebuild(ctx, err.Error()); err != nil {
				return err
			}
			rebuilt = true
			if cur, unreadable, err = db.tools.getprincs(ctx, names); err != nil {
				return err
			}
		}
	}
	if rebuilt {
		// The index was just dumped from the database: what kadmin
		// shows must match it, and what kadmin cannot show is taken
		// from the dump, lockout attributes included.
		if err := db.check(names, cur, nil, iprop.Last{}); err != nil {
			return err
		}
	}
	// A batch the index holds ahead of the log (see check) is the base
	// of its names: the primary sends it again, and folding it onto
	// records that hold it gives the same records.
	pending := db.idx.pendingNames(last)
	lookup := func(name string) (*dumpfmt.Principal, error) {
		if _, ok := unreadable[name]; ok {
			return db.idx.get(name)
		}
		p, err := db.idx.get(name)
		if err != nil {
			return nil, err
		}
		t := cur[name]
		switch {
		case p == nil && t != nil && !pending[name]:
			return nil, fmt.Errorf("%w: %s is in the database but not in the index", errMismatch, name)
		case p == nil:
			return nil, nil
		case t != nil:
			p.LastSuccess, p.LastFailed, p.FailAuthCount = t.lastSuccess, t.lastFailed, t.failAuthCount
		case !pending[name]:
			return nil, fmt.Errorf("%w: %s is in the index but not in the database", errMismatch, name)
		}
		return p, nil
	}
	res, err := merge.Fold(updates, lookup)
	if err != nil {
		return err
	}
	if res.Applied == 0 {
		return nil
	}
	puts := make([]*dumpfmt.Principal, 0, len(res.Put))
	for _, p := range res.Put {
		puts = append(puts, p)
	}
	slices.SortFunc(puts, func(a, b *dumpfmt.Principal) int { return cmpString(a.Name, b.Name) })
	dels := make([]string, 0, len(res.Delete))
	for n := range res.Delete {
		dels = append(dels, n)
	}
	slices.Sort(dels)
	target := iprop.Last{Sno: updates[res.Applied-1].Sno, Time: updates[res.Applied-1].Time}
	folded := time.Now()

	// The index first (synced), then the database, then the log.
	if err := db.idx.record(last, target, puts, dels); err != nil {
		return err
	}
	if db.afterIndex != nil {
		db.afterIndex()
	}
	if err := db.tools.loadUpdate(ctx, puts); err != nil {
		return err
	}
	if err := db.tools.delprincs(ctx, dels); err != nil {
		return err
	}
	written := time.Now()
	if db.afterDatabase != nil {
		db.afterDatabase()
	}
	for i := 0; i < res.Applied; i++ {
		if err := db.log.Append(&updates[i]); err != nil {
			return err
		}
	}
	db.logger.Debug("applied updates", "updates", res.Applied, "stored", len(puts), "deleted", len(dels),
		"sno", target.Sno, "read", folded.Sub(start), "write", written.Sub(folded), "total", time.Since(start))
	if db.idx.needsCompaction() {
		cstart := time.Now()
		if err := db.idx.compact(); err != nil {
			// The batch is applied; only the index is lost.
			db.logger.Warn("compacting the replica index failed; it will be rebuilt", "err", err)
			db.idx.invalidate()
		} else {
			db.logger.Debug("compacted the replica index", "records", db.idx.records, "took", time.Since(cstart))
		}
	}
	return nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// lookedUp returns the canonical names of the committed updates (those
// merge.Fold looks up), without repeats.
func lookedUp(updates []iprop.Update) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for i := range updates {
		u := &updates[i]
		if !u.Commit {
			break
		}
		n, err := merge.Canonical(u.Principal)
		if err != nil {
			return nil, fmt.Errorf("update %d: %w", u.Sno, err)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// check compares the database's records of names, as kadmin showed them
// (cur), with the index's. A name kadmin could not show (unreadable) is a
// difference; with unreadable nil such names are skipped. The names of a
// batch the index holds but the update log does not (a crash came in
// between) are not compared: the batch the primary sends again overwrites
// them.
func (db *DB) check(names []string, cur map[string]*terse, unreadable map[string]string, last iprop.Last) error {
	pending := db.idx.pendingNames(last)
	for _, n := range names {
		if pending[n] {
			continue
		}
		if why, ok := unreadable[n]; ok {
			return fmt.Errorf("%w: kadmin cannot show %s: %s", errMismatch, n, why)
		}
		t, shown := cur[n]
		if !shown {
			continue
		}
		p, err := db.idx.get(n)
		if err != nil {
			return err
		}
		switch {
		case t == nil && p == nil:
		case t == nil:
			return fmt.Errorf("%w: %s is in the index but not in the database", errMismatch, n)
		case p == nil:
			return fmt.Errorf("%w: %s is in the database but not in the index", errMismatch, n)
		default:
			if err := sameRecord(t, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// rebuild makes a new index from a full dump of the database (seconds per
// million principals).
func (db *DB) rebuild(ctx context.Context, why string) error {
	start := time.Now()
	f, err := os.CreateTemp(db.cfg.Dir, "rebuild-*.dump")
	if err != nil {
		return err
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	if err := db.tools.dump(ctx, path); err != nil {
		return err
	}
	if err := db.idx.install(path, false); err != nil {
		return err
	}
	db.logger.Info("replica index rebuilt from the database", "reason", why, "records", db.idx.records, "took", time.Since(start))
	return nil
}

// Load installs a full resync: it runs load (MIT kpropd's
// "kdb5_util load -i" of the iprop dump at path, which replaces the
// database and sets the update log to the dump's position) with no batch
// applied meanwhile, then makes the dump the base of the index (a hard
// link to path when the file system allows). If load fails the index is
// kept, matching the database load left alone.
func (db *DB) Load(ctx context.Context, path string, load func(ctx context.Context, path string) error) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := load(ctx, path); err != nil {
		return err
	}
	start := time.Now()
	if err := db.idx.install(path, true); err != nil {
		// The database is loaded; without an index the next batch
		// rebuilds one from it.
		db.logger.Warn("indexing the loaded dump failed; the index will be rebuilt", "err", err)
		db.idx.invalidate()
		return nil
	}
	db.logger.Debug("indexed the loaded dump", "records", db.idx.records, "took", time.Since(start))
	return nil
}
