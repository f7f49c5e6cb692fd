package fault_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// stateTimeout bounds one read of a tenant's state.
const stateTimeout = 20 * time.Second

// tenantState is what PostgreSQL, the API server and Helm storage hold for
// one tenant, read directly, without the manager.
type tenantState struct {
	id string
	// rows is how many rows of the tenants table have the id: 0 or 1.
	rows int
	row  rowState
	// namespacePhase is the phase of picoclaw-tenant-{id}, "" when absent.
	namespacePhase string
	// labelled are the namespaces labelled picoclaw.io/tenant={id}.
	labelled []string
	// revisions of release {id}, newest first, or nil when it has none.
	revisions []*release.Release
	// releases are the names of every Helm release in the namespace.
	releases []string
}

type rowState struct {
	status, displayName, lastError string
	revision                       int
}

// readState reads tenant id's state. It fails the test when a source cannot
// be read.
func readState(t *testing.T, id string) tenantState {
	t.Helper()
	s, err := tryReadState(id)
	if err != nil {
		t.Fatalf("read state of tenant %s: %v", id, err)
	}
	return s
}

func tryReadState(id string) (tenantState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
	defer cancel()
	s := tenantState{id: id}
	namespace := tenant.NamespaceFor(id)

	err := env.db.QueryRow(ctx, `SELECT status, display_name, last_error, release_revision
		FROM tenants WHERE id = $1`, id).Scan(&s.row.status, &s.row.displayName, &s.row.lastError, &s.row.revision)
	switch {
	case err == nil:
		s.rows = 1
	case !errors.Is(err, pgx.ErrNoRows):
		return s, fmt.Errorf("read row: %w", err)
	}

	ns, err := env.kube.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	switch {
	case err == nil:
		s.namespacePhase = string(ns.Status.Phase)
	case !apierrors.IsNotFound(err):
		return s, fmt.Errorf("read namespace: %w", err)
	}
	labelled, err := env.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: tenant.TenantLabel + "=" + id})
	if err != nil {
		return s, fmt.Errorf("list namespaces: %w", err)
	}
	for _, ns := range labelled.Items {
		s.labelled = append(s.labelled, ns.Name)
	}

	s.revisions, err = env.releases.History(ctx, namespace, id)
	if err != nil && !errors.Is(err, release.ErrNotFound) {
		return s, fmt.Errorf("read release history: %w", err)
	}
	secrets, err := env.kube.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		return s, fmt.Errorf("list Helm storage: %w", err)
	}
	names := map[string]bool{}
	for _, secret := range secrets.Items {
		names[secret.Labels["name"]] = true
	}
	for name := range names {
		s.releases = append(s.releases, name)
	}
	sort.Strings(s.releases)
	return s, nil
}

func (s tenantState) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tenant %s: ", s.id)
	if s.rows == 0 {
		b.WriteString("no row")
	} else {
		fmt.Fprintf(&b, "row %s at revision %d, display_name %q", s.row.status, s.row.revision, s.row.displayName)
		if s.row.lastError != "" {
			fmt.Fprintf(&b, ", last_error %q", s.row.lastError)
		}
	}
	if s.namespacePhase == "" {
		b.WriteString("; no namespace")
	} else {
		fmt.Fprintf(&b, "; namespace %s", s.namespacePhase)
	}
	if len(s.labelled) > 1 {
		fmt.Fprintf(&b, "; labelled namespaces %v", s.labelled)
	}
	b.WriteString("; release revisions [")
	for i, r := range s.revisions {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", r.Revision, r.Status)
	}
	b.WriteString("]")
	if len(s.releases) > 1 {
		fmt.Fprintf(&b, "; releases in namespace %v", s.releases)
	}
	return b.String()
}

// latest returns the newest revision, or nil.
func (s tenantState) latest() *release.Release {
	if len(s.revisions) == 0 {
		return nil
	}
	return s.revisions[0]
}

// pending returns the revisions in a pending-* status.
func (s tenantState) pending() []*release.Release {
	var out []*release.Release
	for _, r := range s.revisions {
		if strings.HasPrefix(r.Status, "pending-") {
			out = append(out, r)
		}
	}
	return out
}

// activeErr returns nil when the tenant is whole: one active row whose
// revision is the deployed latest revision of the only release in its one
// active namespace, with no revision left pending.
func (s tenantState) activeErr() error {
	switch {
	case s.rows != 1:
		return errors.New("no row")
	case s.row.status != string(tenant.StatusActive):
		return fmt.Errorf("the row is %s, not active", s.row.status)
	case s.namespacePhase != string(corev1.NamespaceActive):
		return errors.New("the namespace is not active")
	case len(s.labelled) != 1:
		return fmt.Errorf("%d namespaces carry the tenant label, want 1", len(s.labelled))
	case s.latest() == nil || s.latest().Status != "deployed":
		return errors.New("the latest revision is not deployed")
	case s.row.revision != s.latest().Revision:
		return fmt.Errorf("the row records revision %d, the latest is %d", s.row.revision, s.latest().Revision)
	case len(s.pending()) > 0:
		return errors.New("a revision is still pending")
	case len(s.releases) != 1 || s.releases[0] != s.id:
		return fmt.Errorf("the namespace holds releases %v, want only %s", s.releases, s.id)
	}
	return nil
}

// removedErr returns nil when nothing of the tenant is left but, possibly, a
// namespace that Kubernetes is still deleting.
func (s tenantState) removedErr() error {
	switch {
	case s.rows != 0:
		return fmt.Errorf("the row exists, status %s", s.row.status)
	case len(s.revisions) != 0:
		return errors.New("the release exists")
	case s.namespacePhase == string(corev1.NamespaceActive):
		return errors.New("the namespace is active, not terminating")
	}
	return nil
}

// goneErr returns nil when nothing of the tenant is left, namespace included.
func (s tenantState) goneErr() error {
	if err := s.removedErr(); err != nil {
		return err
	}
	if s.namespacePhase != "" {
		return fmt.Errorf("the namespace is still %s", s.namespacePhase)
	}
	return nil
}

// waitForState polls tenant id's state until check returns nil and returns
// that state. After timeout it fails the test with the last state seen.
func waitForState(t *testing.T, id string, timeout time.Duration, what string, check func(tenantState) error) tenantState {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s, err := tryReadState(id)
		if err == nil {
			if err = check(s); err == nil {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached after %v: %v\nlast state: %s", what, timeout, err, s)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// eventually polls check every 250 ms until it returns nil. After timeout it
// fails the test with check's last error.

// watchReleaseStatus returns a channel that receives the status of release
// id's Helm storage Secret the first time it is one of statuses. The watch
// starts before watchReleaseStatus returns, so no change made after it is
// missed, and it ends with the test.
func watchReleaseStatus(t *testing.T, id string, statuses ...string) <-chan string {
	t.Helper()
	secrets := env.kube.CoreV1().Secrets(metav1.NamespaceAll)
	selector := metav1.ListOptions{LabelSelector: "owner=helm,name=" + id}
	return watchFor(t, "Helm storage of "+id,
		func(ctx context.Context) (string, error) {
			list, err := secrets.List(ctx, selector)
			if err != nil {
				return "", err
			}
			return list.ResourceVersion, nil
		},
		func(ctx context.Context, resourceVersion string) (watch.Interface, error) {
			options := selector
			options.ResourceVersion = resourceVersion
			return secrets.Watch(ctx, options)
		},
		func(event watch.Event) (string, bool) {
			secret, ok := event.Object.(*corev1.Secret)
			if !ok || (event.Type != watch.Added && event.Type != watch.Modified) {
				return "", false
			}
			status := secret.Labels["status"]
			return status, slices.Contains(statuses, status)
		})
}

// watchNamespaceCreated returns a channel that receives the namespace's
// name when it is created. Like watchReleaseStatus, it misses no change made
// after it returns.
func watchNamespaceCreated(t *testing.T, name string) <-chan string {
	t.Helper()
	namespaces := env.kube.CoreV1().Namespaces()
	selector := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()}
	return watchFor(t, "namespace "+name,
		func(ctx context.Context) (string, error) {
			list, err := namespaces.List(ctx, selector)
			if err != nil {
				return "", err
			}
			if len(list.Items) > 0 {
				return "", fmt.Errorf("namespace %s exists before the test created it", name)
			}
			return list.ResourceVersion, nil
		},
		func(ctx context.Context, resourceVersion string) (watch.Interface, error) {
			options := selector
			options.ResourceVersion = resourceVersion
			return namespaces.Watch(ctx, options)
		},
		func(event watch.Event) (string, bool) {
			return name, event.Type == watch.Added
		})
}

// watchFor lists to get a resource version, watches from it, and sends the
// first value that match accepts.
func watchFor(t *testing.T, what string,
	list func(context.Context) (string, error),
	start func(context.Context, string) (watch.Interface, error),
	match func(watch.Event) (string, bool),
) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resourceVersion, err := list(ctx)
	if err != nil {
		t.Fatalf("watch %s: %v", what, err)
	}
	w, err := start(ctx, resourceVersion)
	if err != nil {
		t.Fatalf("watch %s: %v", what, err)
	}

	found := make(chan string, 1)
	go func() {
		defer w.Stop()
		for event := range w.ResultChan() {
			if value, ok := match(event); ok {
				found <- value
				return
			}
		}
	}()
	return found
}
