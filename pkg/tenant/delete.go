package tenant

import (
	"context"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// Delete uninstalls tenant id's release, starts the deletion of its
// namespace and deletes its row. The id can be created again once the
// namespace is gone. A failed step leaves the tenant in status deleting with
// last_error set; Recover, or a second Delete, continues from there.
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
	return s.finishDelete(ctx, row)
}

// finishDelete uninstalls the release, starts the namespace's deletion and
// deletes the row of a tenant marked deleting.
func (s *Service) finishDelete(ctx context.Context, row store.Tenant) error {
	if err := s.Releases.Uninstall(ctx, row.Namespace, row.ReleaseName); err != nil {
		return s.failDelete(ctx, row.ID, "uninstall release", err)
	}
	if err := s.Cluster.DeleteNamespace(ctx, row.Namespace); err != nil {
		return s.failDelete(ctx, row.ID, "delete namespace", err)
	}
	if err := s.Store.Delete(ctx, row.ID); err != nil {
		return s.failDelete(ctx, row.ID, "delete tenant row", err)
	}
	return nil
}

func (s *Service) failDelete(ctx context.Context, id, step string, err error) error {
	stepErr := &StepError{Operation: "delete", Tenant: id, Step: step, Err: err}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := s.Store.SetStatus(ctx, id, string(StatusDeleting), stepErr.Error()); err != nil {
		s.Logger.Error("cannot record failed delete", "tenant", id, "error", err.Error())
	}
	return stepErr
}
