package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// interrupted are the statuses a tenant has only while an operation runs.
var interrupted = []string{string(StatusProvisioning), string(StatusUpdating), string(StatusDeleting)}

// Recover drives tenants left in provisioning, updating or deleting to a
// consistent state. That happens when the process running an operation died
// or its cleanup could not reach PostgreSQL or the cluster. Creates finish or
// are compensated, deletes finish, and updates finish or fall back to the
// last revision that served. A Helm release stuck in a pending-* status is
// marked failed first. A tenant whose lock is held has a live operation and
// is left alone. It returns how many tenants it recovered.
func (s *Service) Recover(ctx context.Context) (int, error) {
	rows, err := s.Store.ListByStatus(ctx, interrupted...)
	if err != nil {
		return 0, fmt.Errorf("recover: %w", err)
	}
	recovered := 0
	for _, row := range rows {
		if s.recoverTenant(ctx, row.ID) {
			recovered++
		}
	}
	return recovered, nil
}

// recoverTenant recovers one tenant under its lock and reports whether it
// found anything to do.
func (s *Service) recoverTenant(ctx context.Context, id string) bool {
	ctx, cancel := s.operation(ctx)
	defer cancel()
	unlock, err := s.Store.TryLock(ctx, id)
	if err != nil {
		return false
	}
	defer unlock()

	// Read again under the lock: the operation may have finished meanwhile.
	row, err := s.Store.Get(ctx, id)
	if err != nil || !isInterrupted(row.Status) {
		return false
	}

	start := time.Now()
	operation := "recover-" + row.Status
	action, err := s.recoverRow(ctx, row)
	s.logOperation(operation, id, start, err)
	s.Logger.Warn("recovered an interrupted operation", "tenant", id, "status", row.Status, "action", action)
	return true
}

func isInterrupted(status string) bool { return slices.Contains(interrupted, status) }

// recoverRow returns a description of what it did.
func (s *Service) recoverRow(ctx context.Context, row store.Tenant) (string, error) {
	if _, err := s.Releases.MarkFailed(ctx, row.Namespace, row.ReleaseName); err != nil && !errors.Is(err, release.ErrNotFound) {
		return "unlock release", err
	}

	switch Status(row.Status) {
	case StatusDeleting:
		return "finished the delete", s.finishDelete(ctx, row)
	case StatusProvisioning:
		return s.recoverCreate(ctx, row)
	default:
		return s.recoverUpdate(ctx, row)
	}
}

// recoverCreate keeps a create whose release was deployed and compensates
// any other.
func (s *Service) recoverCreate(ctx context.Context, row store.Tenant) (string, error) {
	rel, err := s.Releases.Get(ctx, row.Namespace, row.ReleaseName)
	if err == nil && rel.Status == "deployed" {
		_, err := s.markActive(ctx, "recover", row, rel)
		return "finished the create", err
	}
	cause := errors.New("the create was interrupted; its release never deployed")
	if err := s.compensateCreate(ctx, row, nil, cause); err != cause {
		return "compensation failed", err
	}
	return "compensated the create", nil
}

// recoverUpdate keeps an update whose revision was deployed, and otherwise
// rolls back to the newest revision that served.
func (s *Service) recoverUpdate(ctx context.Context, row store.Tenant) (string, error) {
	revisions, err := s.Releases.History(ctx, row.Namespace, row.ReleaseName)
	if err != nil {
		return "read history", s.Store.SetStatus(ctx, row.ID, string(StatusFailed),
			fmt.Sprintf("an interrupted operation left no readable release: %v", err))
	}
	if revisions[0].Status == "deployed" {
		_, err := s.markActive(ctx, "recover", row, revisions[0])
		return "finished the update", err
	}

	target, err := rollbackTarget(revisions, 0)
	if err != nil {
		return "no revision to return to", s.Store.SetStatus(ctx, row.ID, string(StatusFailed),
			"an interrupted operation left no revision that served")
	}
	rel, err := s.Releases.Rollback(ctx, row.Namespace, row.ReleaseName, target.Revision)
	if err != nil {
		message := fmt.Sprintf("rolling back an interrupted operation to revision %d failed: %s",
			target.Revision, scrub(err.Error(), secretsOf(target.Values)))
		return "rollback failed", s.Store.SetStatus(ctx, row.ID, string(StatusFailed), message)
	}
	if _, err := s.markActive(ctx, "recover", row, rel); err != nil {
		return "rolled back", err
	}
	message := fmt.Sprintf("an interrupted operation was rolled back to revision %d", target.Revision)
	return "rolled back the update", s.Store.SetStatus(ctx, row.ID, string(StatusActive), message)
}

// RunRecovery runs Recover now and then every interval until ctx ends.
func (s *Service) RunRecovery(ctx context.Context, interval time.Duration) {
	for {
		if n, err := s.Recover(ctx); err != nil {
			s.Logger.Error("recovery failed", "error", err.Error())
		} else if n > 0 {
			s.Logger.Info("recovery pass finished", "recovered", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
