package fault_test

import (
	"net/http"
	"testing"
	"time"
)

// TestSigtermDuringCreateDrains stops a manager with SIGTERM, as a rolling
// update does, while a create runs: the manager finishes the create, sends
// its response and exits cleanly.
func TestSigtermDuringCreateDrains(t *testing.T) {
	requireEnv(t)
	const id = "sigterm-create"
	m := startManager(t, "manager")

	pending := watchReleaseStatus(t, id, "pending-install")
	request := m.sendAsync(http.MethodPost, "/api/v1/tenants", createBody(id, "SIGTERM create", 200000))
	select {
	case <-pending:
	case o := <-request:
		t.Fatalf("the create finished before its release was pending-install, so SIGTERM interrupted nothing: %s", o)
	case <-time.After(triggerTimeout):
		t.Fatalf("release %s not pending-install after %v", id, triggerTimeout)
	}
	m.stop(t)

	var o outcome
	select {
	case o = <-request:
	case <-time.After(responseTimeout):
		t.Fatalf("no response to the create within %v of SIGTERM", responseTimeout)
	}
	if o.err != nil || o.status != http.StatusCreated {
		t.Errorf("create during the shutdown: %s; want 201", o)
	}
	if m.waitErr != nil {
		t.Errorf("manager exited with %v after SIGTERM, want exit status 0", m.waitErr)
	}
	if s := readState(t, id); s.activeErr() != nil {
		t.Errorf("tenant not whole after the shutdown: %v; %s", s.activeErr(), s)
	}
}
