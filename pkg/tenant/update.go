package tenant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/picoclaw"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// Update applies a merge patch (RFC 7386) to tenant id: omitted fields stay,
// null removes a key. It merges onto the values of the running release,
// validates the result and upgrades the release with the complete values. A
// failed upgrade is rolled back to the revision that served before, which
// keeps serving; the tenant stays active with last_error set.
func (s *Service) Update(ctx context.Context, id string, patch map[string]any) (t Tenant, err error) {
	start := time.Now()
	defer func() { s.logOperation("update", id, start, err) }()

	patch, err = withoutTenantID(id, patch)
	if err != nil {
		return Tenant{}, err
	}

	ctx, cancel := s.operation(ctx)
	defer cancel()
	unlock, err := s.lock(ctx, "update", id)
	if err != nil {
		return Tenant{}, err
	}
	defer unlock()

	row, err := s.getRow(ctx, "update", id)
	if err != nil {
		return Tenant{}, err
	}
	current, err := s.Releases.Get(ctx, row.Namespace, row.ReleaseName)
	if errors.Is(err, release.ErrNotFound) {
		return Tenant{}, &ConflictError{Reason: fmt.Sprintf(
			"tenant %s (status %s) has no release to update; delete it and create it again", id, row.Status)}
	}
	if err != nil {
		return Tenant{}, &StepError{Operation: "update", Tenant: id, Step: "read release", Err: err}
	}
	spec, err := mergeSpec(id, current.Values, patch)
	if err != nil {
		return Tenant{}, err
	}
	if err := s.checkWorkspaceGrowth(ctx, row, current.Values, spec); err != nil {
		return Tenant{}, err
	}
	if err := s.claimTokens(ctx, "update", id, spec.Sections); err != nil {
		return Tenant{}, err
	}

	if err := s.Store.SetStatus(ctx, id, string(StatusUpdating), row.LastError); err != nil {
		return Tenant{}, &StepError{Operation: "update", Tenant: id, Step: "mark tenant updating", Err: err}
	}
	values := spec.Values(s.Values)
	rel, err := s.Releases.Upgrade(ctx, row.Namespace, row.ReleaseName, s.Chart, values)
	if err != nil {
		err = fromRelease("update", id, "upgrade release", values, err)
		s.reclaimTokens(ctx, row.ID, current.Values)
		var rejected *ValidationError
		if errors.As(err, &rejected) {
			s.restoreStatus(ctx, row)
			return Tenant{}, err
		}
		return Tenant{}, s.recoverUpgrade(ctx, row, current, err)
	}

	row.DisplayName = spec.DisplayName
	row.Resources = resourcesRow(spec.Resources)
	return s.markActive(ctx, "update", row, rel)
}

// withoutTenantID removes tenant_id from an update patch when it matches the
// URL's id; the id of a tenant cannot change.
func withoutTenantID(id string, patch map[string]any) (map[string]any, error) {
	v, ok := patch["tenant_id"]
	if !ok {
		return patch, nil
	}
	if v != id {
		return nil, &ValidationError{Fields: []FieldError{{Field: "tenant_id", Error: "cannot be changed; it is taken from the URL"}}}
	}
	return withoutKey(patch, "tenant_id"), nil
}

// mergeSpec merges patch onto the spec of a release's values and validates
// the result, including that the workspace does not shrink.
func mergeSpec(id string, values, patch map[string]any) (Spec, error) {
	current := documentFromValues(values)
	spec, errs := parseDocument(id, mergePatch(current, patch))

	if before, ok := current["resources"].(map[string]any)["workspace_size"].(string); ok {
		old, oldErr := resource.ParseQuantity(before)
		requested, newErr := resource.ParseQuantity(spec.Resources.WorkspaceSize)
		if oldErr == nil && newErr == nil && requested.Cmp(old) < 0 {
			errs.add("resources.workspace_size", "cannot shrink from %s to %s; a workspace can only grow", before, spec.Resources.WorkspaceSize)
		}
	}
	if err := errs.err(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

// checkWorkspaceGrowth rejects a larger workspace when the claim's
// StorageClass cannot expand volumes, which Kubernetes would reject halfway
// through the upgrade.
func (s *Service) checkWorkspaceGrowth(ctx context.Context, row store.Tenant, values map[string]any, spec Spec) error {
	before, err := resource.ParseQuantity(str(object(values["workspace"])["size"]))
	requested := resource.MustParse(spec.Resources.WorkspaceSize)
	if err != nil || requested.Cmp(before) <= 0 {
		return nil
	}
	expandable, class, err := s.Cluster.VolumeExpandable(ctx, row.Namespace, WorkspaceClaim)
	if err != nil {
		return &StepError{Operation: "update", Tenant: row.ID, Step: "check workspace storage class", Err: err}
	}
	if !expandable {
		return &ValidationError{Fields: []FieldError{{Field: "resources.workspace_size",
			Error: fmt.Sprintf("cannot grow: the workspace's storage class %q does not allow volume expansion", class)}}}
	}
	return nil
}

// reclaimTokens gives tenant id back the tokens of values after an update
// that claimed new ones failed.
func (s *Service) reclaimTokens(ctx context.Context, id string, values map[string]any) {
	sections := picoclaw.SectionsOf(object(values["config"]))
	if err := s.claimTokens(context.WithoutCancel(ctx), "update", id, sections); err != nil {
		s.Logger.Error("cannot restore channel token claims", "tenant", id, "error", err.Error())
	}
}

// restoreStatus puts back the status an update found, after the chart
// rejected its values before anything was applied.
func (s *Service) restoreStatus(ctx context.Context, row store.Tenant) {
	if err := s.Store.SetStatus(context.WithoutCancel(ctx), row.ID, row.Status, row.LastError); err != nil {
		s.Logger.Error("cannot restore tenant status", "tenant", row.ID, "error", err.Error())
	}
}

// recoverUpgrade handles a failed upgrade. When the failure left a new
// revision, it rolls the release back to the revision that served before,
// and the tenant stays active with last_error set. When that rollback fails
// too, the tenant is marked failed. It returns cause.
func (s *Service) recoverUpgrade(ctx context.Context, row store.Tenant, previous *release.Release, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()

	status, message := StatusActive, cause.Error()
	var rollbackErr error
	latest, err := s.Releases.Get(ctx, row.Namespace, row.ReleaseName)
	if err != nil || latest.Revision != previous.Revision {
		if _, err := s.Releases.Rollback(ctx, row.Namespace, row.ReleaseName, previous.Revision); err != nil {
			rollbackErr = fmt.Errorf("rollback to revision %d failed: %s", previous.Revision, scrub(err.Error(), secretsOf(previous.Values)))
			status, message = StatusFailed, message+"; "+rollbackErr.Error()
		}
	}
	if err := s.Store.SetStatus(ctx, row.ID, string(status), message); err != nil {
		s.Logger.Error("cannot record failed upgrade", "tenant", row.ID, "error", err.Error())
	}
	if rollbackErr != nil {
		return fmt.Errorf("%w; %v, tenant marked failed", cause, rollbackErr)
	}
	return cause
}

// markActive records a successful release revision in the tenant's row.
func (s *Service) markActive(ctx context.Context, operation string, row store.Tenant, rel *release.Release) (Tenant, error) {
	row.Status = string(StatusActive)
	row.LastError = ""
	row.ReleaseRevision = rel.Revision
	row.ChartVersion = rel.ChartVersion
	stored, err := s.Store.Update(ctx, row)
	if err != nil {
		return Tenant{}, &StepError{Operation: operation, Tenant: row.ID, Step: "record release revision", Err: err}
	}
	return withRelease(fromRow(stored), rel), nil
}
