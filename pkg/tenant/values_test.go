package tenant

import (
	"encoding/json"
	"reflect"
	"testing"
)

func exampleSpec(t *testing.T) Spec {
	t.Helper()
	spec, err := ParseCreate(decode(t, exampleRequest))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestValuesComputesRequestsAndQuota(t *testing.T) {
	values := exampleSpec(t).Values(ValuesOptions{Image: "docker.io/sipeed/picoclaw:v1", ManagerNamespace: "picoclaw-system"})

	requests := path(values, "agent", "resources", "requests")
	if requests["cpu"] != "50m" || requests["memory"] != "256Mi" {
		t.Errorf("agent requests = %v, want 50m and 256Mi", requests)
	}
	quota := object(values["quota"])
	want := map[string]any{
		"requests.cpu": "75m", "requests.memory": "384Mi",
		"limits.cpu": "750m", "limits.memory": "1536Mi",
		"requests.storage": "500Mi", "persistentvolumeclaims": "1", "pods": "4",
	}
	if !reflect.DeepEqual(quota, want) {
		t.Errorf("quota = %v, want %v", quota, want)
	}
	if image := object(values["image"]); image["repository"] != "docker.io/sipeed/picoclaw" || image["tag"] != "v1" {
		t.Errorf("image = %v", image)
	}
}

func TestValuesForceGatewayAndWorkspace(t *testing.T) {
	config := object(exampleSpec(t).Values(ValuesOptions{})["config"])
	gateway := object(config["gateway"])
	if gateway["host"] != "0.0.0.0" || gateway["port"] != 18790 {
		t.Errorf("gateway = %v, want 0.0.0.0:18790", gateway)
	}
	if ws := path(config, "agents", "defaults")["workspace"]; ws != "/home/picoclaw/.picoclaw/workspace" {
		t.Errorf("workspace = %v", ws)
	}
}

// TestValuesRoundTrip checks that a spec read back from release values, after
// the JSON round trip of Helm storage, is the spec that wrote them.
func TestValuesRoundTrip(t *testing.T) {
	spec := exampleSpec(t)
	encoded, err := json.Marshal(spec.Values(ValuesOptions{Image: "img:1"}))
	if err != nil {
		t.Fatal(err)
	}
	var stored map[string]any
	if err := json.Unmarshal(encoded, &stored); err != nil {
		t.Fatal(err)
	}

	again, errs := parseDocument(spec.ID, documentFromValues(stored))
	if len(errs) > 0 {
		t.Fatalf("parse stored values: %+v", errs)
	}
	if !reflect.DeepEqual(again, spec) {
		t.Errorf("round trip = %+v\nwant %+v", again, spec)
	}
}

func TestSplitImage(t *testing.T) {
	tests := []struct{ image, repository, tag string }{
		{"docker.io/sipeed/picoclaw:latest", "docker.io/sipeed/picoclaw", "latest"},
		{"localhost:5000/picoclaw", "localhost:5000/picoclaw", "latest"},
		{"localhost:5000/picoclaw:v2", "localhost:5000/picoclaw", "v2"},
		{"picoclaw@sha256:abc", "picoclaw", "sha256:abc"},
	}
	for _, tt := range tests {
		repository, tag := splitImage(tt.image)
		if repository != tt.repository || tag != tt.tag {
			t.Errorf("splitImage(%q) = %q, %q; want %q, %q", tt.image, repository, tag, tt.repository, tt.tag)
		}
	}
}

func TestValuesWithoutAgent(t *testing.T) {
	spec := exampleSpec(t)
	spec.AgentEnabled = false
	values := spec.Values(ValuesOptions{})

	if enabled := object(values["agent"])["enabled"]; enabled != false {
		t.Errorf("agent.enabled = %v, want false", enabled)
	}
	quota := object(values["quota"])
	if quota["limits.cpu"] != "250m" || quota["requests.memory"] != "128Mi" {
		t.Errorf("quota = %v, want the gateway's resources only", quota)
	}
}

func TestAgentEnabledRoundTrip(t *testing.T) {
	doc := decode(t, exampleRequest)
	doc["agent_enabled"] = false
	spec, err := ParseCreate(doc)
	if err != nil {
		t.Fatal(err)
	}
	again, errs := parseDocument(spec.ID, documentFromValues(spec.Values(ValuesOptions{})))
	if len(errs) > 0 || again.AgentEnabled {
		t.Errorf("round trip: agent enabled %v, errors %v; want false", again.AgentEnabled, errs)
	}
}
