package picoclaw

import (
	"maps"
	"strings"
)

const (
	// Home is the writable home directory of the PicoClaw user in the tenant pods.
	Home = "/home/picoclaw"
	// WorkspacePath is where the workspace volume is mounted.
	WorkspacePath = Home + "/.picoclaw/workspace"
	// GatewayHost makes the gateway listen on every interface of the pod,
	// because early PicoClaw versions bound 127.0.0.1 only.
	GatewayHost = "0.0.0.0"
	// GatewayPort is the gateway's HTTP port, serving channels, /health and /ready.
	GatewayPort = 18790
)

// Sections are the parts of config.json that a tenant chooses. Each is the
// JSON object of that section; nil means the section is absent.
type Sections struct {
	Providers map[string]any
	Agents    map[string]any
	Channels  map[string]any
	Heartbeat map[string]any
	Tools     map[string]any
}

// Build returns config.json for the sections: it copies them and forces the
// gateway address and the workspace path, which the chart's mounts depend on.
// It does not validate the sections; the caller does.
func Build(s Sections) map[string]any {
	agents := deepCopy(s.Agents)
	if agents == nil {
		agents = map[string]any{}
	}
	defaults, _ := agents["defaults"].(map[string]any)
	if defaults == nil {
		defaults = map[string]any{}
	}
	defaults["workspace"] = WorkspacePath
	agents["defaults"] = defaults

	config := map[string]any{
		"agents":    agents,
		"providers": deepCopy(s.Providers),
		"channels":  deepCopy(s.Channels),
		"gateway":   map[string]any{"host": GatewayHost, "port": GatewayPort},
	}
	if s.Heartbeat != nil {
		config["heartbeat"] = deepCopy(s.Heartbeat)
	}
	if s.Tools != nil {
		config["tools"] = deepCopy(s.Tools)
	}
	return config
}

// SectionsOf is the inverse of Build: it returns the sections of a config.json
// without the values Build forces.
func SectionsOf(config map[string]any) Sections {
	s := Sections{
		Providers: object(config["providers"]),
		Agents:    object(config["agents"]),
		Channels:  object(config["channels"]),
		Heartbeat: object(config["heartbeat"]),
		Tools:     object(config["tools"]),
	}
	if defaults, ok := s.Agents["defaults"].(map[string]any); ok {
		delete(defaults, "workspace")
		if len(defaults) == 0 {
			delete(s.Agents, "defaults")
		}
	}
	if len(s.Agents) == 0 {
		s.Agents = nil
	}
	return s
}

// Redact returns a copy of config.json with every secret replaced by a
// redacted form, so it can be shown in a response.
func Redact(config map[string]any) map[string]any {
	out := deepCopy(config)
	for _, p := range object(out["providers"]) {
		redactFields(object(p), ProviderFields)
	}
	for name, c := range object(out["channels"]) {
		if known, ok := Channels[name]; ok {
			redactFields(object(c), known.Fields)
		}
	}
	for _, section := range []string{"heartbeat", "tools"} {
		redactByName(out[section])
	}
	return out
}

// secretNameParts mark a key of a pass-through section as secret.
var secretNameParts = []string{"key", "token", "secret", "passw", "auth", "credential", "cookie"}

// redactByName redacts every string under v whose key names a secret, such
// as tools.web.search.api_key, because the manager does not know the
// schema of the sections it passes through.
func redactByName(v any) {
	switch v := v.(type) {
	case map[string]any:
		for key, item := range v {
			if s, ok := item.(string); ok && s != "" && isSecretName(key) {
				v[key] = RedactSecret(key, s)
				continue
			}
			redactByName(item)
		}
	case []any:
		for _, item := range v {
			redactByName(item)
		}
	}
}

func isSecretName(key string) bool {
	key = strings.ToLower(key)
	for _, part := range secretNameParts {
		if strings.Contains(key, part) {
			return true
		}
	}
	return false
}

func redactFields(obj map[string]any, fields map[string]FieldKind) {
	for key, value := range obj {
		if fields[key] != KindSecret {
			continue
		}
		if s, ok := value.(string); ok && s != "" {
			obj[key] = RedactSecret(key, s)
		}
	}
}

// RedactSecret returns a form of a secret that identifies it without revealing
// it. API keys long enough keep their first three and last four characters
// ("sk-...9f2c"), as provider consoles show them; everything else is "(set)".
func RedactSecret(field, secret string) string {
	if field == "api_key" && len(secret) >= 20 {
		return secret[:3] + "..." + secret[len(secret)-4:]
	}
	return "(set)"
}

// IsRedacted reports whether s looks like the output of RedactSecret, so a
// client that sends a redacted value back gets an error instead of storing it.
func IsRedacted(s string) bool {
	return s == "(set)" || (len(s) == 10 && strings.Index(s, "...") == 3)
}

func object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// deepCopy copies a JSON object: nested objects and lists are copied, scalars shared.
func deepCopy(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return deepCopy(v)
	case []any:
		list := make([]any, len(v))
		for i, item := range v {
			list[i] = deepCopyValue(item)
		}
		return list
	}
	return v
}

// Secrets returns every secret value in config.json: the values Redact
// replaces. Callers scrub them from error messages that might echo values.
func Secrets(config map[string]any) []string {
	var out []string
	collectChanged(config, Redact(config), &out)
	return out
}

func collectChanged(original, redacted any, out *[]string) {
	switch o := original.(type) {
	case map[string]any:
		r, _ := redacted.(map[string]any)
		for key, value := range o {
			collectChanged(value, r[key], out)
		}
	case []any:
		r, _ := redacted.([]any)
		for i, value := range o {
			if i < len(r) {
				collectChanged(value, r[i], out)
			}
		}
	case string:
		if o != redacted {
			*out = append(*out, o)
		}
	}
}
