package netctx

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

func TestWatchCancelUnblocksRead(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	stop := Watch(ctx, a)
	defer stop()
	done := make(chan error, 1)
	go func() {
		_, err := a.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read error = %v, want deadline exceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancellation did not unblock the read")
	}
}

func TestWatchDeadline(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	stop := Watch(ctx, a)
	defer stop()
	start := time.Now()
	_, err := a.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read error = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("deadline not applied")
	}
}

func TestStopDetaches(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	stop := Watch(ctx, a)
	stop()
	cancel()
	go func() { b.Write([]byte{1}) }()
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := a.Read(make([]byte, 1)); err != nil {
		t.Fatalf("read after stop: %v", err)
	}
}
