package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// ErrLocked is returned when another operation holds a tenant's lock.
var ErrLocked = errors.New("tenant is locked by another operation")

// lockAcquireTimeout bounds the wait for a lock connection when
// LockConnections operations already run.
const lockAcquireTimeout = 10 * time.Second

// lockKey maps a tenant id onto the 64-bit key space of advisory locks.
func lockKey(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte("picoclaw-tenant:" + id))
	return int64(h.Sum64())
}

// TryLock takes the advisory lock of tenant id without waiting and returns
// the function that releases it. It returns ErrLocked when any session, of
// this process or another, holds it. The lock lives on its own connection,
// so it is released when that connection ends, even when the process dies.
func (s *Store) TryLock(ctx context.Context, id string) (unlock func(), err error) {
	acquireCtx, cancel := context.WithTimeout(ctx, lockAcquireTimeout)
	defer cancel()
	conn, err := s.locks.Acquire(acquireCtx)
	if err != nil {
		return nil, fmt.Errorf("lock tenant %s: no free lock connection after %v (%d operations run at once): %w",
			id, lockAcquireTimeout, LockConnections, err)
	}
	key := lockKey(id)

	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&locked); err != nil {
		conn.Release()
		return nil, fmt.Errorf("lock tenant %s: %w", id, err)
	}
	if !locked {
		conn.Release()
		return nil, ErrLocked
	}

	var once sync.Once
	unlock = func() {
		once.Do(func() {
			// The unlock must run even when the operation's context was cancelled;
			// if it fails, closing the connection drops the lock.
			ctx := context.WithoutCancel(ctx)
			if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
				conn.Conn().Close(ctx)
			}
			conn.Release()
		})
	}
	return unlock, nil
}
