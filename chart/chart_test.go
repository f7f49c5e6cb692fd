package chart

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

const (
	testRelease   = "acme"
	testNamespace = "picoclaw-tenant-acme"
	gatewayPort   = 18790
)

// tenantConfig returns a config.json object in the shape the manager builds.
func tenantConfig(model string) map[string]any {
	return map[string]any{
		"providers": map[string]any{
			"anthropic": map[string]any{"api_key": "sk-test-0000", "api_base": "https://api.minimax.io/v1"},
		},
		"agents": map[string]any{
			"defaults": map[string]any{"provider": "anthropic", "model": model, "max_tokens": 200000, "temperature": 0.7},
		},
		"channels": map[string]any{
			"telegram": map[string]any{"enabled": true, "token": "test-telegram-token", "allow_from": []any{123456}},
		},
		"gateway": map[string]any{"host": "0.0.0.0", "port": gatewayPort},
	}
}

// minimalValues sets only what values.yaml cannot default.
func minimalValues() map[string]any {
	return map[string]any{
		"tenant": map[string]any{"id": testRelease, "displayName": "ACME Corp"},
		"config": tenantConfig("MiniMax-M2.5"),
	}
}

// fullValues sets every key to a value that differs from values.yaml.
func fullValues() map[string]any {
	return map[string]any{
		"tenant": map[string]any{"id": testRelease, "displayName": "ACME Corp"},
		"image":  map[string]any{"repository": "registry.example.com/picoclaw", "tag": "v0.2.0", "pullPolicy": "Always"},
		"config": tenantConfig("MiniMax-M2.5"),
		"agent": map[string]any{
			"enabled": true,
			"resources": map[string]any{
				"limits":   map[string]any{"cpu": "1", "memory": "2Gi"},
				"requests": map[string]any{"cpu": "100m", "memory": "512Mi"},
			},
		},
		"gateway": map[string]any{
			"port": gatewayPort,
			"resources": map[string]any{
				"limits":   map[string]any{"cpu": "500m", "memory": "1Gi"},
				"requests": map[string]any{"cpu": "50m", "memory": "256Mi"},
			},
		},
		"workspace": map[string]any{"size": "2Gi", "storageClassName": "fast-ssd", "accessMode": "ReadWriteOnce"},
		"quota": map[string]any{
			"requests.cpu":           "150m",
			"requests.memory":        "768Mi",
			"limits.cpu":             "1500m",
			"limits.memory":          "3Gi",
			"requests.storage":       "2Gi",
			"persistentvolumeclaims": "1",
			"pods":                   "4",
		},
		"limitRange": map[string]any{
			"default":        map[string]any{"cpu": "500m", "memory": "1Gi"},
			"defaultRequest": map[string]any{"cpu": "50m", "memory": "256Mi"},
			"max":            map[string]any{"cpu": "1", "memory": "2Gi"},
		},
		"manager": map[string]any{"namespace": "platform"},
		"rbac":    map[string]any{"operatorGroups": []any{"acme-admins", "oncall"}},
	}
}

// withValue returns a deep copy of values with the dotted path set to value.
// Keys in path must not contain dots.
func withValue(values map[string]any, path string, value any) map[string]any {
	copied := deepCopyValues(values)
	keys := strings.Split(path, ".")
	current := copied
	for _, key := range keys[:len(keys)-1] {
		next, ok := current[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			current[key] = next
		}
		current = next
	}
	current[keys[len(keys)-1]] = value
	return copied
}

func deepCopyValues(values map[string]any) map[string]any {
	copied := make(map[string]any, len(values))
	for key, value := range values {
		if nested, ok := value.(map[string]any); ok {
			copied[key] = deepCopyValues(nested)
			continue
		}
		copied[key] = value
	}
	return copied
}

// renderManifest renders the embedded chart the way `helm install --dry-run=client`
// does, schema validation included, without a cluster.
func renderManifest(t *testing.T, values map[string]any) (string, error) {
	t.Helper()

	loaded, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}

	install := action.NewInstall(action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler)))
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = testRelease
	install.Namespace = testNamespace

	released, err := install.RunWithContext(t.Context(), loaded, values)
	if err != nil {
		return "", err
	}
	rel, ok := released.(*releasev1.Release)
	if !ok {
		t.Fatalf("install returned %T, want *release.Release", released)
	}
	return rel.Manifest, nil
}

// renderedObjects maps "Kind/name" to the YAML of one rendered object.
type renderedObjects map[string][]byte

func render(t *testing.T, values map[string]any) renderedObjects {
	t.Helper()

	manifest, err := renderManifest(t, values)
	if err != nil {
		t.Fatalf("render error = %v", err)
	}
	return splitManifest(t, manifest)
}

func splitManifest(t *testing.T, manifest string) renderedObjects {
	t.Helper()

	objects := renderedObjects{}
	for document := range strings.SplitSeq(manifest, "\n---") {
		var header struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(document), &header); err != nil {
			t.Fatalf("rendered document is not YAML: %v\n%s", err, document)
		}
		if header.Kind == "" {
			continue
		}

		key := header.Kind + "/" + header.Metadata.Name
		if _, duplicate := objects[key]; duplicate {
			t.Fatalf("chart renders %s twice", key)
		}
		objects[key] = []byte(document)
	}
	return objects
}

// decode unmarshals one rendered object into its typed API struct and fails
// on fields the type does not have, which catches misspelled template keys.
func decode[T any](t *testing.T, objects renderedObjects, key string) *T {
	t.Helper()

	document, ok := objects[key]
	if !ok {
		t.Fatalf("%s not rendered (rendered objects: %v)", key, slices.Sorted(maps.Keys(objects)))
	}
	object := new(T)
	if err := yaml.UnmarshalStrict(document, object); err != nil {
		t.Fatalf("decode %s: %v", key, err)
	}
	return object
}

func TestLoadParsesEmbeddedChart(t *testing.T) {
	loaded, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}

	if loaded.Metadata.APIVersion != "v2" {
		t.Errorf("apiVersion = %q, want v2", loaded.Metadata.APIVersion)
	}
	if loaded.Name() != "picoclaw-tenant" {
		t.Errorf("name = %q, want picoclaw-tenant", loaded.Name())
	}
	if loaded.Metadata.Version != "0.1.0" {
		t.Errorf("version = %q, want 0.1.0", loaded.Metadata.Version)
	}
	if loaded.Metadata.AppVersion != "latest" {
		t.Errorf("appVersion = %q, want latest", loaded.Metadata.AppVersion)
	}
	if len(loaded.Schema) == 0 {
		t.Error("values.schema.json not loaded")
	}
	if len(loaded.Templates) == 0 {
		t.Error("no templates loaded")
	}
	if loaded.Values["tenant"] == nil {
		t.Error("values.yaml not loaded")
	}
}

func TestLoadReturnsIndependentCopies(t *testing.T) {
	first, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	first.Values = map[string]any{"replaced": true}
	first.Metadata = nil

	second, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}

	if _, ok := second.Values["tenant"]; !ok {
		t.Error("reassigning Values on one copy changed the next Load")
	}
	if second.Metadata == nil {
		t.Error("reassigning Metadata on one copy changed the next Load")
	}
}

func TestInstallLeavesCachedChartUnchanged(t *testing.T) {
	before, err := loader.LoadDir("picoclaw-tenant")
	if err != nil {
		t.Fatalf("LoadDir error = %v", err)
	}

	render(t, fullValues())
	render(t, withValue(fullValues(), "agent.enabled", false))

	after, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if !reflect.DeepEqual(after.Values, before.Values) {
		t.Errorf("chart values changed by rendering:\n got %v\nwant %v", after.Values, before.Values)
	}
	if !reflect.DeepEqual(after.Metadata, before.Metadata) {
		t.Errorf("chart metadata changed by rendering:\n got %+v\nwant %+v", after.Metadata, before.Metadata)
	}
}

func TestLoadPathMatchesEmbeddedChart(t *testing.T) {
	embedded, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	packaged, err := chartutil.Save(embedded, t.TempDir())
	if err != nil {
		t.Fatalf("package chart: %v", err)
	}

	tests := []struct {
		name string
		path string
	}{
		{name: "chart directory", path: "picoclaw-tenant"},
		{name: "packaged tgz", path: packaged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded, err := LoadPath(tt.path)
			if err != nil {
				t.Fatalf("LoadPath(%q) error = %v", tt.path, err)
			}

			if !reflect.DeepEqual(loaded.Metadata, embedded.Metadata) {
				t.Errorf("metadata = %+v, want %+v", loaded.Metadata, embedded.Metadata)
			}
			if got, want := templateNames(loaded.Templates), templateNames(embedded.Templates); !slices.Equal(got, want) {
				t.Errorf("templates = %v, want %v", got, want)
			}
			if !reflect.DeepEqual(loaded.Values, embedded.Values) {
				t.Errorf("values = %v, want %v", loaded.Values, embedded.Values)
			}
			if string(loaded.Schema) != string(embedded.Schema) {
				t.Error("schema differs from the embedded chart")
			}
		})
	}
}

func templateNames(files []*common.File) []string {
	names := make([]string, 0, len(files))
	for _, file := range files {
		names = append(names, file.Name)
	}
	slices.Sort(names)
	return names
}

func TestLoadPathMissingChart(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-chart")

	_, err := LoadPath(missing)

	if err == nil {
		t.Fatal("LoadPath() error = nil, want an error")
	}
	if !strings.Contains(err.Error(), missing) {
		t.Errorf("error %q does not name the path %q", err, missing)
	}
}

// renderCase is a set of values and the objects it must render.
type renderCase struct {
	name   string
	values map[string]any
	agent  bool
}

func renderCases() []renderCase {
	return []renderCase{
		{name: "defaults", values: minimalValues(), agent: true},
		{name: "full spec", values: fullValues(), agent: true},
		{name: "full spec shared workspace", values: withValue(fullValues(), "workspace.accessMode", "ReadWriteMany"), agent: true},
		{name: "full spec without agent", values: withValue(fullValues(), "agent.enabled", false), agent: false},
		{
			name:   "single-pod workspace without agent",
			values: withValue(withValue(fullValues(), "agent.enabled", false), "workspace.accessMode", "ReadWriteOncePod"),
			agent:  false,
		},
	}
}

func TestRenderProducesEveryResource(t *testing.T) {
	for _, tt := range renderCases() {
		t.Run(tt.name, func(t *testing.T) {
			want := []string{
				"LimitRange/picoclaw-limits",
				"NetworkPolicy/picoclaw-isolation",
				"PersistentVolumeClaim/picoclaw-workspace",
				"ResourceQuota/picoclaw-quota",
				"Role/picoclaw-tenant-operator",
				"RoleBinding/picoclaw-tenant-operator",
				"Secret/picoclaw-config",
				"Service/picoclaw-gateway",
				"ServiceAccount/picoclaw",
				"Deployment/picoclaw-gateway",
			}
			if tt.agent {
				want = append(want, "Deployment/picoclaw-agent")
			}
			slices.Sort(want)

			objects := render(t, tt.values)

			if got := slices.Sorted(maps.Keys(objects)); !slices.Equal(got, want) {
				t.Errorf("rendered objects = %v, want %v", got, want)
			}
		})
	}
}

func TestRenderedObjectsDecodeStrictly(t *testing.T) {
	objects := render(t, fullValues())

	decode[corev1.Secret](t, objects, "Secret/picoclaw-config")
	decode[corev1.ServiceAccount](t, objects, "ServiceAccount/picoclaw")
	decode[rbacv1.Role](t, objects, "Role/picoclaw-tenant-operator")
	decode[rbacv1.RoleBinding](t, objects, "RoleBinding/picoclaw-tenant-operator")
	decode[appsv1.Deployment](t, objects, "Deployment/picoclaw-gateway")
	decode[appsv1.Deployment](t, objects, "Deployment/picoclaw-agent")
	decode[corev1.Service](t, objects, "Service/picoclaw-gateway")
	decode[corev1.PersistentVolumeClaim](t, objects, "PersistentVolumeClaim/picoclaw-workspace")
	decode[networkingv1.NetworkPolicy](t, objects, "NetworkPolicy/picoclaw-isolation")
	decode[corev1.ResourceQuota](t, objects, "ResourceQuota/picoclaw-quota")
	decode[corev1.LimitRange](t, objects, "LimitRange/picoclaw-limits")
}

func TestLabelsOnEveryResource(t *testing.T) {
	objects := render(t, minimalValues())
	want := map[string]string{
		"app.kubernetes.io/name":       "picoclaw",
		"app.kubernetes.io/instance":   testRelease,
		"app.kubernetes.io/managed-by": "Helm",
		"helm.sh/chart":                "picoclaw-tenant-0.1.0",
		"picoclaw.io/tenant":           testRelease,
	}

	for key, document := range objects {
		var object struct {
			Metadata struct {
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(document, &object); err != nil {
			t.Fatalf("decode %s: %v", key, err)
		}

		for label, value := range want {
			if got := object.Metadata.Labels[label]; got != value {
				t.Errorf("%s label %s = %q, want %q", key, label, got, value)
			}
		}
		if got := object.Metadata.Annotations["picoclaw.io/display-name"]; got != "ACME Corp" {
			t.Errorf("%s annotation picoclaw.io/display-name = %q, want %q", key, got, "ACME Corp")
		}
	}
}

func TestComponentLabelsOnWorkloads(t *testing.T) {
	objects := render(t, minimalValues())
	tests := []struct {
		key       string
		component string
	}{
		{key: "Deployment/picoclaw-gateway", component: "gateway"},
		{key: "Deployment/picoclaw-agent", component: "agent"},
	}

	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			deployment := decode[appsv1.Deployment](t, objects, tt.key)

			if got := deployment.Labels["app.kubernetes.io/component"]; got != tt.component {
				t.Errorf("object component label = %q, want %q", got, tt.component)
			}
			if got := deployment.Spec.Selector.MatchLabels["app.kubernetes.io/component"]; got != tt.component {
				t.Errorf("selector component label = %q, want %q", got, tt.component)
			}
			if got := deployment.Spec.Template.Labels["app.kubernetes.io/component"]; got != tt.component {
				t.Errorf("pod component label = %q, want %q", got, tt.component)
			}
		})
	}
}

// allowedRestrictedVolume reports whether the Pod Security "restricted"
// level admits the volume: only configMap, csi, downwardAPI, emptyDir,
// ephemeral, persistentVolumeClaim, projected and secret volumes.
func allowedRestrictedVolume(volume corev1.Volume) bool {
	source := volume.VolumeSource
	allowed := []bool{
		source.ConfigMap != nil,
		source.CSI != nil,
		source.DownwardAPI != nil,
		source.EmptyDir != nil,
		source.Ephemeral != nil,
		source.PersistentVolumeClaim != nil,
		source.Projected != nil,
		source.Secret != nil,
	}
	return slices.Contains(allowed, true)
}

// checkRestrictedPod checks each control of the Pod Security Standards
// "restricted" level (and the "baseline" controls it includes) on spec.
func checkRestrictedPod(t *testing.T, spec corev1.PodSpec) {
	t.Helper()

	if spec.HostNetwork {
		t.Error("hostNetwork is true")
	}
	if spec.HostPID {
		t.Error("hostPID is true")
	}
	if spec.HostIPC {
		t.Error("hostIPC is true")
	}
	if len(spec.EphemeralContainers) != 0 {
		t.Errorf("pod template has %d ephemeral containers", len(spec.EphemeralContainers))
	}
	for _, volume := range spec.Volumes {
		if volume.HostPath != nil {
			t.Errorf("volume %s is a hostPath", volume.Name)
		}
		if !allowedRestrictedVolume(volume) {
			t.Errorf("volume %s has a type that restricted does not allow", volume.Name)
		}
	}

	podContext := spec.SecurityContext
	if podContext == nil {
		t.Fatal("pod securityContext missing")
	}
	if podContext.RunAsNonRoot == nil || !*podContext.RunAsNonRoot {
		t.Error("pod runAsNonRoot is not true")
	}
	if podContext.RunAsUser == nil || *podContext.RunAsUser == 0 {
		t.Errorf("pod runAsUser = %v, want a non-zero user", podContext.RunAsUser)
	}
	if podContext.SeccompProfile == nil || podContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccompProfile = %+v, want RuntimeDefault", podContext.SeccompProfile)
	}
	if len(podContext.Sysctls) != 0 {
		t.Errorf("pod sets sysctls %v", podContext.Sysctls)
	}
	if podContext.WindowsOptions != nil && podContext.WindowsOptions.HostProcess != nil && *podContext.WindowsOptions.HostProcess {
		t.Error("pod is a Windows HostProcess pod")
	}

	containers := slices.Concat(spec.InitContainers, spec.Containers)
	for _, container := range containers {
		t.Run(container.Name, func(t *testing.T) {
			checkRestrictedContainer(t, container, podContext)
		})
	}
}

func checkRestrictedContainer(t *testing.T, container corev1.Container, podContext *corev1.PodSecurityContext) {
	t.Helper()

	for _, port := range container.Ports {
		if port.HostPort != 0 {
			t.Errorf("port %s sets hostPort %d", port.Name, port.HostPort)
		}
	}

	context := container.SecurityContext
	if context == nil {
		t.Fatal("container securityContext missing")
	}
	if context.Privileged != nil && *context.Privileged {
		t.Error("privileged is true")
	}
	if context.AllowPrivilegeEscalation == nil || *context.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not explicitly false")
	}
	if context.ReadOnlyRootFilesystem == nil || !*context.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if context.RunAsNonRoot == nil || !*context.RunAsNonRoot {
		t.Error("container runAsNonRoot is not true")
	}
	if context.RunAsUser != nil && *context.RunAsUser == 0 {
		t.Error("container runAsUser is 0")
	}
	if context.SeccompProfile == nil {
		t.Error("container seccompProfile missing")
	} else if context.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault && context.SeccompProfile.Type != corev1.SeccompProfileTypeLocalhost {
		t.Errorf("container seccompProfile type = %q, want RuntimeDefault or Localhost", context.SeccompProfile.Type)
	}
	if context.ProcMount != nil && *context.ProcMount != corev1.DefaultProcMount {
		t.Errorf("procMount = %q, want Default", *context.ProcMount)
	}
	if context.WindowsOptions != nil && context.WindowsOptions.HostProcess != nil && *context.WindowsOptions.HostProcess {
		t.Error("container is a Windows HostProcess container")
	}
	if context.SELinuxOptions != nil && (context.SELinuxOptions.User != "" || context.SELinuxOptions.Role != "") {
		t.Errorf("seLinuxOptions sets user or role: %+v", context.SELinuxOptions)
	}
	if podContext.SELinuxOptions != nil && (podContext.SELinuxOptions.User != "" || podContext.SELinuxOptions.Role != "") {
		t.Errorf("pod seLinuxOptions sets user or role: %+v", podContext.SELinuxOptions)
	}

	if context.Capabilities == nil {
		t.Fatal("capabilities missing")
	}
	if !slices.Contains(context.Capabilities.Drop, "ALL") {
		t.Errorf("capabilities.drop = %v, want ALL", context.Capabilities.Drop)
	}
	for _, added := range context.Capabilities.Add {
		if added != "NET_BIND_SERVICE" {
			t.Errorf("capabilities.add contains %s, but restricted allows only NET_BIND_SERVICE", added)
		}
	}
}

func TestPodsMeetRestrictedLevel(t *testing.T) {
	for _, tt := range renderCases() {
		t.Run(tt.name, func(t *testing.T) {
			objects := render(t, tt.values)
			keys := []string{"Deployment/picoclaw-gateway"}
			if tt.agent {
				keys = append(keys, "Deployment/picoclaw-agent")
			}

			for _, key := range keys {
				t.Run(key, func(t *testing.T) {
					deployment := decode[appsv1.Deployment](t, objects, key)
					checkRestrictedPod(t, deployment.Spec.Template.Spec)
				})
			}
		})
	}
}

func TestDeploymentsShareRuntimeSettings(t *testing.T) {
	objects := render(t, minimalValues())
	wantEnv := map[string]string{
		"HOME":            "/home/picoclaw",
		"PICOCLAW_HOME":   "/home/picoclaw/.picoclaw",
		"PICOCLAW_CONFIG": "/home/picoclaw/.picoclaw/config.json",
	}
	wantMounts := map[string]string{
		"home":      "/home/picoclaw",
		"tmp":       "/tmp",
		"workspace": "/home/picoclaw/.picoclaw/workspace",
		"config":    "/etc/picoclaw",
	}

	for _, key := range []string{"Deployment/picoclaw-gateway", "Deployment/picoclaw-agent"} {
		t.Run(key, func(t *testing.T) {
			deployment := decode[appsv1.Deployment](t, objects, key)
			pod := deployment.Spec.Template.Spec

			if deployment.Spec.Replicas == nil || *deployment.Spec.Replicas != 1 {
				t.Errorf("replicas = %v, want 1", deployment.Spec.Replicas)
			}
			if deployment.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("strategy = %q, want Recreate", deployment.Spec.Strategy.Type)
			}
			if pod.ServiceAccountName != "picoclaw" {
				t.Errorf("serviceAccountName = %q, want picoclaw", pod.ServiceAccountName)
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Error("automountServiceAccountToken is not false")
			}
			if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
				t.Error("enableServiceLinks is not false")
			}
			if got := pod.SecurityContext; got == nil || got.RunAsUser == nil || *got.RunAsUser != 1000 {
				t.Error("pod runAsUser is not 1000")
			}
			if got := pod.SecurityContext; got == nil || got.RunAsGroup == nil || *got.RunAsGroup != 1000 {
				t.Error("pod runAsGroup is not 1000")
			}
			if got := pod.SecurityContext; got == nil || got.FSGroup == nil || *got.FSGroup != 1000 {
				t.Error("pod fsGroup is not 1000")
			}
			if len(pod.Containers) != 1 {
				t.Fatalf("pod has %d containers, want 1", len(pod.Containers))
			}

			mainContainer := pod.Containers[0]
			if !slices.Equal(mainContainer.Command, []string{"picoclaw"}) {
				t.Errorf("command = %v, want [picoclaw]", mainContainer.Command)
			}
			if mainContainer.Image != "docker.io/sipeed/picoclaw:latest" {
				t.Errorf("image = %q, want docker.io/sipeed/picoclaw:latest", mainContainer.Image)
			}
			for name, value := range wantEnv {
				if got := envValue(mainContainer.Env, name); got != value {
					t.Errorf("env %s = %q, want %q", name, got, value)
				}
			}
			for name, path := range wantMounts {
				if got := mountPath(mainContainer.VolumeMounts, name); got != path {
					t.Errorf("volume %s mounted at %q, want %q", name, got, path)
				}
			}
			if claim := volumeNamed(pod.Volumes, "workspace").PersistentVolumeClaim; claim == nil || claim.ClaimName != "picoclaw-workspace" {
				t.Errorf("workspace volume = %+v, want claim picoclaw-workspace", claim)
			}
			if volumeNamed(pod.Volumes, "home").EmptyDir == nil {
				t.Error("home volume is not an emptyDir")
			}
			if volumeNamed(pod.Volumes, "tmp").EmptyDir == nil {
				t.Error("tmp volume is not an emptyDir")
			}
			secret := volumeNamed(pod.Volumes, "config").Secret
			if secret == nil || secret.SecretName != "picoclaw-config" {
				t.Errorf("config volume = %+v, want secret picoclaw-config", secret)
			} else if secret.DefaultMode == nil || *secret.DefaultMode != 0o440 {
				t.Errorf("config volume defaultMode = %v, want 0440", secret.DefaultMode)
			}
			if !mountReadOnly(mainContainer.VolumeMounts, "config") {
				t.Error("config volume is not mounted read-only")
			}
		})
	}
}

func envValue(env []corev1.EnvVar, name string) string {
	for _, variable := range env {
		if variable.Name == name {
			return variable.Value
		}
	}
	return ""
}

func mountPath(mounts []corev1.VolumeMount, name string) string {
	for _, mount := range mounts {
		if mount.Name == name {
			return mount.MountPath
		}
	}
	return ""
}

func mountReadOnly(mounts []corev1.VolumeMount, name string) bool {
	for _, mount := range mounts {
		if mount.Name == name {
			return mount.ReadOnly
		}
	}
	return false
}

func volumeNamed(volumes []corev1.Volume, name string) corev1.Volume {
	for _, volume := range volumes {
		if volume.Name == name {
			return volume
		}
	}
	return corev1.Volume{Name: name}
}

func TestGatewayContainer(t *testing.T) {
	objects := render(t, minimalValues())
	deployment := decode[appsv1.Deployment](t, objects, "Deployment/picoclaw-gateway")
	gateway := deployment.Spec.Template.Spec.Containers[0]

	if !slices.Equal(gateway.Args, []string{"gateway"}) {
		t.Errorf("args = %v, want [gateway]", gateway.Args)
	}
	if len(gateway.Ports) != 1 || gateway.Ports[0].Name != "http" || gateway.Ports[0].ContainerPort != gatewayPort {
		t.Errorf("ports = %+v, want one port http on %d", gateway.Ports, gatewayPort)
	}
	if got := envValue(gateway.Env, "PICOCLAW_GATEWAY_HOST"); got != "0.0.0.0" {
		t.Errorf("env PICOCLAW_GATEWAY_HOST = %q, want 0.0.0.0", got)
	}
	if got := envValue(gateway.Env, "PICOCLAW_GATEWAY_PORT"); got != "18790" {
		t.Errorf("env PICOCLAW_GATEWAY_PORT = %q, want 18790", got)
	}

	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{name: "liveness", probe: gateway.LivenessProbe, path: "/health"},
		{name: "readiness", probe: gateway.ReadinessProbe, path: "/ready"},
	}
	for _, tt := range probes {
		t.Run(tt.name, func(t *testing.T) {
			if tt.probe == nil || tt.probe.HTTPGet == nil {
				t.Fatalf("%s probe is not an httpGet probe", tt.name)
			}
			if tt.probe.HTTPGet.Path != tt.path {
				t.Errorf("path = %q, want %q", tt.probe.HTTPGet.Path, tt.path)
			}
			if got := resolvePort(gateway, tt.probe.HTTPGet.Port.String()); got != gatewayPort {
				t.Errorf("port %q resolves to %d, want %d", tt.probe.HTTPGet.Port.String(), got, gatewayPort)
			}
		})
	}
}

// resolvePort returns the container port that a probe's port (a number or a
// port name) refers to.
func resolvePort(container corev1.Container, port string) int32 {
	for _, declared := range container.Ports {
		if declared.Name == port {
			return declared.ContainerPort
		}
	}
	var number int32
	if err := json.Unmarshal([]byte(port), &number); err != nil {
		return 0
	}
	return number
}

func TestAgentContainer(t *testing.T) {
	objects := render(t, minimalValues())
	deployment := decode[appsv1.Deployment](t, objects, "Deployment/picoclaw-agent")
	agent := deployment.Spec.Template.Spec.Containers[0]

	if !slices.Equal(agent.Args, []string{"agent"}) {
		t.Errorf("args = %v, want [agent]", agent.Args)
	}
	if !agent.Stdin {
		t.Error("stdin is false")
	}
	if !agent.TTY {
		t.Error("tty is false")
	}
}

func TestImageReference(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name string
		tag  string
		want string
	}{
		{name: "tag", tag: "v0.2.0", want: "docker.io/sipeed/picoclaw:v0.2.0"},
		{name: "digest", tag: digest, want: "docker.io/sipeed/picoclaw@" + digest},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objects := render(t, withValue(minimalValues(), "image.tag", tt.tag))
			pod := decode[appsv1.Deployment](t, objects, "Deployment/picoclaw-gateway").Spec.Template.Spec

			for _, container := range slices.Concat(pod.InitContainers, pod.Containers) {
				if container.Image != tt.want {
					t.Errorf("container %s image = %q, want %q", container.Name, container.Image, tt.want)
				}
			}
		})
	}
}

func TestInitContainerInstallsConfig(t *testing.T) {
	values := fullValues()
	objects := render(t, values)
	tests := []struct {
		key       string
		resources string
	}{
		{key: "Deployment/picoclaw-gateway", resources: "gateway"},
		{key: "Deployment/picoclaw-agent", resources: "agent"},
	}

	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			pod := decode[appsv1.Deployment](t, objects, tt.key).Spec.Template.Spec
			if len(pod.InitContainers) != 1 {
				t.Fatalf("pod has %d init containers, want 1", len(pod.InitContainers))
			}
			initContainer := pod.InitContainers[0]
			script := strings.Join(initContainer.Command, " ")

			if initContainer.Name != "install-config" {
				t.Errorf("init container name = %q, want install-config", initContainer.Name)
			}
			if !slices.Equal(initContainer.Command[:2], []string{"sh", "-c"}) {
				t.Errorf("command = %v, want sh -c <script>", initContainer.Command)
			}
			if !strings.Contains(script, `cp /etc/picoclaw/config.json "$HOME/.picoclaw/config.json"`) {
				t.Errorf("script does not copy config.json into $HOME/.picoclaw: %s", script)
			}
			if !strings.Contains(script, `chmod 0600 "$HOME/.picoclaw/config.json"`) {
				t.Errorf("script does not set mode 0600: %s", script)
			}
			if got := envValue(initContainer.Env, "HOME"); got != "/home/picoclaw" {
				t.Errorf("env HOME = %q, want /home/picoclaw", got)
			}
			if got := mountPath(initContainer.VolumeMounts, "home"); got != "/home/picoclaw" {
				t.Errorf("home mounted at %q, want /home/picoclaw", got)
			}
			if !reflect.DeepEqual(initContainer.Resources, pod.Containers[0].Resources) {
				t.Errorf("init resources = %+v, want the main container's %+v", initContainer.Resources, pod.Containers[0].Resources)
			}
			assertResources(t, pod.Containers[0].Resources, values[tt.resources].(map[string]any)["resources"].(map[string]any))
		})
	}
}

// assertResources compares requirements with the "limits" and "requests"
// maps of cpu and memory quantities from values.
func assertResources(t *testing.T, got corev1.ResourceRequirements, want map[string]any) {
	t.Helper()

	for _, kind := range []string{"limits", "requests"} {
		list := got.Limits
		if kind == "requests" {
			list = got.Requests
		}
		for name, quantity := range want[kind].(map[string]any) {
			wantQuantity := resource.MustParse(quantity.(string))
			gotQuantity := list[corev1.ResourceName(name)]
			if gotQuantity.Cmp(wantQuantity) != 0 {
				t.Errorf("%s.%s = %s, want %s", kind, name, gotQuantity.String(), wantQuantity.String())
			}
		}
	}
}

func TestAgentAffinityFollowsAccessMode(t *testing.T) {
	tests := []struct {
		accessMode   string
		wantAffinity bool
	}{
		{accessMode: "ReadWriteOnce", wantAffinity: true},
		{accessMode: "ReadWriteMany", wantAffinity: false},
	}

	for _, tt := range tests {
		t.Run(tt.accessMode, func(t *testing.T) {
			objects := render(t, withValue(fullValues(), "workspace.accessMode", tt.accessMode))
			affinity := decode[appsv1.Deployment](t, objects, "Deployment/picoclaw-agent").Spec.Template.Spec.Affinity

			if !tt.wantAffinity {
				if affinity != nil {
					t.Errorf("affinity = %+v, want none", affinity)
				}
				return
			}
			if affinity == nil || affinity.PodAffinity == nil {
				t.Fatal("agent has no pod affinity")
			}
			terms := affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution
			if len(terms) != 1 {
				t.Fatalf("required pod affinity terms = %d, want 1", len(terms))
			}
			if terms[0].TopologyKey != "kubernetes.io/hostname" {
				t.Errorf("topologyKey = %q, want kubernetes.io/hostname", terms[0].TopologyKey)
			}
			wantSelector := map[string]string{
				"app.kubernetes.io/name":      "picoclaw",
				"app.kubernetes.io/instance":  testRelease,
				"app.kubernetes.io/component": "gateway",
			}
			if terms[0].LabelSelector == nil || !maps.Equal(terms[0].LabelSelector.MatchLabels, wantSelector) {
				t.Errorf("labelSelector = %+v, want matchLabels %v", terms[0].LabelSelector, wantSelector)
			}
		})
	}
}

func TestGatewayPrefersAgentNode(t *testing.T) {
	tests := []struct {
		name           string
		values         map[string]any
		wantPreference bool
	}{
		{name: "ReadWriteOnce with agent", values: fullValues(), wantPreference: true},
		{name: "ReadWriteMany with agent", values: withValue(fullValues(), "workspace.accessMode", "ReadWriteMany"), wantPreference: false},
		{name: "ReadWriteOnce without agent", values: withValue(fullValues(), "agent.enabled", false), wantPreference: false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objects := render(t, tt.values)
			affinity := decode[appsv1.Deployment](t, objects, "Deployment/picoclaw-gateway").Spec.Template.Spec.Affinity

			if !tt.wantPreference {
				if affinity != nil {
					t.Errorf("affinity = %+v, want none", affinity)
				}
				return
			}
			if affinity == nil || affinity.PodAffinity == nil {
				t.Fatal("gateway has no pod affinity")
			}
			if len(affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 0 {
				t.Error("gateway requires the agent's node, which deadlocks the first install")
			}
			terms := affinity.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution
			if len(terms) != 1 {
				t.Fatalf("preferred pod affinity terms = %d, want 1", len(terms))
			}
			if terms[0].PodAffinityTerm.TopologyKey != "kubernetes.io/hostname" {
				t.Errorf("topologyKey = %q, want kubernetes.io/hostname", terms[0].PodAffinityTerm.TopologyKey)
			}
			selector := terms[0].PodAffinityTerm.LabelSelector
			if selector == nil || selector.MatchLabels["app.kubernetes.io/component"] != "agent" {
				t.Errorf("labelSelector = %+v, want the agent pods", selector)
			}
			if selector != nil && selector.MatchLabels["app.kubernetes.io/instance"] != testRelease {
				t.Errorf("labelSelector instance = %q, want %q", selector.MatchLabels["app.kubernetes.io/instance"], testRelease)
			}
		})
	}
}

func TestWorkspaceClaim(t *testing.T) {
	tests := []struct {
		name             string
		values           map[string]any
		wantStorageClass *string
		wantSize         string
		wantAccessMode   corev1.PersistentVolumeAccessMode
	}{
		{name: "cluster default class", values: minimalValues(), wantStorageClass: nil, wantSize: "500Mi", wantAccessMode: corev1.ReadWriteOnce},
		{name: "named class", values: fullValues(), wantStorageClass: new("fast-ssd"), wantSize: "2Gi", wantAccessMode: corev1.ReadWriteOnce},
		{
			name:             "shared access mode",
			values:           withValue(fullValues(), "workspace.accessMode", "ReadWriteMany"),
			wantStorageClass: new("fast-ssd"),
			wantSize:         "2Gi",
			wantAccessMode:   corev1.ReadWriteMany,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claim := decode[corev1.PersistentVolumeClaim](t, render(t, tt.values), "PersistentVolumeClaim/picoclaw-workspace")

			if !reflect.DeepEqual(claim.Spec.StorageClassName, tt.wantStorageClass) {
				t.Errorf("storageClassName = %v, want %v", stringOrOmitted(claim.Spec.StorageClassName), stringOrOmitted(tt.wantStorageClass))
			}
			if got := claim.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse(tt.wantSize)) != 0 {
				t.Errorf("storage request = %s, want %s", got.String(), tt.wantSize)
			}
			if !slices.Equal(claim.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{tt.wantAccessMode}) {
				t.Errorf("accessModes = %v, want [%s]", claim.Spec.AccessModes, tt.wantAccessMode)
			}
		})
	}
}

func stringOrOmitted(value *string) string {
	if value == nil {
		return "<omitted>"
	}
	return *value
}

func TestConfigSecretContainsConfigJSON(t *testing.T) {
	values := minimalValues()
	secret := decode[corev1.Secret](t, render(t, values), "Secret/picoclaw-config")

	var got map[string]any
	if err := json.Unmarshal(secret.Data["config.json"], &got); err != nil {
		t.Fatalf("config.json is not JSON: %v", err)
	}
	wantJSON, err := json.Marshal(values["config"])
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(wantJSON, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config.json = %v, want %v", got, want)
	}
}

func podChecksums(t *testing.T, values map[string]any) map[string]string {
	t.Helper()

	objects := render(t, values)
	checksums := map[string]string{}
	for _, key := range []string{"Deployment/picoclaw-gateway", "Deployment/picoclaw-agent"} {
		deployment := decode[appsv1.Deployment](t, objects, key)
		checksums[key] = deployment.Spec.Template.Annotations["checksum/config"]
	}
	return checksums
}

func TestConfigChecksumAnnotation(t *testing.T) {
	base := podChecksums(t, minimalValues())
	tests := []struct {
		name       string
		values     map[string]any
		wantChange bool
	}{
		{name: "same values", values: minimalValues(), wantChange: false},
		{name: "display name changed", values: withValue(minimalValues(), "tenant.displayName", "ACME Corporation"), wantChange: false},
		{name: "image tag changed", values: withValue(minimalValues(), "image.tag", "v0.2.0"), wantChange: false},
		{name: "model changed", values: withValue(minimalValues(), "config", tenantConfig("MiniMax-M2.7")), wantChange: true},
		{name: "channel token changed", values: withValue(minimalValues(), "config.channels.telegram.token", "rotated-token"), wantChange: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := podChecksums(t, tt.values)

			for key, checksum := range got {
				if checksum == "" {
					t.Errorf("%s has no checksum/config annotation", key)
					continue
				}
				if changed := checksum != base[key]; changed != tt.wantChange {
					t.Errorf("%s checksum changed = %v, want %v", key, changed, tt.wantChange)
				}
			}
		})
	}
}

func TestConfigChecksumMatchesSecret(t *testing.T) {
	objects := render(t, minimalValues())
	secret := decode[corev1.Secret](t, objects, "Secret/picoclaw-config")
	sum := sha256.Sum256(secret.Data["config.json"])
	want := hex.EncodeToString(sum[:])

	for _, key := range []string{"Deployment/picoclaw-gateway", "Deployment/picoclaw-agent"} {
		deployment := decode[appsv1.Deployment](t, objects, key)
		if got := deployment.Spec.Template.Annotations["checksum/config"]; got != want {
			t.Errorf("%s checksum/config = %q, want sha256 of config.json %q", key, got, want)
		}
	}
}

func TestServiceTargetsGateway(t *testing.T) {
	service := decode[corev1.Service](t, render(t, minimalValues()), "Service/picoclaw-gateway")

	if service.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("type = %q, want ClusterIP", service.Spec.Type)
	}
	if len(service.Spec.Ports) != 1 {
		t.Fatalf("ports = %+v, want one", service.Spec.Ports)
	}
	if service.Spec.Ports[0].Port != gatewayPort {
		t.Errorf("port = %d, want %d", service.Spec.Ports[0].Port, gatewayPort)
	}
	if service.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("targetPort = %q, want http", service.Spec.Ports[0].TargetPort.String())
	}
	if got := service.Spec.Selector["app.kubernetes.io/component"]; got != "gateway" {
		t.Errorf("selector component = %q, want gateway", got)
	}
	if got := service.Spec.Selector["app.kubernetes.io/instance"]; got != testRelease {
		t.Errorf("selector instance = %q, want %q", got, testRelease)
	}
}

func TestServiceAccountHasNoToken(t *testing.T) {
	account := decode[corev1.ServiceAccount](t, render(t, minimalValues()), "ServiceAccount/picoclaw")

	if account.AutomountServiceAccountToken == nil || *account.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken is not false")
	}
}

func TestOperatorRoleRules(t *testing.T) {
	role := decode[rbacv1.Role](t, render(t, minimalValues()), "Role/picoclaw-tenant-operator")
	tests := []struct {
		group    string
		resource string
		verb     string
		allowed  bool
	}{
		{group: "", resource: "pods", verb: "list", allowed: true},
		{group: "", resource: "pods/log", verb: "get", allowed: true},
		{group: "", resource: "events", verb: "list", allowed: true},
		{group: "events.k8s.io", resource: "events", verb: "list", allowed: true},
		{group: "", resource: "services", verb: "get", allowed: true},
		{group: "", resource: "persistentvolumeclaims", verb: "get", allowed: true},
		{group: "apps", resource: "deployments", verb: "watch", allowed: true},
		{group: "apps", resource: "replicasets", verb: "list", allowed: true},
		{group: "apps", resource: "deployments", verb: "patch", allowed: true},
		{group: "", resource: "pods/attach", verb: "create", allowed: true},
		{group: "", resource: "pods/attach", verb: "get", allowed: true},
		{group: "", resource: "pods/exec", verb: "create", allowed: false},
		{group: "", resource: "secrets", verb: "get", allowed: false},
		{group: "", resource: "pods", verb: "delete", allowed: false},
		{group: "apps", resource: "deployments", verb: "update", allowed: false},
		{group: "apps", resource: "deployments", verb: "delete", allowed: false},
	}

	for _, tt := range tests {
		t.Run(tt.verb+" "+tt.group+"/"+tt.resource, func(t *testing.T) {
			if got := roleAllows(role.Rules, tt.group, tt.resource, tt.verb); got != tt.allowed {
				t.Errorf("allowed = %v, want %v", got, tt.allowed)
			}
		})
	}
}

func roleAllows(rules []rbacv1.PolicyRule, group, resourceName, verb string) bool {
	for _, rule := range rules {
		if slices.Contains(rule.APIGroups, group) && slices.Contains(rule.Resources, resourceName) && slices.Contains(rule.Verbs, verb) {
			return true
		}
	}
	return false
}

func TestOperatorRoleBindingSubjects(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{name: "tenant group only", values: minimalValues(), want: []string{"picoclaw:tenant:acme:operators"}},
		{name: "extra operator groups", values: fullValues(), want: []string{"picoclaw:tenant:acme:operators", "acme-admins", "oncall"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			binding := decode[rbacv1.RoleBinding](t, render(t, tt.values), "RoleBinding/picoclaw-tenant-operator")

			if binding.RoleRef.Kind != "Role" || binding.RoleRef.Name != "picoclaw-tenant-operator" {
				t.Errorf("roleRef = %+v, want Role picoclaw-tenant-operator", binding.RoleRef)
			}
			var groups []string
			for _, subject := range binding.Subjects {
				if subject.Kind != rbacv1.GroupKind {
					t.Errorf("subject %s has kind %q, want Group", subject.Name, subject.Kind)
				}
				groups = append(groups, subject.Name)
			}
			if !slices.Equal(groups, tt.want) {
				t.Errorf("groups = %v, want %v", groups, tt.want)
			}
		})
	}
}

func TestNetworkPolicyIsolatesTenant(t *testing.T) {
	policy := decode[networkingv1.NetworkPolicy](t, render(t, fullValues()), "NetworkPolicy/picoclaw-isolation")
	spec := policy.Spec

	if len(spec.PodSelector.MatchLabels) != 0 || len(spec.PodSelector.MatchExpressions) != 0 {
		t.Errorf("podSelector = %+v, want {} (every pod)", spec.PodSelector)
	}
	wantTypes := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	if !slices.Equal(spec.PolicyTypes, wantTypes) {
		t.Errorf("policyTypes = %v, want %v", spec.PolicyTypes, wantTypes)
	}
	if len(spec.Egress) != 1 || len(spec.Egress[0].To) != 0 || len(spec.Egress[0].Ports) != 0 {
		t.Errorf("egress = %+v, want one rule allowing everything", spec.Egress)
	}
	if len(spec.Ingress) != 1 {
		t.Fatalf("ingress rules = %d, want 1", len(spec.Ingress))
	}

	ingress := spec.Ingress[0]
	var namespaces []string
	for _, peer := range ingress.From {
		if peer.PodSelector != nil || peer.IPBlock != nil || peer.NamespaceSelector == nil {
			t.Errorf("peer %+v is not a plain namespaceSelector", peer)
			continue
		}
		namespaces = append(namespaces, peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
	}
	if want := []string{testNamespace, "platform"}; !slices.Equal(namespaces, want) {
		t.Errorf("ingress namespaces = %v, want %v", namespaces, want)
	}
	if len(ingress.Ports) != 1 || ingress.Ports[0].Port == nil || ingress.Ports[0].Port.IntValue() != gatewayPort {
		t.Errorf("ingress ports = %+v, want TCP %d only", ingress.Ports, gatewayPort)
	}
	if len(ingress.Ports) == 1 && (ingress.Ports[0].Protocol == nil || *ingress.Ports[0].Protocol != corev1.ProtocolTCP) {
		t.Errorf("ingress protocol = %v, want TCP", ingress.Ports[0].Protocol)
	}
}

func TestResourceQuotaCopiesValues(t *testing.T) {
	values := fullValues()
	quota := decode[corev1.ResourceQuota](t, render(t, values), "ResourceQuota/picoclaw-quota")
	want := values["quota"].(map[string]any)

	if len(quota.Spec.Hard) != len(want) {
		t.Errorf("hard has %d entries, want %d", len(quota.Spec.Hard), len(want))
	}
	for name, quantity := range want {
		got := quota.Spec.Hard[corev1.ResourceName(name)]
		if got.Cmp(resource.MustParse(quantity.(string))) != 0 {
			t.Errorf("hard[%s] = %s, want %s", name, got.String(), quantity)
		}
	}
}

func TestLimitRangeCopiesValues(t *testing.T) {
	values := fullValues()
	limitRange := decode[corev1.LimitRange](t, render(t, values), "LimitRange/picoclaw-limits")
	want := values["limitRange"].(map[string]any)

	if len(limitRange.Spec.Limits) != 1 {
		t.Fatalf("limits = %d items, want 1", len(limitRange.Spec.Limits))
	}
	item := limitRange.Spec.Limits[0]
	if item.Type != corev1.LimitTypeContainer {
		t.Errorf("type = %q, want Container", item.Type)
	}
	lists := map[string]corev1.ResourceList{"default": item.Default, "defaultRequest": item.DefaultRequest, "max": item.Max}
	for field, list := range lists {
		for name, quantity := range want[field].(map[string]any) {
			got := list[corev1.ResourceName(name)]
			if got.Cmp(resource.MustParse(quantity.(string))) != 0 {
				t.Errorf("%s.%s = %s, want %s", field, name, got.String(), quantity)
			}
		}
	}
}

// validValuesFile is a values file that passes the schema. Each case in
// TestSchemaRejectsBadValues layers one bad file on top of it, as
// `helm install -f valid.yaml -f bad.yaml` does. A null there deletes a key
// that values.yaml defines and stays null otherwise.
const validValuesFile = `
tenant:
  id: acme
  displayName: ACME Corp
config:
  providers:
    anthropic: {api_key: sk-test-0000}
  agents:
    defaults: {provider: anthropic, model: MiniMax-M2.5}
  channels:
    telegram: {enabled: true, token: test-telegram-token}
  gateway: {host: 0.0.0.0, port: 18790}
`

func parseValuesFile(t *testing.T, content string) map[string]any {
	t.Helper()

	values, err := loader.LoadValues(strings.NewReader(content))
	if err != nil {
		t.Fatalf("parse values file: %v\n%s", err, content)
	}
	return values
}

func TestSchemaAcceptsValidValuesFile(t *testing.T) {
	if _, err := renderManifest(t, parseValuesFile(t, validValuesFile)); err != nil {
		t.Errorf("render error = %v", err)
	}
}

func TestSchemaRejectsBadValues(t *testing.T) {
	tests := []struct {
		name string
		file string
		// replaceKeys makes the file's top-level keys replace those of the
		// valid file instead of merging into them, to leave a key out.
		replaceKeys bool
		wantPath    string
		wantText    string
	}{
		{name: "uppercase tenant id", file: "tenant: {id: Acme}", wantPath: "/tenant/id", wantText: "does not match pattern"},
		{name: "tenant id trailing hyphen", file: "tenant: {id: acme-}", wantPath: "/tenant/id", wantText: "does not match pattern"},
		{name: "tenant id too long", file: "tenant: {id: " + strings.Repeat("a", 48) + "}", wantPath: "/tenant/id", wantText: "maxLength"},
		{name: "missing display name", file: "tenant: {displayName: null}", wantPath: "/tenant", wantText: "missing property 'displayName'"},
		{name: "empty display name", file: `tenant: {displayName: ""}`, wantPath: "/tenant/displayName", wantText: "minLength"},
		{name: "negative cpu limit", file: "agent: {resources: {limits: {cpu: '-500m'}}}", wantPath: "/agent/resources/limits/cpu", wantText: "does not match pattern"},
		{name: "lots as memory", file: "gateway: {resources: {requests: {memory: lots}}}", wantPath: "/gateway/resources/requests/memory", wantText: "does not match pattern"},
		{name: "negative workspace size", file: "workspace: {size: '-1Gi'}", wantPath: "/workspace/size", wantText: "does not match pattern"},
		{name: "quantity as number", file: "quota: {limits.cpu: 2}", wantPath: "/quota/limits.cpu", wantText: "want string"},
		{name: "pods count not integer", file: "quota: {pods: '4.5'}", wantPath: "/quota/pods", wantText: "does not match pattern"},
		{name: "unknown quota key", file: "quota: {services: '2'}", wantPath: "/quota", wantText: "additional properties 'services' not allowed"},
		{name: "port zero", file: "gateway: {port: 0}", wantPath: "/gateway/port", wantText: "minimum"},
		{name: "port above range", file: "gateway: {port: 65536}", wantPath: "/gateway/port", wantText: "maximum"},
		{name: "port as string", file: "gateway: {port: '18790'}", wantPath: "/gateway/port", wantText: "want integer"},
		{name: "bogus access mode", file: "workspace: {accessMode: bogus}", wantPath: "/workspace/accessMode", wantText: "value must be one of"},
		{name: "invalid storage class", file: "workspace: {storageClassName: Fast_SSD}", wantPath: "/workspace/storageClassName", wantText: "does not match pattern"},
		{name: "agent enabled yes", file: "agent: {enabled: 'yes'}", wantPath: "/agent/enabled", wantText: "want boolean"},
		{name: "unknown top-level key", file: "replicas: 2", wantPath: "at ''", wantText: "additional properties 'replicas' not allowed"},
		{name: "unknown nested key", file: "image: {registry: ghcr.io}", wantPath: "/image", wantText: "additional properties 'registry' not allowed"},
		{name: "config providers null", file: "config: {providers: null}", wantPath: "/config/providers", wantText: "want object"},
		{
			name:        "config missing providers",
			file:        "config: {agents: {}, channels: {}, gateway: {port: 18790}}",
			replaceKeys: true,
			wantPath:    "/config",
			wantText:    "missing property 'providers'",
		},
		{
			name:        "config missing gateway",
			file:        "config: {providers: {anthropic: {}}, agents: {}, channels: {}}",
			replaceKeys: true,
			wantPath:    "/config",
			wantText:    "missing property 'gateway'",
		},
		{name: "config channels not object", file: "config: {channels: [telegram]}", wantPath: "/config/channels", wantText: "want object"},
		{name: "image tag number", file: "image: {tag: 5}", wantPath: "/image/tag", wantText: "want string"},
		{name: "bogus pull policy", file: "image: {pullPolicy: Sometimes}", wantPath: "/image/pullPolicy", wantText: "value must be one of"},
		{name: "manager namespace empty", file: `manager: {namespace: ""}`, wantPath: "/manager/namespace", wantText: "minLength"},
		{name: "operator group empty", file: `rbac: {operatorGroups: [""]}`, wantPath: "/rbac/operatorGroups/0", wantText: "minLength"},
		{name: "operator groups not list", file: "rbac: {operatorGroups: admins}", wantPath: "/rbac/operatorGroups", wantText: "want array"},
		{name: "limit range min key", file: "limitRange: {min: {cpu: 1m, memory: 1Mi}}", wantPath: "/limitRange", wantText: "additional properties 'min' not allowed"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := parseValuesFile(t, validValuesFile)
			if tt.replaceKeys {
				maps.Copy(values, parseValuesFile(t, tt.file))
			} else {
				values = loader.MergeMaps(values, parseValuesFile(t, tt.file))
			}

			_, err := renderManifest(t, values)

			if err == nil {
				t.Fatal("render error = nil, want a schema error")
			}
			message := err.Error()
			if !strings.Contains(message, "values don't meet the specifications of the schema") {
				t.Errorf("error is not a schema error: %v", err)
			}
			if !strings.Contains(message, tt.wantPath) {
				t.Errorf("error does not name %s: %v", tt.wantPath, err)
			}
			if !strings.Contains(message, tt.wantText) {
				t.Errorf("error does not say %q: %v", tt.wantText, err)
			}
		})
	}
}

func TestTemplateRejectsInconsistentValues(t *testing.T) {
	tests := []struct {
		name     string
		values   map[string]any
		wantText string
	}{
		{
			name:     "config port differs",
			values:   withValue(minimalValues(), "config.gateway.port", 8080),
			wantText: "config.gateway.port 8080 differs from gateway.port 18790",
		},
		{
			name:     "single-pod workspace with agent",
			values:   withValue(minimalValues(), "workspace.accessMode", "ReadWriteOncePod"),
			wantText: "ReadWriteOncePod lets only one pod mount the workspace",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderManifest(t, tt.values)

			if err == nil {
				t.Fatal("render error = nil, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error does not say %q: %v", tt.wantText, err)
			}
		})
	}
}

func TestChartPassesStrictLint(t *testing.T) {
	lint := action.NewLint()
	lint.Strict = true
	lint.Namespace = testNamespace

	result := lint.Run([]string{"picoclaw-tenant"}, fullValues())

	if result.TotalChartsLinted != 1 {
		t.Errorf("charts linted = %d, want 1", result.TotalChartsLinted)
	}
	for _, err := range result.Errors {
		t.Errorf("lint error: %v", err)
	}
	for _, message := range result.Messages {
		t.Logf("lint: %s", message)
	}
}
