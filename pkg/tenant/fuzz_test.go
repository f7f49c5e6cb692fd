package tenant_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// FuzzParseCreate decodes arbitrary bytes as the API decodes a create
// request (numbers as json.Number) and checks ParseCreate's contract: it
// never panics, it rejects with a *ValidationError naming every invalid
// field, and an accepted spec renders chart values that encode as JSON,
// because Helm stores a release's values as JSON.
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

		spec, err := tenant.ParseCreate(doc)
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
					t.Errorf("ParseCreate returned a field error without field name or message: %+v", field)
				}
			}
			return
		}

		if spec.ID != doc["tenant_id"] {
			t.Errorf("spec.ID = %q, want tenant_id %#v", spec.ID, doc["tenant_id"])
		}
		values := spec.Values(options)
		if _, err := json.Marshal(values); err != nil {
			t.Errorf("ParseCreate accepted a request whose chart values cannot be encoded as JSON, so helm install fails: %v", err)
		}
	})
}
