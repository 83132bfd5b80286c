package netctx

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

func TestBindCancelUnblocksRead(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	stop := Bind(ctx, a)
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
	if stop() {
		t.Error("stop reported that it detached before the cancellation")
	}
}

func TestBindDeadline(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	stop := Bind(ctx, a)
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

// The conn's own deadline is neither replaced nor cleared.
func TestBindLeavesDeadlinesAlone(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	a.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	stop := Bind(ctx, a)
	start := time.Now()
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("read error = %v after %v, want the conn's own deadline", err, time.Since(start))
	}
	if !stop() {
		t.Error("stop after a read of its own timing out")
	}
}

func TestStopDetaches(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	stop := Bind(ctx, a)
	if !stop() {
		t.Fatal("stop before cancellation reported an interruption")
	}
	cancel()
	go func() { b.Write([]byte{1}) }()
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := a.Read(make([]byte, 1)); err != nil {
		t.Fatalf("read after stop: %v", err)
	}
}
