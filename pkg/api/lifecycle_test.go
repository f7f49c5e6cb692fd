package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/testenv"
)

// Secrets of the example request; no log line, response or row may hold them.
const (
	exampleAPIKey = "sk-ant-api03-integration-0123456789-9f2c"
	exampleToken  = "123456789:AAintegration-telegram-token-xyz"
)

// tokenOf returns the telegram token of tenant id in createRequest: each
// tenant needs its own, because a bot token serves one tenant only.
func tokenOf(id string) string { return exampleToken + "-" + id }

// createRequest returns the create request of the API documentation for id.
func createRequest(id string) string {
	return fmt.Sprintf(`{"tenant_id": %q, "display_name": "ACME Corp",
 "providers": {"anthropic": {"api_key": %q, "api_base": "https://api.minimax.io/v1"}},
 "agents": {"defaults": {"provider": "anthropic", "model": "MiniMax-M2.5", "max_tokens": 200000, "temperature": 0.7}},
 "channels": {"telegram": {"enabled": true, "token": %q, "allow_from": [123456]}},
 "resources": {"agent_cpu": "500m", "agent_memory": "1Gi", "gateway_cpu": "250m", "gateway_memory": "512Mi", "workspace_size": "500Mi"}}`,
		id, exampleAPIKey, tokenOf(id))
}

// tenantResponse is the Tenant JSON the API returns.
type tenantResponse struct {
	ID          string            `json:"id"`
	DisplayName string            `json:"display_name"`
	Namespace   string            `json:"namespace"`
	Status      string            `json:"status"`
	LastError   string            `json:"last_error"`
	Resources   map[string]string `json:"resources"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	Release     *struct {
		Name         string `json:"name"`
		Revision     int    `json:"revision"`
		Status       string `json:"status"`
		ChartVersion string `json:"chart_version"`
	} `json:"release"`
	Workloads    map[string]kube.WorkloadStatus `json:"workloads"`
	Config       map[string]any                 `json:"config"`
	AgentEnabled *bool                          `json:"agent_enabled"`
}

func decodeTenant(t *testing.T, r response) tenantResponse {
	t.Helper()
	var out tenantResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decode tenant %s: %v", r.body, err)
	}
	return out
}

func expectStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.body)
	}
}

func TestTenantLifecycle(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	const id = "acme"
	namespace := "picoclaw-tenant-" + id

	t.Run("create returns the tenant", func(t *testing.T) {
		r := call(t, env.manager, http.MethodPost, "/api/v1/tenants", createRequest(id))
		expectStatus(t, r, http.StatusCreated)
		got := decodeTenant(t, r)
		want := map[string]string{"agent_cpu": "500m", "agent_memory": "1Gi", "gateway_cpu": "250m",
			"gateway_memory": "512Mi", "workspace_size": "500Mi"}
		if got.ID != id || got.DisplayName != "ACME Corp" || got.Namespace != namespace || got.Status != "active" {
			t.Errorf("tenant = %+v", got)
		}
		if fmt.Sprint(got.Resources) != fmt.Sprint(want) {
			t.Errorf("resources = %v, want %v", got.Resources, want)
		}
		if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() {
			t.Errorf("timestamps missing: %+v", got)
		}
	})

	t.Run("namespace has its labels", func(t *testing.T) {
		ns, err := env.kube.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"picoclaw.io/tenant": id, "app.kubernetes.io/managed-by": "picoclaw-manager",
			"pod-security.kubernetes.io/enforce": "restricted"}
		for k, v := range want {
			if ns.Labels[k] != v {
				t.Errorf("label %s = %q, want %q", k, ns.Labels[k], v)
			}
		}
	})

	t.Run("release deployed at revision 1", func(t *testing.T) {
		expectRelease(t, namespace, id, 1)
	})

	t.Run("row is active", func(t *testing.T) {
		row, err := env.store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if row.Status != "active" || row.ReleaseName != id || row.ReleaseRevision != 1 {
			t.Errorf("row = %+v", row)
		}
	})

	t.Run("pods reach running", func(t *testing.T) {
		for _, component := range []string{"gateway", "agent"} {
			waitForRunningPod(t, namespace, component, nil)
		}
	})

	t.Run("get and list return it", func(t *testing.T) {
		r := call(t, env.manager, http.MethodGet, "/api/v1/tenants/"+id, "")
		expectStatus(t, r, http.StatusOK)
		got := decodeTenant(t, r)
		if got.Release == nil || got.Release.Revision != 1 || got.Release.Status != "deployed" {
			t.Errorf("release = %+v", got.Release)
		}
		if _, ok := got.Workloads["gateway"]; !ok {
			t.Errorf("workloads = %v, want a gateway entry", got.Workloads)
		}
		if !strings.Contains(string(r.body), `"api_key":"sk-...9f2c"`) || !strings.Contains(string(r.body), `"token":"(set)"`) {
			t.Errorf("config not redacted as expected: %s", r.body)
		}

		list := call(t, env.manager, http.MethodGet, "/api/v1/tenants", "")
		expectStatus(t, list, http.StatusOK)
		if !strings.Contains(string(list.body), `"id":"acme"`) {
			t.Errorf("list = %s, want acme in it", list.body)
		}
	})

	t.Run("update changes only those fields", func(t *testing.T) {
		r := call(t, env.manager, http.MethodPut, "/api/v1/tenants/"+id,
			`{"display_name": "ACME Corporation", "resources": {"agent_memory": "2Gi"}}`)
		expectStatus(t, r, http.StatusOK)
		got := decodeTenant(t, r)
		if got.DisplayName != "ACME Corporation" || got.Resources["agent_memory"] != "2Gi" || got.Resources["gateway_memory"] != "512Mi" {
			t.Errorf("tenant = %+v", got)
		}
		expectRelease(t, namespace, id, 2)

		agent, err := env.kube.AppsV1().Deployments(namespace).Get(ctx, "picoclaw-agent", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if limit := agent.Spec.Template.Spec.Containers[0].Resources.Limits.Memory().String(); limit != "2Gi" {
			t.Errorf("agent memory limit = %s, want 2Gi", limit)
		}

		rel, err := env.releases.Get(ctx, namespace, id)
		if err != nil {
			t.Fatal(err)
		}
		config := rel.Values["config"].(map[string]any)
		provider := config["providers"].(map[string]any)["anthropic"].(map[string]any)
		if provider["api_key"] != exampleAPIKey || provider["api_base"] != "https://api.minimax.io/v1" {
			t.Errorf("provider changed: api_base %v, api_key kept %v", provider["api_base"], provider["api_key"] == exampleAPIKey)
		}
		telegram := config["channels"].(map[string]any)["telegram"].(map[string]any)
		if telegram["token"] != tokenOf(id) || telegram["enabled"] != true {
			t.Errorf("telegram channel changed: enabled %v, token kept %v", telegram["enabled"], telegram["token"] == tokenOf(id))
		}
	})

	t.Run("restart rolls both deployments", func(t *testing.T) {
		before := podNames(t, namespace)
		r := call(t, env.manager, http.MethodPost, "/api/v1/tenants/"+id+"/restart", "")
		expectStatus(t, r, http.StatusAccepted)
		var body struct {
			ID          string    `json:"id"`
			RestartedAt time.Time `json:"restarted_at"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil || body.ID != id || body.RestartedAt.IsZero() {
			t.Fatalf("restart response %s: %v", r.body, err)
		}
		for _, name := range []string{"picoclaw-gateway", "picoclaw-agent"} {
			d, err := env.kube.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Spec.Template.Annotations[kube.RestartedAtAnnotation]; got != body.RestartedAt.Format(time.RFC3339) {
				t.Errorf("%s restartedAt = %q, want %s", name, got, body.RestartedAt.Format(time.RFC3339))
			}
		}
		for _, component := range []string{"gateway", "agent"} {
			waitForRunningPod(t, namespace, component, before)
		}
	})

	t.Run("delete removes everything", func(t *testing.T) {
		r := call(t, env.manager, http.MethodDelete, "/api/v1/tenants/"+id, "")
		expectStatus(t, r, http.StatusNoContent)
		expectGone(t, id)
		expectStatus(t, call(t, env.manager, http.MethodGet, "/api/v1/tenants/"+id, ""), http.StatusNotFound)
	})

	t.Run("no secret in logs", func(t *testing.T) {
		logs := env.logs.String()
		for _, secret := range []string{exampleAPIKey, exampleToken} {
			if strings.Contains(logs, secret) {
				t.Errorf("logs contain the secret %q", secret[:8])
			}
		}
	})
}

// expectRelease checks that Helm storage has release name deployed at revision.
func expectRelease(t *testing.T, namespace, name string, revision int) {
	t.Helper()
	rel, err := env.releases.Get(context.Background(), namespace, name)
	if err != nil {
		t.Fatalf("release %s: %v", name, err)
	}
	if rel.Revision != revision || rel.Status != "deployed" {
		t.Errorf("release %s = revision %d %s, want revision %d deployed", name, rel.Revision, rel.Status, revision)
	}
}

// expectGone waits until tenant id has no row, no release and no namespace.
func expectGone(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	namespace := "picoclaw-tenant-" + id
	if _, err := env.store.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("row of %s: err = %v, want not found", id, err)
	}
	if _, err := env.releases.Get(ctx, namespace, id); !errors.Is(err, release.ErrNotFound) {
		t.Errorf("release of %s: err = %v, want not found", id, err)
	}
	testenv.Eventually(t, 60*time.Second, "namespace "+namespace+" deleted", func() error {
		_, err := env.kube.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return errors.New("namespace still exists")
	})
}

func podNames(t *testing.T, namespace string) map[string]bool {
	t.Helper()
	pods, err := env.kube.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range pods.Items {
		names[p.Name] = true
	}
	return names
}

// waitForRunningPod waits for a Running pod of component whose name is not
// in old.
func waitForRunningPod(t *testing.T, namespace, component string, old map[string]bool) {
	t.Helper()
	selector := "app.kubernetes.io/component=" + component
	testenv.Eventually(t, 90*time.Second, component+" pod running", func() error {
		pods, err := env.kube.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && !old[p.Name] && p.DeletionTimestamp == nil {
				return nil
			}
		}
		return fmt.Errorf("%d pods, none new and running", len(pods.Items))
	})
}

func TestTenantWithoutAgent(t *testing.T) {
	requireEnv(t)
	const id = "gateway-only"
	namespace := "picoclaw-tenant-" + id
	body := strings.Replace(createRequest(id), `"display_name"`, `"agent_enabled": false, "display_name"`, 1)
	created := createTenant(t, id, body)
	if created.AgentEnabled == nil || *created.AgentEnabled {
		t.Errorf("agent_enabled = %v, want false", created.AgentEnabled)
	}

	waitForRunningPod(t, namespace, "gateway", nil)
	_, err := env.kube.AppsV1().Deployments(namespace).Get(context.Background(), "picoclaw-agent", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("agent deployment: err = %v, want not found", err)
	}
	expectStatus(t, call(t, env.manager, http.MethodPost, "/api/v1/tenants/"+id+"/restart", ""), http.StatusAccepted)

	r := call(t, env.manager, http.MethodPatch, "/api/v1/tenants/"+id, `{"agent_enabled": true}`)
	expectStatus(t, r, http.StatusOK)
	waitForRunningPod(t, namespace, "agent", nil)
}
