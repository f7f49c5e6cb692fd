package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

func (h *handlers) history(w http.ResponseWriter, r *http.Request) {
	revisions, err := h.tenants.History(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, revisions)
}

// rollback rolls back to {"revision": N}; an empty body or an omitted
// revision means the previous revision.
func (h *handlers) rollback(w http.ResponseWriter, r *http.Request) {
	doc, err := decodeOptionalObject(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var revision int
	fields := checkKeys(doc, "revision")
	if v, ok := doc["revision"]; ok {
		n, isInt := intAtLeast(v, 1)
		if !isInt {
			fields = append(fields, tenant.FieldError{Field: "revision", Error: "must be a revision number of 1 or more; omit it to roll back to the previous revision"})
		}
		revision = n
	}
	if len(fields) > 0 {
		writeError(w, r, &tenant.ValidationError{Fields: fields})
		return
	}

	t, err := h.tenants.Rollback(r.Context(), mux.Vars(r)["id"], revision)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// upgradeFleet runs a fleet upgrade and returns its report, with the same
// options as the `picoclaw-manager upgrade` command.
func (h *handlers) upgradeFleet(w http.ResponseWriter, r *http.Request) {
	doc, err := decodeOptionalObject(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	opts, err := upgradeOptions(doc)
	if err != nil {
		writeError(w, r, err)
		return
	}
	report, err := h.tenants.UpgradeFleet(r.Context(), opts)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, report)
}

func upgradeOptions(doc map[string]any) (tenant.UpgradeOptions, error) {
	opts := tenant.UpgradeOptions{Concurrency: 4}
	fields := checkKeys(doc, "dry_run", "tenants", "concurrency", "max_failures")
	if v, ok := doc["dry_run"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			fields = append(fields, tenant.FieldError{Field: "dry_run", Error: "must be a boolean"})
		}
		opts.DryRun = b
	}
	if v, ok := doc["tenants"]; ok {
		ids, valid := stringList(v)
		if !valid {
			fields = append(fields, tenant.FieldError{Field: "tenants", Error: "must be a list of tenant ids"})
		}
		opts.Tenants = ids
	}
	if v, ok := doc["concurrency"]; ok {
		n, isInt := intAtLeast(v, 1)
		if !isInt {
			fields = append(fields, tenant.FieldError{Field: "concurrency", Error: "must be an integer of 1 or more"})
		}
		opts.Concurrency = n
	}
	if v, ok := doc["max_failures"]; ok {
		n, isInt := intAtLeast(v, 0)
		if !isInt {
			fields = append(fields, tenant.FieldError{Field: "max_failures", Error: "must be an integer of 0 (no limit) or more"})
		}
		opts.MaxFailures = n
	}
	if len(fields) > 0 {
		return opts, &tenant.ValidationError{Fields: fields}
	}
	return opts, nil
}

// checkKeys returns an error for each key of doc that is not allowed.
func checkKeys(doc map[string]any, allowed ...string) []tenant.FieldError {
	var out []tenant.FieldError
	for key := range doc {
		if !slices.Contains(allowed, key) {
			out = append(out, tenant.FieldError{Field: key,
				Error: fmt.Sprintf("unknown field; known fields are %s", strings.Join(allowed, ", "))})
		}
	}
	return out
}

// intAtLeast returns v as an int when it is a whole JSON number from lo to
// 2^31.
func intAtLeast(v any, lo int64) (int, bool) {
	number, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	n, err := number.Int64()
	if err != nil || n < lo || n > 1<<31 {
		return 0, false
	}
	return int(n), true
}

func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}
