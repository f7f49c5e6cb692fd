package tenant

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// interrupt sets acme's row status as a process that died mid-operation leaves it.
func (f *fixture) interrupt(t *testing.T, status Status) {
	t.Helper()
	if err := f.store.SetStatus(context.Background(), "acme", string(status), ""); err != nil {
		t.Fatal(err)
	}
}

// setLatestStatus sets the status of acme's latest revision.
func (f *fixture) setLatestStatus(status string) {
	f.releases.mu.Lock()
	defer f.releases.mu.Unlock()
	history := f.releases.history[acmeNamespace+"/"+acmeRelease]
	history[len(history)-1].Status = status
}

func recoverOnce(t *testing.T, f *fixture) int {
	t.Helper()
	n, err := f.service.Recover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecoverFinishesDeployedCreate(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.interrupt(t, StatusProvisioning)

	if n := recoverOnce(t, f); n != 1 {
		t.Errorf("recovered %d tenants, want 1", n)
	}
	if row := f.mustRow(t, "acme"); row.Status != string(StatusActive) {
		t.Errorf("status = %q, want active", row.Status)
	}
}

func TestRecoverCompensatesPendingCreate(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.interrupt(t, StatusProvisioning)
	f.setLatestStatus("pending-install")

	recoverOnce(t, f)
	if _, err := f.store.Get(context.Background(), "acme"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("row: err = %v, want it deleted", err)
	}
	for _, call := range []string{"mark failed " + acmeNamespace + "/acme", "uninstall " + acmeNamespace + "/acme", "delete namespace " + acmeNamespace} {
		if !f.log.contains(call) {
			t.Errorf("calls %q lack %q", f.log.list(), call)
		}
	}
}

func TestRecoverRollsBackPendingUpdate(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	if _, err := f.service.Update(context.Background(), "acme", decode(t, `{"display_name": "Second"}`)); err != nil {
		t.Fatal(err)
	}
	f.interrupt(t, StatusUpdating)
	f.setLatestStatus("pending-upgrade")

	recoverOnce(t, f)
	row := f.mustRow(t, "acme")
	if row.Status != string(StatusActive) || !strings.Contains(row.LastError, "rolled back to revision 1") {
		t.Errorf("row = %s with last_error %q, want active, rolled back to revision 1", row.Status, row.LastError)
	}
	if rel := f.releases.revision(acmeNamespace, acmeRelease, 2); rel.Status != "failed" {
		t.Errorf("revision 2 status = %q, want failed", rel.Status)
	}
	if latest := f.releases.revision(acmeNamespace, acmeRelease, 0); latest.Revision != 3 || latest.Status != "deployed" {
		t.Errorf("latest = revision %d %s, want revision 3 deployed", latest.Revision, latest.Status)
	}
}

func TestRecoverFinishesDelete(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.interrupt(t, StatusDeleting)

	recoverOnce(t, f)
	if _, err := f.store.Get(context.Background(), "acme"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("row: err = %v, want it deleted", err)
	}
}

func TestRecoverSkipsLockedTenant(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.interrupt(t, StatusProvisioning)
	unlock, err := f.store.TryLock(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	if n := recoverOnce(t, f); n != 0 {
		t.Errorf("recovered %d tenants, want 0 while an operation holds the lock", n)
	}
	if row := f.mustRow(t, "acme"); row.Status != string(StatusProvisioning) {
		t.Errorf("status = %q, want provisioning untouched", row.Status)
	}
}

func TestCheckDriftRecordsChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *fixture)
		want   string
	}{
		{"namespace deleted", func(f *fixture) { f.cluster.finishNamespaceDeletion(acmeNamespace) }, "namespace picoclaw-tenant-acme was deleted"},
		{"namespace terminating", func(f *fixture) { f.cluster.setNamespace(acmeNamespace, kube.NamespaceTerminating) }, "is being deleted"},
		{"release uninstalled", func(f *fixture) {
			f.releases.Uninstall(context.Background(), acmeNamespace, acmeRelease)
		}, "was uninstalled outside the manager"},
		{"revision changed", func(f *fixture) {
			f.releases.Rollback(context.Background(), acmeNamespace, acmeRelease, 1)
		}, "is at revision 2, but the manager made revision 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createAcme(t)
			tt.change(f)

			n, err := f.service.CheckDrift(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("drifted = %d, want 1", n)
			}
			if drift := f.mustRow(t, "acme").Drift; !strings.Contains(drift, tt.want) {
				t.Errorf("drift = %q, want it to contain %q", drift, tt.want)
			}
		})
	}
}

func TestCheckDriftClearsWhenFixed(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	if err := f.store.SetDrift(context.Background(), "acme", "stale"); err != nil {
		t.Fatal(err)
	}
	if n, err := f.service.CheckDrift(context.Background()); err != nil || n != 0 {
		t.Fatalf("CheckDrift = %d, %v; want 0 drifted", n, err)
	}
	if drift := f.mustRow(t, "acme").Drift; drift != "" {
		t.Errorf("drift = %q, want it cleared", drift)
	}
}

func TestRecoverRetriesFailedCleanup(t *testing.T) {
	f := newFixture(t)
	f.releases.installErr = errors.New("install failed")
	f.cluster.deleteNamespaceErr = errors.New("API server unreachable")
	if _, err := f.service.Create(context.Background(), decode(t, exampleRequest)); err == nil {
		t.Fatal("create succeeded, want the injected failure")
	}

	f.cluster.deleteNamespaceErr = nil
	recoverOnce(t, f)
	if _, err := f.store.Get(context.Background(), "acme"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("row: err = %v, want it deleted once the cluster answers", err)
	}
}
