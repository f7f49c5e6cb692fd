package tenant

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// callLog records the calls of all three fakes in the order they were made,
// so a test can assert which steps and compensations ran.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

// enter records call and returns the context's error, so a fake fails the
// way a real client does when the operation's context is done.
func (l *callLog) enter(ctx context.Context, format string, args ...any) error {
	l.add(format, args...)
	return ctx.Err()
}

func (l *callLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf(format, args...))
}

func (l *callLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func (l *callLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

// contains reports whether call was recorded.
func (l *callLog) contains(call string) bool {
	return slices.Contains(l.list(), call)
}

// fakeStore keeps tenant rows in memory, as the tenants table does. Each
// error field, when set, is returned by the method of the same name.
type fakeStore struct {
	// tokens maps claimed token hashes to the tenant that claimed them.
	tokens map[string]string

	log *callLog

	mu    sync.Mutex
	rows  map[string]store.Tenant
	locks map[string]bool

	insertErr, getErr, listErr, updateErr, setStatusErr, deleteErr, lockErr error
}

func newFakeStore(log *callLog) *fakeStore {
	return &fakeStore{log: log, rows: map[string]store.Tenant{}, locks: map[string]bool{}}
}

func copyRow(t store.Tenant) store.Tenant {
	t.Resources = maps.Clone(t.Resources)
	return t
}

func (s *fakeStore) Insert(ctx context.Context, t store.Tenant) (store.Tenant, error) {
	if err := s.log.enter(ctx, "insert %s", t.ID); err != nil {
		return store.Tenant{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.insertErr != nil {
		return store.Tenant{}, s.insertErr
	}
	if _, ok := s.rows[t.ID]; ok {
		return store.Tenant{}, store.ErrDuplicate
	}
	now := time.Now().UTC()
	t.CreatedAt, t.UpdatedAt = now, now
	s.rows[t.ID] = copyRow(t)
	return copyRow(t), nil
}

func (s *fakeStore) Get(ctx context.Context, id string) (store.Tenant, error) {
	if err := s.log.enter(ctx, "get %s", id); err != nil {
		return store.Tenant{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.getErr != nil {
		return store.Tenant{}, s.getErr
	}
	row, ok := s.rows[id]
	if !ok {
		return store.Tenant{}, store.ErrNotFound
	}
	return copyRow(row), nil
}

func (s *fakeStore) List(ctx context.Context, after string, limit int) ([]store.Tenant, error) {
	if err := s.log.enter(ctx, "list after %q limit %d", after, limit); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listErr != nil {
		return nil, s.listErr
	}
	ids := slices.Sorted(maps.Keys(s.rows))
	var out []store.Tenant
	for _, id := range ids {
		if id <= after {
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, copyRow(s.rows[id]))
	}
	return out, nil
}

// Update changes the same columns as *store.Store.Update. The namespace,
// release name and creation time stay as inserted.
func (s *fakeStore) Update(ctx context.Context, t store.Tenant) (store.Tenant, error) {
	if err := s.log.enter(ctx, "update %s", t.ID); err != nil {
		return store.Tenant{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.updateErr != nil {
		return store.Tenant{}, s.updateErr
	}
	row, ok := s.rows[t.ID]
	if !ok {
		return store.Tenant{}, store.ErrNotFound
	}
	row.DisplayName = t.DisplayName
	row.Status = t.Status
	row.ReleaseRevision = t.ReleaseRevision
	row.ChartVersion = t.ChartVersion
	row.Resources = maps.Clone(t.Resources)
	row.LastError = t.LastError
	row.UpdatedAt = time.Now().UTC()
	s.rows[t.ID] = row
	return copyRow(row), nil
}

func (s *fakeStore) SetStatus(ctx context.Context, id, status, lastError string) error {
	if err := s.log.enter(ctx, "set status %s %s", id, status); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.setStatusErr != nil {
		return s.setStatusErr
	}
	row, ok := s.rows[id]
	if !ok {
		return store.ErrNotFound
	}
	row.Status = status
	row.LastError = lastError
	row.UpdatedAt = time.Now().UTC()
	s.rows[id] = row
	return nil
}

func (s *fakeStore) Delete(ctx context.Context, id string) error {
	if err := s.log.enter(ctx, "delete %s", id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleteErr != nil {
		return s.deleteErr
	}
	delete(s.rows, id)
	return nil
}

// TryLock returns store.ErrLocked while another caller holds id's lock, as
// the advisory lock of *store.Store does.
func (s *fakeStore) ListByStatus(ctx context.Context, statuses ...string) ([]store.Tenant, error) {
	if err := s.log.enter(ctx, "list by status %v", statuses); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Tenant
	for _, id := range slices.Sorted(maps.Keys(s.rows)) {
		if slices.Contains(statuses, s.rows[id].Status) {
			out = append(out, copyRow(s.rows[id]))
		}
	}
	return out, nil
}

func (s *fakeStore) SetDrift(ctx context.Context, id, drift string) error {
	if err := s.log.enter(ctx, "set drift %s", id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.rows[id]
	if !ok {
		return store.ErrNotFound
	}
	row.Drift = drift
	s.rows[id] = row
	return nil
}

func (s *fakeStore) ClaimTokens(ctx context.Context, id string, claims []store.TokenClaim) error {
	if err := s.log.enter(ctx, "claim tokens %s", id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = map[string]string{}
	}
	for _, c := range claims {
		if owner, ok := s.tokens[string(c.Hash)]; ok && owner != id {
			return &store.TokenInUseError{Channel: c.Channel}
		}
	}
	for hash, owner := range s.tokens {
		if owner == id {
			delete(s.tokens, hash)
		}
	}
	for _, c := range claims {
		s.tokens[string(c.Hash)] = id
	}
	return nil
}

func (s *fakeStore) TryLock(ctx context.Context, id string) (func(), error) {
	if err := s.log.enter(ctx, "lock %s", id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lockErr != nil {
		return nil, s.lockErr
	}
	if s.locks[id] {
		return nil, store.ErrLocked
	}
	s.locks[id] = true

	var once sync.Once
	unlock := func() {
		once.Do(func() {
			s.log.add("unlock %s", id)
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.locks, id)
		})
	}
	return unlock, nil
}

// row returns the stored row of id for assertions.
func (s *fakeStore) row(id string) (store.Tenant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.rows[id]
	return copyRow(row), ok
}

// fakeChartVersion is the chart version of every fake release.
const fakeChartVersion = "0.1.0"

// fakeReleases keeps the revision history of each release in memory, as
// Helm storage does: Install creates revision 1, Upgrade and Rollback each
// add one. Values are stored after a JSON round trip, so numbers come back
// as float64 like values read from Helm storage. Each error field, when set,
// is returned by the method of the same name.
type fakeReleases struct {
	log *callLog

	mu sync.Mutex
	// Revisions of each release, keyed by "namespace/name", so
	// history[key][i] is revision i+1.
	history map[string][]*release.Release

	installErr, upgradeErr, rollbackErr, uninstallErr, getErr error
	// failureRecordsRevision makes a failing Install or Upgrade record a
	// revision in status failed before it returns, as Helm does when
	// applying the manifests fails.
	failureRecordsRevision bool
	// installBlocks and upgradeBlocks make the method wait until its
	// context is done and return the context's error.
	installBlocks, upgradeBlocks bool
}

func newFakeReleases(log *callLog) *fakeReleases {
	return &fakeReleases{log: log, history: map[string][]*release.Release{}}
}

// jsonRoundTrip returns values as Helm storage returns them: marshalled and
// unmarshalled, with numbers as float64.
func jsonRoundTrip(values map[string]any) map[string]any {
	encoded, err := json.Marshal(values)
	if err != nil {
		panic(fmt.Sprintf("marshal release values: %v", err))
	}
	var out map[string]any
	if err := json.Unmarshal(encoded, &out); err != nil {
		panic(fmt.Sprintf("unmarshal release values: %v", err))
	}
	return out
}

// copyRelease returns a copy that shares no map with the stored revision,
// because every read from Helm storage decodes a new one.
func copyRelease(rel *release.Release) *release.Release {
	out := *rel
	out.Values = jsonRoundTrip(rel.Values)
	return &out
}

// record appends a revision to the history of namespace/name and returns a
// copy of it. The caller holds r.mu.
func (r *fakeReleases) record(namespace, name, status string, values map[string]any) *release.Release {
	key := namespace + "/" + name
	for _, earlier := range r.history[key] {
		if earlier.Status == "deployed" {
			earlier.Status = "superseded"
		}
	}
	rel := &release.Release{
		Name:         name,
		Namespace:    namespace,
		Revision:     len(r.history[key]) + 1,
		Status:       status,
		ChartVersion: fakeChartVersion,
		UpdatedAt:    time.Now().UTC(),
		Values:       jsonRoundTrip(values),
	}
	r.history[key] = append(r.history[key], rel)
	return copyRelease(rel)
}

func (r *fakeReleases) Install(ctx context.Context, namespace, name string, _ *chartv2.Chart, values map[string]any) (*release.Release, error) {
	if err := r.log.enter(ctx, "install %s/%s", namespace, name); err != nil {
		return nil, err
	}
	r.mu.Lock()
	blocks := r.installBlocks
	r.mu.Unlock()
	if blocks {
		<-ctx.Done()
		return nil, ctx.Err()
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.history[namespace+"/"+name]) > 0 {
		return nil, fmt.Errorf("helm install %s: cannot re-use a name that is still in use", name)
	}
	if r.installErr != nil {
		if r.failureRecordsRevision {
			r.record(namespace, name, "failed", values)
		}
		return nil, r.installErr
	}
	return r.record(namespace, name, "deployed", values), nil
}

func (r *fakeReleases) Upgrade(ctx context.Context, namespace, name string, _ *chartv2.Chart, values map[string]any) (*release.Release, error) {
	if err := r.log.enter(ctx, "upgrade %s/%s", namespace, name); err != nil {
		return nil, err
	}
	r.mu.Lock()
	rel, err := r.upgrade(namespace, name, values)
	blocks := r.upgradeBlocks
	r.mu.Unlock()

	if blocks && err == nil {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return rel, err
}

// upgrade records the revision of an upgrade. With upgradeBlocks set it
// records a pending-upgrade revision, which Helm v4's action.Upgrade stores
// before it applies the manifests. The caller holds r.mu.
func (r *fakeReleases) upgrade(namespace, name string, values map[string]any) (*release.Release, error) {
	if len(r.history[namespace+"/"+name]) == 0 {
		return nil, fmt.Errorf("helm upgrade %s: %w", name, release.ErrNotFound)
	}
	if r.upgradeBlocks {
		return r.record(namespace, name, "pending-upgrade", values), nil
	}
	if r.upgradeErr != nil {
		if r.failureRecordsRevision {
			r.record(namespace, name, "failed", values)
		}
		return nil, r.upgradeErr
	}
	return r.record(namespace, name, "deployed", values), nil
}

func (r *fakeReleases) Rollback(ctx context.Context, namespace, name string, revision int) (*release.Release, error) {
	if err := r.log.enter(ctx, "rollback %s/%s to %d", namespace, name, revision); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rollbackErr != nil {
		return nil, r.rollbackErr
	}
	history := r.history[namespace+"/"+name]
	if revision < 1 || revision > len(history) {
		return nil, fmt.Errorf("helm rollback %s to revision %d: %w", name, revision, release.ErrNotFound)
	}
	return r.record(namespace, name, "deployed", history[revision-1].Values), nil
}

// Uninstall removes the release and its history. A missing release is not
// an error, as with *release.Driver.
func (r *fakeReleases) Uninstall(ctx context.Context, namespace, name string) error {
	if err := r.log.enter(ctx, "uninstall %s/%s", namespace, name); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.uninstallErr != nil {
		return r.uninstallErr
	}
	delete(r.history, namespace+"/"+name)
	return nil
}

func (r *fakeReleases) Get(ctx context.Context, namespace, name string) (*release.Release, error) {
	if err := r.log.enter(ctx, "get release %s/%s", namespace, name); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.getErr != nil {
		return nil, r.getErr
	}
	history := r.history[namespace+"/"+name]
	if len(history) == 0 {
		return nil, release.ErrNotFound
	}
	return copyRelease(history[len(history)-1]), nil
}

// MarkFailed marks a latest revision in a pending-* status failed, as the
// Helm driver does.
func (r *fakeReleases) MarkFailed(ctx context.Context, namespace, name string) (bool, error) {
	if err := r.log.enter(ctx, "mark failed %s/%s", namespace, name); err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	history := r.history[namespace+"/"+name]
	if len(history) == 0 {
		return false, release.ErrNotFound
	}
	last := history[len(history)-1]
	if !strings.HasPrefix(last.Status, "pending-") {
		return false, nil
	}
	last.Status = "failed"
	return true, nil
}

func (r *fakeReleases) History(ctx context.Context, namespace, name string) ([]*release.Release, error) {
	if err := r.log.enter(ctx, "history %s/%s", namespace, name); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	history := r.history[namespace+"/"+name]
	if len(history) == 0 {
		return nil, release.ErrNotFound
	}
	out := make([]*release.Release, 0, len(history))
	for i := len(history) - 1; i >= 0; i-- {
		out = append(out, copyRelease(history[i]))
	}
	return out, nil
}

// revision returns revision n of namespace/name, or nil when it does not
// exist. An n of 0 selects the latest revision.
func (r *fakeReleases) revision(namespace, name string, n int) *release.Release {
	r.mu.Lock()
	defer r.mu.Unlock()
	history := r.history[namespace+"/"+name]
	if n == 0 {
		n = len(history)
	}
	if n < 1 || n > len(history) {
		return nil
	}
	return copyRelease(history[n-1])
}

// fakeNamespace is a namespace of fakeCluster.
type fakeNamespace struct {
	state  kube.NamespaceState
	labels map[string]string
}

// restartCall is one call of fakeCluster.RestartDeployments.
type restartCall struct {
	namespace string
	names     []string
	at        time.Time
}

// fakeCluster keeps namespaces and Deployment statuses in memory. Deleting a
// namespace leaves it terminating, as the API server does, until the test
// calls finishNamespaceDeletion. Each error field, when set, is returned by
// the method of the same name.
type fakeCluster struct {
	// volumeFixed makes the workspace's storage class reject expansion.
	volumeFixed bool

	log *callLog

	mu         sync.Mutex
	namespaces map[string]fakeNamespace
	// Status of each Deployment, keyed by namespace and then by name.
	deployments map[string]map[string]kube.WorkloadStatus
	restarts    []restartCall

	namespaceStateErr, createNamespaceErr, deleteNamespaceErr error
	deploymentExistsErr, restartErr, workloadsErr             error
}

func newFakeCluster(log *callLog) *fakeCluster {
	return &fakeCluster{
		log:         log,
		namespaces:  map[string]fakeNamespace{},
		deployments: map[string]map[string]kube.WorkloadStatus{},
	}
}

func (c *fakeCluster) NamespaceState(ctx context.Context, name string) (kube.NamespaceState, error) {
	if err := c.log.enter(ctx, "namespace state %s", name); err != nil {
		return kube.NamespaceAbsent, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.namespaceStateErr != nil {
		return kube.NamespaceAbsent, c.namespaceStateErr
	}
	ns, ok := c.namespaces[name]
	if !ok {
		return kube.NamespaceAbsent, nil
	}
	return ns.state, nil
}

func (c *fakeCluster) CreateNamespace(ctx context.Context, name string, labels map[string]string) error {
	if err := c.log.enter(ctx, "create namespace %s", name); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.createNamespaceErr != nil {
		return c.createNamespaceErr
	}
	if _, ok := c.namespaces[name]; ok {
		return kube.ErrNamespaceExists
	}
	c.namespaces[name] = fakeNamespace{state: kube.NamespaceActive, labels: maps.Clone(labels)}
	return nil
}

// DeleteNamespace starts the deletion: the namespace stays terminating.
func (c *fakeCluster) DeleteNamespace(ctx context.Context, name string) error {
	if err := c.log.enter(ctx, "delete namespace %s", name); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deleteNamespaceErr != nil {
		return c.deleteNamespaceErr
	}
	ns, ok := c.namespaces[name]
	if !ok {
		return nil
	}
	ns.state = kube.NamespaceTerminating
	c.namespaces[name] = ns
	return nil
}

func (c *fakeCluster) DeploymentExists(ctx context.Context, namespace, name string) (bool, error) {
	if err := c.log.enter(ctx, "deployment exists %s/%s", namespace, name); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deploymentExistsErr != nil {
		return false, c.deploymentExistsErr
	}
	_, ok := c.deployments[namespace][name]
	return ok, nil
}

func (c *fakeCluster) RestartDeployments(ctx context.Context, namespace string, names []string, at time.Time) error {
	if err := c.log.enter(ctx, "restart %s/%s", namespace, strings.Join(names, ",")); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.restartErr != nil {
		return c.restartErr
	}
	c.restarts = append(c.restarts, restartCall{namespace: namespace, names: slices.Clone(names), at: at})
	return nil
}

func (c *fakeCluster) VolumeExpandable(ctx context.Context, namespace, name string) (bool, string, error) {
	if err := c.log.enter(ctx, "volume expandable %s/%s", namespace, name); err != nil {
		return false, "", err
	}
	return !c.volumeFixed, "fake-class", nil
}

func (c *fakeCluster) Workloads(ctx context.Context, namespace string, names []string) (map[string]kube.WorkloadStatus, error) {
	if err := c.log.enter(ctx, "workloads %s", namespace); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.workloadsErr != nil {
		return nil, c.workloadsErr
	}
	out := map[string]kube.WorkloadStatus{}
	for _, name := range names {
		if status, ok := c.deployments[namespace][name]; ok {
			out[name] = status
		}
	}
	return out, nil
}

// namespace returns namespace name for assertions.
func (c *fakeCluster) namespace(name string) (fakeNamespace, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ns, ok := c.namespaces[name]
	return ns, ok
}

// setNamespace puts namespace name in state, as if something outside the
// service had created or deleted it.
func (c *fakeCluster) setNamespace(name string, state kube.NamespaceState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.namespaces[name] = fakeNamespace{state: state}
}

// finishNamespaceDeletion removes a terminating namespace and its
// Deployments, as the namespace controller does when deletion completes.
func (c *fakeCluster) finishNamespaceDeletion(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.namespaces, name)
	delete(c.deployments, name)
}

func (c *fakeCluster) setDeployment(namespace, name string, status kube.WorkloadStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deployments[namespace] == nil {
		c.deployments[namespace] = map[string]kube.WorkloadStatus{}
	}
	c.deployments[namespace][name] = status
}

func (c *fakeCluster) restartCalls() []restartCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.restarts)
}

// fixture is a Service wired to fakes that share one call log.
type fixture struct {
	service  *Service
	store    *fakeStore
	releases *fakeReleases
	cluster  *fakeCluster
	log      *callLog
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	log := &callLog{}
	f := &fixture{
		store:    newFakeStore(log),
		releases: newFakeReleases(log),
		cluster:  newFakeCluster(log),
		log:      log,
	}
	f.service = NewService(Config{
		Store:    f.store,
		Releases: f.releases,
		Cluster:  f.cluster,
		Values:   ValuesOptions{Image: "docker.io/sipeed/picoclaw:v1", ManagerNamespace: "picoclaw-system"},
		Logger:   slog.New(slog.DiscardHandler),
	})
	return f
}
