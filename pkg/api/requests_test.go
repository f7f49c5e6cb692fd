package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// errorResponse is the JSON of every error.
type errorResponse struct {
	Error   string `json:"error"`
	Details []struct {
		Field string `json:"field"`
		Error string `json:"error"`
	} `json:"details"`
}

func decodeError(t *testing.T, r response) errorResponse {
	t.Helper()
	var out errorResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decode error %s: %v", r.body, err)
	}
	if out.Error == "" {
		t.Fatalf("error response without error: %s", r.body)
	}
	return out
}

// mentions reports whether the error or one of its details names field.
func (e errorResponse) mentions(field string) bool {
	if strings.Contains(e.Error, field) {
		return true
	}
	for _, d := range e.Details {
		if d.Field == field {
			return true
		}
	}
	return false
}

// withField returns the example create request for id with one field
// replaced by raw JSON, or removed when raw is empty.
func withField(t *testing.T, id, field, raw string) string {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(createRequest(id)), &doc); err != nil {
		t.Fatal(err)
	}
	if raw == "" {
		delete(doc, field)
	} else {
		doc[field] = json.RawMessage(raw)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestCreateRejectsBadRequests(t *testing.T) {
	requireEnv(t)
	const id = "bad-request"
	tests := []struct {
		name   string
		body   string
		status int
		field  string // named by the error or its details
	}{
		{"uppercase id", withField(t, id, "tenant_id", `"Bad-Request"`), 400, "tenant_id"},
		{"underscore in id", withField(t, id, "tenant_id", `"bad_request"`), 400, "tenant_id"},
		{"id of 48 characters", withField(t, id, "tenant_id", `"`+strings.Repeat("b", 48)+`"`), 400, "tenant_id"},
		{"trailing hyphen", withField(t, id, "tenant_id", `"bad-request-"`), 400, "tenant_id"},
		{"leading hyphen", withField(t, id, "tenant_id", `"-bad-request"`), 400, "tenant_id"},
		{"empty id", withField(t, id, "tenant_id", `""`), 400, "tenant_id"},
		{"id a number", withField(t, id, "tenant_id", `42`), 400, "tenant_id"},
		{"missing display name", withField(t, id, "display_name", ""), 400, "display_name"},
		{"display name a list", withField(t, id, "display_name", `["a"]`), 400, "display_name"},
		{"missing providers", withField(t, id, "providers", ""), 400, "providers"},
		{"empty providers", withField(t, id, "providers", `{}`), 400, "providers"},
		{"provider key a number", withField(t, id, "providers", `{"anthropic": {"api_key": 5}}`), 400, "providers.anthropic.api_key"},
		{"missing channels", withField(t, id, "channels", ""), 400, "channels"},
		{"unknown channel", withField(t, id, "channels", `{"pager": {"enabled": true}}`), 400, "channels.pager"},
		{"channel without token", withField(t, id, "channels", `{"telegram": {"enabled": true}}`), 400, "channels.telegram.token"},
		{"malformed JSON", `{"tenant_id": "bad-request",`, 400, "byte offset 28"},
		{"not an object", `["bad-request"]`, 400, "JSON object"},
		{"empty body", ``, 400, "empty"},
		{"trailing data", createRequest(id) + `{}`, 400, "byte offset"},
		{"unknown field", withField(t, id, "region", `"eu"`), 400, "region"},
		{"agents unknown field", withField(t, id, "agents", `{"default": {}}`), 400, "agents.default"},
		{"negative cpu", withField(t, id, "resources", `{"agent_cpu": "-500m"}`), 400, "resources.agent_cpu"},
		{"unparsable memory", withField(t, id, "resources", `{"agent_memory": "lots"}`), 400, "resources.agent_memory"},
		{"workspace a number", withField(t, id, "resources", `{"workspace_size": 500}`), 400, "resources.workspace_size"},
		{"temperature out of range", withField(t, id, "agents", `{"defaults": {"provider": "anthropic", "temperature": 3}}`), 400, "agents.defaults.temperature"},
		{"max_tokens negative", withField(t, id, "agents", `{"defaults": {"max_tokens": -1}}`), 400, "agents.defaults.max_tokens"},
		{"provider not configured", withField(t, id, "agents", `{"defaults": {"provider": "openai"}}`), 400, "agents.defaults.provider"},
		{"body over 1 MiB", withField(t, id, "display_name", `"`+strings.Repeat("x", 1<<20)+`"`), 413, "bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, env.manager, http.MethodPost, "/api/v1/tenants", tt.body)
			expectStatus(t, r, tt.status)
			if e := decodeError(t, r); !e.mentions(tt.field) {
				t.Errorf("error %s does not name %q", r.body, tt.field)
			}
		})
	}
	expectNothingLeft(t, id)
	expectNothingLeft(t, "bad_request")
}

// expectNothingLeft checks that no row, release or namespace exists for id.
func expectNothingLeft(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	if _, err := env.store.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("row of %s: err = %v, want not found", id, err)
	}
	state, err := env.cluster.NamespaceState(ctx, "picoclaw-tenant-"+id)
	if err != nil {
		t.Fatal(err)
	}
	if state != 0 {
		t.Errorf("namespace of %s exists (state %d)", id, state)
	}
}

func TestAuthentication(t *testing.T) {
	requireEnv(t)
	tests := []struct {
		name          string
		method, path  string
		authorization string
		status        int
	}{
		{"no header", http.MethodGet, "/api/v1/tenants", "", http.StatusUnauthorized},
		{"basic scheme", http.MethodGet, "/api/v1/tenants", "Basic dXNlcjpwYXNz", http.StatusUnauthorized},
		{"bearer without token", http.MethodGet, "/api/v1/tenants", "Bearer ", http.StatusUnauthorized},
		{"wrong key", http.MethodGet, "/api/v1/tenants", "Bearer wrong-key", http.StatusForbidden},
		{"wrong key on create", http.MethodPost, "/api/v1/tenants", "Bearer " + apiKey + "x", http.StatusForbidden},
		{"unknown path needs auth", http.MethodGet, "/api/v1/nothing", "", http.StatusUnauthorized},
		{"right key", http.MethodGet, "/api/v1/tenants", "Bearer " + apiKey, http.StatusOK},
		{"health without auth", http.MethodGet, "/health", "", http.StatusOK},
		{"ready without auth", http.MethodGet, "/ready", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := callWithAuth(t, env.manager, tt.method, tt.path, "", tt.authorization)
			expectStatus(t, r, tt.status)
			if tt.status >= 400 {
				decodeError(t, r)
			}
		})
	}
}

func TestUnknownTenant(t *testing.T) {
	requireEnv(t)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		t.Run(method, func(t *testing.T) {
			body := ""
			if method == http.MethodPut {
				body = `{"display_name": "x"}`
			}
			r := call(t, env.manager, method, "/api/v1/tenants/no-such-tenant", body)
			expectStatus(t, r, http.StatusNotFound)
			decodeError(t, r)
		})
	}
	r := call(t, env.manager, http.MethodPost, "/api/v1/tenants/no-such-tenant/restart", "")
	expectStatus(t, r, http.StatusNotFound)
}

func TestDuplicateCreateConflicts(t *testing.T) {
	requireEnv(t)
	const id = "duplicate"
	expectStatus(t, call(t, env.manager, http.MethodPost, "/api/v1/tenants", createRequest(id)), http.StatusCreated)
	t.Cleanup(func() { call(t, env.manager, http.MethodDelete, "/api/v1/tenants/"+id, "") })

	r := call(t, env.manager, http.MethodPost, "/api/v1/tenants", createRequest(id))
	expectStatus(t, r, http.StatusConflict)
	if e := decodeError(t, r); !strings.Contains(e.Error, "already exists") {
		t.Errorf("error = %q, want it to say the tenant exists", e.Error)
	}
}

func TestUpdateRejectsBadPatches(t *testing.T) {
	requireEnv(t)
	const id = "bad-update"
	expectStatus(t, call(t, env.manager, http.MethodPost, "/api/v1/tenants", createRequest(id)), http.StatusCreated)
	t.Cleanup(func() { call(t, env.manager, http.MethodDelete, "/api/v1/tenants/"+id, "") })

	tests := []struct {
		name, patch, field string
	}{
		{"shrink workspace", `{"resources": {"workspace_size": "100Mi"}}`, "resources.workspace_size"},
		{"remove every provider", `{"providers": {"anthropic": null}}`, "providers"},
		{"change tenant id", `{"tenant_id": "other"}`, "tenant_id"},
		{"redacted key sent back", `{"providers": {"anthropic": {"api_key": "sk-...9f2c"}}}`, "providers.anthropic.api_key"},
		{"unknown field", `{"colour": "red"}`, "colour"},
		{"grow on fixed storage class", `{"resources": {"workspace_size": "1Gi"}}`, "resources.workspace_size"},
		{"NUL in display name", `{"display_name": "a\u0000b"}`, "display_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, env.manager, http.MethodPatch, "/api/v1/tenants/"+id, tt.patch)
			expectStatus(t, r, http.StatusBadRequest)
			if e := decodeError(t, r); !e.mentions(tt.field) {
				t.Errorf("error %s does not name %q", r.body, tt.field)
			}
		})
	}
	expectRelease(t, "picoclaw-tenant-"+id, id, 1)
}

func TestListPages(t *testing.T) {
	requireEnv(t)
	ids := []string{"page-a", "page-b", "page-c"}
	for _, id := range ids {
		expectStatus(t, call(t, env.manager, http.MethodPost, "/api/v1/tenants", createRequest(id)), http.StatusCreated)
		t.Cleanup(func() { call(t, env.manager, http.MethodDelete, "/api/v1/tenants/"+id, "") })
	}

	var seen []string
	cursor := ""
	for page := 0; page < 10; page++ {
		r := call(t, env.manager, http.MethodGet, "/api/v1/tenants?limit=1&cursor="+cursor, "")
		expectStatus(t, r, http.StatusOK)
		var tenants []tenantResponse
		if err := json.Unmarshal(r.body, &tenants); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tenants {
			if strings.HasPrefix(tt.ID, "page-") {
				seen = append(seen, tt.ID)
			}
		}
		cursor = r.header.Get("X-Next-Cursor")
		if cursor == "" {
			break
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint(ids) {
		t.Errorf("paged ids = %v, want %v", seen, ids)
	}

	for _, query := range []string{"limit=0", "limit=abc", "limit=1001", "cursor=!!", "cursor=garbage"} {
		r := call(t, env.manager, http.MethodGet, "/api/v1/tenants?"+query, "")
		if r.status != http.StatusBadRequest {
			t.Errorf("GET ?%s: status %d, want 400", query, r.status)
		}
	}
}

func TestTokenServesOneTenant(t *testing.T) {
	requireEnv(t)
	createTenant(t, "token-owner", createRequest("token-owner"))

	body := strings.Replace(createRequest("token-thief"), tokenOf("token-thief"), tokenOf("token-owner"), 1)
	r := call(t, env.manager, http.MethodPost, "/api/v1/tenants", body)
	expectStatus(t, r, http.StatusConflict)
	e := decodeError(t, r)
	if !strings.Contains(e.Error, "channels.telegram") {
		t.Errorf("error = %q, want it to name channels.telegram", e.Error)
	}
	if strings.Contains(string(r.body), "token-owner") {
		t.Errorf("error %s reveals the other tenant or its token", r.body)
	}
	expectNothingLeft(t, "token-thief")

	createTenant(t, "token-other", createRequest("token-other"))
	patch := fmt.Sprintf(`{"channels": {"telegram": {"token": %q}}}`, tokenOf("token-owner"))
	r = call(t, env.manager, http.MethodPatch, "/api/v1/tenants/token-other", patch)
	expectStatus(t, r, http.StatusConflict)
	expectRelease(t, "picoclaw-tenant-token-other", "token-other", 1)
}
