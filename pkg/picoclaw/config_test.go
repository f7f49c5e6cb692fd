package picoclaw

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestBuildForcesGatewayAndWorkspace(t *testing.T) {
	config := Build(Sections{
		Providers: map[string]any{"openai": map[string]any{"api_key": "k"}},
		Agents:    map[string]any{"defaults": map[string]any{"model": "m", "workspace": "/elsewhere"}},
		Channels:  map[string]any{},
	})
	gateway := config["gateway"].(map[string]any)
	if gateway["host"] != GatewayHost || gateway["port"] != GatewayPort {
		t.Errorf("gateway = %v", gateway)
	}
	defaults := config["agents"].(map[string]any)["defaults"].(map[string]any)
	if defaults["workspace"] != WorkspacePath {
		t.Errorf("workspace = %v, want %s", defaults["workspace"], WorkspacePath)
	}
}

func TestSectionsOfDropsForcedValues(t *testing.T) {
	agents := map[string]any{"defaults": map[string]any{"model": "m"}}
	sections := SectionsOf(Build(Sections{Agents: agents}))
	defaults := sections.Agents["defaults"].(map[string]any)
	if _, ok := defaults["workspace"]; ok {
		t.Errorf("workspace kept: %v", defaults)
	}
	if defaults["model"] != "m" {
		t.Errorf("model = %v, want m", defaults["model"])
	}
}

func TestRedactHidesEverySecret(t *testing.T) {
	const key = "sk-proj-0123456789abcdefghij9f2c"
	config := Build(Sections{
		Providers: map[string]any{"openai": map[string]any{"api_key": key, "api_base": "https://example.invalid"}},
		Channels: map[string]any{
			"slack":  map[string]any{"bot_token": "xoxb-secret-1", "app_token": "xapp-secret-2"},
			"feishu": map[string]any{"app_id": "cli_1", "app_secret": "feishu-secret-3"},
		},
		Tools: map[string]any{"web": map[string]any{"search": map[string]any{"api_key": "brave-secret-4", "max_results": 5}}},
	})
	redacted := Redact(config)

	text := stringify(redacted)
	for _, secret := range []string{key, "xoxb-secret-1", "xapp-secret-2", "feishu-secret-3", "brave-secret-4"} {
		if strings.Contains(text, secret) {
			t.Errorf("redacted config contains %q", secret)
		}
	}
	provider := redacted["providers"].(map[string]any)["openai"].(map[string]any)
	if provider["api_key"] != "sk-...9f2c" {
		t.Errorf("api_key = %v, want sk-...9f2c", provider["api_key"])
	}
	if provider["api_base"] != "https://example.invalid" {
		t.Errorf("api_base = %v, want it unchanged", provider["api_base"])
	}
	if !strings.Contains(stringify(config), key) {
		t.Error("Redact changed its argument")
	}
}

func TestIsRedacted(t *testing.T) {
	tests := map[string]bool{"(set)": true, "sk-...9f2c": true, "sk-live-key": false, "abc...defgh": false}
	for s, want := range tests {
		if got := IsRedacted(s); got != want {
			t.Errorf("IsRedacted(%q) = %v, want %v", s, got, want)
		}
	}
}

func stringify(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}

func TestSecretsListsRedactedValues(t *testing.T) {
	config := Build(Sections{
		Providers: map[string]any{"openai": map[string]any{"api_key": "provider-secret", "api_base": "https://example.invalid"}},
		Channels:  map[string]any{"discord": map[string]any{"token": "discord-secret", "enabled": true}},
	})
	got := Secrets(config)
	if len(got) != 2 || !slices.Contains(got, "provider-secret") || !slices.Contains(got, "discord-secret") {
		t.Errorf("Secrets = %v, want exactly the provider key and the discord token", got)
	}
}
