package fault_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

const (
	// readyReactionTime is how soon /ready must report a dependency that
	// stopped.
	readyReactionTime = 5 * time.Second
	// responseTimeout bounds the wait for the response to a create that
	// meets an outage.
	responseTimeout = 2 * time.Minute
	// resumeTimeout bounds the restart of a paused dependency.
	resumeTimeout = 2 * time.Minute
	// recoveredTimeout bounds how long a manager takes to use a dependency
	// again after its restart.
	recoveredTimeout = 30 * time.Second
)

// expectReadyStatus polls GET /ready until it returns want, and fails the
// test with the last response when deadline passes first.
func expectReadyStatus(t *testing.T, m *manager, want int, deadline time.Time, window string) {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), readyReactionTime)
		r, err := m.do(ctx, http.MethodGet, "/ready", "")
		cancel()
		if err == nil && r.status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("/ready not %d %s; last: %s", want, window, outcome{r, err})
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expectOutageError fails the test unless the create that met an outage got
// 503 or 500 with an error that names the tenant and the failed step.
func expectOutageError(t *testing.T, request <-chan outcome, id string) {
	t.Helper()
	var o outcome
	select {
	case o = <-request:
	case <-time.After(responseTimeout):
		t.Fatalf("no response to the create of %s within %v of the outage", id, responseTimeout)
	}
	t.Logf("response during the outage: %s", o)
	if o.err != nil {
		t.Fatalf("create of %s during the outage: %v", id, o.err)
	}
	if o.status == http.StatusCreated {
		t.Fatalf("the create finished before the outage took effect, so the test checked nothing: %s", o)
	}
	if o.status != http.StatusServiceUnavailable && o.status != http.StatusInternalServerError {
		t.Errorf("create during the outage: %s; want 503 or 500", o)
	}
	if message := o.errorMessage(); !strings.Contains(message, "create tenant "+id+": ") {
		t.Errorf("error %q does not say which step of the create failed", message)
	}
}

// dependency is a server the manager needs, which a test stops and starts.
type dependency struct {
	name   string
	pause  func() error
	resume func(context.Context) error
}

var (
	postgresDependency = dependency{
		name:   "PostgreSQL",
		pause:  func() error { return env.postgres.Pause() },
		resume: func(ctx context.Context) error { return env.postgres.Resume(ctx) },
	}
	apiServerDependency = dependency{
		name:   "kube-apiserver",
		pause:  func() error { return env.controlPlane.PauseAPIServer() },
		resume: func(ctx context.Context) error { return env.controlPlane.ResumeAPIServer(ctx) },
	}
)

// stopDuringCreate sends a create of id to m and stops dep as soon as the
// tenant's namespace appears. It checks that /ready reports the outage
// within readyReactionTime and that the create fails with an error naming
// its step, then starts dep again and waits for /ready to return 200.
func stopDuringCreate(t *testing.T, m *manager, id string, dep dependency) {
	t.Helper()
	created := watchNamespaceCreated(t, tenant.NamespaceFor(id))
	request := m.sendAsync(http.MethodPost, "/api/v1/tenants", createBody(id, dep.name+" outage", 200000))
	select {
	case <-created:
	case o := <-request:
		t.Fatalf("the create finished before its namespace appeared, so stopping %s interrupted nothing: %s", dep.name, o)
	case <-time.After(triggerTimeout):
		t.Fatalf("namespace of %s not created after %v", id, triggerTimeout)
	}

	pausedAt := time.Now()
	if err := dep.pause(); err != nil {
		t.Fatalf("stop %s: %v", dep.name, err)
	}
	paused := true
	resume := func() {
		ctx, cancel := context.WithTimeout(context.Background(), resumeTimeout)
		defer cancel()
		if err := dep.resume(ctx); err != nil {
			t.Fatalf("start %s again: %v", dep.name, err)
		}
		paused = false
	}
	t.Cleanup(func() {
		if paused {
			resume()
		}
	})
	t.Logf("stopped %s when the namespace appeared; stopping took %v", dep.name, time.Since(pausedAt).Round(time.Millisecond))

	expectReadyStatus(t, m, http.StatusServiceUnavailable, pausedAt.Add(readyReactionTime), "within 5 s of stopping "+dep.name)
	expectOutageError(t, request, id)

	resume()
	expectReadyStatus(t, m, http.StatusOK, time.Now().Add(recoveredTimeout), "within 30 s of starting "+dep.name+" again")
}

// expectCreateAfterOutage fails the test unless m, the process that met the
// outage, creates tenant id.
func expectCreateAfterOutage(t *testing.T, m *manager, id string, dep dependency) {
	t.Helper()
	r := m.call(t, http.MethodPost, "/api/v1/tenants", createBody(id, "After the outage", 200000))
	if r.status != http.StatusCreated {
		t.Errorf("create after %s came back: %s; want 201 from the same manager process", dep.name, r)
	}
	if m.hasExited() {
		t.Errorf("manager exited during the outage: %v", m.waitErr)
	}
}

func TestPostgresPauseDuringCreate(t *testing.T) {
	requireEnv(t)
	const id = "postgres-outage"
	m := startManager(t, "manager")

	stopDuringCreate(t, m, id, postgresDependency)
	expectCreateAfterOutage(t, m, "postgres-after", postgresDependency)

	s := waitForState(t, id, namespaceGoneTimeout, "create interrupted by the outage undone", tenantState.goneErr)
	t.Logf("converged: %s", s)
}

func TestAPIServerPauseDuringCreate(t *testing.T) {
	requireEnv(t)
	const id = "apiserver-outage"
	m := startManager(t, "manager")

	stopDuringCreate(t, m, id, apiServerDependency)
	expectCreateAfterOutage(t, m, "apiserver-after", apiServerDependency)

	s := waitForState(t, id, convergeTimeout, "create interrupted by the outage finished or undone", func(s tenantState) error {
		activeErr, removedErr := s.activeErr(), s.removedErr()
		if activeErr == nil || removedErr == nil {
			return nil
		}
		return fmt.Errorf("not active (%v) and not removed (%v)", activeErr, removedErr)
	})
	t.Logf("converged: %s", s)
	if s.activeErr() != nil {
		waitForState(t, id, namespaceGoneTimeout, "namespace of the undone create deleted", tenantState.goneErr)
	}
}
