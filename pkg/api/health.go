package api

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds each readiness check, so /ready responds within
// seconds when a dependency hangs.
const readyTimeout = 2 * time.Second

func (h *handlers) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ready returns 200 when every check passes, else 503 naming each failure.
func (h *handlers) ready(w http.ResponseWriter, r *http.Request) {
	failures := map[string]string{}
	for _, check := range h.checks {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		if err := check.Run(ctx); err != nil {
			failures[check.Name] = err.Error()
		}
		cancel()
	}
	if len(failures) > 0 {
		logger(r).Warn("not ready", "failures", failures)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "checks": failures})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
