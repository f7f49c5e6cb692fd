package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/api"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// errNotFuzzed is returned by the methods of recordingTenants that
// FuzzDecodeRequest does not call.
var errNotFuzzed = errors.New("not used by FuzzDecodeRequest")

// recordingTenants is an api.Tenants whose Create records the documents it
// gets and succeeds.
type recordingTenants struct {
	mu      sync.Mutex
	created []map[string]any
}

func (r *recordingTenants) Create(_ context.Context, doc map[string]any) (tenant.Tenant, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.created = append(r.created, doc)
	id, _ := doc["tenant_id"].(string)
	return tenant.Tenant{ID: id, Status: tenant.StatusActive}, nil
}

// take returns the recorded documents and clears the record.
func (r *recordingTenants) take() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	created := r.created
	r.created = nil
	return created
}

func (r *recordingTenants) Get(context.Context, string) (tenant.Tenant, error) {
	return tenant.Tenant{}, errNotFuzzed
}

func (r *recordingTenants) List(context.Context, string, int) ([]tenant.Tenant, error) {
	return nil, errNotFuzzed
}

func (r *recordingTenants) Update(context.Context, string, map[string]any) (tenant.Tenant, error) {
	return tenant.Tenant{}, errNotFuzzed
}

func (r *recordingTenants) Delete(context.Context, string) error { return errNotFuzzed }

func (r *recordingTenants) Restart(context.Context, string) (time.Time, error) {
	return time.Time{}, errNotFuzzed
}

func (r *recordingTenants) History(context.Context, string) ([]tenant.Revision, error) {
	return nil, errNotFuzzed
}

func (r *recordingTenants) Rollback(context.Context, string, int) (tenant.Tenant, error) {
	return tenant.Tenant{}, errNotFuzzed
}

func (r *recordingTenants) UpgradeFleet(context.Context, tenant.UpgradeOptions) (tenant.UpgradeReport, error) {
	return tenant.UpgradeReport{}, errNotFuzzed
}

// decodeStrictly decodes body as exactly one JSON object, numbers as
// json.Number, with nothing but whitespace after it: what the API documents
// that it accepts.
func decodeStrictly(body []byte) (map[string]any, bool) {
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.UseNumber()
	var doc any
	if err := decoder.Decode(&doc); err != nil {
		return nil, false
	}
	if _, err := decoder.Token(); err != io.EOF {
		return nil, false
	}
	obj, ok := doc.(map[string]any)
	return obj, ok
}

// excerpt quotes body for a failure message, shortened to its first and last
// 100 bytes.
func excerpt(body []byte) string {
	if len(body) <= 200 {
		return fmt.Sprintf("%q", body)
	}
	return fmt.Sprintf("%q...(%d bytes)...%q", body[:100], len(body)-200, body[len(body)-100:])
}

// FuzzDecodeRequest sends arbitrary bytes as the body of POST
// /api/v1/tenants to a handler whose service records what it gets. The
// response must be 201, 400 or 413, and an error must be JSON with an
// "error" message. The service must get exactly the JSON object of a
// well-formed body, and nothing from any other body.
//
// The seeds are in testdata/fuzz/FuzzDecodeRequest. To fuzz, with -short so
// that TestMain starts no PostgreSQL or control plane in each fuzz worker:
//
//	go test -short -run '^$' -fuzz '^FuzzDecodeRequest$' -fuzztime 60s ./pkg/api
func FuzzDecodeRequest(f *testing.F) {
	const key = "fuzz-api-key"
	tenants := &recordingTenants{}
	handler := api.NewHandler(api.Config{
		Tenants: tenants,
		APIKey:  key,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	// Bodies at the size limit and one byte over it; the corpus files stay
	// small.
	atLimit := `{"display_name": "` + strings.Repeat("a", api.MaxBodyBytes-len(`{"display_name": ""}`)) + `"}`
	f.Add([]byte(atLimit))
	f.Add([]byte(atLimit + " "))

	f.Fuzz(func(t *testing.T, body []byte) {
		request := httptest.NewRequest(http.MethodPost, "/api/v1/tenants", bytes.NewReader(body))
		request.Header.Set("Authorization", "Bearer "+key)
		request.Header.Set("Content-Type", "application/json")
		recorder := httptest.NewRecorder()
		handler.ServeHTTP(recorder, request)
		created := tenants.take()
		status, response := recorder.Code, recorder.Body.Bytes()

		if status != http.StatusCreated && status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 201, 400 or 413; response %s", status, response)
		}
		if got := recorder.Header().Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type %q, want application/json; response %s", got, response)
		}
		var decoded map[string]any
		if err := json.Unmarshal(response, &decoded); err != nil {
			t.Fatalf("response is not a JSON object (%v): %s", err, response)
		}
		if message, _ := decoded["error"].(string); status != http.StatusCreated && message == "" {
			t.Errorf("status %d without an \"error\" message: %s", status, response)
		}

		want, wellFormed := decodeStrictly(body)
		switch {
		case len(body) > api.MaxBodyBytes:
			if status != http.StatusRequestEntityTooLarge || len(created) != 0 {
				t.Errorf("body of %d bytes: status %d and %d creates, want 413 and none", len(body), status, len(created))
			}
		case !wellFormed:
			if status != http.StatusBadRequest || len(created) != 0 {
				t.Errorf("body %s is not one JSON object: status %d and %d creates, want 400 and none; response %s",
					excerpt(body), status, len(created), response)
			}
		case status != http.StatusCreated || len(created) != 1:
			t.Errorf("body %s is one JSON object: status %d and %d creates, want 201 and one; response %s",
				excerpt(body), status, len(created), response)
		case !reflect.DeepEqual(created[0], want):
			t.Errorf("the service got %#v, want the request's object %#v", created[0], want)
		}
	})
}
