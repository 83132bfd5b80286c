package interop

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/messages"
)

// A kprop sends length-prefixed frames: the sendauth version (frame 0),
// the application version, the AP-REQ, the size KRB-SAFE, then one
// KRB-PRIV per chunk of the dump (frames 4 and on).

// The frames of a kprop, by index.
const (
	frameAPReq = 2
	frameSize  = 3
	frameChunk = 4 // the first chunk
)

// proxyAction is what the proxy does after a frame.
type proxyAction int

const (
	relayNext proxyAction = iota // go on relaying
	relayCut                     // close both connections
	relayHold                    // stop relaying the client, keep both open until the server closes
)

// frameEdit decides what the proxy forwards in place of client frame i
// (0-based, see frameAPReq...): the frames to send (nil drops it), and
// what to do next.
type frameEdit func(i int, frame []byte) (out [][]byte, next proxyAction)

// proxy is a TCP relay between a kprop and a kpropd that records what the
// client sent and may edit it frame by frame. The replica answers are
// relayed as they come.
type proxy struct {
	l      net.Listener
	target string
	edit   frameEdit

	mu       sync.Mutex
	recorded []byte // the client's bytes of the last connection, as received
	done     chan struct{}
}

// newProxy relays 127.0.0.1:p.port() to 127.0.0.1:targetPort until the
// test ends.
func newProxy(t *testing.T, targetPort int, edit frameEdit) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: "127.0.0.1:" + strconv.Itoa(targetPort), edit: edit, done: make(chan struct{}, 16)}
	t.Cleanup(func() { l.Close() })
	go p.serve()
	return p
}

func (p *proxy) port() int { return p.l.Addr().(*net.TCPAddr).Port }

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.relay(c)
	}
}

// lastSession returns the client bytes of the last connection once it
// has ended.
func (p *proxy) lastSession(t *testing.T) []byte {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the proxied connection did not end")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.recorded...)
}

func (p *proxy) relay(c net.Conn) {
	defer func() { p.done <- struct{}{} }()
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	serverDone := make(chan struct{})
	go func() {
		// Pass the server's half-close on, as a direct connection
		// would: the client may still be sending when the server has
		// said its last word.
		io.Copy(c, s)
		c.(*net.TCPConn).CloseWrite()
		close(serverDone)
	}()
	var rec []byte
	defer func() {
		p.mu.Lock()
		p.recorded = rec
		p.mu.Unlock()
	}()
	for i := 0; ; i++ {
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > 1<<26 {
			return
		}
		frame := make([]byte, 4+n)
		copy(frame, hdr[:])
		if _, err := io.ReadFull(c, frame[4:]); err != nil {
			return
		}
		rec = append(rec, frame...)
		out, next := [][]byte{frame}, relayNext
		if p.edit != nil {
			out, next = p.edit(i, frame)
		}
		for _, f := range out {
			if _, err := s.Write(f); err != nil {
				return
			}
		}
		switch next {
		case relayCut:
			return
		case relayHold:
			select {
			case <-serverDone:
			case <-time.After(60 * time.Second):
			}
			return
		}
	}
}

// replayResult is what a kpropd answered to replayed client bytes.
type replayResult struct {
	answer   int                // the sendauth version answer, -1 if none
	krbError *messages.KRBError // the KRB-ERROR that followed, if any
	accepted bool               // an empty frame (AP-REQ accepted) followed
}

// replaySession sends recorded client bytes to 127.0.0.1:port in one go
// and reads what the server answers.
func replaySession(t *testing.T, port int, session []byte) replayResult {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go c.Write(session)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := replayResult{answer: -1}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return r
	}
	r.answer = int(b[0])
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return r
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		r.accepted = true
		// Read the rest, so that the server may finish the transfer.
		io.Copy(io.Discard, c)
		return r
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(c, msg); err != nil {
		return r
	}
	var ke messages.KRBError
	if err := ke.Unmarshal(msg); err != nil {
		t.Fatalf("undecodable answer to a replay: %v", err)
	}
	r.krbError = &ke
	return r
}

// isReplayRefusal reports whether r is MIT's refusal of a replayed
// AP-REQ: KRB_AP_ERR_REPEAT, "Request is a replay".
func (r replayResult) isReplayRefusal() bool {
	return r.krbError != nil && r.krbError.ErrorCode == 34 && bytes.HasPrefix([]byte(r.krbError.EText), []byte("Request is a replay"))
}
