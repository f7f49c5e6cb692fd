package tenant

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/picoclaw"
)

// MaxIDLength keeps "picoclaw-tenant-" plus the id within the 63 characters
// of a namespace name.
const MaxIDLength = 63 - len(NamespacePrefix)

// MaxDisplayNameLength bounds display_name in characters.
const MaxDisplayNameLength = 200

var (
	idPattern       = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	providerPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
)

// Spec is a validated tenant: everything needed to render its release.
type Spec struct {
	ID          string
	DisplayName string
	// Sections are the validated parts of config.json, numbers normalized to
	// int64 or float64.
	Sections  picoclaw.Sections
	Resources Resources
	// AgentEnabled runs the interactive `picoclaw agent` Deployment beside
	// the gateway; a tenant that only chats through channels can turn it off.
	AgentEnabled bool
}

// document returns the spec in the shape of an update request, without
// tenant_id: the document that a merge patch applies to.
func (s Spec) document() map[string]any {
	doc := map[string]any{
		"display_name":  s.DisplayName,
		"agent_enabled": s.AgentEnabled,
		"providers":     s.Sections.Providers,
		"channels":      s.Sections.Channels,
		"resources": map[string]any{
			"agent_cpu":      s.Resources.AgentCPU,
			"agent_memory":   s.Resources.AgentMemory,
			"gateway_cpu":    s.Resources.GatewayCPU,
			"gateway_memory": s.Resources.GatewayMemory,
			"workspace_size": s.Resources.WorkspaceSize,
		},
	}
	optional := map[string]map[string]any{
		"agents": s.Sections.Agents, "heartbeat": s.Sections.Heartbeat, "tools": s.Sections.Tools,
	}
	for key, section := range optional {
		if section != nil {
			doc[key] = section
		}
	}
	return doc
}

// ParseCreate checks a create request and returns its spec, with default
// resources for the fields it omits. A request with any invalid field gets a
// *ValidationError listing all of them.
func ParseCreate(doc map[string]any) (Spec, error) {
	var errs fieldErrors
	id := checkID(&errs, doc["tenant_id"])

	spec, docErrs := parseFields(id, doc, append([]string{"tenant_id"}, documentFields...))
	errs = append(errs, docErrs...)
	if err := errs.err(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

func checkID(errs *fieldErrors, v any) string {
	id, ok := v.(string)
	switch {
	case v == nil:
		errs.add("tenant_id", "is required")
	case !ok:
		errs.add("tenant_id", "must be a string")
	case len(id) > MaxIDLength:
		errs.add("tenant_id", "must be at most %d characters, got %d", MaxIDLength, len(id))
	case !idPattern.MatchString(id):
		errs.add("tenant_id", "must consist of lowercase letters, digits and '-', and start and end with a letter or digit (pattern %s)", idPattern)
	}
	return id
}

// documentFields are the top-level fields of a spec document.
var documentFields = []string{"display_name", "providers", "agents", "channels", "heartbeat", "tools", "resources", "agent_enabled"}

// parseDocument checks a spec document: an update request merged onto the
// current spec.
func parseDocument(id string, doc map[string]any) (Spec, fieldErrors) {
	return parseFields(id, doc, documentFields)
}

// parseFields checks the spec fields of doc, whose top level may have only
// the allowed fields.
func parseFields(id string, doc map[string]any, allowed []string) (Spec, fieldErrors) {
	var errs fieldErrors
	rejectUnknown(&errs, "", doc, allowed)

	spec := Spec{ID: id}
	spec.DisplayName = checkDisplayName(&errs, doc["display_name"])
	spec.Sections.Providers = checkProviders(&errs, doc["providers"])
	spec.Sections.Agents = checkAgents(&errs, doc["agents"], spec.Sections.Providers)
	spec.Sections.Channels = checkChannels(&errs, doc["channels"])
	spec.Sections.Heartbeat = checkPassThrough(&errs, "heartbeat", doc["heartbeat"])
	spec.Sections.Tools = checkPassThrough(&errs, "tools", doc["tools"])
	spec.Resources = checkResources(&errs, doc["resources"])
	spec.AgentEnabled = true
	if enabled, ok := checkBool(&errs, "agent_enabled", doc["agent_enabled"]); ok {
		spec.AgentEnabled = enabled
	}
	return spec, errs
}

func rejectUnknown(errs *fieldErrors, path string, obj map[string]any, allowed []string) {
	keys := sortedKeys(obj)
	for _, key := range keys {
		if !slices.Contains(allowed, key) {
			errs.add(join(path, key), "unknown field; known fields are %s", strings.Join(allowed, ", "))
		}
	}
}

func checkDisplayName(errs *fieldErrors, v any) string {
	name, ok := v.(string)
	switch {
	case v == nil:
		errs.add("display_name", "is required")
	case !ok:
		errs.add("display_name", "must be a string")
	case strings.TrimSpace(name) == "":
		errs.add("display_name", "must not be empty")
	case utf8.RuneCountInString(name) > MaxDisplayNameLength:
		errs.add("display_name", "must be at most %d characters", MaxDisplayNameLength)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		errs.add("display_name", "must not contain control characters such as newlines or NUL")
	}
	return strings.TrimSpace(name)
}

// requiredObject returns v as an object, or reports it missing or mistyped.
func requiredObject(errs *fieldErrors, path string, v any) (map[string]any, bool) {
	if v == nil {
		errs.add(path, "is required")
		return nil, false
	}
	return optionalObject(errs, path, v)
}

func optionalObject(errs *fieldErrors, path string, v any) (map[string]any, bool) {
	if v == nil {
		return nil, false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		errs.add(path, "must be an object")
		return nil, false
	}
	return obj, true
}

func checkProviders(errs *fieldErrors, v any) map[string]any {
	providers, ok := requiredObject(errs, "providers", v)
	if !ok {
		return nil
	}
	if len(providers) == 0 {
		errs.add("providers", "must configure at least one provider")
	}
	out := make(map[string]any, len(providers))
	for _, name := range sortedKeys(providers) {
		path := "providers." + name
		if !providerPattern.MatchString(name) {
			errs.add(path, "provider names must match %s", providerPattern)
			continue
		}
		provider, ok := requiredObject(errs, path, providers[name])
		if !ok {
			continue
		}
		fields := checkFields(errs, path, provider, picoclaw.ProviderFields)
		if fields["api_key"] == nil && fields["api_base"] == nil {
			errs.add(path, "must set api_key, api_base or both")
		}
		out[name] = fields
	}
	return out
}

// agentDefaultFields are the fields of agents.defaults a tenant may set.
// The workspace path is not among them: the manager sets it to the volume.
var agentDefaultFields = []string{"provider", "model", "max_tokens", "temperature", "restrict_to_workspace", "max_tool_iterations"}

func checkAgents(errs *fieldErrors, v any, providers map[string]any) map[string]any {
	agents, ok := optionalObject(errs, "agents", v)
	if !ok {
		return nil
	}
	rejectUnknown(errs, "agents", agents, []string{"defaults"})
	defaults, ok := optionalObject(errs, "agents.defaults", agents["defaults"])
	if !ok {
		return map[string]any{}
	}
	if _, set := defaults["workspace"]; set {
		errs.add("agents.defaults.workspace", "is set by the manager to the tenant's workspace volume and cannot be changed")
		defaults = withoutKey(defaults, "workspace")
	}
	rejectUnknown(errs, "agents.defaults", defaults, agentDefaultFields)

	out := map[string]any{}
	if name, ok := checkString(errs, "agents.defaults.provider", defaults["provider"]); ok {
		if _, configured := providers[name]; !configured && providers != nil {
			errs.add("agents.defaults.provider", "names provider %q, which is not configured in providers", name)
		}
		out["provider"] = name
	}
	if model, ok := checkString(errs, "agents.defaults.model", defaults["model"]); ok {
		out["model"] = model
	}
	if n, ok := checkInt(errs, "agents.defaults.max_tokens", defaults["max_tokens"], 1, 10_000_000); ok {
		out["max_tokens"] = n
	}
	if n, ok := checkInt(errs, "agents.defaults.max_tool_iterations", defaults["max_tool_iterations"], 1, 10_000); ok {
		out["max_tool_iterations"] = n
	}
	if t, ok := checkNumber(errs, "agents.defaults.temperature", defaults["temperature"], 0, 2); ok {
		out["temperature"] = t
	}
	if b, ok := checkBool(errs, "agents.defaults.restrict_to_workspace", defaults["restrict_to_workspace"]); ok {
		out["restrict_to_workspace"] = b
	}
	return map[string]any{"defaults": out}
}

func checkChannels(errs *fieldErrors, v any) map[string]any {
	channels, ok := requiredObject(errs, "channels", v)
	if !ok {
		return nil
	}
	if len(channels) == 0 {
		errs.add("channels", "must configure at least one channel, one of %s", strings.Join(picoclaw.ChannelNames(), ", "))
	}
	out := make(map[string]any, len(channels))
	for _, name := range sortedKeys(channels) {
		path := "channels." + name
		known, ok := picoclaw.Channels[name]
		if !ok {
			errs.add(path, "unknown channel; known channels are %s", strings.Join(picoclaw.ChannelNames(), ", "))
			continue
		}
		channel, ok := requiredObject(errs, path, channels[name])
		if !ok {
			continue
		}
		fields := checkFields(errs, path, channel, known.Fields)
		if enabled, _ := fields["enabled"].(bool); enabled {
			for _, required := range known.Required {
				if fields[required] == nil {
					errs.add(join(path, required), "is required when the channel is enabled")
				}
			}
		}
		out[name] = fields
	}
	return out
}

// checkFields checks each field of obj against its kind and returns the
// valid fields, normalized.
func checkFields(errs *fieldErrors, path string, obj map[string]any, kinds map[string]picoclaw.FieldKind) map[string]any {
	allowed := make([]string, 0, len(kinds))
	for name := range kinds {
		allowed = append(allowed, name)
	}
	sort.Strings(allowed)
	rejectUnknown(errs, path, obj, allowed)

	out := map[string]any{}
	for _, name := range sortedKeys(obj) {
		kind, known := kinds[name]
		if !known {
			continue
		}
		if value, ok := checkKind(errs, join(path, name), obj[name], kind); ok {
			out[name] = value
		}
	}
	return out
}

func checkKind(errs *fieldErrors, path string, v any, kind picoclaw.FieldKind) (any, bool) {
	switch kind {
	case picoclaw.KindBool:
		return checkBool(errs, path, v)
	case picoclaw.KindString:
		return checkString(errs, path, v)
	case picoclaw.KindSecret:
		s, ok := checkString(errs, path, v)
		if ok && picoclaw.IsRedacted(s) {
			errs.add(path, "is a redacted value; send the secret itself, or omit the field to keep the current one")
			return nil, false
		}
		return s, ok
	case picoclaw.KindInt:
		return checkInt(errs, path, v, 1, 65535)
	case picoclaw.KindIDList:
		return checkIDList(errs, path, v)
	}
	return nil, false
}

func checkString(errs *fieldErrors, path string, v any) (string, bool) {
	if v == nil {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		errs.add(path, "must be a string")
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		errs.add(path, "must not be empty; omit the field or send null instead")
		return "", false
	}
	return s, true
}

func checkBool(errs *fieldErrors, path string, v any) (bool, bool) {
	if v == nil {
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		errs.add(path, "must be a boolean")
	}
	return b, ok
}

func checkNumber(errs *fieldErrors, path string, v any, lo, hi float64) (float64, bool) {
	if v == nil {
		return 0, false
	}
	f, ok := toFloat(v)
	if !ok {
		errs.add(path, "must be a number")
		return 0, false
	}
	if f < lo || f > hi {
		errs.add(path, "must be between %g and %g, got %g", lo, hi, f)
		return 0, false
	}
	return f, true
}

func checkInt(errs *fieldErrors, path string, v any, lo, hi int64) (int64, bool) {
	if v == nil {
		return 0, false
	}
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) {
		errs.add(path, "must be an integer")
		return 0, false
	}
	if f < float64(lo) || f > float64(hi) {
		errs.add(path, "must be between %d and %d, got %g", lo, hi, f)
		return 0, false
	}
	return int64(f), true
}

func checkIDList(errs *fieldErrors, path string, v any) ([]any, bool) {
	if v == nil {
		return nil, false
	}
	list, ok := v.([]any)
	if !ok {
		errs.add(path, "must be a list of strings or numbers")
		return nil, false
	}
	out := make([]any, 0, len(list))
	for i, item := range list {
		itemPath := fmt.Sprintf("%s[%d]", path, i)
		if s, ok := item.(string); ok {
			out = append(out, s)
			continue
		}
		if n, ok := checkInt(errs, itemPath, item, -maxExactInteger, maxExactInteger); ok {
			out = append(out, n)
		}
	}
	return out, true
}

// maxExactInteger is the largest integer a float64, and so a JSON number
// read back from Helm storage, holds exactly.
const maxExactInteger = 1 << 53

// toFloat converts a JSON number, as decoded with UseNumber or by default,
// to float64.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

// checkPassThrough accepts any JSON object for a section the manager does
// not interpret, such as heartbeat and tools.
func checkPassThrough(errs *fieldErrors, path string, v any) map[string]any {
	obj, ok := optionalObject(errs, path, v)
	if !ok {
		return nil
	}
	return normalizeNumbers(errs, path, obj).(map[string]any)
}

// normalizeNumbers replaces json.Number values with int64 when whole and
// float64 otherwise, so values survive Helm's JSON round trip unchanged. A
// number that float64 cannot hold, such as 1e400, is an error at its path.
func normalizeNumbers(errs *fieldErrors, path string, v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			out[k] = normalizeNumbers(errs, join(path, k), item)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = normalizeNumbers(errs, fmt.Sprintf("%s[%d]", path, i), item)
		}
		return out
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, err := v.Float64()
		if err != nil || math.IsInf(f, 0) {
			errs.add(path, "number %s is out of range", v.String())
			return nil
		}
		return f
	}
	return v
}

// resourceBounds are the smallest and largest quantity each resource field
// accepts; they catch unit mistakes such as "1Gi" CPUs or "512m" bytes.
var resourceBounds = map[string][2]string{
	"agent_cpu":      {"10m", "64"},
	"gateway_cpu":    {"10m", "64"},
	"agent_memory":   {"32Mi", "256Gi"},
	"gateway_memory": {"32Mi", "256Gi"},
	"workspace_size": {"1Mi", "16Ti"},
}

// quantityPattern admits the quantities a tenant can need before they reach
// resource.ParseQuantity, whose time grows with the exponent: parsing and
// comparing "1e99999999" takes tens of seconds.
var quantityPattern = regexp.MustCompile(`^[0-9]{1,12}(\.[0-9]{1,9})?([eE][-+]?[0-9]{1,2})?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`)

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// quantityExamples are shown in errors: CPU (true) and bytes (false).
var quantityExamples = map[bool]string{true: `"500m" (half a CPU) or "1"`, false: `"512Mi" or "1Gi"`}

func checkResources(errs *fieldErrors, v any) Resources {
	out := DefaultResources
	obj, ok := optionalObject(errs, "resources", v)
	if !ok {
		return out
	}
	rejectUnknown(errs, "resources", obj, resourceNames)
	fields := out.fields()
	for _, name := range resourceNames {
		if obj[name] == nil {
			continue
		}
		path := "resources." + name
		example := quantityExamples[strings.HasSuffix(name, "_cpu")]
		s, ok := obj[name].(string)
		if !ok {
			errs.add(path, "must be a string holding a Kubernetes quantity, such as %s", example)
			continue
		}
		if !quantityPattern.MatchString(s) {
			errs.add(path, "%q is not a Kubernetes quantity, such as %s", truncate(s, 40), example)
			continue
		}
		q, err := resource.ParseQuantity(s)
		if err != nil {
			errs.add(path, "%q is not a Kubernetes quantity, such as %s", s, example)
			continue
		}
		bounds := resourceBounds[name]
		lo, hi := resource.MustParse(bounds[0]), resource.MustParse(bounds[1])
		if q.Cmp(lo) < 0 || q.Cmp(hi) > 0 {
			errs.add(path, "must be between %s and %s, got %s", bounds[0], bounds[1], s)
			continue
		}
		*fields[name] = q.String()
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func withoutKey(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// join appends key to a field path; an empty key shows as "" so the error
// still names it.
func join(path, key string) string {
	if key == "" {
		key = `""`
	}
	if path == "" {
		return key
	}
	return path + "." + key
}
