package tenant

import (
	"k8s.io/apimachinery/pkg/api/resource"
)

// Resources are the compute and storage a tenant is given, as Kubernetes
// quantities. Each is the limit of its container; requests derive from the
// limits by requestFraction.
type Resources struct {
	AgentCPU      string `json:"agent_cpu"`
	AgentMemory   string `json:"agent_memory"`
	GatewayCPU    string `json:"gateway_cpu"`
	GatewayMemory string `json:"gateway_memory"`
	WorkspaceSize string `json:"workspace_size"`
}

// DefaultResources are used for every field a create request omits.
var DefaultResources = Resources{
	AgentCPU:      "500m",
	AgentMemory:   "1Gi",
	GatewayCPU:    "250m",
	GatewayMemory: "512Mi",
	WorkspaceSize: "500Mi",
}

// Requests are a fixed fraction of the limits, because PicoClaw idles most of
// the time: the scheduler reserves little and a burst may still use the
// limit. With the defaults a tenant requests 75m CPU and 384Mi of memory, so
// a classroom of 30 fits on two nodes of 2 CPUs and 8Gi.
const (
	cpuRequestDivisor    = 10
	memoryRequestDivisor = 4
)

// fields returns the resource fields by their API names, for validation.
func (r *Resources) fields() map[string]*string {
	return map[string]*string{
		"agent_cpu":      &r.AgentCPU,
		"agent_memory":   &r.AgentMemory,
		"gateway_cpu":    &r.GatewayCPU,
		"gateway_memory": &r.GatewayMemory,
		"workspace_size": &r.WorkspaceSize,
	}
}

// resourceNames lists the resource fields in the order errors report them.
var resourceNames = []string{"agent_cpu", "agent_memory", "gateway_cpu", "gateway_memory", "workspace_size"}

// quantities holds Resources parsed, with the derived requests.
type quantities struct {
	agentCPU, agentMemory, gatewayCPU, gatewayMemory, workspace resource.Quantity
}

func (r Resources) parse() quantities {
	return quantities{
		agentCPU:      resource.MustParse(r.AgentCPU),
		agentMemory:   resource.MustParse(r.AgentMemory),
		gatewayCPU:    resource.MustParse(r.GatewayCPU),
		gatewayMemory: resource.MustParse(r.GatewayMemory),
		workspace:     resource.MustParse(r.WorkspaceSize),
	}
}

// divide returns q/divisor, rounded up to a whole milli-unit for CPU and to
// a whole byte for memory, and never zero.
func divide(q resource.Quantity, divisor int64, cpu bool) resource.Quantity {
	if cpu {
		milli := (q.MilliValue() + divisor - 1) / divisor
		return *resource.NewMilliQuantity(max(milli, 1), resource.DecimalSI)
	}
	bytes := (q.Value() + divisor - 1) / divisor
	return *resource.NewQuantity(max(bytes, 1), resource.BinarySI)
}

func sum(a, b resource.Quantity) *resource.Quantity {
	out := a.DeepCopy()
	out.Add(b)
	return &out
}

func larger(a, b resource.Quantity) *resource.Quantity {
	if a.Cmp(b) >= 0 {
		return &a
	}
	return &b
}
