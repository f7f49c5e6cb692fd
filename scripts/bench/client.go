package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiClient calls the manager's REST API.
type apiClient struct {
	base, key string
	http      *http.Client
}

func newAPIClient(base, key string) *apiClient {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	return &apiClient{base: base, key: key, http: &http.Client{Transport: transport, Timeout: 5 * time.Minute}}
}

// do sends a request and returns the status, the body and the latency.
func (c *apiClient) do(ctx context.Context, method, path, body string) (int, []byte, time.Duration, error) {
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, time.Since(start), err
}

// expect sends a request and fails unless the status is want.
func (c *apiClient) expect(ctx context.Context, want int, method, path, body string) (time.Duration, error) {
	status, data, latency, err := c.do(ctx, method, path, body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if status != want {
		return 0, fmt.Errorf("%s %s: status %d, want %d: %s", method, path, status, want, data)
	}
	return latency, nil
}

func (c *apiClient) healthy(ctx context.Context) bool {
	status, _, _, err := c.do(ctx, http.MethodGet, "/health", "")
	return err == nil && status == http.StatusOK
}

// goroutines reads go_goroutines from the manager's /metrics.
func (c *apiClient) goroutines(ctx context.Context) (int, error) {
	status, data, _, err := c.do(ctx, http.MethodGet, "/metrics", "")
	if err != nil || status != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: status %d: %v", status, err)
	}
	scanner := bufio.NewScanner(strings.NewReader(string(data)))
	for scanner.Scan() {
		if value, ok := strings.CutPrefix(scanner.Text(), "go_goroutines "); ok {
			return strconv.Atoi(strings.TrimSpace(value))
		}
	}
	return 0, fmt.Errorf("no go_goroutines in /metrics")
}

// tenantRequest is a create request for id; each tenant has its own bot
// token, because a token can serve one tenant only.
func tenantRequest(id string, agent bool) string {
	return fmt.Sprintf(`{"tenant_id": %q, "display_name": "Bench %s", "agent_enabled": %t,
 "providers": {"anthropic": {"api_key": "sk-bench-0000000000000000000000", "api_base": "https://api.minimax.io/v1"}},
 "agents": {"defaults": {"provider": "anthropic", "model": "MiniMax-M2.5", "max_tokens": 200000, "temperature": 0.7}},
 "channels": {"telegram": {"enabled": true, "token": "100000:bench-token-%s", "allow_from": [123456]}}}`, id, id, agent, id)
}
