package release

import (
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
)

// Rollback rolls release name back to revision, or to the revision before the
// latest one when revision is 0, and returns the new revision it creates.
func (d *Driver) Rollback(ctx context.Context, namespace, name string, revision int) (*Release, error) {
	cfg, err := d.configuration(namespace)
	if err != nil {
		return nil, err
	}
	if err := d.newRollback(cfg, revision).Run(name); err != nil {
		return nil, fmt.Errorf("helm rollback %s to revision %d: %w", name, revision, notFound(err))
	}
	return d.Get(ctx, namespace, name)
}

func (d *Driver) newRollback(cfg *action.Configuration, revision int) *action.Rollback {
	rollback := action.NewRollback(cfg)
	rollback.Version = revision
	rollback.ServerSideApply = "true"
	rollback.MaxHistory = MaxHistory
	// The chart is the desired state: fields that kubectl or another tool
	// took over go back to the chart's values instead of failing the action.
	rollback.ForceConflicts = true
	rollback.WaitStrategy = kube.HookOnlyStrategy
	rollback.Timeout = d.Timeout
	return rollback
}
