package tenant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// CheckDrift compares every active tenant with the cluster and records in
// its row what changed outside the manager: a deleted namespace, an
// uninstalled release, or a release revision the manager did not make. GET
// shows it as drift. It returns how many tenants drifted.
func (s *Service) CheckDrift(ctx context.Context) (int, error) {
	rows, err := s.Store.ListByStatus(ctx, string(StatusActive))
	if err != nil {
		return 0, fmt.Errorf("drift check: %w", err)
	}
	drifted := 0
	for _, row := range rows {
		drift, err := s.driftOf(ctx, row)
		if err != nil {
			s.Logger.Error("drift check failed", "tenant", row.ID, "error", err.Error())
			continue
		}
		if drift != "" {
			drifted++
		}
		if drift == row.Drift {
			continue
		}
		if drift != "" {
			s.Logger.Warn("tenant drifted", "tenant", row.ID, "drift", drift)
		}
		if err := s.Store.SetDrift(ctx, row.ID, drift); err != nil {
			s.Logger.Error("cannot record drift", "tenant", row.ID, "error", err.Error())
		}
	}
	return drifted, nil
}

// driftOf describes how the cluster differs from row, or returns "".
func (s *Service) driftOf(ctx context.Context, row store.Tenant) (string, error) {
	state, err := s.Cluster.NamespaceState(ctx, row.Namespace)
	if err != nil {
		return "", err
	}
	switch state {
	case kube.NamespaceAbsent:
		return fmt.Sprintf("namespace %s was deleted outside the manager", row.Namespace), nil
	case kube.NamespaceTerminating:
		return fmt.Sprintf("namespace %s is being deleted outside the manager", row.Namespace), nil
	}

	rel, err := s.Releases.Get(ctx, row.Namespace, row.ReleaseName)
	if errors.Is(err, release.ErrNotFound) {
		return fmt.Sprintf("release %s was uninstalled outside the manager", row.ReleaseName), nil
	}
	if err != nil {
		return "", err
	}
	if rel.Revision != row.ReleaseRevision {
		return fmt.Sprintf("release %s is at revision %d, but the manager made revision %d: it was changed with the helm CLI or another tool",
			row.ReleaseName, rel.Revision, row.ReleaseRevision), nil
	}
	if rel.Status != "deployed" {
		return fmt.Sprintf("release %s revision %d is %s", row.ReleaseName, rel.Revision, rel.Status), nil
	}
	return "", nil
}

// RunDriftCheck runs CheckDrift every interval until ctx ends.
func (s *Service) RunDriftCheck(ctx context.Context, interval time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		if n, err := s.CheckDrift(ctx); err != nil {
			s.Logger.Error("drift check failed", "error", err.Error())
		} else if n > 0 {
			s.Logger.Warn("drift check found tenants changed outside the manager", "tenants", n)
		}
	}
}
