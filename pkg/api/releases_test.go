package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

type revisionResponse struct {
	Revision     int    `json:"revision"`
	Status       string `json:"status"`
	ChartVersion string `json:"chart_version"`
	AppVersion   string `json:"app_version"`
	Description  string `json:"description"`
}

func history(t *testing.T, id string) []revisionResponse {
	t.Helper()
	r := call(t, env.manager, http.MethodGet, "/api/v1/tenants/"+id+"/history", "")
	expectStatus(t, r, http.StatusOK)
	var out []revisionResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decode history %s: %v", r.body, err)
	}
	return out
}

func TestHistoryAndRollback(t *testing.T) {
	requireEnv(t)
	const id = "history"
	namespace := "picoclaw-tenant-" + id
	createTenant(t, id, createRequest(id))
	path := "/api/v1/tenants/" + id
	expectStatus(t, call(t, env.manager, http.MethodPatch, path, `{"resources": {"agent_memory": "2Gi"}}`), http.StatusOK)
	expectStatus(t, call(t, env.manager, http.MethodPatch, path, `{"display_name": "Third"}`), http.StatusOK)

	r := call(t, env.manager, http.MethodPost, path+"/rollback", `{"revision": 1}`)
	expectStatus(t, r, http.StatusOK)
	got := decodeTenant(t, r)

	t.Run("history lists four revisions", func(t *testing.T) {
		revisions := history(t, id)
		var summary []string
		for _, rev := range revisions {
			summary = append(summary, fmt.Sprintf("%d %s", rev.Revision, rev.Status))
		}
		want := "[4 deployed 3 superseded 2 superseded 1 superseded]"
		if fmt.Sprint(summary) != want {
			t.Errorf("history = %v, want %s", summary, want)
		}
		if revisions[0].ChartVersion == "" || revisions[0].AppVersion == "" || revisions[0].Description == "" {
			t.Errorf("revision 4 lacks chart version, app version or description: %+v", revisions[0])
		}
	})

	t.Run("rollback restores revision 1", func(t *testing.T) {
		if got.Release == nil || got.Release.Revision != 4 {
			t.Errorf("release = %+v, want revision 4", got.Release)
		}
		if got.DisplayName != "ACME Corp" || got.Resources["agent_memory"] != "1Gi" {
			t.Errorf("tenant = %q with agent memory %s, want ACME Corp with 1Gi", got.DisplayName, got.Resources["agent_memory"])
		}
		if limit := agentMemoryLimit(t, namespace); limit != "1Gi" {
			t.Errorf("agent memory limit = %s, want 1Gi of revision 1", limit)
		}
		row := mustGetRow(t, id)
		if row.DisplayName != "ACME Corp" || row.ReleaseRevision != 4 || row.Status != "active" {
			t.Errorf("row = %+v, want ACME Corp at revision 4, active", row)
		}
	})

	t.Run("omitted revision means previous", func(t *testing.T) {
		r := call(t, env.manager, http.MethodPost, path+"/rollback", "")
		expectStatus(t, r, http.StatusOK)
		if got := decodeTenant(t, r); got.DisplayName != "Third" {
			t.Errorf("display name = %q, want Third of revision 3", got.DisplayName)
		}
	})
}

func TestRollbackRejectsBadInput(t *testing.T) {
	requireEnv(t)
	const id = "rollback-input"
	createTenant(t, id, createRequest(id))
	path := "/api/v1/tenants/" + id + "/rollback"

	tests := []struct {
		name, body string
		status     int
		mention    string
	}{
		{"revision 0", `{"revision": 0}`, 400, "revision"},
		{"revision -1", `{"revision": -1}`, 400, "revision"},
		{"revision 999", `{"revision": 999}`, 400, "stored revisions are 1"},
		{"revision a string", `{"revision": "1"}`, 400, "revision"},
		{"revision a fraction", `{"revision": 1.5}`, 400, "revision"},
		{"unknown field", `{"version": 1}`, 400, "version"},
		{"no earlier revision", ``, 400, "no earlier revision"},
		{"malformed JSON", `{"revision":`, 400, "byte offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, env.manager, http.MethodPost, path, tt.body)
			expectStatus(t, r, tt.status)
			if !strings.Contains(string(r.body), tt.mention) {
				t.Errorf("body %s does not mention %q", r.body, tt.mention)
			}
		})
	}
	expectRelease(t, "picoclaw-tenant-"+id, id, 1)

	r := call(t, env.manager, http.MethodPost, "/api/v1/tenants/no-such-tenant/rollback", `{"revision": 1}`)
	expectStatus(t, r, http.StatusNotFound)
	r = call(t, env.manager, http.MethodGet, "/api/v1/tenants/no-such-tenant/history", "")
	expectStatus(t, r, http.StatusNotFound)
}

func TestHistoryKeepsTenRevisions(t *testing.T) {
	requireEnv(t)
	const id = "history-limit"
	createTenant(t, id, createRequest(id))
	for i := range 11 {
		body := fmt.Sprintf(`{"display_name": "Name %d"}`, i)
		expectStatus(t, call(t, env.manager, http.MethodPatch, "/api/v1/tenants/"+id, body), http.StatusOK)
	}
	revisions := history(t, id)
	if len(revisions) != 10 {
		t.Errorf("%d revisions stored, want 10", len(revisions))
	}
	if revisions[0].Revision != 12 {
		t.Errorf("newest revision = %d, want 12", revisions[0].Revision)
	}
}

func TestAdminUpgrade(t *testing.T) {
	requireEnv(t)
	const id = "admin-upgrade"
	createTenant(t, id, createRequest(id))

	r := call(t, env.manager, http.MethodPost, "/api/v1/admin/upgrade", `{"dry_run": true, "tenants": ["admin-upgrade"]}`)
	expectStatus(t, r, http.StatusOK)
	var report struct {
		Total   int  `json:"total"`
		DryRun  bool `json:"dry_run"`
		Results []struct {
			Tenant  string `json:"tenant"`
			Outcome string `json:"outcome"`
		} `json:"results"`
	}
	if err := json.Unmarshal(r.body, &report); err != nil {
		t.Fatal(err)
	}
	if report.Total != 1 || !report.DryRun || len(report.Results) != 1 || report.Results[0].Outcome != "current" {
		t.Errorf("report = %s, want one tenant already current", r.body)
	}

	bad := []struct{ body, field string }{
		{`{"concurrency": 0}`, "concurrency"},
		{`{"max_failures": -1}`, "max_failures"},
		{`{"tenants": ["no-such-tenant"]}`, "tenants"},
		{`{"tenants": "admin-upgrade"}`, "tenants"},
		{`{"dry_run": "yes"}`, "dry_run"},
		{`{"parallel": 2}`, "parallel"},
	}
	for _, b := range bad {
		r := call(t, env.manager, http.MethodPost, "/api/v1/admin/upgrade", b.body)
		expectStatus(t, r, http.StatusBadRequest)
		if e := decodeError(t, r); !e.mentions(b.field) {
			t.Errorf("body %s: error %s does not name %s", b.body, r.body, b.field)
		}
	}
}

func mustGetRow(t *testing.T, id string) store.Tenant {
	t.Helper()
	row, err := env.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return row
}
