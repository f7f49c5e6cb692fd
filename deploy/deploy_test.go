// Package deploy_test checks the manager's image recipe (Dockerfile.manager)
// and its Kubernetes manifests (this directory). The integration tests apply
// the manifests to a real control plane and run the tenant lifecycle as the
// manager's ServiceAccount, so a rule that the manager needs and the
// ClusterRole lacks fails them.
package deploy_test

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/picoclaw-manager/picoclaw-manager/chart"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/api"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/testenv"
)

const (
	// managerUser is the user name of the ServiceAccount in
	// serviceaccount.yaml, as the API server authenticates it.
	managerUser = "system:serviceaccount:picoclaw-system:picoclaw-manager"
	// dockerfilePath is relative to this package's directory, where go test
	// runs the tests.
	dockerfilePath = "../Dockerfile.manager"
	// buildCommand is the build step Dockerfile.manager must contain.
	// TestDockerfileBuildIsStatic runs the same build.
	buildCommand = `CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/picoclaw-manager ./cmd/picoclaw-manager`
	apiKey       = "deploy-test-key"
)

// env is the real PostgreSQL and control plane that the integration tests of
// this package share.
var env struct {
	postgres     *testenv.Postgres
	controlPlane *testenv.ControlPlane
	admin        kubernetes.Interface
	store        *store.Store
	// kubectlCache is kubectl's discovery cache, kept out of the home
	// directory of the user running the tests.
	kubectlCache string
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	code, err := runWithEnv(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration environment:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runWithEnv(m *testing.M) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	postgres, controlPlane, stop, err := testenv.Start(ctx)
	if err != nil {
		return 0, err
	}
	defer stop()
	env.postgres, env.controlPlane = postgres, controlPlane

	if env.admin, err = kubernetes.NewForConfig(env.controlPlane.RESTConfig()); err != nil {
		return 0, err
	}
	if env.store, err = store.Open(ctx, env.postgres.URL()); err != nil {
		return 0, err
	}
	defer env.store.Close()
	if err := env.store.Migrate(ctx); err != nil {
		return 0, err
	}
	if env.kubectlCache, err = os.MkdirTemp("", "deploy-test-kubectl-"); err != nil {
		return 0, err
	}
	defer os.RemoveAll(env.kubectlCache)
	return m.Run(), nil
}

// requireEnv skips integration tests in -short mode, which runs unit tests only.
func requireEnv(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and the control plane; run without -short")
	}
}

// kubectl runs the control plane's kubectl as the admin user in this
// directory and returns its combined output. One run may take 2 minutes.
func kubectl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--kubeconfig", env.controlPlane.KubeconfigPath(), "--cache-dir", env.kubectlCache}
	out, err := exec.CommandContext(ctx, env.controlPlane.BinPath("kubectl"), append(base, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// applied records the one real apply of the kustomization, which several
// tests need.
var applied struct {
	once sync.Once
	err  error
}

// requireApplied applies the kustomization of this directory once per test
// binary with server-side apply, the command that secret.yaml recommends.
// Then it waits until the ClusterRole and the admission policy are in effect
// for the manager's ServiceAccount, so the lifecycle test runs under both.
func requireApplied(t *testing.T) {
	t.Helper()
	requireEnv(t)
	applied.once.Do(func() {
		if _, err := kubectl("apply", "--server-side", "-k", "."); err != nil {
			applied.err = err
			return
		}
		if applied.err = waitForRBAC(2 * time.Minute); applied.err != nil {
			return
		}
		applied.err = waitForPolicy(2 * time.Minute)
	})
	if applied.err != nil {
		t.Fatalf("apply deploy/: %v", applied.err)
	}
}

// waitForRBAC waits until the authorizer lets the manager create namespaces,
// because RBAC changes reach the authorizer through a cache.
func waitForRBAC(timeout time.Duration) error {
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               managerUser,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Resource: "namespaces"},
	}}
	deadline := time.Now().Add(timeout)
	for {
		result, err := env.admin.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), review, metav1.CreateOptions{})
		if err == nil && result.Status.Allowed {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s may not create namespaces after %v (error %v)", managerUser, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitForPolicy waits until admission-policy.yaml rejects the manager's
// writes outside tenant namespaces, because the API server loads a new
// policy asynchronously.
func waitForPolicy(timeout time.Duration) error {
	manager, err := clientAs(managerUser)
	if err != nil {
		return err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "picoclaw-policy-check", Namespace: "default"}}
	deadline := time.Now().Add(timeout)
	for {
		_, err := manager.CoreV1().Secrets("default").Create(context.Background(), secret, dryRunCreate)
		rejection := expectPolicyRejection(err)
		if rejection == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("admission policy not in effect after %v: %w", timeout, rejection)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// dryRunCreate passes admission like a real create but stores nothing.
var dryRunCreate = metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}

// clientAs returns an admin clientset that impersonates user.
func clientAs(user string) (kubernetes.Interface, error) {
	config := env.controlPlane.RESTConfig()
	config.Impersonate.UserName = user
	return kubernetes.NewForConfig(config)
}

func TestManifestsApply(t *testing.T) {
	requireEnv(t)

	t.Run("server dry run accepts deploy", func(t *testing.T) {
		// A dry run creates nothing, so without the namespace every object
		// in it would fail with NotFound.
		if _, err := kubectl("apply", "--server-side", "-f", "namespace.yaml"); err != nil {
			t.Fatal(err)
		}
		if _, err := kubectl("apply", "--dry-run=server", "-k", "."); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("server dry run accepts dev postgres", func(t *testing.T) {
		if _, err := kubectl("apply", "--dry-run=server", "-k", "dev-postgres"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("manager pods pass restricted pod security", func(t *testing.T) {
		requireApplied(t)
		// kwok runs no containers, but the ReplicaSet controller's pods
		// still pass admission, which enforces the namespace's restricted
		// Pod Security Standard.
		waitForReplicas(t, "deployment picoclaw-manager", 2, func() (int32, error) {
			d, err := env.admin.AppsV1().Deployments("picoclaw-system").Get(context.Background(), "picoclaw-manager", metav1.GetOptions{})
			if err != nil {
				return 0, err
			}
			return d.Status.ReadyReplicas, nil
		})
	})

	t.Run("dev postgres pod passes restricted pod security", func(t *testing.T) {
		requireApplied(t)
		if _, err := kubectl("apply", "--server-side", "-k", "dev-postgres"); err != nil {
			t.Fatal(err)
		}
		waitForReplicas(t, "statefulset picoclaw-postgres", 1, func() (int32, error) {
			s, err := env.admin.AppsV1().StatefulSets("picoclaw-system").Get(context.Background(), "picoclaw-postgres", metav1.GetOptions{})
			if err != nil {
				return 0, err
			}
			return s.Status.ReadyReplicas, nil
		})
	})
}

// waitForReplicas waits until ready returns want. On timeout it reports the
// Warning events of picoclaw-system, where a Pod Security violation appears
// as a FailedCreate event of the controller.
func waitForReplicas(t *testing.T, what string, want int32, ready func() (int32, error)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		got, err := ready()
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d ready replicas after 90s, want %d (error %v); warnings:\n%s", what, got, want, err, warningEvents(t))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func warningEvents(t *testing.T) string {
	t.Helper()
	events, err := env.admin.CoreV1().Events("picoclaw-system").List(context.Background(), metav1.ListOptions{FieldSelector: "type=Warning"})
	if err != nil {
		return "cannot list events: " + err.Error()
	}
	var b strings.Builder
	for _, e := range events.Items {
		fmt.Fprintf(&b, "%s/%s %s: %s\n", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
	}
	return b.String()
}

// tenantJSON is the part of the API's Tenant response this test checks.
type tenantJSON struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Namespace string `json:"namespace"`
	Release   *struct {
		Revision int    `json:"revision"`
		Status   string `json:"status"`
	} `json:"release"`
	Workloads map[string]kube.WorkloadStatus `json:"workloads"`
}

func TestLifecycleAsServiceAccount(t *testing.T) {
	requireApplied(t)
	const id = "deploy-rbac"
	namespace := tenant.NamespaceFor(id)

	// HOME and TMPDIR point here, and the XDG and Helm directory variables
	// are emptied so that they fall back to HOME. The last step checks that
	// nothing was written here, which is why deployment.yaml sets no HOME or
	// HELM_* variables.
	scratch := t.TempDir()
	for _, name := range []string{"HOME", "TMPDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
		"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		value := ""
		if name == "HOME" || name == "TMPDIR" {
			value = scratch
		}
		t.Setenv(name, value)
	}

	logs := &testenv.SyncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("manager logs:\n%s", logs.String())
		}
	})
	server := httptest.NewServer(newManagerAs(t, managerUser, logs))
	defer server.Close()

	// Each step needs the ones before it.
	step := func(name string, run func(t *testing.T)) {
		if !t.Run(name, run) {
			t.FailNow()
		}
	}

	step("ready", func(t *testing.T) {
		expectStatus(t, call(t, server, http.MethodGet, "/ready", ""), http.StatusOK)
	})

	step("create", func(t *testing.T) {
		r := call(t, server, http.MethodPost, "/api/v1/tenants", createRequest(id))
		expectStatus(t, r, http.StatusCreated)
		if got := decodeTenant(t, r); got.Status != "active" || got.Namespace != namespace {
			t.Errorf("tenant = %+v, want active in %s", got, namespace)
		}
	})

	step("get", func(t *testing.T) {
		r := call(t, server, http.MethodGet, "/api/v1/tenants/"+id, "")
		expectStatus(t, r, http.StatusOK)
		got := decodeTenant(t, r)
		if got.Release == nil || got.Release.Revision != 1 || got.Release.Status != "deployed" {
			t.Errorf("release = %+v, want revision 1 deployed", got.Release)
		}
		if _, ok := got.Workloads["gateway"]; !ok {
			t.Errorf("workloads = %v, want a gateway entry", got.Workloads)
		}
	})

	// Turning the agent off makes Helm delete a Deployment in an upgrade, and
	// the rollback below creates it again.
	step("update", func(t *testing.T) {
		r := call(t, server, http.MethodPut, "/api/v1/tenants/"+id, `{"agent_enabled": false}`)
		expectStatus(t, r, http.StatusOK)
		if got := decodeTenant(t, r); got.Release == nil || got.Release.Revision != 2 {
			t.Errorf("release = %+v, want revision 2", got.Release)
		}
		expectAgent(t, namespace, false)
	})

	step("restart", func(t *testing.T) {
		expectStatus(t, call(t, server, http.MethodPost, "/api/v1/tenants/"+id+"/restart", ""), http.StatusAccepted)
	})

	step("history", func(t *testing.T) {
		r := call(t, server, http.MethodGet, "/api/v1/tenants/"+id+"/history", "")
		expectStatus(t, r, http.StatusOK)
		var revisions []struct {
			Revision int `json:"revision"`
		}
		if err := json.Unmarshal(r.body, &revisions); err != nil {
			t.Fatalf("decode history %s: %v", r.body, err)
		}
		if len(revisions) != 2 || revisions[0].Revision != 2 {
			t.Errorf("history = %s, want revisions 2 and 1", r.body)
		}
	})

	step("rollback", func(t *testing.T) {
		r := call(t, server, http.MethodPost, "/api/v1/tenants/"+id+"/rollback", `{"revision": 1}`)
		expectStatus(t, r, http.StatusOK)
		if got := decodeTenant(t, r); got.Release == nil || got.Release.Revision != 3 {
			t.Errorf("release = %+v, want revision 3", got.Release)
		}
		expectAgent(t, namespace, true)
	})

	// Growing the workspace makes the manager read the claim's StorageClass.
	// It comes after the rollback, because rolling back to a revision with a
	// smaller workspace fails: Kubernetes does not shrink a claim.
	step("grow workspace", func(t *testing.T) {
		allowVolumeExpansion(t, namespace, tenant.WorkspaceClaim)
		r := call(t, server, http.MethodPut, "/api/v1/tenants/"+id, `{"resources": {"workspace_size": "600Mi"}}`)
		expectStatus(t, r, http.StatusOK)
		if got := decodeTenant(t, r); got.Release == nil || got.Release.Revision != 4 {
			t.Errorf("release = %+v, want revision 4", got.Release)
		}
	})

	step("delete", func(t *testing.T) {
		expectStatus(t, call(t, server, http.MethodDelete, "/api/v1/tenants/"+id, ""), http.StatusNoContent)
		testenv.Eventually(t, 2*time.Minute, "namespace "+namespace+" deleted", func() error {
			_, err := env.admin.CoreV1().Namespaces().Get(context.Background(), namespace, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			return errors.New("namespace still exists")
		})
	})

	step("no file written", func(t *testing.T) {
		var written []string
		err := filepath.WalkDir(scratch, func(p string, _ fs.DirEntry, err error) error {
			if p != scratch {
				written = append(written, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(written) > 0 {
			t.Errorf("the manager wrote %v; deployment.yaml needs a writable volume there", written)
		}
	})
}

// allowVolumeExpansion lets the StorageClass of claim grow volumes, as the
// admin. kwok's default StorageClass does not allow it.
func allowVolumeExpansion(t *testing.T, namespace, claim string) {
	t.Helper()
	ctx := context.Background()
	pvc, err := env.admin.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pvc.Spec.StorageClassName == nil {
		t.Fatalf("claim %s/%s has no StorageClass", namespace, claim)
	}
	class, err := env.admin.StorageV1().StorageClasses().Get(ctx, *pvc.Spec.StorageClassName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	allow := true
	class.AllowVolumeExpansion = &allow
	if _, err := env.admin.StorageV1().StorageClasses().Update(ctx, class, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// expectAgent checks whether the agent Deployment exists in namespace.
func expectAgent(t *testing.T, namespace string, want bool) {
	t.Helper()
	_, err := env.admin.AppsV1().Deployments(namespace).Get(context.Background(), tenant.AgentDeployment, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if exists := err == nil; exists != want {
		t.Errorf("agent Deployment exists = %v, want %v", exists, want)
	}
}

// newManagerAs assembles the manager's HTTP handler as cmd/picoclaw-manager
// does, with every Kubernetes request impersonating user.
func newManagerAs(t *testing.T, user string, logs io.Writer) http.Handler {
	t.Helper()
	config := env.controlPlane.RESTConfig()
	config.Impersonate.UserName = user
	config.QPS, config.Burst = 100, 200
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	releases, err := release.NewDriver(config, logger)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := kube.NewClient(config)
	if err != nil {
		t.Fatal(err)
	}
	tenantChart, err := chart.Load()
	if err != nil {
		t.Fatal(err)
	}
	service := tenant.NewService(tenant.Config{
		Store:    env.store,
		Releases: releases,
		Cluster:  cluster,
		Chart:    tenantChart,
		Values:   tenant.ValuesOptions{Image: "docker.io/sipeed/picoclaw:latest", ManagerNamespace: "picoclaw-system"},
		Logger:   logger,
	})
	return api.NewHandler(api.Config{
		Tenants: service,
		APIKey:  apiKey,
		Checks:  []api.Check{{Name: "postgresql", Run: env.store.Ping}, {Name: "kubernetes", Run: cluster.Ping}},
		Logger:  logger,
	})
}

// createRequest returns a create request for tenant id.
func createRequest(id string) string {
	return fmt.Sprintf(`{"tenant_id": %q, "display_name": "RBAC check",
 "providers": {"anthropic": {"api_key": "sk-deploy-test-0123456789", "api_base": "https://api.minimax.io/v1"}},
 "agents": {"defaults": {"provider": "anthropic", "model": "MiniMax-M2.5"}},
 "channels": {"telegram": {"enabled": true, "token": "123456789:deploy-test-token", "allow_from": [123456]}}}`, id)
}

type response struct {
	status int
	body   []byte
}

func call(t *testing.T, server *httptest.Server, method, path, body string) response {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, server.URL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, body: data}
}

func expectStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.body)
	}
}

func decodeTenant(t *testing.T, r response) tenantJSON {
	t.Helper()
	var out tenantJSON
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decode tenant %s: %v", r.body, err)
	}
	return out
}

func TestAdmissionPolicyConfinesManager(t *testing.T) {
	requireApplied(t)
	manager, err := clientAs(managerUser)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("secret outside tenant namespaces rejected", func(t *testing.T) {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "picoclaw-policy-check", Namespace: "kube-system"}}
		_, err := manager.CoreV1().Secrets("kube-system").Create(ctx, secret, dryRunCreate)
		if err := expectPolicyRejection(err); err != nil {
			t.Error(err)
		}
	})

	t.Run("delete outside tenant namespaces rejected", func(t *testing.T) {
		err := manager.CoreV1().Services("default").Delete(ctx, "kubernetes", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
		if err := expectPolicyRejection(err); err != nil {
			t.Error(err)
		}
	})

	t.Run("other namespace rejected", func(t *testing.T) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "picoclaw-policy-check"}}
		_, err := manager.CoreV1().Namespaces().Create(ctx, ns, dryRunCreate)
		if err := expectPolicyRejection(err); err != nil {
			t.Error(err)
		}
	})

	t.Run("tenant namespace admitted", func(t *testing.T) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenant.NamespaceFor("policy-check")}}
		if _, err := manager.CoreV1().Namespaces().Create(ctx, ns, dryRunCreate); err != nil {
			t.Errorf("dry-run create of namespace %s: %v", ns.Name, err)
		}
	})
}

// expectPolicyRejection returns nil when err is the admission policy's
// rejection, and an error describing err otherwise.
func expectPolicyRejection(err error) error {
	if err == nil {
		return errors.New("request admitted")
	}
	if !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
		return fmt.Errorf("unexpected error: %w", err)
	}
	if !strings.Contains(err.Error(), "picoclaw-tenant-*") {
		return fmt.Errorf("rejected, but not by the policy: %w", err)
	}
	return nil
}

// ruleLine matches the first line of a rule in clusterrole.yaml.
var ruleLine = regexp.MustCompile(`^  - apiGroups:`)

func TestClusterRoleRules(t *testing.T) {
	data, err := os.ReadFile("clusterrole.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(data, &role); err != nil {
		t.Fatalf("parse clusterrole.yaml: %v", err)
	}
	if len(role.Rules) == 0 {
		t.Fatal("clusterrole.yaml has no rules")
	}

	for i, rule := range role.Rules {
		fields := map[string][]string{
			"apiGroups": rule.APIGroups, "resources": rule.Resources, "verbs": rule.Verbs,
			"resourceNames": rule.ResourceNames, "nonResourceURLs": rule.NonResourceURLs,
		}
		for field, values := range fields {
			for _, v := range values {
				if strings.Contains(v, "*") {
					t.Errorf("rule %d (%v): %s contains the wildcard %q", i+1, rule.Resources, field, v)
				}
			}
		}
		// escalate and bind would let the manager grant permissions it does
		// not hold; impersonate would let it act as anyone.
		for _, verb := range []string{"escalate", "bind", "impersonate"} {
			if slices.Contains(rule.Verbs, verb) {
				t.Errorf("rule %d (%v) grants %s", i+1, rule.Resources, verb)
			}
		}
	}

	// Every rule must start with `  - apiGroups:`, so that the line above
	// it can be checked for its comment.
	lines := strings.Split(string(data), "\n")
	var found int
	for i, line := range lines {
		if !ruleLine.MatchString(line) {
			continue
		}
		found++
		if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
			t.Errorf("clusterrole.yaml line %d: rule without a comment above it giving its reason", i+1)
		}
	}
	if found != len(role.Rules) {
		t.Errorf("found %d rules written as `  - apiGroups:`, parsed %d; start every rule that way", found, len(role.Rules))
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	var k struct {
		Resources []string `json:"resources"`
	}
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatalf("parse kustomization.yaml: %v", err)
	}
	manifests, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range manifests {
		if m != "kustomization.yaml" && !slices.Contains(k.Resources, m) {
			t.Errorf("%s is not in kustomization.yaml's resources", m)
		}
	}
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line    int
	keyword string // upper case, such as RUN
	args    string
}

// stage is the instructions from one FROM up to the next.
type stage struct {
	from         instruction
	instructions []instruction
}

// find returns the instructions of keyword in s.
func (s stage) find(keyword string) []instruction {
	var out []instruction
	for _, in := range s.instructions {
		if in.keyword == keyword {
			out = append(out, in)
		}
	}
	return out
}

// parseDockerfile splits a Dockerfile into stages. It handles comments and
// backslash continuations, which is all Dockerfile.manager uses.
func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var (
		stages  []stage
		pending strings.Builder
		start   int
	)
	scanner := bufio.NewScanner(strings.NewReader(text))
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if pending.Len() == 0 {
			start = n
		}
		if cut, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(cut + " ")
			continue
		}
		pending.WriteString(line)
		keyword, args, _ := strings.Cut(pending.String(), " ")
		pending.Reset()
		in := instruction{line: start, keyword: strings.ToUpper(keyword), args: strings.TrimSpace(args)}
		if in.keyword == "FROM" {
			stages = append(stages, stage{from: in})
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile line %d: %s before the first FROM", in.line, in.keyword)
		}
		stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, in)
	}
	return stages
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	stages := parseDockerfile(t, string(data))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile.manager has %d stages, want a build stage and a runtime stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	if !strings.HasPrefix(build.from.args, "golang:1.26 ") || strings.Contains(build.from.args, "@") {
		t.Errorf("build stage FROM %q, want the tag golang:1.26 without a digest", build.from.args)
	}
	assertModulesCached(t, build)
	var builds int
	for _, run := range build.find("RUN") {
		if strings.Contains(run.args, "go build") {
			builds++
			if run.args != buildCommand {
				t.Errorf("line %d: RUN %s, want RUN %s", run.line, run.args, buildCommand)
			}
		}
	}
	if builds != 1 {
		t.Errorf("build stage runs go build %d times, want once", builds)
	}

	base := strings.Fields(final.from.args)[0]
	if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage FROM %s, want a distroless static image or scratch", base)
	}
	if runs := final.find("RUN"); len(runs) > 0 {
		t.Errorf("final stage has RUN on line %d; it has no shell to run it", runs[0].line)
	}
	assertNonRootUser(t, final)
	if exposes := final.find("EXPOSE"); len(exposes) != 1 || exposes[0].args != "8080" {
		t.Errorf("final stage EXPOSE = %v, want EXPOSE 8080", exposes)
	}
	for _, s := range stages {
		if checks := s.find("HEALTHCHECK"); len(checks) > 0 {
			t.Errorf("line %d: HEALTHCHECK; Kubernetes ignores it and the probes in deployment.yaml replace it", checks[0].line)
		}
	}
	assertEntrypoint(t, final)
}

// assertModulesCached checks that go mod download runs in a layer of its own
// that only go.mod and go.sum invalidate.
func assertModulesCached(t *testing.T, build stage) {
	t.Helper()
	var order []string
	for _, in := range build.instructions {
		switch {
		case in.keyword == "COPY" && in.args == "go.mod go.sum ./":
			order = append(order, "copy modules")
		case in.keyword == "RUN" && in.args == "go mod download":
			order = append(order, "download")
		case in.keyword == "COPY" && in.args == ". .":
			order = append(order, "copy sources")
		}
	}
	want := []string{"copy modules", "download", "copy sources"}
	if !slices.Equal(order, want) {
		t.Errorf("build stage order %v, want %v", order, want)
	}
}

func assertNonRootUser(t *testing.T, final stage) {
	t.Helper()
	users := final.find("USER")
	if len(users) != 1 {
		t.Fatalf("final stage has %d USER instructions, want 1", len(users))
	}
	uid, gid, _ := strings.Cut(users[0].args, ":")
	for _, id := range []string{uid, gid} {
		if n, err := strconv.Atoi(id); err != nil || n == 0 {
			t.Errorf("USER %s: want a numeric non-root user and group, such as 65532:65532, so the kubelet can verify runAsNonRoot", users[0].args)
			return
		}
	}
}

func assertEntrypoint(t *testing.T, final stage) {
	t.Helper()
	entrypoints := final.find("ENTRYPOINT")
	if len(entrypoints) != 1 {
		t.Fatalf("final stage has %d ENTRYPOINT instructions, want 1", len(entrypoints))
	}
	var argv []string
	if err := json.Unmarshal([]byte(entrypoints[0].args), &argv); err != nil {
		t.Fatalf("ENTRYPOINT %s is not in exec form: %v", entrypoints[0].args, err)
	}
	if !slices.Equal(argv, []string{"/picoclaw-manager"}) {
		t.Errorf("ENTRYPOINT %v, want [/picoclaw-manager]", argv)
	}
	copied := false
	for _, c := range final.find("COPY") {
		fields := strings.Fields(c.args)
		if strings.HasPrefix(fields[0], "--from=") && fields[len(fields)-1] == "/picoclaw-manager" {
			copied = true
		}
	}
	if !copied {
		t.Error("final stage does not COPY --from the build stage to /picoclaw-manager")
	}
}

func TestDockerfileBuildIsStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the manager binary; run without -short")
	}
	data, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), buildCommand) {
		t.Fatalf("Dockerfile.manager does not contain %s", buildCommand)
	}

	binary := filepath.Join(t.TempDir(), "picoclaw-manager")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", binary, "./cmd/picoclaw-manager")
	cmd.Dir = ".."
	// The golang image sets no GOFLAGS, so the build runs with -mod=readonly
	// and fails when go.mod or go.sum lack an entry.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	file, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, prog := range file.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Error("binary is dynamically linked; distroless static has no libc")
		}
	}
	if _, err := file.Symbols(); !errors.Is(err, elf.ErrNoSymbols) {
		t.Errorf("binary has a symbol table (err %v); -ldflags=-s strips it", err)
	}

	info, err := buildinfo.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// Go leaves -ldflags out of the build information of a -trimpath
	// build, so the symbol table check above checks -s instead.
	want := map[string]string{"CGO_ENABLED": "0", "-trimpath": "true"}
	for key, value := range want {
		if settings[key] != value {
			t.Errorf("build setting %s = %q, want %q", key, settings[key], value)
		}
	}
}

func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}

	ignored := func(name string) bool {
		for _, p := range patterns {
			if ok, _ := path.Match(p, name); ok {
				return true
			}
		}
		return false
	}
	for _, name := range []string{".git", ".dev", "bin"} {
		if !ignored(name) {
			t.Errorf(".dockerignore does not exclude %s", name)
		}
	}
	// The build needs the module files and every package, and the binary
	// embeds chart/.
	for _, name := range []string{"go.mod", "go.sum", "cmd", "pkg", "chart"} {
		if ignored(name) {
			t.Errorf(".dockerignore excludes %s, which the build needs", name)
		}
	}
}

func TestDeploymentMatchesImage(t *testing.T) {
	var deployment appsv1.Deployment
	readManifest(t, "deployment.yaml", &deployment)
	var config corev1.ConfigMap
	readManifest(t, "configmap.yaml", &config)

	pod := deployment.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("deployment has %d containers, want 1", len(pod.Containers))
	}
	container := pod.Containers[0]
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser != 65532 {
		t.Error("pod runAsUser is not 65532, the USER of Dockerfile.manager")
	}
	if len(container.Ports) != 1 || container.Ports[0].ContainerPort != 8080 {
		t.Errorf("container ports = %v, want 8080 as Dockerfile.manager exposes", container.Ports)
	}
	if config.Data["LISTEN_ADDR"] != ":8080" {
		t.Errorf("LISTEN_ADDR = %q, want :8080 to match the container port", config.Data["LISTEN_ADDR"])
	}
	if config.Data["MANAGER_NAMESPACE"] != deployment.Namespace {
		t.Errorf("MANAGER_NAMESPACE = %q, want the Deployment's namespace %s", config.Data["MANAGER_NAMESPACE"], deployment.Namespace)
	}
	sc := container.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container root filesystem is not read-only")
	}
}

// readManifest decodes the single object in file into out.
func readManifest(t *testing.T, file string, out any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, out); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
}
