package tenant

import (
	"encoding/json"
	"strings"
	"testing"
)

// exampleRequest is the create request of the API documentation.
const exampleRequest = `{"tenant_id": "acme", "display_name": "ACME Corp",
 "providers": {"anthropic": {"api_key": "sk-ant-0123456789abcdef9f2c", "api_base": "https://api.minimax.io/v1"}},
 "agents": {"defaults": {"provider": "anthropic", "model": "MiniMax-M2.5", "max_tokens": 200000, "temperature": 0.7}},
 "channels": {"telegram": {"enabled": true, "token": "123456:telegram-token", "allow_from": [123456]}},
 "resources": {"agent_cpu": "500m", "agent_memory": "1Gi", "gateway_cpu": "250m", "gateway_memory": "512Mi", "workspace_size": "500Mi"}}`

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return doc
}

func TestParseCreateExample(t *testing.T) {
	spec, err := ParseCreate(decode(t, exampleRequest))
	if err != nil {
		t.Fatal(err)
	}
	if spec.ID != "acme" || spec.DisplayName != "ACME Corp" {
		t.Errorf("id, display name = %q, %q", spec.ID, spec.DisplayName)
	}
	defaults := spec.Sections.Agents["defaults"].(map[string]any)
	if defaults["max_tokens"] != int64(200000) {
		t.Errorf("max_tokens = %#v, want int64 200000", defaults["max_tokens"])
	}
	if defaults["temperature"] != 0.7 {
		t.Errorf("temperature = %#v, want 0.7", defaults["temperature"])
	}
	allow := spec.Sections.Channels["telegram"].(map[string]any)["allow_from"].([]any)
	if allow[0] != int64(123456) {
		t.Errorf("allow_from[0] = %#v, want int64 123456", allow[0])
	}
	if spec.Resources.AgentMemory != "1Gi" {
		t.Errorf("agent memory = %q", spec.Resources.AgentMemory)
	}
}

func TestParseCreateDefaultsResources(t *testing.T) {
	doc := decode(t, exampleRequest)
	delete(doc, "resources")
	spec, err := ParseCreate(doc)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Resources != DefaultResources {
		t.Errorf("resources = %+v, want the defaults", spec.Resources)
	}
}

// TestParseCreateRejects checks that each bad request names the failing field.
func TestParseCreateRejects(t *testing.T) {
	tests := []struct {
		name  string
		patch string // merged onto the example request
		field string
	}{
		{"uppercase id", `{"tenant_id": "Acme"}`, "tenant_id"},
		{"underscore in id", `{"tenant_id": "ac_me"}`, "tenant_id"},
		{"id of 48 characters", `{"tenant_id": "` + strings.Repeat("a", 48) + `"}`, "tenant_id"},
		{"trailing hyphen", `{"tenant_id": "acme-"}`, "tenant_id"},
		{"id a number", `{"tenant_id": 7}`, "tenant_id"},
		{"missing id", `{"tenant_id": null}`, "tenant_id"},
		{"missing display name", `{"display_name": null}`, "display_name"},
		{"blank display name", `{"display_name": "  "}`, "display_name"},
		{"missing providers", `{"providers": null}`, "providers"},
		{"providers a list", `{"providers": ["anthropic"]}`, "providers"},
		{"provider without key or base", `{"providers": {"anthropic": {"api_key": null, "api_base": null}}}`, "providers.anthropic"},
		{"provider unknown field", `{"providers": {"anthropic": {"apikey": "x"}}}`, "providers.anthropic.apikey"},
		{"provider bad name", `{"providers": {"Open AI": {"api_key": "x"}}}`, "providers.Open AI"},
		{"missing channels", `{"channels": null}`, "channels"},
		{"unknown channel", `{"channels": {"icq": {"enabled": true}}}`, "channels.icq"},
		{"enabled without token", `{"channels": {"telegram": {"token": null}}}`, "channels.telegram.token"},
		{"enabled a string", `{"channels": {"telegram": {"enabled": "yes"}}}`, "channels.telegram.enabled"},
		{"allow_from not a list", `{"channels": {"telegram": {"allow_from": 5}}}`, "channels.telegram.allow_from"},
		{"redacted token sent back", `{"channels": {"telegram": {"token": "(set)"}}}`, "channels.telegram.token"},
		{"temperature too high", `{"agents": {"defaults": {"temperature": 2.5}}}`, "agents.defaults.temperature"},
		{"temperature a string", `{"agents": {"defaults": {"temperature": "hot"}}}`, "agents.defaults.temperature"},
		{"max_tokens a fraction", `{"agents": {"defaults": {"max_tokens": 1.5}}}`, "agents.defaults.max_tokens"},
		{"provider not configured", `{"agents": {"defaults": {"provider": "openai"}}}`, "agents.defaults.provider"},
		{"workspace set", `{"agents": {"defaults": {"workspace": "/etc"}}}`, "agents.defaults.workspace"},
		{"unknown top-level field", `{"colour": "blue"}`, "colour"},
		{"negative memory", `{"resources": {"agent_memory": "-1Gi"}}`, "resources.agent_memory"},
		{"unparsable cpu", `{"resources": {"agent_cpu": "lots"}}`, "resources.agent_cpu"},
		{"cpu a number", `{"resources": {"gateway_cpu": 1}}`, "resources.gateway_cpu"},
		{"memory in millibytes", `{"resources": {"gateway_memory": "512m"}}`, "resources.gateway_memory"},
		{"unknown resource", `{"resources": {"gpu": "1"}}`, "resources.gpu"},
		{"heartbeat a string", `{"heartbeat": "often"}`, "heartbeat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mergePatch(decode(t, exampleRequest), decode(t, tt.patch))
			_, err := ParseCreate(doc)
			validation, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("error = %v, want a *ValidationError", err)
			}
			if !hasField(validation, tt.field) {
				t.Errorf("fields = %+v, want one for %q", validation.Fields, tt.field)
			}
		})
	}
}

func TestParseCreateListsEveryField(t *testing.T) {
	doc := decode(t, `{"tenant_id": "BAD", "providers": {}, "channels": {}}`)
	_, err := ParseCreate(doc)
	validation, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("error = %v, want a *ValidationError", err)
	}
	for _, field := range []string{"tenant_id", "display_name", "providers", "channels"} {
		if !hasField(validation, field) {
			t.Errorf("fields = %+v, want one for %q", validation.Fields, field)
		}
	}
}

func hasField(err *ValidationError, field string) bool {
	for _, f := range err.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
