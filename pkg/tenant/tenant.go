// Package tenant is the domain of picoclaw-manager: what a tenant is, how a
// request becomes a valid spec and chart values, and the lifecycle service
// that creates, updates, deletes and restarts tenants.
package tenant

import (
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
)

// Status is the lifecycle stage of a tenant. Readiness of its pods is
// reported apart, in Tenant.Workloads.
type Status string

const (
	StatusProvisioning Status = "provisioning"
	StatusActive       Status = "active"
	StatusUpdating     Status = "updating"
	StatusFailed       Status = "failed"
	StatusDeleting     Status = "deleting"
)

// NamespacePrefix prefixes every tenant id to name its namespace.
const NamespacePrefix = "picoclaw-tenant-"

// Names of objects the chart renders.
const (
	GatewayDeployment = "picoclaw-gateway"
	AgentDeployment   = "picoclaw-agent"
	WorkspaceClaim    = "picoclaw-workspace"
)

// Tenant is a tenant as the API returns it.
type Tenant struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Namespace   string `json:"namespace"`
	Status      Status `json:"status"`
	LastError   string `json:"last_error,omitempty"`
	// Drift is the last drift check's description of changes made outside the manager.
	Drift     string    `json:"drift,omitempty"`
	Resources Resources `json:"resources"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// The fields below are read live from the cluster by Get.
	Release   *ReleaseInfo                   `json:"release,omitempty"`
	Workloads map[string]kube.WorkloadStatus `json:"workloads,omitempty"`
	// AgentEnabled reports whether the agent Deployment runs beside the gateway.
	AgentEnabled *bool `json:"agent_enabled,omitempty"`
	// Config is the tenant's PicoClaw config.json with every secret redacted.
	Config map[string]any `json:"config,omitempty"`
}

// ReleaseInfo is the tenant's Helm release as read from Helm storage.
type ReleaseInfo struct {
	Name         string    `json:"name"`
	Namespace    string    `json:"namespace"`
	Revision     int       `json:"revision"`
	Status       string    `json:"status"`
	ChartVersion string    `json:"chart_version"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// NamespaceFor returns the namespace of tenant id.
func NamespaceFor(id string) string { return NamespacePrefix + id }
