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
)

// expectReadyStatus polls GET /ready until it returns want, and fails the
// test with the last response when timeout passes first.
func expectReadyStatus(t *testing.T, m *manager, want int, timeout time.Duration, why string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		r, err := m.do(ctx, http.MethodGet, "/ready", "")
		cancel()
		if err == nil && r.status == want {
			return
		}
		last = outcome{r, err}.String()
		if time.Now().After(deadline) {
			t.Errorf("/ready not %d within %v %s; last: %s", want, timeout, why, last)
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
	if o.status != http.StatusServiceUnavailable && o.status != http.StatusInternalServerError {
		t.Errorf("create during the outage: %s; want 503 or 500", o)
	}
	if message := o.errorMessage(); !strings.Contains(message, "create tenant "+id+": ") {
		t.Errorf("error %q does not say which step of the create failed", message)
	}
}

// pauseWhen runs pause as soon as trigger fires, and fails the test when the
// request finishes first, because then the outage met no operation.
func pauseWhen(t *testing.T, trigger <-chan string, request <-chan outcome, point, what string, pause func() error) time.Time {
	t.Helper()
	select {
	case <-trigger:
	case o := <-request:
		t.Fatalf("the create finished before %s, so stopping %s interrupted nothing: %s", point, what, o)
	case <-time.After(triggerTimeout):
		t.Fatalf("%s not reached after %v", point, triggerTimeout)
	}
	pausedAt := time.Now()
	if err := pause(); err != nil {
		t.Fatalf("stop %s: %v", what, err)
	}
	t.Logf("stopped %s at %s, in %v", what, point, time.Since(pausedAt).Round(time.Millisecond))
	return pausedAt
}

func TestPostgresPauseDuringCreate(t *testing.T) {
	requireEnv(t)
	const id, later = "postgres-outage", "postgres-after"
	m := startManager(t, "manager")

	created := watchNamespaceCreated(t, tenant.NamespaceFor(id))
	request := m.sendAsync(http.MethodPost, "/api/v1/tenants", createBody(id, "PostgreSQL outage", 200000))
	pausedAt := pauseWhen(t, created, request, "namespace creation", "PostgreSQL", env.postgres.Pause)
	paused := true
	resume := func() {
		ctx, cancel := context.WithTimeout(context.Background(), resumeTimeout)
		defer cancel()
		if err := env.postgres.Resume(ctx); err != nil {
			t.Fatalf("resume PostgreSQL: %v", err)
		}
		paused = false
	}
	t.Cleanup(func() {
		if paused {
			resume()
		}
	})

	expectReadyStatus(t, m, http.StatusServiceUnavailable, readyReactionTime-time.Since(pausedAt), "after PostgreSQL stopped")
	expectOutageError(t, request, id)

	resume()
	expectReadyStatus(t, m, http.StatusOK, 30*time.Second, "after PostgreSQL came back")
	s := waitForState(t, id, namespaceGoneTimeout, "create interrupted by the outage undone", tenantState.goneErr)
	t.Logf("converged: %s", s)

	r := m.call(t, http.MethodPost, "/api/v1/tenants", createBody(later, "After the outage", 200000))
	if r.status != http.StatusCreated {
		t.Errorf("create after PostgreSQL came back: %s; want 201 from the same manager process", r)
	}
	if m.hasExited() {
		t.Errorf("manager exited during the outage: %v", m.waitErr)
	}
}

func TestAPIServerPauseDuringCreate(t *testing.T) {
	requireEnv(t)
	const id, later = "apiserver-outage", "apiserver-after"
	m := startManager(t, "manager")

	created := watchNamespaceCreated(t, tenant.NamespaceFor(id))
	request := m.sendAsync(http.MethodPost, "/api/v1/tenants", createBody(id, "API server outage", 200000))
	pausedAt := pauseWhen(t, created, request, "namespace creation", "kube-apiserver", env.controlPlane.PauseAPIServer)
	paused := true
	resume := func() {
		ctx, cancel := context.WithTimeout(context.Background(), resumeTimeout)
		defer cancel()
		if err := env.controlPlane.ResumeAPIServer(ctx); err != nil {
			t.Fatalf("resume kube-apiserver: %v", err)
		}
		paused = false
	}
	t.Cleanup(func() {
		if paused {
			resume()
		}
	})

	expectReadyStatus(t, m, http.StatusServiceUnavailable, readyReactionTime-time.Since(pausedAt), "after kube-apiserver stopped")
	expectOutageError(t, request, id)

	resume()
	expectReadyStatus(t, m, http.StatusOK, 30*time.Second, "after kube-apiserver came back")
	s := waitForState(t, id, convergeTimeout+namespaceGoneTimeout, "create interrupted by the outage finished or undone", func(s tenantState) error {
		activeErr, goneErr := s.activeErr(), s.goneErr()
		if activeErr == nil || goneErr == nil {
			return nil
		}
		return fmt.Errorf("not active (%v) and not gone (%v)", activeErr, goneErr)
	})
	t.Logf("converged: %s", s)

	r := m.call(t, http.MethodPost, "/api/v1/tenants", createBody(later, "After the outage", 200000))
	if r.status != http.StatusCreated {
		t.Errorf("create after kube-apiserver came back: %s; want 201 from the same manager process", r)
	}
	if m.hasExited() {
		t.Errorf("manager exited during the outage: %v", m.waitErr)
	}
}
