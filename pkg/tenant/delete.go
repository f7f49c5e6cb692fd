package tenant

import (
	"context"
	"time"
)

// Delete uninstalls tenant id's release, starts the deletion of its
// namespace and deletes its row. The id can be created again once the
// namespace is gone. A failed step leaves the tenant in status failed with
// last_error set, and a second Delete continues from there.
func (s *Service) Delete(ctx context.Context, id string) (err error) {
	start := time.Now()
	defer func() { s.logOperation("delete", id, start, err) }()

	ctx, cancel := s.operation(ctx)
	defer cancel()
	unlock, err := s.lock(ctx, "delete", id)
	if err != nil {
		return err
	}
	defer unlock()

	row, err := s.getRow(ctx, "delete", id)
	if err != nil {
		return err
	}
	if err := s.Store.SetStatus(ctx, id, string(StatusDeleting), row.LastError); err != nil {
		return &StepError{Operation: "delete", Tenant: id, Step: "mark tenant deleting", Err: err}
	}

	if err := s.Releases.Uninstall(ctx, row.Namespace, row.ReleaseName); err != nil {
		return s.failDelete(ctx, id, "uninstall release", err)
	}
	if err := s.Cluster.DeleteNamespace(ctx, row.Namespace); err != nil {
		return s.failDelete(ctx, id, "delete namespace", err)
	}
	if err := s.Store.Delete(ctx, id); err != nil {
		return s.failDelete(ctx, id, "delete tenant row", err)
	}
	return nil
}

func (s *Service) failDelete(ctx context.Context, id, step string, err error) error {
	stepErr := &StepError{Operation: "delete", Tenant: id, Step: step, Err: err}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := s.Store.SetStatus(ctx, id, string(StatusFailed), stepErr.Error()); err != nil {
		s.Logger.Error("cannot mark tenant failed", "tenant", id, "error", err.Error())
	}
	return stepErr
}
