package tenant_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// parseTimeLimit bounds one ParseCreate call. ParseCreate runs in the
// request path before any other step of a create, and the example request
// takes microseconds, so a request that takes seconds lets one client hold
// a CPU of the manager.
const parseTimeLimit = 5 * time.Second

// FuzzParseCreate decodes arbitrary bytes as the API decodes a create
// request (numbers as json.Number) and checks ParseCreate's contract: it
// never panics, it finishes within parseTimeLimit, it rejects with a
// *ValidationError naming every invalid field, and an accepted spec renders
// chart values that encode as JSON, because Helm stores a release's values
// as JSON.
//
// The seeds are in testdata/fuzz/FuzzParseCreate. To fuzz:
//
//	go test -run '^$' -fuzz '^FuzzParseCreate$' -fuzztime 60s ./pkg/tenant
func FuzzParseCreate(f *testing.F) {
	options := tenant.ValuesOptions{Image: "docker.io/sipeed/picoclaw:latest", ManagerNamespace: "picoclaw-system"}

	f.Fuzz(func(t *testing.T, body []byte) {
		decoder := json.NewDecoder(bytes.NewReader(body))
		decoder.UseNumber()
		var doc map[string]any
		if err := decoder.Decode(&doc); err != nil || doc == nil {
			return // not a JSON object: the API rejects it before ParseCreate
		}

		spec, err := parseWithin(t, doc, parseTimeLimit)
		if err != nil {
			var invalid *tenant.ValidationError
			if !errors.As(err, &invalid) {
				t.Fatalf("ParseCreate returned %T (%v), want *tenant.ValidationError", err, err)
			}
			if len(invalid.Fields) == 0 {
				t.Fatalf("ParseCreate returned a ValidationError without fields: %v", err)
			}
			for _, field := range invalid.Fields {
				if field.Field == "" || field.Error == "" {
					t.Errorf("ParseCreate returned a field error without a field name or message, so the client cannot tell what to fix: %+v", field)
				}
			}
			return
		}

		if spec.ID != doc["tenant_id"] {
			t.Errorf("spec.ID = %q, want tenant_id %#v", spec.ID, doc["tenant_id"])
		}
		values := spec.Values(options)
		if _, err := json.Marshal(values); err != nil {
			t.Errorf("ParseCreate accepted %q, whose chart values cannot be encoded as JSON, so helm install fails: %v", body, err)
		}
	})
}

// parseWithin runs ParseCreate and fails the test when it has not returned
// after limit. A call that overruns keeps running in the background until
// the test binary exits.
func parseWithin(t *testing.T, doc map[string]any, limit time.Duration) (tenant.Spec, error) {
	t.Helper()
	type result struct {
		spec tenant.Spec
		err  error
	}
	done := make(chan result, 1)
	go func() {
		spec, err := tenant.ParseCreate(doc)
		done <- result{spec, err}
	}()
	select {
	case r := <-done:
		return r.spec, r.err
	case <-time.After(limit):
		t.Fatalf("ParseCreate has not returned after %v for %.300q", limit, compactJSON(doc))
		return tenant.Spec{}, nil
	}
}

// compactJSON returns doc as one line of JSON, for failure messages.
func compactJSON(doc map[string]any) string {
	data, err := json.Marshal(doc)
	if err != nil {
		return err.Error()
	}
	return string(data)
}
