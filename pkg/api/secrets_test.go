package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/testenv"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Secrets of the tenant in TestSecretsStayInCluster. Each contains
// secretMarker, which no other string of the tests contains, so a secret
// that leaks in part is found too.
const (
	secretMarker        = "secretcheck"
	secretProviderKey   = "sk-secretcheck-0123456789abcdef-XYZ1"
	secretRotatedKey    = "sk-secretcheck-rotated-fedcba9876-XYZ2"
	secretTelegramToken = "555000111:AAsecretcheck-telegram-token-T3"
	secretSlackBotToken = "xoxb-secretcheck-slack-bot-token-B4"
	secretSlackAppToken = "xapp-secretcheck-slack-app-token-A5"
)

// allSecrets are the secret strings that TestSecretsStayInCluster sends.
var allSecrets = []string{secretProviderKey, secretRotatedKey, secretTelegramToken, secretSlackBotToken, secretSlackAppToken}

// secretsCreateRequest returns a create request for id with a provider key
// and the tokens of two channels, Telegram and Slack.
func secretsCreateRequest(id string) string {
	return fmt.Sprintf(`{"tenant_id": %q, "display_name": "Secret Keeper",
 "providers": {"anthropic": {"api_key": %q}},
 "agents": {"defaults": {"provider": "anthropic", "model": "MiniMax-M2.5"}},
 "channels": {"telegram": {"enabled": true, "token": %q, "allow_from": [123456]},
              "slack": {"enabled": true, "bot_token": %q, "app_token": %q}}}`,
		id, secretProviderKey, secretTelegramToken, secretSlackBotToken, secretSlackAppToken)
}

// expectNoSecret checks that text, read from source, contains none of
// allSecrets and not secretMarker. Its messages show at most the last four
// characters of a secret, as the redacted provider key does.
func expectNoSecret(t *testing.T, source, text string) {
	t.Helper()
	for _, secret := range allSecrets {
		if strings.Contains(text, secret) {
			t.Errorf("%s contains the secret ending in %q", source, secret[len(secret)-4:])
		}
	}
	if strings.Contains(text, secretMarker) {
		t.Errorf("%s contains %q, part of a secret", source, secretMarker)
	}
}

// TestSecretsStayInCluster follows one tenant from create to delete and
// checks after each operation that its secrets reach the cluster only: not
// the API responses, not PostgreSQL, not the logs.
func TestSecretsStayInCluster(t *testing.T) {
	requireEnv(t)
	const id = "secrets-kept"
	namespace := "picoclaw-tenant-" + id
	path := "/api/v1/tenants/" + id

	r := call(t, env.manager, http.MethodPost, "/api/v1/tenants", secretsCreateRequest(id))
	expectStatus(t, r, http.StatusCreated)
	t.Cleanup(func() { call(t, env.manager, http.MethodDelete, path, "") })
	expectNoSecret(t, "create response", string(r.body))
	expectNoSecret(t, "logs after create", env.logs.String())

	t.Run("get redacts secrets", func(t *testing.T) {
		r := call(t, env.manager, http.MethodGet, path, "")
		expectStatus(t, r, http.StatusOK)
		expectNoSecret(t, "get response", string(r.body))

		got := decodeTenant(t, r)
		want := map[string]string{
			"providers.anthropic.api_key": "sk-...XYZ1",
			"channels.telegram.token":     "(set)",
			"channels.slack.bot_token":    "(set)",
			"channels.slack.app_token":    "(set)",
			"agents.defaults.model":       "MiniMax-M2.5",
			"channels.telegram.enabled":   "true",
			"channels.slack.enabled":      "true",
		}
		for field, value := range want {
			if actual := fmt.Sprint(configField(got.Config, field)); actual != value {
				t.Errorf("config %s = %s, want %s", field, actual, value)
			}
		}
	})

	t.Run("cluster secret contains them", func(t *testing.T) {
		config := clusterConfig(t, namespace)
		for _, secret := range []string{secretProviderKey, secretTelegramToken, secretSlackBotToken, secretSlackAppToken} {
			if !strings.Contains(config, secret) {
				t.Errorf("config.json in the cluster lacks the secret ending in %q", secret[len(secret)-4:])
			}
		}
	})

	t.Run("update with new key", func(t *testing.T) {
		r := call(t, env.manager, http.MethodPatch, path,
			fmt.Sprintf(`{"display_name": "Secret Keeper 2", "providers": {"anthropic": {"api_key": %q}}}`, secretRotatedKey))
		expectStatus(t, r, http.StatusOK)
		expectNoSecret(t, "update response", string(r.body))
		expectNoSecret(t, "logs after update", env.logs.String())

		r = call(t, env.manager, http.MethodGet, path, "")
		expectStatus(t, r, http.StatusOK)
		if key := configField(decodeTenant(t, r).Config, "providers.anthropic.api_key"); key != "sk-...XYZ2" {
			t.Errorf("api_key after the update = %v, want sk-...XYZ2", key)
		}
		if config := clusterConfig(t, namespace); !strings.Contains(config, secretRotatedKey) {
			t.Errorf("config.json in the cluster lacks the new key ending in XYZ2")
		}
	})

	t.Run("database dump has none", func(t *testing.T) {
		dump := dumpDatabase(t)
		if !strings.Contains(dump, id) || !strings.Contains(dump, "Secret Keeper 2") {
			t.Fatalf("pg_dump output (%d bytes) lacks tenant %s or its display name, so it is not a dump of the manager's database", len(dump), id)
		}
		expectNoSecret(t, "pg_dump output", dump)
	})

	t.Run("restart logs none", func(t *testing.T) {
		r := call(t, env.manager, http.MethodPost, path+"/restart", "")
		expectStatus(t, r, http.StatusAccepted)
		expectNoSecret(t, "logs after restart", env.logs.String())
	})

	t.Run("delete logs none", func(t *testing.T) {
		r := call(t, env.manager, http.MethodDelete, path, "")
		expectStatus(t, r, http.StatusNoContent)
		expectNoSecret(t, "logs after delete", env.logs.String())
	})

	t.Run("logs record each operation", func(t *testing.T) {
		for _, operation := range []string{"create", "update", "restart", "delete"} {
			if !loggedOperation(env.logs.String(), id, operation) {
				t.Errorf("logs have no %s event of tenant %s, so the checks above saw no log of it", operation, id)
			}
		}
	})
}

// loggedOperation reports whether logs have a JSON line of operation on
// tenant id.
func loggedOperation(logs, id, operation string) bool {
	for line := range strings.Lines(logs) {
		if strings.Contains(line, `"tenant":"`+id+`"`) && strings.Contains(line, `"operation":"`+operation+`"`) {
			return true
		}
	}
	return false
}

// configField returns the value at a dotted path of a config object, or nil.
func configField(config map[string]any, field string) any {
	keys := strings.Split(field, ".")
	object := config
	for _, key := range keys[:len(keys)-1] {
		object, _ = object[key].(map[string]any)
	}
	return object[keys[len(keys)-1]]
}

// clusterConfig returns config.json from the tenant's config Secret.
func clusterConfig(t *testing.T, namespace string) string {
	t.Helper()
	secret, err := env.kube.CoreV1().Secrets(namespace).Get(context.Background(), "picoclaw-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(secret.Data["config.json"])
}

// dumpDatabase returns the plain-text pg_dump of the test database, schema
// and rows. It runs the pg_dump beside the test server's binaries, which
// matches the server version, else the one on PATH.
func dumpDatabase(t *testing.T) string {
	t.Helper()
	binary := filepath.Join(env.postgres.BinDir, "pg_dump")
	if _, err := os.Stat(binary); err != nil {
		if binary, err = exec.LookPath("pg_dump"); err != nil {
			t.Fatalf("pg_dump not found in %s or on PATH: install the PostgreSQL client", env.postgres.BinDir)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "--no-password", "--dbname="+env.postgres.URL())
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s failed: %v\nstderr: %s", binary, err, stderr.String())
	}
	return stdout.String()
}

// TestConfigChangeRollsPods checks that a change of config.json rolls the
// pods through the checksum/config annotation, that a change of the display
// name does not, and that the pods pass Pod Security "restricted".
func TestConfigChangeRollsPods(t *testing.T) {
	requireEnv(t)
	const id = "config-rollout"
	namespace := "picoclaw-tenant-" + id
	path := "/api/v1/tenants/" + id
	createTenant(t, id, createRequest(id))
	for _, component := range []string{"gateway", "agent"} {
		waitForRunningPod(t, namespace, component, nil)
	}

	t.Run("model change rolls gateway", func(t *testing.T) {
		before := gatewayDeployment(t, namespace)
		oldHashes := replicaSetHashes(t, namespace, "gateway")

		r := call(t, env.manager, http.MethodPatch, path, `{"agents": {"defaults": {"model": "new-model"}}}`)
		expectStatus(t, r, http.StatusOK)

		after := gatewayDeployment(t, namespace)
		oldChecksum := before.Spec.Template.Annotations[configChecksumAnnotation]
		newChecksum := after.Spec.Template.Annotations[configChecksumAnnotation]
		if oldChecksum == "" || newChecksum == oldChecksum {
			t.Fatalf("checksum/config = %q before and %q after the model change, want two different sums", oldChecksum, newChecksum)
		}

		testenv.Eventually(t, 90*time.Second, "new gateway ReplicaSet with a running pod", func() error {
			for hash := range replicaSetHashes(t, namespace, "gateway") {
				if oldHashes[hash] {
					continue
				}
				if runningPods(t, namespace, "pod-template-hash="+hash) > 0 {
					return nil
				}
				return fmt.Errorf("ReplicaSet with pod-template-hash %s has no running pod yet", hash)
			}
			return fmt.Errorf("no ReplicaSet beside the old ones %v", oldHashes)
		})
	})

	t.Run("display name keeps checksum", func(t *testing.T) {
		before := gatewayDeployment(t, namespace)
		oldHashes := replicaSetHashes(t, namespace, "gateway")

		r := call(t, env.manager, http.MethodPatch, path, `{"display_name": "Only The Name"}`)
		expectStatus(t, r, http.StatusOK)

		after := gatewayDeployment(t, namespace)
		if got := after.Annotations["picoclaw.io/display-name"]; got != "Only The Name" {
			t.Fatalf("display-name annotation = %q, want Only The Name: the upgrade did not reach the Deployment", got)
		}
		if old, current := before.Spec.Template.Annotations[configChecksumAnnotation], after.Spec.Template.Annotations[configChecksumAnnotation]; current != old {
			t.Errorf("checksum/config changed from %q to %q", old, current)
		}

		// The new annotation bumps the Deployment's generation, so the
		// ReplicaSets are compared once the controller has seen it.
		testenv.Eventually(t, 30*time.Second, "gateway Deployment generation observed", func() error {
			d := gatewayDeployment(t, namespace)
			if d.Status.ObservedGeneration < after.Generation {
				return fmt.Errorf("observed generation %d, want %d", d.Status.ObservedGeneration, after.Generation)
			}
			return nil
		})
		for hash := range replicaSetHashes(t, namespace, "gateway") {
			if !oldHashes[hash] {
				t.Errorf("new ReplicaSet with pod-template-hash %s after a display name change", hash)
			}
		}
	})

	t.Run("pods admitted under restricted", func(t *testing.T) {
		ns, err := env.kube.CoreV1().Namespaces().Get(context.Background(), namespace, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if level := ns.Labels["pod-security.kubernetes.io/enforce"]; level != "restricted" {
			t.Fatalf("namespace enforces Pod Security %q, want restricted", level)
		}

		for _, component := range []string{"gateway", "agent"} {
			waitForRunningPod(t, namespace, component, nil)
		}

		replicaSets, err := env.kube.AppsV1().ReplicaSets(namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range replicaSets.Items {
			for _, c := range rs.Status.Conditions {
				if c.Type == appsv1.ReplicaSetReplicaFailure || c.Reason == "FailedCreate" {
					t.Errorf("ReplicaSet %s has condition %s (%s): %s", rs.Name, c.Type, c.Reason, c.Message)
				}
			}
		}
	})

	t.Run("restricted rejects root pod", func(t *testing.T) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "runs-as-root"},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{
					Name:            "root",
					Image:           "docker.io/sipeed/picoclaw:latest",
					SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](0)},
				}},
			},
		}
		_, err := env.kube.CoreV1().Pods(namespace).Create(context.Background(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if !apierrors.IsForbidden(err) {
			t.Errorf("dry-run create of a root pod: err = %v, want Forbidden by Pod Security", err)
		}
	})
}

// configChecksumAnnotation is the pod template annotation that contains the
// SHA-256 of config.json.
const configChecksumAnnotation = "checksum/config"

func gatewayDeployment(t *testing.T, namespace string) *appsv1.Deployment {
	t.Helper()
	d, err := env.kube.AppsV1().Deployments(namespace).Get(context.Background(), "picoclaw-gateway", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// replicaSetHashes returns the pod-template-hash labels of component's
// ReplicaSets in namespace.
func replicaSetHashes(t *testing.T, namespace, component string) map[string]bool {
	t.Helper()
	list, err := env.kube.AppsV1().ReplicaSets(namespace).List(context.Background(),
		metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=" + component})
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]bool{}
	for _, rs := range list.Items {
		hashes[rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]] = true
	}
	return hashes
}

// runningPods counts the Running pods in namespace that match selector and
// are not being deleted.
func runningPods(t *testing.T, namespace, selector string) int {
	t.Helper()
	pods, err := env.kube.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			running++
		}
	}
	return running
}
