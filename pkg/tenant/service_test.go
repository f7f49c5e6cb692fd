package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/picoclaw"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// The namespace and release of the tenant in exampleRequest.
const (
	acmeNamespace = "picoclaw-tenant-acme"
	acmeRelease   = "acme"
)

// exampleSecrets are the secret values in exampleRequest.
var exampleSecrets = []string{"sk-ant-0123456789abcdef9f2c", "123456:telegram-token"}

// createAcme creates the tenant of exampleRequest and clears the call log,
// so the log then contains only the calls of the operation under test.
func (f *fixture) createAcme(t *testing.T) Tenant {
	t.Helper()
	created, err := f.service.Create(context.Background(), decode(t, exampleRequest))
	if err != nil {
		t.Fatalf("create acme: %v", err)
	}
	f.log.reset()
	return created
}

// mustRow returns the stored row of id and fails the test when it is missing.
func (f *fixture) mustRow(t *testing.T, id string) store.Tenant {
	t.Helper()
	row, ok := f.store.row(id)
	if !ok {
		t.Fatalf("tenant row %s is missing", id)
	}
	return row
}

// requestFor returns exampleRequest with tenant_id set to id.
// requestFor returns the example request for id, with a telegram token of
// its own, since a token can serve one tenant only.
func requestFor(t *testing.T, id string) map[string]any {
	t.Helper()
	doc := decode(t, exampleRequest)
	doc["tenant_id"] = id
	if id != "acme" {
		telegram := path(doc, "channels", "telegram")
		telegram["token"] = "123456:token-of-" + id
	}
	return doc
}

func asStepError(t *testing.T, err error) *StepError {
	t.Helper()
	var step *StepError
	if !errors.As(err, &step) {
		t.Fatalf("error = %v (%T), want a *StepError", err, err)
	}
	return step
}

func asConflict(t *testing.T, err error) *ConflictError {
	t.Helper()
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("error = %v (%T), want a *ConflictError", err, err)
	}
	return conflict
}

func asValidation(t *testing.T, err error) *ValidationError {
	t.Helper()
	var validation *ValidationError
	if !errors.As(err, &validation) {
		t.Fatalf("error = %v (%T), want a *ValidationError", err, err)
	}
	return validation
}

// assertNoSecret fails the test when text, read from source, contains a
// secret of exampleRequest.
func assertNoSecret(t *testing.T, source, text string) {
	t.Helper()
	for _, secret := range exampleSecrets {
		if strings.Contains(text, secret) {
			t.Errorf("%s contains the secret %q: %s", source, secret, text)
		}
	}
}

func TestCreateProvisionsTenant(t *testing.T) {
	f := newFixture(t)

	created, err := f.service.Create(context.Background(), decode(t, exampleRequest))
	if err != nil {
		t.Fatal(err)
	}

	row := f.mustRow(t, "acme")
	if row.Status != string(StatusActive) {
		t.Errorf("row status = %q, want active", row.Status)
	}
	if row.ReleaseRevision != 1 {
		t.Errorf("row release revision = %d, want 1", row.ReleaseRevision)
	}
	if row.ChartVersion != fakeChartVersion {
		t.Errorf("row chart version = %q, want %q", row.ChartVersion, fakeChartVersion)
	}
	if created.Status != StatusActive {
		t.Errorf("returned status = %q, want active", created.Status)
	}
	if created.Release == nil || created.Release.Revision != 1 {
		t.Errorf("returned release = %+v, want revision 1", created.Release)
	}

	namespace, ok := f.cluster.namespace(acmeNamespace)
	if !ok {
		t.Fatalf("namespace %s was not created", acmeNamespace)
	}
	wantLabels := map[string]string{
		"picoclaw.io/tenant":                 "acme",
		"app.kubernetes.io/managed-by":       "picoclaw-manager",
		"pod-security.kubernetes.io/enforce": "restricted",
	}
	if !maps.Equal(namespace.labels, wantLabels) {
		t.Errorf("namespace labels = %v, want %v", namespace.labels, wantLabels)
	}

	installed := f.releases.revision(acmeNamespace, acmeRelease, 1)
	if installed == nil {
		t.Fatal("release acme has no revision 1")
	}
	if id := object(installed.Values["tenant"])["id"]; id != "acme" {
		t.Errorf("installed values tenant.id = %v, want acme", id)
	}

	wantCalls := []string{
		"lock acme",
		"namespace state picoclaw-tenant-acme",
		"insert acme", "claim tokens acme",
		"create namespace picoclaw-tenant-acme",
		"install picoclaw-tenant-acme/acme",
		"update acme",
		"unlock acme",
	}
	if calls := f.log.list(); !slices.Equal(calls, wantCalls) {
		t.Errorf("calls = %q\nwant %q", calls, wantCalls)
	}
}

// TestCreateCompensatesFailedStep checks that a step failing after the row
// was inserted undoes everything, in order, and names the step.
func TestCreateCompensatesFailedStep(t *testing.T) {
	compensation := []string{
		"uninstall picoclaw-tenant-acme/acme",
		"delete namespace picoclaw-tenant-acme",
		"delete acme",
		"unlock acme",
	}
	beforeNamespace := []string{"lock acme", "namespace state picoclaw-tenant-acme", "insert acme", "claim tokens acme", "create namespace picoclaw-tenant-acme"}

	tests := []struct {
		name   string
		inject func(f *fixture) error
		step   string
		calls  []string
	}{
		{
			name: "create namespace fails",
			inject: func(f *fixture) error {
				f.cluster.createNamespaceErr = errors.New("namespaces is forbidden")
				return f.cluster.createNamespaceErr
			},
			step:  "create namespace",
			calls: slices.Concat(beforeNamespace, compensation),
		},
		{
			name: "install fails",
			inject: func(f *fixture) error {
				f.releases.installErr = errors.New("helm install acme: apply manifests: connection refused")
				f.releases.failureRecordsRevision = true
				return f.releases.installErr
			},
			step:  "install release",
			calls: slices.Concat(beforeNamespace, []string{"install picoclaw-tenant-acme/acme"}, compensation),
		},
		{
			name: "mark active fails",
			inject: func(f *fixture) error {
				f.store.updateErr = errors.New("update tenant acme: connection reset")
				return f.store.updateErr
			},
			step:  "mark tenant active",
			calls: slices.Concat(beforeNamespace, []string{"install picoclaw-tenant-acme/acme", "update acme"}, compensation),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			injected := tt.inject(f)

			_, err := f.service.Create(context.Background(), decode(t, exampleRequest))

			if step := asStepError(t, err); step.Step != tt.step {
				t.Errorf("failed step = %q, want %q", step.Step, tt.step)
			}
			if !strings.Contains(err.Error(), injected.Error()) {
				t.Errorf("error %q does not contain the cause %q", err, injected)
			}
			if _, ok := f.store.row("acme"); ok {
				t.Error("tenant row remains after compensation")
			}
			if rel := f.releases.revision(acmeNamespace, acmeRelease, 0); rel != nil {
				t.Errorf("release remains after compensation: revision %d", rel.Revision)
			}
			if namespace, ok := f.cluster.namespace(acmeNamespace); ok && namespace.state != kube.NamespaceTerminating {
				t.Errorf("namespace state = %v, want deleted or terminating", namespace.state)
			}
			if calls := f.log.list(); !slices.Equal(calls, tt.calls) {
				t.Errorf("calls = %q\nwant %q", calls, tt.calls)
			}
		})
	}
}

// TestCreateCleanupFailureMarksFailed checks that a compensation that cannot
// clean the cluster keeps the row, in status failed, for a later delete.
func TestCreateCleanupFailureIsRetried(t *testing.T) {
	installErr := errors.New("helm install acme: apply manifests: connection refused")
	uninstallErr := errors.New("helm uninstall acme: connection refused")
	namespaceErr := errors.New("delete namespace picoclaw-tenant-acme: connection refused")

	tests := []struct {
		name                       string
		uninstallErr, namespaceErr error
	}{
		{"uninstall fails", uninstallErr, nil},
		{"delete namespace fails", nil, namespaceErr},
		{"both cleanups fail", uninstallErr, namespaceErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.releases.installErr = installErr
			f.releases.uninstallErr = tt.uninstallErr
			f.cluster.deleteNamespaceErr = tt.namespaceErr

			_, err := f.service.Create(context.Background(), decode(t, exampleRequest))

			if step := asStepError(t, err); step.Step != "install release" {
				t.Errorf("failed step = %q, want install release", step.Step)
			}
			row := f.mustRow(t, "acme")
			if row.Status != string(StatusProvisioning) {
				t.Errorf("row status = %q, want provisioning, for recovery to retry the cleanup", row.Status)
			}
			if !strings.Contains(row.LastError, installErr.Error()) {
				t.Errorf("last_error %q does not contain the install error", row.LastError)
			}
			for _, cleanupErr := range []error{tt.uninstallErr, tt.namespaceErr} {
				if cleanupErr == nil {
					continue
				}
				if !strings.Contains(row.LastError, cleanupErr.Error()) {
					t.Errorf("last_error %q does not contain the cleanup error %q", row.LastError, cleanupErr)
				}
				if !strings.Contains(err.Error(), cleanupErr.Error()) {
					t.Errorf("error %q does not contain the cleanup error %q", err, cleanupErr)
				}
			}
			if f.log.contains("delete acme") {
				t.Error("the row was deleted although the cluster was not cleaned")
			}
		})
	}
}

func TestCreateNamespaceConflict(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, f *fixture)
		reason string
	}{
		{
			name: "namespace terminating",
			setup: func(t *testing.T, f *fixture) {
				f.cluster.setNamespace(acmeNamespace, kube.NamespaceTerminating)
			},
			reason: "terminating",
		},
		{
			name:   "tenant already exists",
			setup:  func(t *testing.T, f *fixture) { f.createAcme(t) },
			reason: "already exists",
		},
		{
			name: "namespace of no tenant",
			setup: func(t *testing.T, f *fixture) {
				f.cluster.setNamespace(acmeNamespace, kube.NamespaceActive)
			},
			reason: "belongs to no tenant",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(t, f)
			f.log.reset()

			_, err := f.service.Create(context.Background(), decode(t, exampleRequest))

			if conflict := asConflict(t, err); !strings.Contains(conflict.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to mention %q", conflict.Reason, tt.reason)
			}
			if f.log.contains("insert acme") {
				t.Error("a row was inserted despite the conflict")
			}
			if f.log.contains("delete namespace picoclaw-tenant-acme") {
				t.Error("the existing namespace was deleted")
			}
		})
	}
}

// TestCreateExistingRowConflict covers a row whose namespace is gone, such
// as a failed tenant that was not deleted yet.
func TestCreateExistingRowConflict(t *testing.T) {
	f := newFixture(t)
	existing := store.Tenant{ID: "acme", Namespace: acmeNamespace, Status: string(StatusFailed), ReleaseName: acmeRelease}
	if _, err := f.store.Insert(context.Background(), existing); err != nil {
		t.Fatal(err)
	}
	f.log.reset()

	_, err := f.service.Create(context.Background(), decode(t, exampleRequest))

	if conflict := asConflict(t, err); !strings.Contains(conflict.Reason, "already exists") {
		t.Errorf("reason = %q, want it to mention already exists", conflict.Reason)
	}
	if f.log.contains("create namespace picoclaw-tenant-acme") {
		t.Error("the namespace was created despite the conflict")
	}
	if row := f.mustRow(t, "acme"); row.Status != string(StatusFailed) {
		t.Errorf("existing row status = %q, want it unchanged (failed)", row.Status)
	}
}

// TestOperationsRejectLockedTenant checks that every operation returns a
// *ConflictError, and changes nothing, while another operation holds the lock.
func TestOperationsRejectLockedTenant(t *testing.T) {
	tests := []struct {
		name     string
		existing bool
		run      func(t *testing.T, s *Service) error
	}{
		{"create", false, func(t *testing.T, s *Service) error {
			_, err := s.Create(context.Background(), decode(t, exampleRequest))
			return err
		}},
		{"update", true, func(t *testing.T, s *Service) error {
			_, err := s.Update(context.Background(), "acme", decode(t, `{"display_name": "X"}`))
			return err
		}},
		{"delete", true, func(t *testing.T, s *Service) error {
			return s.Delete(context.Background(), "acme")
		}},
		{"restart", true, func(t *testing.T, s *Service) error {
			_, err := s.Restart(context.Background(), "acme")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.existing {
				f.createAcme(t)
			}
			unlock, err := f.store.TryLock(context.Background(), "acme")
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			f.log.reset()

			err = tt.run(t, f.service)

			if conflict := asConflict(t, err); !strings.Contains(conflict.Reason, "in progress") {
				t.Errorf("reason = %q, want it to mention an operation in progress", conflict.Reason)
			}
			if calls := f.log.list(); !slices.Equal(calls, []string{"lock acme"}) {
				t.Errorf("calls = %q, want only the lock attempt", calls)
			}
			row, ok := f.store.row("acme")
			if tt.existing && row.Status != string(StatusActive) {
				t.Errorf("row status = %q, want it unchanged (active)", row.Status)
			}
			if !tt.existing && ok {
				t.Error("a row was inserted despite the conflict")
			}
		})
	}
}

func TestCreateInvalidRequestCallsNothing(t *testing.T) {
	f := newFixture(t)

	_, err := f.service.Create(context.Background(), requestFor(t, "Not_A_Valid_ID"))

	if validation := asValidation(t, err); !hasField(validation, "tenant_id") {
		t.Errorf("fields = %+v, want one for tenant_id", validation.Fields)
	}
	if calls := f.log.list(); len(calls) != 0 {
		t.Errorf("calls = %q, want none", calls)
	}
}

// TestCreateIgnoresCancelledContext checks that an operation is detached from
// the request: a client that goes away does not stop it halfway.
func TestCreateIgnoresCancelledContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	created, err := f.service.Create(ctx, decode(t, exampleRequest))

	if err != nil {
		t.Fatalf("create with a cancelled context: %v", err)
	}
	if created.Status != StatusActive {
		t.Errorf("status = %q, want active", created.Status)
	}
	if row := f.mustRow(t, "acme"); row.Status != string(StatusActive) {
		t.Errorf("row status = %q, want active", row.Status)
	}
}

// TestCreateTimeoutStillCompensates checks that the compensation of an
// operation that hit OperationTimeout runs on a context of its own.
func TestCreateTimeoutStillCompensates(t *testing.T) {
	f := newFixture(t)
	f.service.OperationTimeout = 20 * time.Millisecond
	f.releases.installBlocks = true

	_, err := f.service.Create(context.Background(), decode(t, exampleRequest))

	if step := asStepError(t, err); step.Step != "install release" {
		t.Errorf("failed step = %q, want install release", step.Step)
	}
	if !strings.Contains(err.Error(), context.DeadlineExceeded.Error()) {
		t.Errorf("error %q does not mention the deadline", err)
	}
	if _, ok := f.store.row("acme"); ok {
		t.Error("tenant row remains: compensation did not run after the timeout")
	}
	if namespace, ok := f.cluster.namespace(acmeNamespace); !ok || namespace.state != kube.NamespaceTerminating {
		t.Errorf("namespace = %+v (exists %t), want terminating", namespace, ok)
	}
}

func TestCreateConcurrentSameID(t *testing.T) {
	f := newFixture(t)

	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = f.service.Create(context.Background(), decode(t, exampleRequest))
		})
	}
	wg.Wait()

	var created, conflicts int
	for _, err := range errs {
		var conflict *ConflictError
		switch {
		case err == nil:
			created++
		case errors.As(err, &conflict):
			conflicts++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if created != 1 {
		t.Errorf("%d creates succeeded, want 1", created)
	}
	if conflicts != 1 {
		t.Errorf("%d creates got a conflict, want 1", conflicts)
	}
}

func TestCreateResultRedactsSecrets(t *testing.T) {
	f := newFixture(t)

	created, err := f.service.Create(context.Background(), decode(t, exampleRequest))
	if err != nil {
		t.Fatal(err)
	}

	encoded, err := json.Marshal(created)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "create result", string(encoded))
	if key := path(created.Config, "providers", "anthropic")["api_key"]; key != "sk-...9f2c" {
		t.Errorf("config api_key = %v, want the redacted form sk-...9f2c", key)
	}
}

// TestCreateScrubsSecretsFromInstallError covers Helm errors that quote the
// values they reject.
func TestCreateScrubsSecretsFromInstallError(t *testing.T) {
	f := newFixture(t)
	f.releases.installErr = fmt.Errorf("helm install acme: invalid value %q for api_key and %q for token", exampleSecrets[0], exampleSecrets[1])
	f.releases.uninstallErr = errors.New("helm uninstall acme: connection refused")

	_, err := f.service.Create(context.Background(), decode(t, exampleRequest))

	if err == nil {
		t.Fatal("create succeeded, want the install error")
	}
	assertNoSecret(t, "returned error", err.Error())
	assertNoSecret(t, "last_error", f.mustRow(t, "acme").LastError)
}

func TestCreateSchemaRejectionIsValidation(t *testing.T) {
	f := newFixture(t)
	f.releases.installErr = &release.InvalidValuesError{Chart: "picoclaw-tenant", Message: "at '/agent/resources': additional properties not allowed"}

	_, err := f.service.Create(context.Background(), decode(t, exampleRequest))

	if validation := asValidation(t, err); !hasField(validation, "values") {
		t.Errorf("fields = %+v, want one for values", validation.Fields)
	}
	if _, ok := f.store.row("acme"); ok {
		t.Error("tenant row remains after a rejected install")
	}
	if !f.log.contains("delete namespace picoclaw-tenant-acme") {
		t.Error("the namespace of the rejected tenant was not deleted")
	}
}

func TestUpdateMergesPatch(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)

	updated, err := f.service.Update(context.Background(), "acme",
		decode(t, `{"display_name": "X", "resources": {"agent_memory": "2Gi"}}`))
	if err != nil {
		t.Fatal(err)
	}

	before := f.releases.revision(acmeNamespace, acmeRelease, 1)
	after := f.releases.revision(acmeNamespace, acmeRelease, 2)
	if after == nil {
		t.Fatal("the upgrade recorded no revision 2")
	}
	for _, section := range []string{"providers", "channels", "agents"} {
		if got, want := object(after.Values["config"])[section], object(before.Values["config"])[section]; !reflect.DeepEqual(got, want) {
			t.Errorf("config.%s = %v, want it unchanged: %v", section, got, want)
		}
	}
	if key := path(after.Values, "config", "providers", "anthropic")["api_key"]; key != exampleSecrets[0] {
		t.Errorf("upgraded api_key = %v, want the secret kept", key)
	}
	if memory := path(after.Values, "agent", "resources", "limits")["memory"]; memory != "2Gi" {
		t.Errorf("agent memory limit = %v, want 2Gi", memory)
	}
	if memory := path(after.Values, "gateway", "resources", "limits")["memory"]; memory != "512Mi" {
		t.Errorf("gateway memory limit = %v, want it unchanged (512Mi)", memory)
	}
	if name := object(after.Values["tenant"])["displayName"]; name != "X" {
		t.Errorf("values tenant.displayName = %v, want X", name)
	}

	row := f.mustRow(t, "acme")
	if row.DisplayName != "X" {
		t.Errorf("row display name = %q, want X", row.DisplayName)
	}
	if row.Resources["agent_memory"] != "2Gi" {
		t.Errorf("row agent_memory = %q, want 2Gi", row.Resources["agent_memory"])
	}
	if row.ReleaseRevision != 2 {
		t.Errorf("row release revision = %d, want 2", row.ReleaseRevision)
	}
	if row.Status != string(StatusActive) {
		t.Errorf("row status = %q, want active", row.Status)
	}
	if updated.Release == nil || updated.Release.Revision != 2 {
		t.Errorf("returned release = %+v, want revision 2", updated.Release)
	}

	wantCalls := []string{
		"lock acme",
		"get acme",
		"get release picoclaw-tenant-acme/acme",
		"claim tokens acme",
		"set status acme updating",
		"upgrade picoclaw-tenant-acme/acme",
		"update acme",
		"unlock acme",
	}
	if calls := f.log.list(); !slices.Equal(calls, wantCalls) {
		t.Errorf("calls = %q\nwant %q", calls, wantCalls)
	}
}

func TestUpdateRemovesOptionalSection(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)

	if _, err := f.service.Update(context.Background(), "acme", decode(t, `{"agents": null}`)); err != nil {
		t.Fatal(err)
	}

	values := f.releases.revision(acmeNamespace, acmeRelease, 0).Values
	want := map[string]any{"workspace": picoclaw.WorkspacePath}
	if defaults := path(values, "config", "agents", "defaults"); !reflect.DeepEqual(defaults, want) {
		t.Errorf("config.agents.defaults = %v, want only the workspace the manager sets", defaults)
	}
	if providers := path(values, "config", "providers"); len(providers) == 0 {
		t.Error("config.providers was removed with agents")
	}
	if row := f.mustRow(t, "acme"); row.Status != string(StatusActive) {
		t.Errorf("row status = %q, want active", row.Status)
	}
}

// TestUpdateRejectsInvalidPatch checks that a patch whose merged result is
// invalid changes nothing.
func TestUpdateRejectsInvalidPatch(t *testing.T) {
	tests := []struct {
		name  string
		patch string
		field string
	}{
		{"providers removed", `{"providers": null}`, "providers"},
		{"every provider removed", `{"providers": {"anthropic": null}}`, "providers"},
		{"tenant id changed", `{"tenant_id": "other"}`, "tenant_id"},
		{"workspace shrunk", `{"resources": {"workspace_size": "100Mi"}}`, "resources.workspace_size"},
		{"redacted key sent back", `{"providers": {"anthropic": {"api_key": "sk-...9f2c"}}}`, "providers.anthropic.api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createAcme(t)

			_, err := f.service.Update(context.Background(), "acme", decode(t, tt.patch))

			if validation := asValidation(t, err); !hasField(validation, tt.field) {
				t.Errorf("fields = %+v, want one for %q", validation.Fields, tt.field)
			}
			if f.log.contains("upgrade picoclaw-tenant-acme/acme") {
				t.Error("the release was upgraded despite the invalid patch")
			}
			if row := f.mustRow(t, "acme"); row.Status != string(StatusActive) {
				t.Errorf("row status = %q, want it unchanged (active)", row.Status)
			}
		})
	}
}

// TestUpdateRecoversFailedUpgrade checks that a failed upgrade leaves the
// revision that served before, and fails the tenant only when that revision
// cannot be restored.
func TestUpdateRecoversFailedUpgrade(t *testing.T) {
	upgradeErr := errors.New("helm upgrade acme: apply manifests: connection refused")
	rollbackErr := errors.New("helm rollback acme to revision 1: connection refused")

	tests := []struct {
		name            string
		recordsRevision bool
		rollbackErr     error
		wantRollback    bool
		wantStatus      Status
	}{
		{"rollback to serving revision", true, nil, true, StatusActive},
		{"rollback fails too", true, rollbackErr, true, StatusFailed},
		{"no new revision recorded", false, nil, false, StatusActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createAcme(t)
			f.releases.upgradeErr = upgradeErr
			f.releases.failureRecordsRevision = tt.recordsRevision
			f.releases.rollbackErr = tt.rollbackErr

			_, err := f.service.Update(context.Background(), "acme", decode(t, `{"display_name": "X"}`))

			if step := asStepError(t, err); step.Step != "upgrade release" {
				t.Errorf("failed step = %q, want upgrade release", step.Step)
			}
			row := f.mustRow(t, "acme")
			if row.Status != string(tt.wantStatus) {
				t.Errorf("row status = %q, want %q", row.Status, tt.wantStatus)
			}
			if !strings.Contains(row.LastError, upgradeErr.Error()) {
				t.Errorf("last_error %q does not contain the upgrade error", row.LastError)
			}
			if tt.rollbackErr != nil && !strings.Contains(row.LastError, tt.rollbackErr.Error()) {
				t.Errorf("last_error %q does not contain the rollback error", row.LastError)
			}
			if row.DisplayName != "ACME Corp" {
				t.Errorf("row display name = %q, want it unchanged (ACME Corp)", row.DisplayName)
			}
			if rolledBack := f.log.contains("rollback picoclaw-tenant-acme/acme to 1"); rolledBack != tt.wantRollback {
				t.Errorf("rollback to revision 1 called = %t, want %t", rolledBack, tt.wantRollback)
			}
			if tt.wantRollback && tt.rollbackErr == nil {
				latest := f.releases.revision(acmeNamespace, acmeRelease, 0)
				first := f.releases.revision(acmeNamespace, acmeRelease, 1)
				if !reflect.DeepEqual(latest.Values, first.Values) {
					t.Errorf("values of revision %d differ from revision 1 after the rollback", latest.Revision)
				}
			}
		})
	}
}

// TestUpdateTimeoutRollsBack checks that the rollback of an upgrade that hit
// OperationTimeout runs on a context of its own.
func TestUpdateTimeoutRollsBack(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.service.OperationTimeout = 20 * time.Millisecond
	f.releases.upgradeBlocks = true

	_, err := f.service.Update(context.Background(), "acme", decode(t, `{"display_name": "X"}`))

	if step := asStepError(t, err); step.Step != "upgrade release" {
		t.Errorf("failed step = %q, want upgrade release", step.Step)
	}
	if !f.log.contains("rollback picoclaw-tenant-acme/acme to 1") {
		t.Error("the pending revision was not rolled back to revision 1")
	}
	if row := f.mustRow(t, "acme"); row.Status != string(StatusActive) {
		t.Errorf("row status = %q, want active: the rollback runs after the deadline", row.Status)
	}
}

func TestUpdateSchemaRejectionRestoresStatus(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.releases.upgradeErr = &release.InvalidValuesError{Chart: "picoclaw-tenant", Message: "at '/agent/resources': additional properties not allowed"}

	_, err := f.service.Update(context.Background(), "acme", decode(t, `{"display_name": "X"}`))

	if validation := asValidation(t, err); !hasField(validation, "values") {
		t.Errorf("fields = %+v, want one for values", validation.Fields)
	}
	row := f.mustRow(t, "acme")
	if row.Status != string(StatusActive) {
		t.Errorf("row status = %q, want it restored to active", row.Status)
	}
	if row.LastError != "" {
		t.Errorf("last_error = %q, want it unchanged (empty)", row.LastError)
	}
	if f.log.contains("rollback picoclaw-tenant-acme/acme to 1") {
		t.Error("a rejected upgrade was rolled back, but nothing was applied")
	}
}

func TestUpdateSuccessClearsLastError(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.releases.upgradeErr = errors.New("helm upgrade acme: connection refused")
	if _, err := f.service.Update(context.Background(), "acme", decode(t, `{"display_name": "X"}`)); err == nil {
		t.Fatal("first update succeeded, want the injected error")
	}
	if row := f.mustRow(t, "acme"); row.LastError == "" {
		t.Fatal("the failed update left no last_error")
	}
	f.releases.upgradeErr = nil

	if _, err := f.service.Update(context.Background(), "acme", decode(t, `{"display_name": "X"}`)); err != nil {
		t.Fatal(err)
	}

	if row := f.mustRow(t, "acme"); row.LastError != "" {
		t.Errorf("last_error = %q after a successful update, want empty", row.LastError)
	}
}

func TestUpdateRecordFailureNamesTenant(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.store.updateErr = errors.New("update tenant acme: connection reset")

	_, err := f.service.Update(context.Background(), "acme", decode(t, `{"display_name": "X"}`))

	step := asStepError(t, err)
	if step.Step != "record release revision" {
		t.Errorf("failed step = %q, want record release revision", step.Step)
	}
	if step.Tenant != "acme" {
		t.Errorf("error names tenant %q, want acme: %v", step.Tenant, err)
	}
}

func TestUpdateScrubsSecretsFromUpgradeError(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.releases.upgradeErr = fmt.Errorf("helm upgrade acme: invalid value %q for api_key and %q for token", exampleSecrets[0], exampleSecrets[1])
	f.releases.failureRecordsRevision = true

	_, err := f.service.Update(context.Background(), "acme", decode(t, `{"display_name": "X"}`))

	if err == nil {
		t.Fatal("update succeeded, want the upgrade error")
	}
	assertNoSecret(t, "returned error", err.Error())
	assertNoSecret(t, "last_error", f.mustRow(t, "acme").LastError)
}

func TestDeleteRemovesTenant(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)

	if err := f.service.Delete(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}

	if _, ok := f.store.row("acme"); ok {
		t.Error("tenant row remains after delete")
	}
	if rel := f.releases.revision(acmeNamespace, acmeRelease, 0); rel != nil {
		t.Errorf("release remains after delete: revision %d", rel.Revision)
	}
	if namespace, _ := f.cluster.namespace(acmeNamespace); namespace.state != kube.NamespaceTerminating {
		t.Errorf("namespace state = %v, want terminating", namespace.state)
	}
	wantCalls := []string{
		"lock acme",
		"get acme",
		"set status acme deleting",
		"uninstall picoclaw-tenant-acme/acme",
		"delete namespace picoclaw-tenant-acme",
		"delete acme",
		"unlock acme",
	}
	if calls := f.log.list(); !slices.Equal(calls, wantCalls) {
		t.Errorf("calls = %q\nwant %q", calls, wantCalls)
	}
}

func TestDeleteFailureIsRetried(t *testing.T) {
	tests := []struct {
		name   string
		inject func(f *fixture) error
		step   string
	}{
		{
			name: "uninstall fails",
			inject: func(f *fixture) error {
				f.releases.uninstallErr = errors.New("helm uninstall acme: connection refused")
				return f.releases.uninstallErr
			},
			step: "uninstall release",
		},
		{
			name: "delete namespace fails",
			inject: func(f *fixture) error {
				f.cluster.deleteNamespaceErr = errors.New("delete namespace picoclaw-tenant-acme: connection refused")
				return f.cluster.deleteNamespaceErr
			},
			step: "delete namespace",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createAcme(t)
			injected := tt.inject(f)

			err := f.service.Delete(context.Background(), "acme")

			if step := asStepError(t, err); step.Step != tt.step {
				t.Errorf("failed step = %q, want %q", step.Step, tt.step)
			}
			row := f.mustRow(t, "acme")
			if row.Status != string(StatusDeleting) {
				t.Errorf("row status = %q, want deleting, for recovery to finish the delete", row.Status)
			}
			if !strings.Contains(row.LastError, injected.Error()) {
				t.Errorf("last_error %q does not contain %q", row.LastError, injected)
			}
			if f.log.contains("delete acme") {
				t.Error("the row was deleted although the cluster was not cleaned")
			}
		})
	}
}

// TestDeleteRowFailureMarksFailed checks the promise of Delete's
// documentation that a failed step leaves the tenant in status failed.
func TestDeleteRowFailureIsRetried(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.store.deleteErr = errors.New("delete tenant acme: connection reset")

	err := f.service.Delete(context.Background(), "acme")

	if step := asStepError(t, err); step.Step != "delete tenant row" {
		t.Errorf("failed step = %q, want delete tenant row", step.Step)
	}
	row := f.mustRow(t, "acme")
	if row.Status != string(StatusDeleting) {
		t.Errorf("row status = %q, want deleting, for recovery to finish the delete", row.Status)
	}
	if !strings.Contains(row.LastError, f.store.deleteErr.Error()) {
		t.Errorf("last_error %q does not contain the delete error", row.LastError)
	}
}

func TestDeleteRetryFinishes(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.releases.uninstallErr = errors.New("helm uninstall acme: connection refused")
	if err := f.service.Delete(context.Background(), "acme"); err == nil {
		t.Fatal("first delete succeeded, want the uninstall error")
	}
	f.releases.uninstallErr = nil

	if err := f.service.Delete(context.Background(), "acme"); err != nil {
		t.Fatalf("second delete: %v", err)
	}

	if _, ok := f.store.row("acme"); ok {
		t.Error("tenant row remains after the second delete")
	}
}

// TestRecreateWaitsForNamespace checks that a deleted id can be created
// again only once its namespace is gone.
func TestRecreateWaitsForNamespace(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	if err := f.service.Delete(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}

	_, err := f.service.Create(context.Background(), decode(t, exampleRequest))
	if conflict := asConflict(t, err); !strings.Contains(conflict.Reason, "terminating") {
		t.Errorf("reason = %q, want it to mention terminating", conflict.Reason)
	}

	f.cluster.finishNamespaceDeletion(acmeNamespace)
	if _, err := f.service.Create(context.Background(), decode(t, exampleRequest)); err != nil {
		t.Errorf("create after the namespace is gone: %v", err)
	}
}

func TestRestartDeployments(t *testing.T) {
	tests := []struct {
		name        string
		agentExists bool
		want        []string
	}{
		{"agent exists", true, []string{GatewayDeployment, AgentDeployment}},
		{"agent absent", false, []string{GatewayDeployment}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createAcme(t)
			f.cluster.setDeployment(acmeNamespace, GatewayDeployment, kube.WorkloadStatus{Desired: 1})
			if tt.agentExists {
				f.cluster.setDeployment(acmeNamespace, AgentDeployment, kube.WorkloadStatus{Desired: 1})
			}

			if _, err := f.service.Restart(context.Background(), "acme"); err != nil {
				t.Fatal(err)
			}

			restarts := f.cluster.restartCalls()
			if len(restarts) != 1 {
				t.Fatalf("RestartDeployments called %d times, want once", len(restarts))
			}
			if restarts[0].namespace != acmeNamespace {
				t.Errorf("restarted in namespace %q, want %q", restarts[0].namespace, acmeNamespace)
			}
			if !slices.Equal(restarts[0].names, tt.want) {
				t.Errorf("restarted %q, want %q", restarts[0].names, tt.want)
			}
		})
	}
}

func TestRestartTimeIsUTCSeconds(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	f.service.now = func() time.Time {
		return time.Date(2026, 3, 1, 12, 30, 45, 987654321, time.FixedZone("CET", 3600))
	}

	at, err := f.service.Restart(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}

	if want := time.Date(2026, 3, 1, 11, 30, 45, 0, time.UTC); !at.Equal(want) {
		t.Errorf("restart time = %v, want %v", at, want)
	}
	if at.Location() != time.UTC {
		t.Errorf("restart time location = %v, want UTC", at.Location())
	}
	if restarts := f.cluster.restartCalls(); len(restarts) != 1 || !restarts[0].at.Equal(at) {
		t.Errorf("restart calls = %+v, want one at %v", restarts, at)
	}
}

func TestOperationsUnknownTenantNotFound(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *Service) error
	}{
		{"get", func(t *testing.T, s *Service) error {
			_, err := s.Get(context.Background(), "nobody")
			return err
		}},
		{"update", func(t *testing.T, s *Service) error {
			_, err := s.Update(context.Background(), "nobody", decode(t, `{"display_name": "X"}`))
			return err
		}},
		{"delete", func(t *testing.T, s *Service) error {
			return s.Delete(context.Background(), "nobody")
		}},
		{"restart", func(t *testing.T, s *Service) error {
			_, err := s.Restart(context.Background(), "nobody")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)

			err := tt.run(t, f.service)

			if !errors.Is(err, ErrNotFound) {
				t.Errorf("error = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestGetReturnsWorkloadsAndRedactedConfig(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	gateway := kube.WorkloadStatus{Desired: 1, Ready: 1, Available: 1, Updated: 1}
	agent := kube.WorkloadStatus{Desired: 1, Ready: 0, Available: 0, Updated: 1}
	f.cluster.setDeployment(acmeNamespace, GatewayDeployment, gateway)
	f.cluster.setDeployment(acmeNamespace, AgentDeployment, agent)

	got, err := f.service.Get(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]kube.WorkloadStatus{"gateway": gateway, "agent": agent}
	if !maps.Equal(got.Workloads, want) {
		t.Errorf("workloads = %+v, want %+v", got.Workloads, want)
	}
	if got.Release == nil || got.Release.Revision != 1 {
		t.Errorf("release = %+v, want revision 1", got.Release)
	}
	if token := path(got.Config, "channels", "telegram")["token"]; token != "(set)" {
		t.Errorf("config telegram token = %v, want (set)", token)
	}
	encoded, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "get result", string(encoded))
}

// TestGetWithoutRelease covers a tenant whose release is gone, such as one
// left failed by a create that could not be cleaned up.
func TestGetWithoutRelease(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	if err := f.releases.Uninstall(context.Background(), acmeNamespace, acmeRelease); err != nil {
		t.Fatal(err)
	}

	got, err := f.service.Get(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}

	if got.Release != nil {
		t.Errorf("release = %+v, want none", got.Release)
	}
	if got.Config != nil {
		t.Errorf("config = %v, want none", got.Config)
	}
}

func TestListPagesByID(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"gamma", "alpha", "beta"} {
		if _, err := f.service.Create(context.Background(), requestFor(t, id)); err != nil {
			t.Fatalf("create %s: %v", id, err)
		}
	}

	page, err := f.service.List(context.Background(), "alpha", 1)
	if err != nil {
		t.Fatal(err)
	}

	if len(page) != 1 || page[0].ID != "beta" {
		t.Fatalf("page = %+v, want only beta", page)
	}
	if page[0].Namespace != "picoclaw-tenant-beta" {
		t.Errorf("namespace = %q, want picoclaw-tenant-beta", page[0].Namespace)
	}
	if page[0].Status != StatusActive {
		t.Errorf("status = %q, want active", page[0].Status)
	}
}

func TestUpdateWorkspaceGrowthNeedsExpansion(t *testing.T) {
	tests := []struct {
		name        string
		volumeFixed bool
		wantErr     bool
	}{
		{"expandable class grows", false, false},
		{"fixed class rejected", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createAcme(t)
			f.cluster.volumeFixed = tt.volumeFixed

			_, err := f.service.Update(context.Background(), "acme", decode(t, `{"resources": {"workspace_size": "1Gi"}}`))
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Update: %v", err)
				}
				return
			}
			validation := asValidation(t, err)
			if validation.Fields[0].Field != "resources.workspace_size" {
				t.Errorf("field = %q, want resources.workspace_size", validation.Fields[0].Field)
			}
			if f.releases.revision(acmeNamespace, acmeRelease, 2) != nil {
				t.Error("a rejected growth recorded revision 2")
			}
		})
	}
}

func TestRollbackSkipsFailedRevisions(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	if _, err := f.service.Update(context.Background(), "acme", decode(t, `{"display_name": "Second"}`)); err != nil {
		t.Fatal(err)
	}
	f.releases.failureRecordsRevision = true
	f.releases.upgradeErr = errors.New("apply failed")
	if _, err := f.service.Update(context.Background(), "acme", decode(t, `{"display_name": "Broken"}`)); err == nil {
		t.Fatal("update succeeded, want the injected failure")
	}
	f.releases.upgradeErr = nil

	// The history is now 4 (rollback to 2), 3 failed, 2 superseded, 1 superseded.
	rolledBack, err := f.service.Rollback(context.Background(), "acme", 0)
	if err != nil {
		t.Fatal(err)
	}
	if rolledBack.DisplayName != "Second" {
		t.Errorf("display name = %q, want Second of revision 2, skipping failed revision 3", rolledBack.DisplayName)
	}
	if f.releases.revision(acmeNamespace, acmeRelease, 5) == nil {
		t.Error("the rollback recorded no revision 5")
	}
}

func TestTokenServesOneTenant(t *testing.T) {
	f := newFixture(t)
	f.createAcme(t)
	ctx := context.Background()

	doc := requestFor(t, "globex")
	path(doc, "channels", "telegram")["token"] = path(decode(t, exampleRequest), "channels", "telegram")["token"]
	_, err := f.service.Create(ctx, doc)
	conflict := asConflict(t, err)
	if !strings.Contains(conflict.Reason, "channels.telegram") {
		t.Errorf("reason = %q, want it to name channels.telegram", conflict.Reason)
	}
	assertNoSecret(t, "conflict reason", conflict.Reason)
	if _, err := f.store.Get(ctx, "globex"); err == nil {
		t.Error("the rejected tenant's row remains")
	}

	if _, err := f.service.Create(ctx, requestFor(t, "globex")); err != nil {
		t.Fatalf("create with a token of its own: %v", err)
	}
	patch := decode(t, `{"channels": {"telegram": {"token": "`+path(decode(t, exampleRequest), "channels", "telegram")["token"].(string)+`"}}}`)
	if _, err := f.service.Update(ctx, "globex", patch); err == nil {
		t.Error("update to acme's token succeeded, want a conflict")
	}
}

func TestDrainWaitsForOperations(t *testing.T) {
	f := newFixture(t)
	f.releases.installBlocks = true
	f.service.OperationTimeout = 300 * time.Millisecond
	go f.service.Create(context.Background(), requestFor(t, "acme"))
	time.Sleep(50 * time.Millisecond)

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := f.service.Drain(short); err == nil {
		t.Error("Drain returned while the create was still running")
	}
	if err := f.service.Drain(context.Background()); err != nil {
		t.Errorf("Drain after the create timed out: %v", err)
	}
}
