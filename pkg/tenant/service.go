package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// Store is the tenant metadata the service needs; *store.Store implements it.
type Store interface {
	Insert(ctx context.Context, t store.Tenant) (store.Tenant, error)
	Get(ctx context.Context, id string) (store.Tenant, error)
	List(ctx context.Context, after string, limit int) ([]store.Tenant, error)
	Update(ctx context.Context, t store.Tenant) (store.Tenant, error)
	SetStatus(ctx context.Context, id, status, lastError string) error
	Delete(ctx context.Context, id string) error
	ListByStatus(ctx context.Context, statuses ...string) ([]store.Tenant, error)
	SetDrift(ctx context.Context, id, drift string) error
	TryLock(ctx context.Context, id string) (unlock func(), err error)
	ClaimTokens(ctx context.Context, id string, claims []store.TokenClaim) error
}

// Releases drives Helm; *release.Driver implements it.
type Releases interface {
	Install(ctx context.Context, namespace, name string, chart *chartv2.Chart, values map[string]any) (*release.Release, error)
	Upgrade(ctx context.Context, namespace, name string, chart *chartv2.Chart, values map[string]any) (*release.Release, error)
	Rollback(ctx context.Context, namespace, name string, revision int) (*release.Release, error)
	Uninstall(ctx context.Context, namespace, name string) error
	Get(ctx context.Context, namespace, name string) (*release.Release, error)
	History(ctx context.Context, namespace, name string) ([]*release.Release, error)
	MarkFailed(ctx context.Context, namespace, name string) (bool, error)
}

// Cluster is the Kubernetes access the service needs besides Helm.
// *kube.Client implements it.
type Cluster interface {
	NamespaceState(ctx context.Context, name string) (kube.NamespaceState, error)
	CreateNamespace(ctx context.Context, name string, labels map[string]string) error
	DeleteNamespace(ctx context.Context, name string) error
	DeploymentExists(ctx context.Context, namespace, name string) (bool, error)
	RestartDeployments(ctx context.Context, namespace string, names []string, at time.Time) error
	Workloads(ctx context.Context, namespace string, names []string) (map[string]kube.WorkloadStatus, error)
	VolumeExpandable(ctx context.Context, namespace, name string) (bool, string, error)
}

// DefaultTokenKey keys token hashes when Config.TokenKey is empty.
const DefaultTokenKey = "picoclaw-manager-channel-tokens"

// Config assembles a Service.
type Config struct {
	Store    Store
	Releases Releases
	Cluster  Cluster
	// Chart is the tenant chart every release is installed from.
	Chart  *chartv2.Chart
	Values ValuesOptions
	Logger *slog.Logger
	// OperationTimeout bounds one create, update, delete or restart.
	OperationTimeout time.Duration
	// TokenKey keys the hashes of channel tokens kept in PostgreSQL. Every
	// replica must use the same key. After a change, the stored hashes no
	// longer match, so reuse goes undetected until each tenant is updated.
	TokenKey []byte
	// Observe, when set, is called once per operation, for metrics.
	Observe func(operation string, duration time.Duration, err error)
}

// Service runs the tenant lifecycle: it validates requests, keeps one
// operation per tenant at a time, and drives Helm, Kubernetes and PostgreSQL.
type Service struct {
	Config
	now func() time.Time
	// inflight counts running operations, for Drain.
	inflight atomic.Int64
}

// NewService returns a Service; Logger and OperationTimeout get defaults
// when unset.
func NewService(c Config) *Service {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.OperationTimeout == 0 {
		c.OperationTimeout = 5 * time.Minute
	}
	if len(c.TokenKey) == 0 {
		c.TokenKey = []byte(DefaultTokenKey)
	}
	return &Service{Config: c, now: time.Now}
}

// operation returns the context an operation runs in: detached from the
// request, so a client that goes away does not stop an operation halfway,
// and bounded by OperationTimeout.
func (s *Service) operation(ctx context.Context) (context.Context, context.CancelFunc) {
	s.inflight.Add(1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.OperationTimeout)
	var once sync.Once
	return ctx, func() {
		cancel()
		once.Do(func() { s.inflight.Add(-1) })
	}
}

// Drain waits until every running operation has finished, or ctx ends. A
// shutting-down process calls it so that no operation stops halfway; one
// still running when ctx ends is finished later by Recover.
func (s *Service) Drain(ctx context.Context) error {
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d operations still running at shutdown: %w", s.inflight.Load(), ctx.Err())
		case <-ticker.C:
		}
	}
	return nil
}

// lock takes the tenant's lock or returns a *ConflictError.
func (s *Service) lock(ctx context.Context, operation, id string) (func(), error) {
	unlock, err := s.Store.TryLock(ctx, id)
	if errors.Is(err, store.ErrLocked) {
		return nil, &ConflictError{Reason: "another operation on tenant " + id + " is in progress; retry when it has finished",
			RetryAfter: 5 * time.Second}
	}
	if err != nil {
		return nil, &StepError{Operation: operation, Tenant: id, Step: "lock tenant", Err: err}
	}
	return unlock, nil
}

// logOperation writes the one log event of an operation.
func (s *Service) logOperation(operation, id string, start time.Time, err error) {
	duration := time.Since(start)
	if s.Observe != nil {
		s.Observe(operation, duration, err)
	}
	attrs := []any{"tenant", id, "operation", operation, "duration", duration}
	if err != nil {
		level := slog.LevelError
		var validation *ValidationError
		var conflict *ConflictError
		if errors.As(err, &validation) || errors.As(err, &conflict) || errors.Is(err, ErrNotFound) {
			level = slog.LevelInfo
		}
		s.Logger.Log(context.Background(), level, "tenant operation failed", append(attrs, "error", err.Error())...)
		return
	}
	s.Logger.Info("tenant operation finished", attrs...)
}

func (s *Service) getRow(ctx context.Context, operation, id string) (store.Tenant, error) {
	row, err := s.Store.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, notFound(id)
	}
	if err != nil {
		return store.Tenant{}, &StepError{Operation: operation, Tenant: id, Step: "read tenant", Err: err}
	}
	return row, nil
}
