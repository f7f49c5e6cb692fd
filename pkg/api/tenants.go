package api

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// Paging of GET /api/v1/tenants.
const (
	MaxPageSize      = 1000
	NextCursorHeader = "X-Next-Cursor"
)

func (h *handlers) create(w http.ResponseWriter, r *http.Request) {
	doc, err := decodeObject(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	t, err := h.tenants.Create(r.Context(), doc)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/tenants/"+t.ID)
	writeJSON(w, http.StatusCreated, t)
}

func (h *handlers) get(w http.ResponseWriter, r *http.Request) {
	t, err := h.tenants.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// list returns every tenant, or one page when limit is given; the cursor of
// the next page comes in the X-Next-Cursor header.
func (h *handlers) list(w http.ResponseWriter, r *http.Request) {
	limit, after, err := parsePage(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	fetch := limit
	if limit > 0 {
		fetch = limit + 1
	}
	tenants, err := h.tenants.List(r.Context(), after, fetch)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if limit > 0 && len(tenants) > limit {
		tenants = tenants[:limit]
		w.Header().Set(NextCursorHeader, base64.RawURLEncoding.EncodeToString([]byte(tenants[limit-1].ID)))
	}
	writeJSON(w, http.StatusOK, tenants)
}

func parsePage(r *http.Request) (limit int, after string, err error) {
	query := r.URL.Query()
	var fields []tenant.FieldError
	if s := query.Get("limit"); s != "" {
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n < 1 || n > MaxPageSize {
			fields = append(fields, tenant.FieldError{Field: "limit", Error: "must be an integer between 1 and " + strconv.Itoa(MaxPageSize)})
		}
		limit = n
	}
	if s := query.Get("cursor"); s != "" {
		id, decodeErr := base64.RawURLEncoding.DecodeString(s)
		if decodeErr != nil || !utf8.Valid(id) || len(id) > 63 || bytes.ContainsRune(id, 0) {
			fields = append(fields, tenant.FieldError{Field: "cursor", Error: "is not a cursor from the X-Next-Cursor header"})
		}
		after = string(id)
	}
	if len(fields) > 0 {
		return 0, "", &requestError{status: http.StatusBadRequest, message: "invalid query parameters", details: fields}
	}
	return limit, after, nil
}

func (h *handlers) update(w http.ResponseWriter, r *http.Request) {
	patch, err := decodeObject(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	t, err := h.tenants.Update(r.Context(), mux.Vars(r)["id"], patch)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (h *handlers) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.tenants.Delete(r.Context(), mux.Vars(r)["id"]); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type restartResponse struct {
	ID          string    `json:"id"`
	RestartedAt time.Time `json:"restarted_at"`
}

func (h *handlers) restart(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	at, err := h.tenants.Restart(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, restartResponse{ID: id, RestartedAt: at})
}
