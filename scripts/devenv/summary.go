package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/testenv"
)

// exampleTenant is the create request of the API documentation: tenant
// "acme" with an Anthropic-compatible provider and a Telegram channel. The
// api_key and token are placeholders.
const exampleTenant = `{
  "tenant_id": "acme",
  "display_name": "ACME Corp",
  "providers": {"anthropic": {"api_key": "sk-...", "api_base": "https://api.minimax.io/v1"}},
  "agents": {"defaults": {"provider": "anthropic", "model": "MiniMax-M2.5",
                          "max_tokens": 200000, "temperature": 0.7}},
  "channels": {"telegram": {"enabled": true, "token": "your-telegram-bot-token",
                            "allow_from": [123456]}},
  "resources": {"agent_cpu": "500m", "agent_memory": "1Gi", "gateway_cpu": "250m",
                "gateway_memory": "512Mi", "workspace_size": "500Mi"}
}`

// summary contains the facts that printSummary prints.
type summary struct {
	listenAddr    string
	postgres      *testenv.Postgres
	cluster       clusterInfo
	apiKeyFromEnv bool
	namespace     string
}

// printSummary writes where everything runs and commands to try.
func printSummary(w io.Writer, s summary) {
	baseURL := "http://" + s.listenAddr
	tools := &testenv.ControlPlane{}

	var b strings.Builder
	fmt.Fprintf(&b, "\nThe manager is ready at %s. Ctrl-C stops everything.\n\n", baseURL)

	fmt.Fprintf(&b, "  PostgreSQL   %s\n", s.postgres.URL())
	fmt.Fprintf(&b, "               log: %s\n", s.postgres.LogPath())
	fmt.Fprintf(&b, "  Kubernetes   kubeconfig: %s\n", s.cluster.kubeconfig)
	if cp := s.cluster.controlPlane; cp != nil {
		fmt.Fprintf(&b, "               logs: %s\n", filepath.Join(cp.Dir, "*.log"))
	}
	fmt.Fprintf(&b, "  Manager      namespace %s\n\n", s.namespace)

	fmt.Fprintf(&b, "Use kubectl and helm (built in %s) with this cluster:\n\n", filepath.Dir(tools.BinPath("kubectl")))
	fmt.Fprintf(&b, "  export KUBECONFIG=%s\n", s.cluster.kubeconfig)
	fmt.Fprintf(&b, "  %s get pods -A\n", tools.BinPath("kubectl"))
	fmt.Fprintf(&b, "  %s list -A\n\n", tools.BinPath("helm"))

	b.WriteString("Try the API:\n\n")
	if s.apiKeyFromEnv {
		b.WriteString("  # API_KEY is the one set in your environment.\n")
	} else {
		fmt.Fprintf(&b, "  export API_KEY=%s\n", defaultAPIKey)
	}
	fmt.Fprintf(&b, "  curl -sS -X POST %s/api/v1/tenants \\\n", baseURL)
	b.WriteString("    -H \"Authorization: Bearer $API_KEY\" -H 'Content-Type: application/json' \\\n")
	fmt.Fprintf(&b, "    -d '%s'\n", strings.ReplaceAll(exampleTenant, "\n", "\n    "))
	fmt.Fprintf(&b, "  curl -sS %s/api/v1/tenants/acme -H \"Authorization: Bearer $API_KEY\"\n", baseURL)
	fmt.Fprintf(&b, "  curl -sS -X DELETE %s/api/v1/tenants/acme -H \"Authorization: Bearer $API_KEY\"\n\n", baseURL)

	io.WriteString(w, b.String())
}
