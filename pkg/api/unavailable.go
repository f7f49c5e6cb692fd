package api

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// unavailable reports whether err comes from PostgreSQL or the Kubernetes
// API being unreachable or overloaded, rather than from a request they
// rejected, so the client gets 503 and may retry.
func unavailable(err error) bool {
	var (
		connect *pgconn.ConnectError
		netErr  net.Error
		opErr   *net.OpError
	)
	switch {
	case errors.As(err, &connect), errors.As(err, &opErr):
		return true
	case errors.As(err, &netErr) && netErr.Timeout():
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, context.DeadlineExceeded):
		return true
	case pgconn.SafeToRetry(err):
		return true
	}
	if apierrors.IsServiceUnavailable(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) {
		return true
	}
	// Helm formats some client errors with %v, which drops the chain.
	return strings.Contains(err.Error(), "connection refused")
}
