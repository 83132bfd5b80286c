package kprop_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// replicaServer is an in-process kpropd for fan-out tests.
type replicaServer struct {
	addr string
	file string
	srv  *kpropd.Server
}

var (
	fanPrimary = krb5.HostPrincipal("host", "kdc1.example.com", "EXAMPLE.COM")
	fanReplica = krb5.HostPrincipal("host", "kdc2.example.com", "EXAMPLE.COM")
)

func fanKeytab(t testing.TB) *keytab.Keytab {
	t.Helper()
	kt, err := krbtest.Keytab(krbtest.Key{Principal: fanReplica, KVNO: 1, Enctype: krb5.EnctypeAES256CTSSHA1, Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	return kt
}

// startReplica serves a kpropd with the keytab on loopback; loader, if
// set, is its Loader.
func startReplica(t testing.TB, kt *keytab.Keytab, loader kpropd.Loader) *replicaServer {
	t.Helper()
	srv := &kpropd.Server{
		Auth: &krbauth.ServerConfig{
			GetKeytab: func() (*keytab.Keytab, error) { return kt, nil },
			Principal: fanReplica,
		},
		File:       filepath.Join(t.TempDir(), "from_master"),
		Authorizer: kpropd.AuthorizerFunc(func(context.Context, *kpropd.Peer) error { return nil }),
		Loader:     loader,
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return &replicaServer{addr: l.Addr().String(), file: srv.File, srv: srv}
}

func fanConfig(t testing.TB, kt *keytab.Keytab) *kprop.Config {
	t.Helper()
	creds, err := krbtest.Credentials[krbauth.Credentials](kt, fanPrimary, fanReplica, krb5.EnctypeAES256CTSSHA1, 1, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}}
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

func fanDump(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i ^ i>>9)
	}
	return b
}

// Three replicas get the same dump, which is read from its source once.
func TestFanoutReadsTheDumpOnce(t *testing.T) {
	kt := fanKeytab(t)
	dump := fanDump(5<<20 + 17) // bigger than the ring
	src := &countingReaderAt{r: bytes.NewReader(dump)}
	var replicas []kprop.Replica
	var servers []*replicaServer
	for range 3 {
		s := startReplica(t, kt, nil)
		servers = append(servers, s)
		replicas = append(replicas, kprop.Replica{Name: s.addr, Addr: s.addr, Config: fanConfig(t, kt)})
	}
	var mu sync.Mutex
	sent := map[int]int64{}
	done := map[int]bool{}
	f := &kprop.Fanout{
		Progress: func(i int, n int64) {
			mu.Lock()
			defer mu.Unlock()
			if n < sent[i] {
				t.Errorf("replica %d: progress went back from %d to %d", i, sent[i], n)
			}
			sent[i] = n
		},
		Done: func(i int, r kprop.ReplicaResult) {
			mu.Lock()
			defer mu.Unlock()
			done[i] = true
		},
	}
	results := f.Propagate(context.Background(), src, int64(len(dump)), replicas)
	for i, r := range results {
		if r.Err != nil || r.Result == nil || r.Result.Size != int64(len(dump)) {
			t.Errorf("replica %d: %+v, %v", i, r.Result, r.Err)
			continue
		}
		if r.Replica != &replicas[i] || !done[i] || sent[i] != int64(len(dump)) {
			t.Errorf("replica %d: result for %v, done %v, progress %d", i, r.Replica.Name, done[i], sent[i])
		}
		got, err := os.ReadFile(servers[i].file)
		if err != nil || !bytes.Equal(got, dump) {
			t.Errorf("replica %d received %d bytes (%v), not the dump", i, len(got), err)
		}
	}
	if n := src.n.Load(); n != int64(len(dump)) {
		t.Errorf("%d bytes read from the dump for %d", n, len(dump))
	}
}

// cutProxy forwards connections to target and cuts each after the
// client has sent limit bytes: a replica that dies in the middle of a
// transfer.
func cutProxy(t *testing.T, target string, limit int64) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() {
				io.Copy(c, s)
				c.Close()
			}()
			go func() {
				io.CopyN(s, c, limit)
				c.Close()
				s.Close()
			}()
		}
	}()
	return l.Addr().String()
}

// A replica that is down, and one that dies during the transfer, fail on
// their own; the others receive the whole dump.
func TestFanoutFailedReplicasDoNotStallTheOthers(t *testing.T) {
	kt := fanKeytab(t)
	dump := fanDump(6 << 20)
	good1, good2, victim := startReplica(t, kt, nil), startReplica(t, kt, nil), startReplica(t, kt, nil)
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := down.Addr().String()
	down.Close()
	replicas := []kprop.Replica{
		{Name: "good1", Addr: good1.addr, Config: fanConfig(t, kt)},
		{Name: "down", Addr: downAddr, Config: fanConfig(t, kt)},
		{Name: "cut", Addr: cutProxy(t, victim.addr, 1<<20), Config: fanConfig(t, kt)},
		{Name: "good2", Addr: good2.addr, Config: fanConfig(t, kt)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	results := kprop.PropagateAll(ctx, bytes.NewReader(dump), int64(len(dump)), replicas, 0)
	for _, i := range []int{0, 3} {
		if r := results[i]; r.Err != nil || r.Result.Size != int64(len(dump)) {
			t.Errorf("%s: %v", r.Replica.Name, r.Err)
		}
	}
	var ce *kprop.ConnectError
	if err := results[1].Err; !errors.As(err, &ce) || ce.Addr != downAddr {
		t.Errorf("down: %v, want a ConnectError", err)
	}
	if err := results[2].Err; err == nil || errors.As(err, &ce) {
		t.Errorf("cut: %v, want a propagation error", err)
	}
	for _, s := range []*replicaServer{good1, good2} {
		if got, _ := os.ReadFile(s.file); !bytes.Equal(got, dump) {
			t.Errorf("%s received %d bytes, not the dump", s.addr, len(got))
		}
	}
}

// hungListener accepts connections and never reads from them.
func hungListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return l.Addr().String()
}

// A replica that hangs, and so holds the other back once the ring is
// full, is evicted after the stall timeout, and the other one finishes.
func TestFanoutEvictsAHungReplica(t *testing.T) {
	kt := fanKeytab(t)
	dump := fanDump(8 << 20) // twice the ring
	good := startReplica(t, kt, nil)
	replicas := []kprop.Replica{
		{Name: "hung", Addr: hungListener(t), Config: fanConfig(t, kt)},
		{Name: "good", Addr: good.addr, Config: fanConfig(t, kt)},
	}
	f := &kprop.Fanout{StallTimeout: 200 * time.Millisecond}
	results := f.Propagate(context.Background(), bytes.NewReader(dump), int64(len(dump)), replicas)
	if err := results[0].Err; !errors.Is(err, kprop.ErrStalled) {
		t.Errorf("hung: %v, want ErrStalled", err)
	}
	if err := results[1].Err; err != nil {
		t.Errorf("good: %v", err)
	}
}

// With Parallel 1 the replicas go one after the other, each reading the
// dump anew, and every one gets it.
func TestFanoutParallel(t *testing.T) {
	kt := fanKeytab(t)
	dump := fanDump(300_000)
	src := &countingReaderAt{r: bytes.NewReader(dump)}
	var replicas []kprop.Replica
	var servers []*replicaServer
	for range 3 {
		s := startReplica(t, kt, nil)
		servers = append(servers, s)
		replicas = append(replicas, kprop.Replica{Name: s.addr, Addr: s.addr, Config: fanConfig(t, kt)})
	}
	var order []int
	var mu sync.Mutex
	f := &kprop.Fanout{
		Parallel: 1,
		Started: func(i int, _ *kprop.Replica) {
			mu.Lock()
			defer mu.Unlock()
			// Replica i starts only after the ones before it have read
			// the whole dump.
			if n := src.n.Load(); n < int64(i*len(dump)) {
				t.Errorf("replica %d started after %d bytes were read, want at least %d", i, n, i*len(dump))
			}
			order = append(order, i)
		},
	}
	for i, r := range f.Propagate(context.Background(), src, int64(len(dump)), replicas) {
		if r.Err != nil {
			t.Errorf("replica %d: %v", i, r.Err)
		}
		if got, _ := os.ReadFile(servers[i].file); !bytes.Equal(got, dump) {
			t.Errorf("replica %d received %d bytes, not the dump", i, len(got))
		}
	}
	if n := src.n.Load(); n != 3*int64(len(dump)) {
		t.Errorf("%d bytes read, want the dump three times", n)
	}
	if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Errorf("started in order %v", order)
	}
}

// Loads run concurrently: three replicas whose loads each wait until all
// three are loading finish, which they could not if the replicas were
// served one after the other.
func TestFanoutLoadsOverlap(t *testing.T) {
	kt := fanKeytab(t)
	var loading sync.WaitGroup
	loading.Add(3)
	loader := kpropd.LoaderFunc(func(ctx context.Context, _ string) error {
		loading.Done()
		all := make(chan struct{})
		go func() { loading.Wait(); close(all) }()
		select {
		case <-all:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	var replicas []kprop.Replica
	for range 3 {
		s := startReplica(t, kt, loader)
		replicas = append(replicas, kprop.Replica{Name: s.addr, Addr: s.addr, Config: fanConfig(t, kt)})
	}
	dump := fanDump(100_000)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, r := range kprop.PropagateAll(ctx, bytes.NewReader(dump), int64(len(dump)), replicas, 0) {
		if r.Err != nil {
			t.Errorf("replica %d: %v", i, r.Err)
		}
	}
}

// A cancelled context fails every replica, even while it is loading.
func TestFanoutCancelled(t *testing.T) {
	kt := fanKeytab(t)
	blocked := kpropd.LoaderFunc(func(ctx context.Context, _ string) error {
		<-ctx.Done()
		return ctx.Err()
	})
	a, b := startReplica(t, kt, blocked), startReplica(t, kt, blocked)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dump := fanDump(1000)
	var full atomic.Int32
	f := &kprop.Fanout{Progress: func(i int, n int64) {
		if n == int64(len(dump)) && full.Add(1) == 2 {
			cancel()
		}
	}}
	replicas := []kprop.Replica{
		{Name: "a", Addr: a.addr, Config: fanConfig(t, kt)},
		{Name: "b", Addr: b.addr, Config: fanConfig(t, kt)},
	}
	for i, r := range f.Propagate(ctx, bytes.NewReader(dump), int64(len(dump)), replicas) {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("replica %d: %v, want context.Canceled", i, r.Err)
		}
	}
}
