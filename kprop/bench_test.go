package kprop_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/dumpfmt/dumptest"
	"github.com/gokprop/gokprop/internal/cputime"
	"github.com/gokprop/gokprop/internal/krbtest"
	"github.com/gokprop/gokprop/kprop"
	"github.com/gokprop/gokprop/kpropd"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// BenchmarkPropagate measures a whole Go-to-Go propagation over loopback
// TCP: handshake, sealing, sending, receiving, opening and writing the
// replica's file (no load), per session enctype, in the fast data phase
// (the default between our two ends) and on MIT's wire (kprop's
// MITWire). Allocations are per propagation; the chunk loops themselves
// do not allocate.
func BenchmarkPropagate(b *testing.B) {
	const size = 16 << 20
	dump := make([]byte, size)
	rand.Read(dump)
	for _, e := range []krb5.Enctype{17, 18, 19, 20} {
		for _, wire := range wires {
			b.Run(krb5.Enctype(e).String()+"/"+wire.name, func(b *testing.B) { benchPropagate(b, e, dump, nil, wire.mit) })
		}
	}
}

// wires are the two data phases the benchmarks compare.
var wires = []struct {
	name string
	mit  bool
}{{"fast", false}, {"mit-wire", true}}

// BenchmarkPropagateVerified is BenchmarkPropagate with a generated dump
// of 100,000 principals in MIT's order (about 48 MB) and the replica
// verifying it as it arrives, as cmd/kpropd does by default: the whole
// of what both ends of a propagation spend, in one profile.
func BenchmarkPropagateVerified(b *testing.B) {
	var buf bytes.Buffer
	if err := dumptest.Generate(&buf, dumptest.Config{Principals: 100_000, Policies: 10, KeyVersions: 1, Seed: 3}); err != nil {
		b.Fatal(err)
	}
	validate := &dumpfmt.ValidateOptions{Duplicates: dumpfmt.DuplicatesSorted}
	for _, wire := range wires {
		b.Run(wire.name, func(b *testing.B) {
			benchPropagate(b, krb5.EnctypeAES256CTSSHA1, buf.Bytes(), validate, wire.mit)
		})
	}
}

func benchPropagate(b *testing.B, e krb5.Enctype, dump []byte, validate *dumpfmt.ValidateOptions, mitWire bool) {
	size := int64(len(dump))
	primary := krb5.HostPrincipal("host", "kdc1.example.com", "EXAMPLE.COM")
	replica := krb5.HostPrincipal("host", "kdc2.example.com", "EXAMPLE.COM")
	kt, err := krbtest.Keytab(krbtest.Key{Principal: replica, KVNO: 1, Enctype: e, Password: "secret"})
	if err != nil {
		b.Fatal(err)
	}
	srv := &kpropd.Server{
		Auth: &krbauth.ServerConfig{
			GetKeytab: func() (*keytab.Keytab, error) { return kt, nil },
			Principal: replica,
		},
		File:       filepath.Join(benchDir(b), "from_master"),
		Authorizer: kpropd.AuthorizerFunc(func(context.Context, *kpropd.Peer) error { return nil }),
		Validate:   validate,
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	b.SetBytes(size)
	b.ReportAllocs()
	cpu0 := cputime.Now()
	defer func() { cputime.ReportRate(b, cpu0, int64(size)) }()
	b.ResetTimer()
	for range b.N {
		creds, err := krbtest.Credentials[krbauth.Credentials](kt, primary, replica, e, 1, time.Now(), time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := kprop.Propagate(context.Background(), conn, &kprop.Config{Auth: krbauth.ClientConfig{Credentials: creds}, MITWire: mitWire}, bytes.NewReader(dump), size); err != nil {
			b.Fatal(err)
		}
		conn.Close()
	}
}

// benchDir is where the replica's file goes: GOKPROP_BENCH_DIR (a tmpfs
// takes the disk out of the measurement), else a temporary directory.
func benchDir(b *testing.B) string {
	if d := os.Getenv("GOKPROP_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "bench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// BenchmarkReadDumpInto reads a cached file, as kprop reads the dump, into
// a buffer that starts on a 64-byte boundary and into one that starts 5
// bytes after it, where the data of a fast record would start without
// krbauth's alignment (the kernel's copy is several times slower into the
// latter on x86-64).
func BenchmarkReadDumpInto(b *testing.B) {
	const chunk = 256 << 10
	path := filepath.Join(b.TempDir(), "dump")
	data := make([]byte, 64<<20)
	rand.Read(data)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, chunk+128) // large: page-aligned
	for _, off := range []int{0, 5} {
		b.Run("offset"+strconv.Itoa(off), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				for pos := int64(0); pos < int64(len(data)); pos += chunk {
					if _, err := f.ReadAt(buf[off:off+chunk], pos); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
