package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// helmCLIs are the helm command-line clients an operator may run against the
// manager's releases: Helm 4 and Helm 3, which reads the same
// sh.helm.release.v1 Secrets. The binary field is the file name in the
// control plane's BinDir.
var helmCLIs = []struct {
	name, binary string
}{
	{"helm v4", "helm"},
	{"helm v3", "helm3"},
}

// helmTimeout bounds one run of a helm CLI.
const helmTimeout = 2 * time.Minute

// runHelm runs a helm CLI against the test control plane and returns its
// standard output. HOME and the Helm cache, config and data directories
// point to a temporary directory, so the run reads and writes no file of the
// user running the tests.
func runHelm(t *testing.T, binary string, args ...string) []byte {
	t.Helper()
	path := env.controlPlane.BinPath(binary)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("helm CLI %s not found (%v): build it with scripts/build-controlplane.sh", path, err)
	}

	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), helmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"KUBECONFIG=" + env.controlPlane.KubeconfigPath(),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"HELM_CACHE_HOME=" + filepath.Join(home, "helm", "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(home, "helm", "config"),
		"HELM_DATA_HOME=" + filepath.Join(home, "helm", "data"),
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr

	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s failed: %v\nstderr: %s", binary, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// listedRelease is one entry of `helm list -o json`. Helm 3 and Helm 4 name
// these fields alike.
type listedRelease struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Status    string `json:"status"`
	Chart     string `json:"chart"`
}

// createTenant creates tenant id from body through the API and deletes it
// when the test ends.
func createTenant(t *testing.T, id, body string) tenantResponse {
	t.Helper()
	r := call(t, env.manager, http.MethodPost, "/api/v1/tenants", body)
	expectStatus(t, r, http.StatusCreated)
	t.Cleanup(func() { call(t, env.manager, http.MethodDelete, "/api/v1/tenants/"+id, "") })
	return decodeTenant(t, r)
}

// agentMemoryLimit returns the memory limit of the agent container of the
// Deployment in namespace, as the cluster stores it.
func agentMemoryLimit(t *testing.T, namespace string) string {
	t.Helper()
	agent, err := env.kube.AppsV1().Deployments(namespace).Get(context.Background(), "picoclaw-agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return agent.Spec.Template.Spec.Containers[0].Resources.Limits.Memory().String()
}

func TestHelmListShowsTenants(t *testing.T) {
	requireEnv(t)
	ids := []string{"cli-list-a", "cli-list-b"}
	for _, id := range ids {
		createTenant(t, id, createRequest(id))
	}

	for _, cli := range helmCLIs {
		t.Run(cli.name, func(t *testing.T) {
			output := runHelm(t, cli.binary, "list", "-A", "-o", "json")
			var listed []listedRelease
			if err := json.Unmarshal(output, &listed); err != nil {
				t.Fatalf("decode %s list output %s: %v", cli.binary, output, err)
			}
			byName := map[string]listedRelease{}
			for _, rel := range listed {
				byName[rel.Name] = rel
			}

			for _, id := range ids {
				rel, ok := byName[id]
				if !ok {
					t.Errorf("release %s missing from the list %+v", id, listed)
					continue
				}
				if want := "picoclaw-tenant-" + id; rel.Namespace != want {
					t.Errorf("release %s namespace = %q, want %q", id, rel.Namespace, want)
				}
				if rel.Status != "deployed" {
					t.Errorf("release %s status = %q, want deployed", id, rel.Status)
				}
				if !strings.HasPrefix(rel.Chart, "picoclaw-tenant-") {
					t.Errorf("release %s chart = %q, want picoclaw-tenant-<version>", id, rel.Chart)
				}
			}
		})
	}
}

// TestHelmRollbackThenUpdate rolls a tenant back with a helm CLI, as an
// operator would, and then updates it through the API. The update must merge
// onto the rolled-back values, not onto the manager's last write.
func TestHelmRollbackThenUpdate(t *testing.T) {
	requireEnv(t)
	tests := []struct {
		cli, binary, id string
	}{
		{"helm v4", "helm", "cli-rollback"},
		{"helm v3", "helm3", "cli-rollback-v3"},
	}
	for _, tt := range tests {
		t.Run(tt.cli, func(t *testing.T) {
			namespace := "picoclaw-tenant-" + tt.id
			path := "/api/v1/tenants/" + tt.id
			createTenant(t, tt.id, createRequest(tt.id))

			r := call(t, env.manager, http.MethodPut, path, `{"display_name": "Renamed", "resources": {"agent_memory": "2Gi"}}`)
			expectStatus(t, r, http.StatusOK)
			expectRelease(t, namespace, tt.id, 2)
			if limit := agentMemoryLimit(t, namespace); limit != "2Gi" {
				t.Fatalf("agent memory limit after the update = %s, want 2Gi", limit)
			}

			// The manager applies as field manager "helm", the helm CLI's,
			// so a rollback without --force-conflicts finds no conflict.
			runHelm(t, tt.binary, "rollback", tt.id, "1", "-n", namespace)

			r = call(t, env.manager, http.MethodGet, path, "")
			expectStatus(t, r, http.StatusOK)
			got := decodeTenant(t, r)
			if got.Release == nil {
				t.Fatalf("tenant has no release: %s", r.body)
			}
			if got.Release.Revision != 3 || got.Release.Status != "deployed" {
				t.Errorf("release after rollback = revision %d %s, want revision 3 deployed", got.Release.Revision, got.Release.Status)
			}
			// GET reads the display name and resources from the live release,
			// so it shows what the rollback restored.
			if got.DisplayName != "ACME Corp" {
				t.Errorf("display name after rollback = %q, want ACME Corp of revision 1", got.DisplayName)
			}
			if got.Resources["agent_memory"] != "1Gi" {
				t.Errorf("agent_memory after rollback = %q, want 1Gi of revision 1", got.Resources["agent_memory"])
			}
			if limit := agentMemoryLimit(t, namespace); limit != "1Gi" {
				t.Errorf("agent memory limit after rollback = %s, want 1Gi of revision 1", limit)
			}

			r = call(t, env.manager, http.MethodPut, path, `{"agents": {"defaults": {"model": "other-model"}}}`)
			expectStatus(t, r, http.StatusOK)
			got = decodeTenant(t, r)
			if got.Release == nil || got.Release.Revision != 4 {
				t.Fatalf("release after the API update = %+v, want revision 4", got.Release)
			}
			if got.Resources["agent_memory"] != "1Gi" {
				t.Errorf("agent_memory after the API update = %q, want the rolled-back 1Gi", got.Resources["agent_memory"])
			}
			// The update merges onto the values of revision 3, which the
			// rollback copied from revision 1, and records them in PostgreSQL.
			if got.DisplayName != "ACME Corp" {
				t.Errorf("display name after the API update = %q, want ACME Corp of the rolled-back values", got.DisplayName)
			}
			expectRelease(t, namespace, tt.id, 4)

			rel, err := env.releases.Get(context.Background(), namespace, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if memory := valuesAt(rel.Values, "agent", "resources", "limits")["memory"]; memory != "1Gi" {
				t.Errorf("values agent.resources.limits.memory = %v, want 1Gi", memory)
			}
			if model := valuesAt(rel.Values, "config", "agents", "defaults")["model"]; model != "other-model" {
				t.Errorf("values config.agents.defaults.model = %v, want other-model", model)
			}
			if limit := agentMemoryLimit(t, namespace); limit != "1Gi" {
				t.Errorf("agent memory limit after the API update = %s, want 1Gi", limit)
			}
		})
	}
}

// valuesAt returns the object at keys in values, or nil when a key is missing
// or not an object.
func valuesAt(values map[string]any, keys ...string) map[string]any {
	m := values
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}
