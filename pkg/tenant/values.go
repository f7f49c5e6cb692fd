package tenant

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/picoclaw"
)

// ValuesOptions are the settings of the manager that reach every release.
type ValuesOptions struct {
	// Image is the PicoClaw image reference, such as docker.io/sipeed/picoclaw:latest.
	Image string
	// ManagerNamespace is admitted by the tenant's NetworkPolicy.
	ManagerNamespace string
}

// Values returns the complete chart values of the spec. Every quantity is
// computed here, so the chart only places values.
func (s Spec) Values(opts ValuesOptions) map[string]any {
	q := s.Resources.parse()
	agent := containerResources(q.agentCPU, q.agentMemory)
	gateway := containerResources(q.gatewayCPU, q.gatewayMemory)
	repository, tag := splitImage(opts.Image)

	return map[string]any{
		"tenant": map[string]any{"id": s.ID, "displayName": s.DisplayName},
		"image":  map[string]any{"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
		"config": picoclaw.Build(s.Sections),
		"agent": map[string]any{
			"enabled":   s.AgentEnabled,
			"resources": agent.values(),
		},
		"gateway": map[string]any{
			"port":      picoclaw.GatewayPort,
			"resources": gateway.values(),
		},
		"workspace": map[string]any{
			"size":             s.Resources.WorkspaceSize,
			"storageClassName": "",
			"accessMode":       "ReadWriteOnce",
		},
		"quota":      quota(s.quotaAgent(agent), gateway, q.workspace),
		"limitRange": limitRange(agent, gateway),
		"manager":    map[string]any{"namespace": opts.ManagerNamespace},
		"rbac":       map[string]any{"operatorGroups": []any{}},
	}
}

// quotaAgent returns the agent container as the quota counts it: nothing
// when the agent is disabled.
func (s Spec) quotaAgent(agent container) container {
	if s.AgentEnabled {
		return agent
	}
	return container{}
}

// container is the requests and limits of one container.
type container struct {
	cpuLimit, memoryLimit, cpuRequest, memoryRequest resource.Quantity
}

func containerResources(cpu, memory resource.Quantity) container {
	return container{
		cpuLimit:      cpu,
		memoryLimit:   memory,
		cpuRequest:    divide(cpu, cpuRequestDivisor, true),
		memoryRequest: divide(memory, memoryRequestDivisor, false),
	}
}

func (c container) values() map[string]any {
	return map[string]any{
		"limits":   map[string]any{"cpu": c.cpuLimit.String(), "memory": c.memoryLimit.String()},
		"requests": map[string]any{"cpu": c.cpuRequest.String(), "memory": c.memoryRequest.String()},
	}
}

// quota is the ResourceQuota of the tenant namespace: exactly what the two
// Deployments need. Both use the Recreate strategy, so a rollout never runs
// old and new pods side by side.
func quota(agent, gateway container, workspace resource.Quantity) map[string]any {
	return map[string]any{
		"requests.cpu":           sum(agent.cpuRequest, gateway.cpuRequest).String(),
		"requests.memory":        sum(agent.memoryRequest, gateway.memoryRequest).String(),
		"limits.cpu":             sum(agent.cpuLimit, gateway.cpuLimit).String(),
		"limits.memory":          sum(agent.memoryLimit, gateway.memoryLimit).String(),
		"requests.storage":       workspace.String(),
		"persistentvolumeclaims": "1",
		"pods":                   "4",
	}
}

// limitRange gives containers without resources the gateway's, and caps any
// container at the larger of the two.
func limitRange(agent, gateway container) map[string]any {
	return map[string]any{
		"default":        map[string]any{"cpu": gateway.cpuLimit.String(), "memory": gateway.memoryLimit.String()},
		"defaultRequest": map[string]any{"cpu": gateway.cpuRequest.String(), "memory": gateway.memoryRequest.String()},
		"max": map[string]any{
			"cpu":    larger(agent.cpuLimit, gateway.cpuLimit).String(),
			"memory": larger(agent.memoryLimit, gateway.memoryLimit).String(),
		},
	}
}

// splitImage splits an image reference into repository and tag. For a
// reference by digest, the tag is the digest ("sha256:..."), which the chart
// joins with "@".
func splitImage(image string) (repository, tag string) {
	if repository, digest, ok := strings.Cut(image, "@"); ok {
		return repository, digest
	}
	slash := strings.LastIndex(image, "/")
	colon := strings.LastIndex(image, ":")
	if colon > slash {
		return image[:colon], image[colon+1:]
	}
	return image, "latest"
}

// documentFromValues rebuilds the spec document from the values of a
// release, so an update merges onto the values the cluster runs, including
// values written with the helm CLI.
func documentFromValues(values map[string]any) map[string]any {
	sections := picoclaw.SectionsOf(object(values["config"]))
	agentEnabled, ok := object(values["agent"])["enabled"].(bool)
	doc := Spec{
		DisplayName:  str(object(values["tenant"])["displayName"]),
		Sections:     sections,
		AgentEnabled: agentEnabled || !ok,
		Resources: Resources{
			AgentCPU:      str(path(values, "agent", "resources", "limits")["cpu"]),
			AgentMemory:   str(path(values, "agent", "resources", "limits")["memory"]),
			GatewayCPU:    str(path(values, "gateway", "resources", "limits")["cpu"]),
			GatewayMemory: str(path(values, "gateway", "resources", "limits")["memory"]),
			WorkspaceSize: str(object(values["workspace"])["size"]),
		},
	}.document()

	// Fields missing from the values fall back to defaults when parsed.
	resources := doc["resources"].(map[string]any)
	for k, v := range resources {
		if v == "" {
			delete(resources, k)
		}
	}
	if doc["display_name"] == "" {
		delete(doc, "display_name")
	}
	return doc
}

func object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func path(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = object(m[k])
	}
	return m
}
