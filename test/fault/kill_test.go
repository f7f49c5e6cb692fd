package fault_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

const (
	// triggerTimeout bounds the wait for the point at which a test kills a
	// manager or stops a dependency.
	triggerTimeout = 60 * time.Second
	// convergeTimeout bounds how long a restarted manager may take to finish
	// or undo an interrupted operation. A manager runs recovery at start.
	convergeTimeout = 30 * time.Second
	// namespaceGoneTimeout bounds the namespace controller's deletion of a
	// tenant namespace.
	namespaceGoneTimeout = 90 * time.Second
)

// killWhen sends SIGKILL to m as soon as trigger fires, and fails the test
// when the request finishes first, because then nothing was interrupted.
func killWhen(t *testing.T, m *manager, trigger <-chan string, request <-chan outcome, point string) {
	t.Helper()
	select {
	case status := <-trigger:
		m.kill(t)
		t.Logf("killed manager %s at %s (%s)", m.name, point, status)
	case o := <-request:
		t.Fatalf("the request finished before %s, so the kill interrupted nothing: %s", point, o)
	case <-time.After(triggerTimeout):
		t.Fatalf("%s not reached after %v", point, triggerTimeout)
	}
}

// expectInterrupted fails the test unless the killed operation left the row
// in status, which is what recovery must finish.
func expectInterrupted(t *testing.T, id string, status tenant.Status) tenantState {
	t.Helper()
	s := readState(t, id)
	t.Logf("after the kill: %s", s)
	if s.rows != 1 || s.row.status != string(status) {
		t.Fatalf("after the kill the row is not %s, so the kill interrupted nothing; %s", status, s)
	}
	return s
}

// expectRecoveryLogged fails the test unless m logged the recovery of id.
func expectRecoveryLogged(t *testing.T, m *manager, id string) {
	t.Helper()
	if !m.loggedRecovery(id) {
		t.Errorf("manager %s did not log the recovery of %s; its log:\n%s", m.name, id, m.logTail(20))
	}
}

// expectRecreated waits until tenant id's namespace is gone, then creates
// the tenant again with the same bot token: nothing of the old tenant may
// still hold the id or the token.
func expectRecreated(t *testing.T, m *manager, id string) {
	t.Helper()
	waitForState(t, id, namespaceGoneTimeout, "tenant "+id+" gone with its namespace", tenantState.goneErr)
	r := m.call(t, http.MethodPost, "/api/v1/tenants", createBody(id, "Recreated", 200000))
	if r.status != http.StatusCreated {
		t.Fatalf("create %s again after it was removed: %s; want 201", id, r)
	}
}

func TestKillDuringCreateConverges(t *testing.T) {
	requireEnv(t)
	const id = "kill-create"
	first := startManager(t, "first")

	pending := watchReleaseStatus(t, id, "pending-install")
	request := first.sendAsync(http.MethodPost, "/api/v1/tenants", createBody(id, "Killed create", 200000))
	killWhen(t, first, pending, request, "release "+id+" pending-install")
	expectInterrupted(t, id, tenant.StatusProvisioning)

	second := startManager(t, "second")
	s := waitForState(t, id, convergeTimeout, "interrupted create finished or undone", func(s tenantState) error {
		activeErr, removedErr := s.activeErr(), s.removedErr()
		if activeErr == nil || removedErr == nil {
			return nil
		}
		return fmt.Errorf("not active (%v) and not removed (%v)", activeErr, removedErr)
	})
	t.Logf("converged: %s", s)
	expectRecoveryLogged(t, second, id)

	if s.activeErr() == nil {
		r := second.call(t, http.MethodGet, tenantPath(id), "")
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"status":"active"`) {
			t.Errorf("GET of the finished create: %s; want 200 and status active", r)
		}
		return
	}
	expectRecreated(t, second, id)
}

func TestKillDuringUpdateConverges(t *testing.T) {
	requireEnv(t)
	const id = "kill-update"
	first := startManager(t, "first")
	expectStatus(t, first.call(t, http.MethodPost, "/api/v1/tenants", createBody(id, "Before", 100)), http.StatusCreated)

	pending := watchReleaseStatus(t, id, "pending-upgrade")
	request := first.sendAsync(http.MethodPatch, tenantPath(id), patchBody(200))
	killWhen(t, first, pending, request, "release "+id+" pending-upgrade")
	expectInterrupted(t, id, tenant.StatusUpdating)

	second := startManager(t, "second")
	s := waitForState(t, id, convergeTimeout, "interrupted update finished or rolled back", tenantState.activeErr)
	t.Logf("converged: %s", s)
	expectRecoveryLogged(t, second, id)

	// The deployed revision is whole: either the values before the update
	// or those of the update, never a mixture.
	got := normalizeJSON(t, s.latest().Values)
	before := expectedValues(t, id, "Before", 100)
	after := expectedValues(t, id, "p-200", 200)
	beforeDiffs, afterDiffs := diffValues("values", before, got, 5), diffValues("values", after, got, 5)
	if len(beforeDiffs) > 0 && len(afterDiffs) > 0 {
		t.Errorf("deployed revision %d is neither the values before the update:\n%s\nnor those of the update:\n%s",
			s.latest().Revision, strings.Join(beforeDiffs, "\n"), strings.Join(afterDiffs, "\n"))
	}

	r := second.call(t, http.MethodPatch, tenantPath(id), patchBody(300))
	if r.status != http.StatusOK {
		t.Fatalf("update after recovery: %s; want 200", r)
	}
	if s := readState(t, id); s.activeErr() != nil || s.row.displayName != "p-300" {
		t.Errorf("after a later update the tenant is not active with display_name p-300; %s", s)
	}
}

func TestKillDuringDeleteConverges(t *testing.T) {
	requireEnv(t)
	const id = "kill-delete"
	first := startManager(t, "first")
	expectStatus(t, first.call(t, http.MethodPost, "/api/v1/tenants", createBody(id, "Killed delete", 200000)), http.StatusCreated)

	uninstalling := watchReleaseStatus(t, id, "uninstalling")
	request := first.sendAsync(http.MethodDelete, tenantPath(id), "")
	killWhen(t, first, uninstalling, request, "release "+id+" uninstalling")
	expectInterrupted(t, id, tenant.StatusDeleting)

	second := startManager(t, "second")
	s := waitForState(t, id, convergeTimeout, "interrupted delete finished", tenantState.removedErr)
	t.Logf("converged: %s", s)
	expectRecoveryLogged(t, second, id)

	r := second.call(t, http.MethodGet, tenantPath(id), "")
	if r.status != http.StatusNotFound {
		t.Errorf("GET of the deleted tenant: %s; want 404", r)
	}
	expectRecreated(t, second, id)
}
