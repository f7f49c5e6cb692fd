package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/api"
)

// exchange is one request to a test manager and the response it got.
type exchange struct {
	method   string
	path     string
	rawQuery string
	status   int
	header   http.Header
	body     []byte
}

func (e exchange) String() string {
	target := e.path
	if e.rawQuery != "" {
		target += "?" + e.rawQuery
	}
	return fmt.Sprintf("%s %s -> %d", e.method, target, e.status)
}

// recorded contains the exchanges of every manager that newHandler builds.
// TestMain checks them against openapi.yaml after all tests ran.
var recorded struct {
	mu        sync.Mutex
	exchanges []exchange
}

// recordResponses wraps a manager's handler so that each of its responses is
// appended to recorded.
func recordResponses(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &responseRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		rec.keepHeader(http.StatusOK)

		recorded.mu.Lock()
		defer recorded.mu.Unlock()
		recorded.exchanges = append(recorded.exchanges, exchange{
			method:   r.Method,
			path:     r.URL.Path,
			rawQuery: r.URL.RawQuery,
			status:   rec.status,
			header:   rec.header,
			body:     rec.body.Bytes(),
		})
	})
}

// responseRecorder copies the status, headers and body that a handler
// writes, and passes them on unchanged.
type responseRecorder struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
}

// keepHeader stores the status and a copy of the headers when the handler
// first writes. Headers set after that are not sent, so the copy is exact.
func (r *responseRecorder) keepHeader(status int) {
	if r.status == 0 {
		r.status = status
		r.header = r.ResponseWriter.Header().Clone()
	}
}

func (r *responseRecorder) WriteHeader(status int) {
	r.keepHeader(status)
	r.ResponseWriter.WriteHeader(status)
}

func (r *responseRecorder) Write(p []byte) (int, error) {
	r.keepHeader(http.StatusOK)
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (r *responseRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// responseOptions make a response with an undocumented status code invalid
// and skip the security requirements, which apply to requests only.
var responseOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	// Without details each schema error is one line naming the field,
	// instead of a dump of the whole schema and value.
	SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
}

// loadSpec parses and validates the embedded openapi.yaml and returns it
// with a router that finds the operation of a request.
func loadSpec() (*openapi3.T, routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPISpec())
	if err != nil {
		return nil, nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("route openapi.yaml: %w", err)
	}
	return doc, router, nil
}

// checkExchange returns why the response of e does not match doc, or nil
// when it matches.
func checkExchange(doc *openapi3.T, router routers.Router, e exchange) error {
	ctx := context.Background()
	target := url.URL{Scheme: "http", Host: "127.0.0.1", Path: e.path, RawQuery: e.rawQuery}
	req, err := http.NewRequestWithContext(ctx, e.method, target.String(), nil)
	if err != nil {
		return err
	}
	route, pathParams, err := router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		return checkUnknownRoute(doc, e, err)
	}
	if err != nil {
		return err
	}

	if response := route.Operation.Responses.Status(e.status); response != nil &&
		len(response.Value.Content) == 0 && len(e.body) > 0 {
		return fmt.Errorf("status %d has no body in openapi.yaml, but the response has %d bytes", e.status, len(e.body))
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams,
			Route:      route,
			Options:    responseOptions,
		},
		Status:  e.status,
		Header:  e.header,
		Options: responseOptions,
	}
	input.SetBodyBytes(e.body)
	return openapi3filter.ValidateResponse(ctx, input)
}

// checkUnknownRoute checks the response to a path or method that
// openapi.yaml does not describe. It must be the router's 404 or 405 as an
// Error, or 401 or 403 under /api/v1, where authentication runs first.
func checkUnknownRoute(doc *openapi3.T, e exchange, routeErr error) error {
	allowed := []int{http.StatusNotFound, http.StatusMethodNotAllowed}
	if strings.HasPrefix(e.path, "/api/v1") {
		allowed = append(allowed, http.StatusUnauthorized, http.StatusForbidden)
	}
	if !slices.Contains(allowed, e.status) {
		return fmt.Errorf("%v in openapi.yaml, and status %d is not a status of unknown routes %v", routeErr, e.status, allowed)
	}
	if e.header.Get(api.RequestIDHeader) == "" {
		return fmt.Errorf("response header %q missing", api.RequestIDHeader)
	}
	if contentType := e.header.Get("Content-Type"); contentType != "application/json" {
		return fmt.Errorf("Content-Type is %q, want application/json", contentType)
	}
	var body any
	if err := json.Unmarshal(e.body, &body); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	return doc.Components.Schemas["Error"].Value.VisitJSON(body,
		openapi3.VisitAsResponse(), openapi3.MultiErrors(), openapi3.DisableSchemaErrorDetails())
}

// checkRecordedResponses checks every exchange in recorded against
// openapi.yaml. It prints each mismatch to stderr and returns 1 when there
// is one, else code.
func checkRecordedResponses(code int) int {
	recorded.mu.Lock()
	exchanges := slices.Clone(recorded.exchanges)
	recorded.mu.Unlock()

	doc, router, err := loadSpec()
	if err != nil {
		fmt.Fprintln(os.Stderr, "check responses against openapi.yaml:", err)
		return 1
	}
	var violations []string
	for _, e := range exchanges {
		if err := checkExchange(doc, router, e); err != nil {
			violations = append(violations, fmt.Sprintf("%v: %v\n    body: %s", e, err, truncate(e.body, 400)))
		}
	}
	if len(violations) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d of %d responses recorded by the tests do not match openapi.yaml:\n",
			len(violations), len(exchanges))
		for _, v := range violations {
			fmt.Fprintln(os.Stderr, "  "+v)
		}
		return 1
	}
	fmt.Printf("openapi.yaml: all %d responses recorded by the tests match\n", len(exchanges))
	return code
}

func truncate(body []byte, n int) string {
	if len(body) <= n {
		return string(bytes.TrimSpace(body))
	}
	return string(body[:n]) + fmt.Sprintf("... (%d bytes)", len(body))
}

func TestOpenAPISpecIsValid(t *testing.T) {
	if _, _, err := loadSpec(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenAPIServed(t *testing.T) {
	requireEnv(t)
	r := callWithAuth(t, env.manager, http.MethodGet, "/openapi.yaml", "", "")
	expectStatus(t, r, http.StatusOK)
	if contentType := r.header.Get("Content-Type"); contentType != "application/yaml" {
		t.Errorf("Content-Type = %q, want application/yaml", contentType)
	}
	if !bytes.Equal(r.body, api.OpenAPISpec()) {
		t.Errorf("served document (%d bytes) differs from the embedded openapi.yaml (%d bytes)", len(r.body), len(api.OpenAPISpec()))
	}
}

// validTenant is a Tenant response that matches openapi.yaml. The cases of
// TestResponseCheckFindsDrift change one thing in it.
const validTenant = `{"id": "acme", "display_name": "ACME Corp", "namespace": "picoclaw-tenant-acme",
 "status": "active",
 "resources": {"agent_cpu": "500m", "agent_memory": "1Gi", "gateway_cpu": "250m",
               "gateway_memory": "512Mi", "workspace_size": "500Mi"},
 "created_at": "2026-02-16T10:00:00Z", "updated_at": "2026-02-16T10:00:00.123456Z",
 "release": {"name": "acme", "namespace": "picoclaw-tenant-acme", "revision": 1, "status": "deployed",
             "chart_version": "0.1.0", "updated_at": "2026-02-16T10:00:00Z"},
 "workloads": {"gateway": {"desired": 1, "ready": 1, "available": 1, "updated": 1}},
 "agent_enabled": true,
 "config": {"agents": {"defaults": {"provider": "anthropic", "workspace": "/home/picoclaw/.picoclaw/workspace"}},
            "providers": {"anthropic": {"api_key": "sk-...9f2c"}},
            "channels": {"telegram": {"enabled": true, "token": "(set)", "allow_from": [123456, "@someone"]}},
            "gateway": {"host": "0.0.0.0", "port": 18790}}}`

// jsonExchange returns an exchange with a JSON body and the headers every
// response of the manager has.
func jsonExchange(method, path string, status int, body string) exchange {
	header := http.Header{}
	header.Set("Content-Type", "application/json")
	header.Set(api.RequestIDHeader, "0123456789abcdef")
	return exchange{method: method, path: path, status: status, header: header, body: []byte(body)}
}

func TestResponseCheckFindsDrift(t *testing.T) {
	doc, router, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	withoutRequestID := jsonExchange(http.MethodGet, "/health", http.StatusOK, `{"status": "ok"}`)
	withoutRequestID.header.Del(api.RequestIDHeader)
	withoutLocation := jsonExchange(http.MethodPost, "/api/v1/tenants", http.StatusCreated, validTenant)
	withCursor := jsonExchange(http.MethodGet, "/api/v1/tenants", http.StatusOK, `[]`)
	withCursor.rawQuery = "limit=1"
	withCursor.header.Set(api.NextCursorHeader, "YWNtZQ")
	metrics := jsonExchange(http.MethodGet, "/metrics", http.StatusOK, "# TYPE picoclaw_tenants gauge\n")
	metrics.header.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8; escaping=underscores")

	tests := []struct {
		name     string
		exchange exchange
		want     string // contained in the error, or empty when the response matches
	}{
		{"valid tenant", jsonExchange(http.MethodGet, "/api/v1/tenants/acme", 200, validTenant), ""},
		{"valid list page", withCursor, ""},
		{"metrics in text format", metrics, ""},
		{"unknown route 404", jsonExchange(http.MethodGet, "/nothing", 404, `{"error": "no route for GET /nothing"}`), ""},
		{"tenant extra field", jsonExchange(http.MethodGet, "/api/v1/tenants/acme", 200,
			strings.Replace(validTenant, `"status": "active"`, `"status": "active", "owner": "x"`, 1)), `"owner"`},
		{"tenant missing namespace", jsonExchange(http.MethodGet, "/api/v1/tenants/acme", 200,
			strings.Replace(validTenant, `"namespace": "picoclaw-tenant-acme",`, "", 1)), `"namespace"`},
		{"unknown tenant status", jsonExchange(http.MethodGet, "/api/v1/tenants/acme", 200,
			strings.Replace(validTenant, `"active"`, `"ready"`, 1)), "/status"},
		{"list item with config", jsonExchange(http.MethodGet, "/api/v1/tenants", 200, "["+validTenant+"]"), `"config"`},
		{"enabled channel without token", jsonExchange(http.MethodGet, "/api/v1/tenants/acme", 200,
			strings.Replace(validTenant, `"token": "(set)", `, "", 1)), "anyOf"},
		{"undocumented status", jsonExchange(http.MethodDelete, "/api/v1/tenants/acme", 200, validTenant), "status is not supported"},
		{"body on 204", jsonExchange(http.MethodDelete, "/api/v1/tenants/acme", 204, `{}`), "no body"},
		{"error extra field", jsonExchange(http.MethodGet, "/api/v1/tenants/acme", 404, `{"error": "tenant not found", "code": 404}`), `"code"`},
		{"error empty details", jsonExchange(http.MethodPost, "/api/v1/tenants", 400, `{"error": "invalid", "details": []}`), "/details"},
		{"missing request id", withoutRequestID, `"X-Request-ID" missing`},
		{"missing location", withoutLocation, `"Location" missing`},
		{"unknown route 200", jsonExchange(http.MethodGet, "/nothing", 200, `{"error": "x"}`), "no matching operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkExchange(doc, router, tt.exchange)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("%v: unexpected violation: %v", tt.exchange, err)
			case tt.want != "" && err == nil:
				t.Errorf("%v: no violation, want one containing %q", tt.exchange, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("%v: violation %q does not contain %q", tt.exchange, err, tt.want)
			}
		})
	}
}
