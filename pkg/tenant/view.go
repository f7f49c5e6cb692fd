package tenant

import (
	"context"
	"errors"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/picoclaw"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// workloadNames maps the keys of Tenant.Workloads to Deployment names.
var workloadNames = map[string]string{"gateway": GatewayDeployment, "agent": AgentDeployment}

// fromRow returns the tenant as PostgreSQL stores it, without live fields.
func fromRow(row store.Tenant) Tenant {
	return Tenant{
		ID:          row.ID,
		DisplayName: row.DisplayName,
		Namespace:   row.Namespace,
		Status:      Status(row.Status),
		LastError:   row.LastError,
		Drift:       row.Drift,
		Resources: Resources{
			AgentCPU:      row.Resources["agent_cpu"],
			AgentMemory:   row.Resources["agent_memory"],
			GatewayCPU:    row.Resources["gateway_cpu"],
			GatewayMemory: row.Resources["gateway_memory"],
			WorkspaceSize: row.Resources["workspace_size"],
		},
		CreatedAt: row.CreatedAt,
		UpdatedAt: row.UpdatedAt,
	}
}

func resourcesRow(r Resources) map[string]string {
	out := map[string]string{}
	for name, value := range r.fields() {
		out[name] = *value
	}
	return out
}

// withRelease adds the release and its redacted config to t, and takes the
// display name and resources from the release's values: the cluster runs
// those, even when an operator rolled the release back with the helm CLI.
func withRelease(t Tenant, rel *release.Release) Tenant {
	t.Release = &ReleaseInfo{
		Name:         rel.Name,
		Namespace:    rel.Namespace,
		Revision:     rel.Revision,
		Status:       rel.Status,
		ChartVersion: rel.ChartVersion,
		UpdatedAt:    rel.UpdatedAt,
	}
	if config := object(rel.Values["config"]); config != nil {
		t.Config = picoclaw.Redact(config)
	}
	if spec, errs := parseDocument(t.ID, documentFromValues(rel.Values)); len(errs) == 0 {
		t.DisplayName = spec.DisplayName
		t.Resources = spec.Resources
		t.AgentEnabled = &spec.AgentEnabled
	}
	return t
}

// Get returns tenant id with its live release, workloads and redacted config.
func (s *Service) Get(ctx context.Context, id string) (Tenant, error) {
	row, err := s.getRow(ctx, "get", id)
	if err != nil {
		return Tenant{}, err
	}
	t := fromRow(row)

	rel, err := s.Releases.Get(ctx, row.Namespace, row.ReleaseName)
	switch {
	case err == nil:
		t = withRelease(t, rel)
	case !errors.Is(err, release.ErrNotFound):
		return Tenant{}, &StepError{Operation: "get", Tenant: id, Step: "read release", Err: err}
	}

	names := []string{GatewayDeployment, AgentDeployment}
	workloads, err := s.Cluster.Workloads(ctx, row.Namespace, names)
	if err != nil {
		return Tenant{}, &StepError{Operation: "get", Tenant: id, Step: "read workloads", Err: err}
	}
	t.Workloads = map[string]kube.WorkloadStatus{}
	for key, name := range workloadNames {
		if status, ok := workloads[name]; ok {
			t.Workloads[key] = status
		}
	}
	return t, nil
}

// List returns at most limit tenants (all when limit is 0) ordered by id,
// after the id after, from PostgreSQL only.
func (s *Service) List(ctx context.Context, after string, limit int) ([]Tenant, error) {
	rows, err := s.Store.List(ctx, after, limit)
	if err != nil {
		return nil, &StepError{Operation: "list", Tenant: "*", Step: "read tenants", Err: err}
	}
	out := make([]Tenant, len(rows))
	for i, row := range rows {
		out[i] = fromRow(row)
	}
	return out, nil
}
