package testenv

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"
)

// Eventually calls check every 250 ms until it returns nil, and fails t with
// what and the last error when timeout passes first.
func Eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %v: %v", what, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// SyncBuffer is a bytes.Buffer that several goroutines may write, such as
// the log output of a manager under test.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start starts a Postgres and a ControlPlane with their defaults, as the
// TestMain of an integration test package does, and returns a stop function
// that stops both. When Start fails, it stops whatever it started.
func Start(ctx context.Context) (*Postgres, *ControlPlane, func(), error) {
	postgres := &Postgres{}
	if err := postgres.Start(ctx); err != nil {
		postgres.Stop()
		return nil, nil, nil, err
	}
	controlPlane := &ControlPlane{}
	if err := controlPlane.Start(ctx); err != nil {
		controlPlane.Stop()
		postgres.Stop()
		return nil, nil, nil, err
	}
	stop := func() {
		controlPlane.Stop()
		postgres.Stop()
	}
	return postgres, controlPlane, stop, nil
}
