package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"helm.sh/helm/v4/pkg/chart/common"

	"github.com/picoclaw-manager/picoclaw-manager/chart"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// TestInstallFailureLeavesNothing injects a failure after the namespace is
// created: the chart renders an object the API server rejects, so the
// install fails and the create must be fully compensated.
func TestInstallFailureLeavesNothing(t *testing.T) {
	requireEnv(t)
	embedded, err := chart.Load()
	if err != nil {
		t.Fatal(err)
	}
	broken := *embedded
	broken.Templates = append(slices.Clone(embedded.Templates), &common.File{
		Name: "templates/broken.yaml",
		Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Invalid_Name\n"),
	})
	manager := httptest.NewServer(newHandler(env.store, &broken))
	defer manager.Close()

	const id = "install-fails"
	r := call(t, manager, http.MethodPost, "/api/v1/tenants", createRequest(id))
	expectStatus(t, r, http.StatusInternalServerError)
	if e := decodeError(t, r); !strings.Contains(e.Error, "install release") {
		t.Errorf("error = %q, want it to name the install step", e.Error)
	}
	expectGone(t, id)

	// The id is free again once the namespace is gone.
	r = call(t, env.manager, http.MethodPost, "/api/v1/tenants", createRequest(id))
	expectStatus(t, r, http.StatusCreated)
	call(t, env.manager, http.MethodDelete, "/api/v1/tenants/"+id, "")
}

// TestListEmptyIsArray runs a manager on an empty database: the list of no
// tenants is [], not null.
func TestListEmptyIsArray(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, env.postgres.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE empty_list"); err != nil {
		t.Fatal(err)
	}

	db, err := store.Open(ctx, strings.Replace(env.postgres.URL(), "/picoclaw?", "/empty_list?", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	manager := httptest.NewServer(newHandler(db, nil))
	defer manager.Close()

	r := call(t, manager, http.MethodGet, "/api/v1/tenants", "")
	expectStatus(t, r, http.StatusOK)
	if got := strings.TrimSpace(string(r.body)); got != "[]" {
		t.Errorf("body = %s, want []", got)
	}
	var list []any
	if err := json.Unmarshal(r.body, &list); err != nil || list == nil {
		t.Errorf("decoded list = %v (%v), want an empty array", list, err)
	}
}

// TestSchemaRejectionIsBadRequest installs from a chart whose schema is
// stricter than the API's validation: its rejection is a 400 naming the
// values, and the create leaves nothing behind.
func TestSchemaRejectionIsBadRequest(t *testing.T) {
	requireEnv(t)
	embedded, err := chart.Load()
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(embedded.Schema, &schema); err != nil {
		t.Fatal(err)
	}
	tenantSchema := schema["properties"].(map[string]any)["tenant"].(map[string]any)
	tenantSchema["properties"].(map[string]any)["displayName"] = map[string]any{"type": "string", "maxLength": 4}
	strict := *embedded
	if strict.Schema, err = json.Marshal(schema); err != nil {
		t.Fatal(err)
	}
	manager := httptest.NewServer(newHandler(env.store, &strict))
	defer manager.Close()

	const id = "schema-rejects"
	r := call(t, manager, http.MethodPost, "/api/v1/tenants", createRequest(id))
	expectStatus(t, r, http.StatusBadRequest)
	if e := decodeError(t, r); !e.mentions("values") || !strings.Contains(string(r.body), "displayName") {
		t.Errorf("error %s does not name the values and displayName", r.body)
	}
	expectGone(t, id)
}
