package api_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// metricValue returns the value of the sample of /metrics whose line starts
// with prefix (name and labels), or 0 when there is none.
func metricValue(t *testing.T, prefix string) float64 {
	t.Helper()
	r := call(t, env.manager, http.MethodGet, "/metrics", "")
	expectStatus(t, r, http.StatusOK)
	scanner := bufio.NewScanner(strings.NewReader(string(r.body)))
	for scanner.Scan() {
		if value, ok := strings.CutPrefix(scanner.Text(), prefix+" "); ok {
			f, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", prefix, err)
			}
			return f
		}
	}
	return 0
}

func TestMetricsMoveAfterCreate(t *testing.T) {
	requireEnv(t)
	requests := `picoclaw_http_requests_total{code="201",method="POST",route="/api/v1/tenants"}`
	operations := `picoclaw_operation_duration_seconds_count{operation="create",outcome="success"}`
	active := `picoclaw_tenants{status="active"}`
	requestsBefore, operationsBefore := metricValue(t, requests), metricValue(t, operations)

	createTenant(t, "metrics", createRequest("metrics"))

	if got := metricValue(t, requests); got != requestsBefore+1 {
		t.Errorf("%s = %v, want %v", requests, got, requestsBefore+1)
	}
	if got := metricValue(t, operations); got < operationsBefore+1 {
		t.Errorf("%s = %v, want at least %v", operations, got, operationsBefore+1)
	}
	if got := metricValue(t, active); got < 1 {
		t.Errorf("%s = %v, want at least 1", active, got)
	}
}

func TestRequestIDInHeaderAndLog(t *testing.T) {
	requireEnv(t)
	r := call(t, env.manager, http.MethodGet, "/api/v1/tenants/no-such-tenant", "")
	id := r.header.Get("X-Request-ID")
	if id == "" {
		t.Fatal("response has no X-Request-ID")
	}

	found := false
	for _, line := range strings.Split(env.logs.String(), "\n") {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) != nil {
			continue
		}
		if entry["request_id"] == id && entry["msg"] == "request" && entry["path"] == "/api/v1/tenants/no-such-tenant" {
			found = true
		}
	}
	if !found {
		t.Errorf("no request log line carries request_id %s", id)
	}

	echoed := callWithHeader(t, "X-Request-ID", "client-chosen-id-42")
	if got := echoed.Get("X-Request-ID"); got != "client-chosen-id-42" {
		t.Errorf("X-Request-ID = %q, want the client's client-chosen-id-42", got)
	}
}

// callWithHeader sends GET /health with one extra header and returns the
// response headers.
func callWithHeader(t *testing.T, name, value string) http.Header {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, env.manager.URL+"/health", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(name, value)
	resp, err := env.manager.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header
}
