package krbauth

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/gokprop/gokprop/krb5"
)

// streamConns returns a sender Conn and a receiver Conn for enctype id, as
// a handshake leaves them, over the given connections, with deterministic
// confounders (the same for every call with the same id).
func streamConns(t testing.TB, id krb5.Enctype, cc, sc net.Conn) (client, server *Conn) {
	t.Helper()
	key := testKey(id, uint64(id))
	client = handshakenConn(t, cc, sessionParams{role: roleClient, key: key, localSeq: testSc, remoteSeq: testSs,
		localAddr: clientAddr, rand: detRand(1000 + uint64(id))})
	server = handshakenConn(t, sc, sessionParams{role: roleServer, key: key, localSeq: testSs, remoteSeq: testSc,
		localAddr: serverAddr, rand: detRand(2000 + uint64(id))})
	return client, server
}

// streamChunks is a dump cut as kprop cuts it, with a short last chunk.
func streamChunks(total, chunk int) [][]byte { return streamChunks0(pattern(total, 3), chunk) }

// streamChunks0 cuts data as kprop cuts a dump.
func streamChunks0(data []byte, chunk int) [][]byte {
	total := len(data)
	var out [][]byte
	for off := 0; off < total; off += chunk {
		out = append(out, data[off:min(off+chunk, total)])
	}
	return out
}

// writeStream sends chunks through a PrivWriter on c as kprop cuts a dump
// on MIT's wire.
func writeStream(t testing.TB, c *Conn, chunks [][]byte, depth int, written func(int)) error {
	t.Helper()
	return sendStream(t, c, PrivWriterOptions{MaxData: kpropChunk, Depth: depth, Written: written}, chunks)
}

// sendStream sends chunks through a PrivWriter on c with opts and closes
// it, returning the first failure.
func sendStream(t testing.TB, c *Conn, opts PrivWriterOptions, chunks [][]byte) error {
	t.Helper()
	w, err := c.NewPrivWriter(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chunks {
		buf, err := w.Buffer(len(ch))
		if err != nil {
			w.Close()
			return err
		}
		copy(buf, ch)
		if err := w.Send(); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// writePrivWire returns what a client Conn for enctype id (streamConns',
// chained) writes for chunks and then more, each sent with WritePriv.
func writePrivWire(t testing.TB, id krb5.Enctype, chunks [][]byte, more ...[]byte) []byte {
	t.Helper()
	wire := newMemConn(nil)
	c, _ := streamConns(t, id, wire, newMemConn(nil))
	c.StartChaining()
	for _, ch := range slices.Concat(chunks, more) {
		if err := c.WritePriv(ch); err != nil {
			t.Fatal(err)
		}
	}
	return wire.out.Bytes()
}

// repeated returns n references to data, a stream of n equal chunks.
func repeated(data []byte, n int) [][]byte {
	chunks := make([][]byte, n)
	for i := range chunks {
		chunks[i] = data
	}
	return chunks
}

// TestPrivWriterMatchesWritePriv: for every enctype, a PrivWriter sends
// byte for byte the frames WritePriv sends (same confounders), whatever
// its depth, and leaves the Conn's state where WritePriv leaves it.
func TestPrivWriterMatchesWritePriv(t *testing.T) {
	chunks := streamChunks(10*kpropChunk+1234, kpropChunk)
	chunks = append(chunks, []byte{}, pattern(1, 9), pattern(17, 1))
	for _, id := range implementedEnctypes() {
		t.Run(id.String(), func(t *testing.T) {
			want := writePrivWire(t, id, chunks, []byte("after"))
			for _, depth := range []int{1, 2, 3, 8} {
				got := newMemConn(nil)
				c, _ := streamConns(t, id, got, newMemConn(nil))
				c.StartChaining()
				var sizes []int
				if err := writeStream(t, c, chunks, depth, func(n int) { sizes = append(sizes, n) }); err != nil {
					t.Fatalf("depth %d: %v", depth, err)
				}
				// The Conn carries on where the stream left it.
				if err := c.WritePriv([]byte("after")); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.out.Bytes(), want) {
					t.Fatalf("depth %d: the stream differs from WritePriv's (%d vs %d bytes)", depth, got.out.Len(), len(want))
				}
				if len(sizes) != len(chunks) {
					t.Fatalf("depth %d: Written called %d times for %d messages", depth, len(sizes), len(chunks))
				}
				for i, n := range sizes {
					if n != len(chunks[i]) {
						t.Fatalf("depth %d: Written(%d) for message %d of %d bytes", depth, n, i, len(chunks[i]))
					}
				}
			}
		})
	}
}

// readStream receives total bytes through a PrivReader on c.
func readStream(c *Conn, total int64, depth int) ([]byte, error) {
	r, err := c.NewPrivReader(PrivReaderOptions{Total: total, Depth: depth})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var got []byte
	for int64(len(got)) < total {
		data, err := r.Next()
		if err != nil {
			return got, err
		}
		got = append(got, data...)
	}
	return got, nil
}

// TestPrivReaderOpensStream: for every enctype, a PrivReader recovers what
// WritePriv sent, reads nothing beyond the total, and leaves the Conn's
// sequence number and cipher state where ReadPriv leaves them.
func TestPrivReaderOpensStream(t *testing.T) {
	chunks := streamChunks(10*kpropChunk+1234, kpropChunk)
	var total int64
	var all []byte
	for _, ch := range chunks {
		total += int64(len(ch))
		all = append(all, ch...)
	}
	for _, id := range implementedEnctypes() {
		t.Run(id.String(), func(t *testing.T) {
			for _, depth := range []int{1, 3, 4, 8} {
				in := newMemConn(writePrivWire(t, id, chunks, []byte("after")))
				_, s := streamConns(t, id, newMemConn(nil), in)
				s.StartChaining()
				got, err := readStream(s, total, depth)
				if err != nil {
					t.Fatalf("depth %d: %v", depth, err)
				}
				if !bytes.Equal(got, all) {
					t.Fatalf("depth %d: data differs", depth)
				}
				// The message after the stream is still unread, and opens
				// with the state the stream left.
				after, err := s.ReadPriv(nil)
				if err != nil || string(after) != "after" {
					t.Fatalf("depth %d: ReadPriv after the stream: %q, %v", depth, after, err)
				}
			}
		})
	}
}

// sealedStream returns the frames of a chained stream of chunks, with
// message i replaced by edit(i, frame) when edit is set.
func sealedStream(t *testing.T, id krb5.Enctype, chunks [][]byte, edit func(i int, msg []byte) []byte) []byte {
	t.Helper()
	s, _ := sessionPair(t, id) // the client seals
	s.initCipherState()
	var msgs [][]byte
	for i, ch := range chunks {
		msg, err := s.sealPriv(nil, ch)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			msg = edit(i, msg)
		}
		msgs = append(msgs, msg)
	}
	return framed(msgs...)
}

// TestPrivReaderErrors: a message that fails a check fails the stream at
// that message with ReadPriv's error, after the good messages before it,
// without moving the sequence number past the good ones.
func TestPrivReaderErrors(t *testing.T) {
	chunks := streamChunks(8*kpropChunk, kpropChunk)
	total := int64(8 * kpropChunk)
	for _, id := range implementedEnctypes() {
		t.Run(id.String(), func(t *testing.T) {
			cases := []struct {
				name string
				edit func(i int, msg []byte) []byte
				want func(error) bool
			}{
				{"flipped bit", func(i int, msg []byte) []byte {
					if i == 3 {
						msg[len(msg)-30] ^= 1
					}
					return msg
				}, func(err error) bool { return errors.Is(err, krb5.ErrBadIntegrity) }},
				{"KRB-ERROR", func(i int, msg []byte) []byte {
					if i == 3 {
						return errorMsg(t, krb5.ErrGeneric, "sender gave up")
					}
					return msg
				}, func(err error) bool {
					var re *RemoteError
					return errors.As(err, &re) && re.Text == "sender gave up"
				}},
				{"not a KRB-PRIV", func(i int, msg []byte) []byte {
					if i == 3 {
						return []byte{0x30, 0}
					}
					return msg
				}, func(err error) bool { return errors.Is(err, krb5.ErrMsgType) }},
				{"replayed", func(i int, msg []byte) []byte { return msg }, nil},
				{"truncated", func(i int, msg []byte) []byte { return msg }, func(err error) bool { return errors.Is(err, ErrTransport) }},
			}
			for _, tc := range cases {
				stream := sealedStream(t, id, chunks, tc.edit)
				want := tc.want
				switch tc.name {
				case "replayed":
					// Message 3 again in place of message 4: the chained
					// state, or else the sequence number, refuses it.
					frames := splitFrames(t, stream)
					frames[3] = frames[2]
					stream = framed(frames...)
					want = func(err error) bool {
						return errors.Is(err, krb5.ErrBadIntegrity) || errors.Is(err, krb5.ErrBadOrder)
					}
				case "truncated":
					stream = stream[:len(stream)/2+100]
				}
				_, s := streamConns(t, id, newMemConn(nil), newMemConn(stream))
				s.StartChaining()
				seq := s.sess.remoteSeq
				got, err := readStream(s, total, 4)
				if err == nil || !want(err) {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if tc.name != "truncated" {
					if len(got) != 3*kpropChunk {
						t.Fatalf("%s: %d bytes before the error, want %d", tc.name, len(got), 3*kpropChunk)
					}
					if s.sess.remoteSeq != seq+3 {
						t.Fatalf("%s: remote sequence number moved %d, want 3", tc.name, s.sess.remoteSeq-seq)
					}
				}
			}
		})
	}
}

// errorMsg builds a KRB-ERROR as a kprop client sends it.
func errorMsg(t *testing.T, code krb5.ErrorCode, text string) []byte {
	t.Helper()
	c, _ := sessionPair(t, krb5.EnctypeAES256CTSSHA1)
	msg, err := c.makeError(code, text, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// TestPrivReaderCloseInterrupts: Close returns while the reader waits for
// a message the peer never sends, and the connection's read deadline is
// then in the past.
func TestPrivReaderCloseInterrupts(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	id := krb5.EnctypeAES256CTSSHA1
	stream := sealedStream(t, id, streamChunks(2*kpropChunk, kpropChunk), nil)
	_, s := streamConns(t, id, newMemConn(nil), b)
	s.StartChaining()
	go a.Write(stream) // two messages of the ten expected
	r, err := s.NewPrivReader(PrivReaderOptions{Total: 10 * kpropChunk})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not interrupt the blocked read")
	}
	if _, err := b.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after Close: %v, want a deadline error", err)
	}
}

// TestPrivWriterReportsWriteFailure: a connection that fails mid-stream
// fails the stream with a *StreamError matching ErrTransport and naming
// the message that did not get through.
func TestPrivWriterReportsWriteFailure(t *testing.T) {
	id := krb5.EnctypeAES128CTSSHA256
	fc := &cutConn{memConn: newMemConn(nil)}
	c, _ := streamConns(t, id, fc, newMemConn(nil))
	l := c.sess.layoutPriv(kpropChunk, testSc)
	fc.after = 3*(frameHeaderLen+l.total) + 10 // into the fourth message
	c.StartChaining()
	err := writeStream(t, c, streamChunks(20*kpropChunk, kpropChunk), 4, nil)
	var se *StreamError
	if !errors.As(err, &se) || !errors.Is(err, ErrTransport) || se.Index != 3 {
		t.Fatalf("got %v (%#v), want a transport StreamError for message 3", err, se)
	}
}

// cutConn accepts after bytes, then fails every write.
type cutConn struct {
	*memConn
	mu    sync.Mutex
	after int
}

func (c *cutConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(p) > c.after {
		n := c.after
		c.after = 0
		c.memConn.Write(p[:n])
		return n, io.ErrClosedPipe
	}
	c.after -= len(p)
	return c.memConn.Write(p)
}

// TestStreamOverTCP runs a PrivWriter into a PrivReader over loopback TCP,
// for every enctype, both ends concurrently.
func TestStreamOverTCP(t *testing.T) {
	for _, id := range implementedEnctypes() {
		t.Run(id.String(), func(t *testing.T) {
			cc, sc := tcpPair(t)
			c, s := streamConns(t, id, cc, sc)
			c.StartChaining()
			s.StartChaining()
			chunks := streamChunks(100*kpropChunk+77, kpropChunk)
			errc := make(chan error, 1)
			go func() { errc <- writeStream(t, c, chunks, 0, nil) }()
			got, err := readStream(s, 100*kpropChunk+77, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, bytes.Join(chunks, nil)) {
				t.Fatal("data differs")
			}
			// Both sessions are still in step: a reply the other way.
			go func() { errc <- s.WritePriv([]byte("ack")) }()
			if ack, err := c.ReadPriv(nil); err != nil || string(ack) != "ack" {
				t.Fatalf("reply after the stream: %q %v", ack, err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPrivWriterBuffersAligned: the buffer a PrivWriter hands out for the
// user data starts on a dataAlign boundary, on MIT's wire (where the
// KRB-PRIV header before it changes length with the sequence number) and
// in the fast data phase, so that reading a file into it is not slowed
// down.
func TestPrivWriterBuffersAligned(t *testing.T) {
	check := func(t *testing.T, c *Conn, max int, sizes []int) {
		t.Helper()
		total := 0
		for _, n := range sizes {
			total += n
		}
		w, err := c.NewPrivWriter(PrivWriterOptions{MaxData: max, Total: int64(total)})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for i, n := range sizes {
			buf, err := w.Buffer(n)
			if err != nil {
				t.Fatal(err)
			}
			if addr := uintptr(unsafe.Pointer(unsafe.SliceData(buf))); addr%dataAlign != 0 {
				t.Fatalf("message %d of %d bytes: buffer at %#x, not %d-byte aligned", i, n, addr, dataAlign)
			}
			if err := w.Send(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Sequence numbers from testSc on: their DER grows past 127, 32767...
	var sizes []int
	for i := range 300 {
		sizes = append(sizes, []int{kpropChunk, 1, 100, kpropChunk - 1}[i%4])
	}
	for _, id := range []krb5.Enctype{krb5.EnctypeAES256CTSSHA1, krb5.EnctypeAES128CTSSHA256} {
		t.Run(id.String(), func(t *testing.T) {
			c, _ := streamConns(t, id, &discardConn{}, &discardConn{})
			c.StartChaining()
			check(t, c, kpropChunk, sizes)
		})
	}
	t.Run("fast", func(t *testing.T) {
		c, _ := fastConns(t, testFastKey(9), nil, newMemConn(nil), nil)
		check(t, c, FastRecordSize, []int{FastRecordSize, 1000, FastRecordSize, 7})
	})
}

// inspectStream reads a stream of total bytes from c with an Inspect
// callback and checks what the callback promises: each message is
// inspected once, before Next returns it, with the data Next returns,
// which stays unchanged until the Next after; and the ring of depth
// entries indexed by index % depth is never overwritten while in use.
func inspectStream(t *testing.T, c *Conn, total int64, depth int) []byte {
	t.Helper()
	type entry struct {
		index int
		data  []byte // a copy
		live  bool   // inspected, not yet done with
	}
	ring := make([]entry, depth)
	var mu sync.Mutex
	inspect := func(index int, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		e := &ring[index%depth]
		if e.live {
			t.Errorf("message %d inspected while message %d still uses its entry", index, e.index)
		}
		*e = entry{index: index, data: bytes.Clone(data), live: true}
	}
	r, err := c.NewPrivReader(PrivReaderOptions{Total: total, Depth: depth, Inspect: inspect})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []byte
	var prev []byte
	var prevEntry *entry
	for i := 0; int64(len(got)) < total; i++ {
		if prevEntry != nil {
			// The previous message's data was valid until now, the
			// next call of Next, and its entry is done with.
			mu.Lock()
			if !bytes.Equal(prev, prevEntry.data) {
				t.Errorf("message %d changed before the next Next", prevEntry.index)
			}
			prevEntry.live = false
			mu.Unlock()
		}
		data, err := r.Next()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		mu.Lock()
		e := &ring[i%depth]
		if !e.live || e.index != i || !bytes.Equal(e.data, data) {
			t.Errorf("message %d: inspected %v (index %d), with the data Next returns: %v", i, e.live, e.index, bytes.Equal(e.data, data))
		}
		mu.Unlock()
		prev, prevEntry = data, e
		got = append(got, data...)
	}
	return got
}

// TestPrivReaderInspect: Inspect sees every message as Next returns it, on
// MIT's wire pipelined (aes), in order (rc4) and in the fast data phase.
func TestPrivReaderInspect(t *testing.T) {
	chunks := streamChunks(20*kpropChunk+99, kpropChunk)
	all := bytes.Join(chunks, nil)
	for _, id := range []krb5.Enctype{krb5.EnctypeAES256CTSSHA1, krb5.EnctypeRC4HMAC} {
		t.Run(id.String(), func(t *testing.T) {
			for _, depth := range []int{1, 3, 6} {
				_, s := streamConns(t, id, newMemConn(nil), newMemConn(writePrivWire(t, id, chunks)))
				s.StartChaining()
				if got := inspectStream(t, s, int64(len(all)), depth); !bytes.Equal(got, all) {
					t.Fatalf("depth %d: data differs", depth)
				}
			}
		})
	}
	t.Run("fast", func(t *testing.T) {
		key := testFastKey(3)
		recs := fastStream(t, key, all, 16<<10, int64(len(all)))
		for _, depth := range []int{3, 6} {
			_, s := fastConns(t, key, key, nil, bytes.Join(recs, nil))
			if got := inspectStream(t, s, int64(len(all)), depth); !bytes.Equal(got, all) {
				t.Fatalf("depth %d: data differs", depth)
			}
		}
	})
}

// tcpPair returns both ends of a loopback TCP connection, with a deadline
// that turns a hang into a failure.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	deadline := time.Now().Add(30 * time.Second)
	client.SetDeadline(deadline)
	server.SetDeadline(deadline)
	return client, server
}

// TestStreamStopsShort: a peer that stops short of the stream it announced
// and sends a KRB-ERROR in place of the next message, keeping the
// connection open, gets its error read at once, on MIT's wire and in the
// fast data phase: the reader waits only for the frame it is reading,
// never for the rest of the stream.
func TestStreamStopsShort(t *testing.T) {
	for _, fast := range []bool{false, true} {
		t.Run(map[bool]string{false: "mit-wire", true: "fast"}[fast], func(t *testing.T) {
			cc, sc := tcpPair(t)
			sc.SetDeadline(time.Now().Add(5 * time.Second))
			key := testKey(krb5.EnctypeAES256CTSSHA1, 9)
			var fastKey []byte
			chunk := kpropChunk
			if fast {
				fastKey, chunk = testFastKey(4), FastRecordSize
			}
			c := handshakenConn(t, cc, sessionParams{role: roleClient, key: key, localSeq: testSc, remoteSeq: testSs,
				localAddr: clientAddr, rand: detRand(5), fastKey: fastKey})
			s := handshakenConn(t, sc, sessionParams{role: roleServer, key: key, localSeq: testSs, remoteSeq: testSc,
				localAddr: serverAddr, rand: detRand(6), fastKey: fastKey})
			c.StartChaining()
			s.StartChaining()
			total := 10 * chunk
			done := make(chan struct{})
			go func() {
				w, err := c.NewPrivWriter(PrivWriterOptions{MaxData: chunk, Total: int64(total), Depth: 1})
				if err != nil {
					t.Error(err)
					return
				}
				for range 3 {
					buf, _ := w.Buffer(chunk)
					if err := w.Send(); err != nil || len(buf) != chunk {
						t.Error(err)
					}
				}
				w.Close()
				if err := c.WriteError(krb5.ErrGeneric, "stopping short"); err != nil {
					t.Error(err)
				}
				<-done // the connection stays open
			}()
			start := time.Now()
			got, err := readStream(s, int64(total), 0)
			close(done)
			var re *RemoteError
			if !errors.As(err, &re) || re.Text != "stopping short" || len(got) != 3*chunk {
				t.Fatalf("after %d bytes: %v, want the peer's error after %d", len(got), err, 3*chunk)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the error took %v", d)
			}
		})
	}
}
