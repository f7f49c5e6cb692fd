package testenv

import (
	"context"
	"fmt"
	"net"
	"time"
)

// pollInterval is how often readiness checks run while a server starts.
const pollInterval = 100 * time.Millisecond

// waitFor runs check until it returns nil. It fails early, with the log
// tail, when a watched process exits. When ctx ends, it fails with the last
// reason check gave and the log tail of the first watched process, the one
// most likely at fault.
func waitFor(ctx context.Context, what string, check func(context.Context) error, watched ...*process) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()

	for {
		for _, p := range watched {
			if p.hasExited() {
				return fmt.Errorf("waiting for %s: %w", what, p.exitError())
			}
		}

		err := check(ctx)
		if err == nil {
			return nil
		}

		select {
		case <-ctx.Done():
			tail := ""
			if len(watched) > 0 {
				tail = watched[0].logTail()
			}
			return fmt.Errorf("timed out waiting for %s: %v (last check: %v)%s", what, ctx.Err(), err, tail)
		case <-ticker.C:
		}
	}
}

// freePorts returns n distinct TCP ports that are free on 127.0.0.1. It holds
// every listener until all n are chosen, so the ports differ from each other.
// NOTE: another program can still take a port between this call and the
// server's bind; the server then fails to start with "address already in use".
func freePorts(n int) ([]int, error) {
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()

	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
