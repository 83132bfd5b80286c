//go:build linux

package krbauth

import (
	"bytes"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gokprop/gokprop/krb5"
)

// expectPair returns a client and a server Conn, chained, on loopback
// TCP; the server's socket has a 5-second deadline.
func expectPair(t *testing.T) (c, s *Conn, sc net.Conn) {
	t.Helper()
	cc, sc := tcpPair(t)
	sc.SetDeadline(time.Now().Add(5 * time.Second))
	key := testKey(krb5.EnctypeAES256CTSSHA1, 9)
	c = handshakenConn(t, cc, sessionParams{role: roleClient, key: key, localSeq: testSc, remoteSeq: testSs,
		localAddr: clientAddr, rand: detRand(5)})
	s = handshakenConn(t, sc, sessionParams{role: roleServer, key: key, localSeq: testSs, remoteSeq: testSc,
		localAddr: serverAddr, rand: detRand(6)})
	c.StartChaining()
	s.StartChaining()
	return c, s, sc
}

// rcvLowat returns the socket's SO_RCVLOWAT.
func rcvLowat(t *testing.T, conn net.Conn) int {
	t.Helper()
	rc, err := conn.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	rc.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// After ExpectPriv the messages arrive as sent, through batches the
// kernel gathers, and ReleasePriv puts the socket back as it was.
func TestExpectPrivGathers(t *testing.T) {
	// No batch is late here, however slow the machine.
	defer func(d time.Duration) { batchFallback = d }(batchFallback)
	batchFallback = 4 * time.Second
	c, s, sc := expectPair(t)
	var chunks [][]byte
	var want []byte
	for i := range 40 {
		chunk := bytes.Repeat([]byte{byte(i)}, kpropChunk-i) // frames not all of one size
		chunks = append(chunks, chunk)
		want = append(want, chunk...)
	}
	go func() {
		for _, chunk := range chunks {
			if err := c.WritePriv(chunk); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(100 * time.Microsecond) // a sender slower than the reader
		}
	}()
	s.ExpectPriv(uint64(len(want)))
	var got []byte
	var marks []int
	for len(got) < len(want) {
		var err error
		if got, err = s.ReadPriv(got); err != nil {
			t.Fatalf("after %d bytes: %v", len(got), err)
		}
		marks = append(marks, rcvLowat(t, sc))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("received %d bytes, not the %d sent", len(got), len(want))
	}
	// The kernel may cap the mark below batchSize (at half the largest
	// receive buffer), never at a message or less.
	if marks[0] <= kpropChunk || marks[0] > batchSize {
		t.Errorf("low-water mark %d during the transfer, want %d or the kernel's cap", marks[0], batchSize)
	}
	s.ReleasePriv()
	if m := rcvLowat(t, sc); m > 1 {
		t.Errorf("low-water mark %d after ReleasePriv, want the default (a byte)", m)
	}
}

// A peer that sends less than ExpectPriv announced and then waits, with
// the connection open, is heard at once, not when the data that never
// comes would have filled a batch.
func TestExpectPrivStopsShort(t *testing.T) {
	c, s, _ := expectPair(t)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for range 3 {
			if err := c.WritePriv(make([]byte, kpropChunk)); err != nil {
				t.Error(err)
			}
		}
		if err := c.WriteError(krb5.ErrGeneric, "stopping short"); err != nil {
			t.Error(err)
		}
		<-done // the connection stays open
	}()
	s.ExpectPriv(100 * kpropChunk)
	start := time.Now()
	var got []byte
	var err error
	for err == nil {
		got, err = s.ReadPriv(got)
	}
	var re *RemoteError
	if !errors.As(err, &re) || re.Text != "stopping short" || len(got) != 3*kpropChunk {
		t.Fatalf("after %d bytes: %v, want the peer's error after %d", len(got), err, 3*kpropChunk)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the error took %v", d)
	}
}
