package tenant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// Labels of every tenant namespace.
const (
	TenantLabel         = "picoclaw.io/tenant"
	ManagedByLabel      = "app.kubernetes.io/managed-by"
	ManagedByValue      = "picoclaw-manager"
	PodSecurityLabel    = "pod-security.kubernetes.io/enforce"
	PodSecurityStandard = "restricted"
)

// cleanupTimeout bounds the compensation of a failed operation.
const cleanupTimeout = 2 * time.Minute

// Create provisions a tenant from a create request document: it reserves
// the id in PostgreSQL, creates the namespace, installs the release and marks
// the tenant active. Any failure after the reservation is compensated and the
// returned error names the failed step. When the compensation fails too,
// the row stays in status failed so a DELETE can finish the cleanup.
func (s *Service) Create(ctx context.Context, doc map[string]any) (t Tenant, err error) {
	start := time.Now()
	id, _ := doc["tenant_id"].(string)
	defer func() { s.logOperation("create", id, start, err) }()

	spec, err := ParseCreate(doc)
	if err != nil {
		return Tenant{}, err
	}

	ctx, cancel := s.operation(ctx)
	defer cancel()
	unlock, err := s.lock(ctx, "create", id)
	if err != nil {
		return Tenant{}, err
	}
	defer unlock()

	namespace := NamespaceFor(id)
	if err := s.checkNamespaceFree(ctx, id, namespace); err != nil {
		return Tenant{}, err
	}
	row, err := s.reserve(ctx, spec, namespace)
	if err != nil {
		return Tenant{}, err
	}
	if err := s.claimTokens(ctx, "create", id, spec.Sections); err != nil {
		if deleteErr := s.Store.Delete(context.WithoutCancel(ctx), id); deleteErr != nil {
			s.Logger.Error("cannot release reserved tenant id", "tenant", id, "error", deleteErr.Error())
		}
		return Tenant{}, err
	}
	values := spec.Values(s.Values)
	t, err = s.provision(ctx, spec, values, row)
	if err != nil {
		return Tenant{}, s.compensateCreate(ctx, row, secretsOf(values), err)
	}
	return t, nil
}

// checkNamespaceFree returns a *ConflictError when the tenant's namespace
// exists, most often because a deleted tenant's namespace is terminating.
func (s *Service) checkNamespaceFree(ctx context.Context, id, namespace string) error {
	state, err := s.Cluster.NamespaceState(ctx, namespace)
	if err != nil {
		return &StepError{Operation: "create", Tenant: id, Step: "check namespace", Err: err}
	}
	switch state {
	case kube.NamespaceTerminating:
		return &ConflictError{Reason: fmt.Sprintf("namespace %s of an earlier tenant %s is still terminating; retry when it is gone", namespace, id),
			RetryAfter: 10 * time.Second}
	case kube.NamespaceActive:
		if _, err := s.Store.Get(ctx, id); err == nil {
			return &ConflictError{Reason: fmt.Sprintf("tenant %s already exists", id)}
		}
		return &ConflictError{Reason: fmt.Sprintf("namespace %s already exists and belongs to no tenant; delete it or choose another tenant_id", namespace)}
	}
	return nil
}

// reserve inserts the tenant row in status provisioning, which reserves the id.
func (s *Service) reserve(ctx context.Context, spec Spec, namespace string) (store.Tenant, error) {
	row, err := s.Store.Insert(ctx, store.Tenant{
		ID:          spec.ID,
		DisplayName: spec.DisplayName,
		Namespace:   namespace,
		Status:      string(StatusProvisioning),
		ReleaseName: spec.ID,
		Resources:   resourcesRow(spec.Resources),
	})
	if errors.Is(err, store.ErrDuplicate) {
		return store.Tenant{}, &ConflictError{Reason: fmt.Sprintf("tenant %s already exists", spec.ID)}
	}
	if err != nil {
		return store.Tenant{}, &StepError{Operation: "create", Tenant: spec.ID, Step: "reserve tenant id", Err: err}
	}
	return row, nil
}

func (s *Service) provision(ctx context.Context, spec Spec, values map[string]any, row store.Tenant) (Tenant, error) {
	labels := map[string]string{
		TenantLabel:      spec.ID,
		ManagedByLabel:   ManagedByValue,
		PodSecurityLabel: PodSecurityStandard,
	}
	if err := s.Cluster.CreateNamespace(ctx, row.Namespace, labels); err != nil {
		return Tenant{}, &StepError{Operation: "create", Tenant: spec.ID, Step: "create namespace", Err: err}
	}

	rel, err := s.Releases.Install(ctx, row.Namespace, row.ReleaseName, s.Chart, values)
	if err != nil {
		return Tenant{}, fromRelease("create", spec.ID, "install release", values, err)
	}

	row.Status = string(StatusActive)
	row.ReleaseRevision = rel.Revision
	row.ChartVersion = rel.ChartVersion
	row, err = s.Store.Update(ctx, row)
	if err != nil {
		return Tenant{}, &StepError{Operation: "create", Tenant: spec.ID, Step: "mark tenant active", Err: err}
	}
	return withRelease(fromRow(row), rel), nil
}

// compensateCreate undoes a failed create: it uninstalls the release, deletes
// the namespace and deletes the row, and returns cause. When the cluster or
// PostgreSQL cannot be cleaned, as during an outage, the row stays in status
// provisioning with last_error set, so Recover retries the cleanup once the
// lock is free and a DELETE can finish it too.
func (s *Service) compensateCreate(ctx context.Context, row store.Tenant, secrets []string, cause error) error {
	// The operation's deadline may be what failed it; cleanup gets its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()

	uninstallErr := s.Releases.Uninstall(ctx, row.Namespace, row.ReleaseName)
	namespaceErr := s.Cluster.DeleteNamespace(ctx, row.Namespace)
	if cleanup := errors.Join(uninstallErr, namespaceErr); cleanup != nil {
		message := fmt.Sprintf("%v; cleanup failed and will be retried: %s", cause, scrub(cleanup.Error(), secrets))
		s.recordCleanupFailure(ctx, row.ID, message)
		return fmt.Errorf("%w; cleanup failed and will be retried: %s", cause, scrub(cleanup.Error(), secrets))
	}
	if err := s.Store.Delete(ctx, row.ID); err != nil {
		message := fmt.Sprintf("%v; cleanup could not delete the tenant row and will be retried: %v", cause, err)
		s.recordCleanupFailure(ctx, row.ID, message)
		return fmt.Errorf("%w; cleanup could not delete the tenant row and will be retried: %v", cause, err)
	}
	return cause
}

// recordCleanupFailure keeps a tenant whose create could not be undone in
// status provisioning, with the reason, for Recover.
func (s *Service) recordCleanupFailure(ctx context.Context, id, message string) {
	if err := s.Store.SetStatus(ctx, id, string(StatusProvisioning), message); err != nil {
		s.Logger.Error("cannot record failed cleanup", "tenant", id, "error", err.Error())
	}
}
