package kprop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// ErrStalled is the cause of a fan-out replica's failure when it took no
// dump data for Fanout.StallTimeout while the other replicas waited for
// it.
var ErrStalled = errors.New("replica stalled")

// Replica is one destination of a fan-out.
type Replica struct {
	// Name identifies the replica in Fanout's callbacks and results, for
	// example its host name.
	Name string
	// Addr is the replica's kpropd address ("host:port"), dialled over
	// TCP unless Dial is set.
	Addr string
	// Dial, if set, connects to the replica instead of dialling Addr.
	Dial func(ctx context.Context) (net.Conn, error)
	// Config holds the credentials for this replica's host service and
	// the other choices of its propagation, as for Propagate. Fanout
	// does not modify it.
	Config *Config
}

// ConnectError is a fan-out replica that could not be connected to: the
// error of its Dial (or of dialling Addr).
type ConnectError struct {
	Addr string
	Err  error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("connecting to %s: %v", e.Addr, e.Err)
}

// Unwrap returns Err.
func (e *ConnectError) Unwrap() error { return e.Err }

// ReplicaResult is the outcome of one replica of a fan-out.
type ReplicaResult struct {
	// Replica is the replica, as given.
	Replica *Replica
	// Result describes the acknowledged propagation; nil on failure.
	Result *Result
	// Err is nil on success, else a *ConnectError, an error of
	// Propagate (an *OpError naming the step, a *SizeMismatchError, ...)
	// or, for a replica evicted for holding the others back, an error
	// wrapping ErrStalled and the error its propagation ended with.
	Err error
	// Duration is the time from the start of the replica's connection to
	// its acknowledgement or failure.
	Duration time.Duration
}

// Fanout propagates one dump to several replicas at once, reading it from
// its source once and sharing it: a producer reads the dump into a small
// ring of chunk buffers (4 MiB in all, whatever the dump's size and the
// number of replicas) and every replica's propagation (its own
// connection, handshake and session keys, as Propagate runs them) takes
// its chunks from there. The replicas therefore advance together, within
// a ring's length of each other, at the pace of the slowest; one that
// fails is dropped from the ring at once and holds nobody back. The zero
// value propagates to all replicas at once without a stall limit.
//
// The callbacks are called from the replicas' goroutines, concurrently;
// they must not block for long, since a replica's propagation waits for
// them.
type Fanout struct {
	// Parallel, if positive, is the largest number of replicas that are
	// sent the dump at a time. The replicas are taken in order in groups
	// of at most Parallel; each group shares one pass over the dump, and
	// the next group starts as soon as every replica of the current one
	// has received the whole dump or failed (a replica waiting for its
	// load to finish no longer counts). 0 means all replicas in one
	// group.
	Parallel int

	// StallTimeout, if positive, evicts a replica that has taken no data
	// for that long while the others wait for it (a hung kpropd would
	// otherwise stop every replica of its group). Its propagation is
	// cancelled and fails with ErrStalled. A replica alone in its group
	// is never evicted.
	StallTimeout time.Duration

	// Started, if set, is called as a replica's propagation begins (before
	// it connects).
	Started func(i int, r *Replica)

	// Progress, if set, is called as Config.Progress is, with the number
	// of dump bytes sent to replica i so far (after Config.Progress, if
	// the replica's Config has one).
	Progress func(i int, sent int64)

	// Done, if set, is called as soon as a replica's propagation is over,
	// with its result (the same as Propagate returns).
	Done func(i int, res ReplicaResult)

	// chunk and slots size the ring; zero means ringChunk and ringSlots.
	chunk int64
	slots int
}

// PropagateAll propagates the size bytes of dump at offset 0 to every
// replica with a Fanout of the given parallelism (0 for all at once); see
// Fanout.Propagate.
func PropagateAll(ctx context.Context, dump io.ReaderAt, size int64, replicas []Replica, parallel int) []ReplicaResult {
	f := &Fanout{Parallel: parallel}
	return f.Propagate(ctx, dump, size, replicas)
}

// Propagate sends the size bytes of dump, from offset 0, to every replica
// and returns their results in the order of replicas, once every
// propagation is over (each replica acknowledged after its load, or
// failed). A group of replicas (see Parallel) reads the dump once. dump
// is read from offset 0 again by each group, so a *Dump (OpenDump's) can
// be passed as it is. ctx bounds every propagation, as for Propagate.
func (f *Fanout) Propagate(ctx context.Context, dump io.ReaderAt, size int64, replicas []Replica) []ReplicaResult {
	results := make([]ReplicaResult, len(replicas))
	group := len(replicas)
	if f.Parallel > 0 && f.Parallel < group {
		group = f.Parallel
	}
	chunk, slots := f.chunk, f.slots
	if chunk <= 0 {
		chunk = ringChunk
	}
	if slots <= 0 {
		slots = ringSlots
	}
	var wg sync.WaitGroup
	for start := 0; start < len(replicas); start += group {
		end := min(start+group, len(replicas))
		src := io.NewSectionReader(dump, 0, size)
		// The group's readers of the dump, and what closes once the
		// group is done with it. A replica alone reads the dump
		// itself, straight into its sender's buffers; several share a
		// ring.
		var (
			readers []dumpReader
			done    <-chan struct{}
			r       *ring
		)
		if end-start == 1 {
			solo := newSoloReader(src, size)
			readers, done = []dumpReader{solo}, solo.done
		} else {
			r = newRing(src, size, end-start, chunk, slots, f.StallTimeout)
			for _, rd := range r.readers {
				readers = append(readers, rd)
			}
			done = r.done
		}
		for j := start; j < end; j++ {
			rd := readers[j-start]
			rctx, cancel := context.WithCancel(ctx)
			rd.setCancel(cancel)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer cancel()
				results[j] = f.one(rctx, j, &replicas[j], rd, size)
				if f.Done != nil {
					f.Done(j, results[j])
				}
			}()
		}
		if r != nil {
			go r.run()
		}
		// The next group starts once this one is done with the dump.
		select {
		case <-done:
		case <-ctx.Done():
			// Every propagation of this group fails with ctx; the
			// groups after it are not started.
			for j := end; j < len(replicas); j++ {
				results[j] = ReplicaResult{Replica: &replicas[j], Err: ctx.Err()}
				if f.Done != nil {
					f.Done(j, results[j])
				}
			}
			wg.Wait()
			return results
		}
	}
	wg.Wait()
	return results
}

// one runs replica i's propagation with rd as its dump.
func (f *Fanout) one(ctx context.Context, i int, rep *Replica, rd dumpReader, size int64) (res ReplicaResult) {
	defer rd.detach()
	res.Replica = rep
	if f.Started != nil {
		f.Started(i, rep)
	}
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	if rep.Config == nil || rep.Config.Auth.Credentials == nil {
		res.Err = errors.New("kprop: no credentials")
		return res
	}
	cfg := *rep.Config
	if f.Progress != nil {
		own := cfg.Progress
		cfg.Progress = func(sent int64) {
			if own != nil {
				own(sent)
			}
			f.Progress(i, sent)
		}
	}
	conn, err := f.dial(ctx, rep)
	if err != nil {
		res.Err = stalledErr(rd, f.StallTimeout, &ConnectError{Addr: rep.Addr, Err: err})
		return res
	}
	defer conn.Close()
	res.Result, res.Err = Propagate(ctx, conn, &cfg, ctxReader{ctx: ctx, rd: rd}, size)
	if res.Err != nil {
		res.Result = nil
		res.Err = stalledErr(rd, f.StallTimeout, res.Err)
	}
	return res
}

func (f *Fanout) dial(ctx context.Context, rep *Replica) (net.Conn, error) {
	if rep.Dial != nil {
		return rep.Dial(ctx)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", rep.Addr)
}

// stalledErr marks err as the consequence of an eviction, if rd was
// evicted.
func stalledErr(rd dumpReader, timeout time.Duration, err error) error {
	if !rd.stalled() {
		return err
	}
	return &stallError{timeout: timeout, err: err}
}

// stallError is the failure of an evicted replica: ErrStalled, and the
// error its propagation ended with when it was cancelled.
type stallError struct {
	timeout time.Duration
	err     error
}

func (e *stallError) Error() string {
	return fmt.Sprintf("%v: no data taken for %v: %v", ErrStalled, e.timeout, e.err)
}

func (e *stallError) Unwrap() []error { return []error{ErrStalled, e.err} }
