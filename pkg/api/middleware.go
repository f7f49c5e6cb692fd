package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

type contextKey int

const loggerKey contextKey = iota

// RequestIDHeader carries the request id in requests and responses.
const RequestIDHeader = "X-Request-ID"

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// logger returns the request's logger, which carries its request id.
func logger(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	s.status = status
	s.ResponseWriter.WriteHeader(status)
}

// requestInfo is filled in while a request is routed, for its log line and
// metrics.
type requestInfo struct {
	route string
}

const requestInfoKey contextKey = loggerKey + 1

// unmatchedRoute labels requests that match no route, so arbitrary paths do
// not create new metric series.
const unmatchedRoute = "unmatched"

// withObservability gives each request an id (the client's X-Request-ID when
// well-formed, else a new one), returns it in the response, logs one line
// per request and records its metrics. It never logs headers or bodies,
// which carry secrets.
func withObservability(base *slog.Logger, metrics *Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get(RequestIDHeader)
			if !requestIDPattern.MatchString(id) {
				id = newRequestID()
			}
			w.Header().Set(RequestIDHeader, id)
			l := base.With("request_id", id)
			info := &requestInfo{route: unmatchedRoute}
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}

			ctx := context.WithValue(context.WithValue(r.Context(), loggerKey, l), requestInfoKey, info)
			next.ServeHTTP(rec, r.WithContext(ctx))

			duration := time.Since(start)
			metrics.observeRequest(info.route, r.Method, rec.status, duration)
			l.Info("request", "method", r.Method, "path", r.URL.Path, "route", info.route,
				"status", rec.status, "duration", duration)
		})
	}
}

// recordRoute stores the matched route's template in the request's info.
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, ok := r.Context().Value(requestInfoKey).(*requestInfo)
		if route := mux.CurrentRoute(r); ok && route != nil {
			if template, err := route.GetPathTemplate(); err == nil {
				info.route = template
			}
		}
		next.ServeHTTP(w, r)
	})
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// withRecover turns a panic in a handler into a 500 and logs it.
func withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				logger(r).Error("handler panicked", "panic", v)
				writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withBearerAuth admits requests whose Authorization header carries apiKey
// as a bearer token: 401 when the header is missing or malformed, 403 when
// the key is wrong. The comparison takes the same time for every wrong key.
func withBearerAuth(apiKey string) mux.MiddlewareFunc {
	want := sha256.Sum256([]byte(apiKey))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
			if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="picoclaw-manager"`)
				writeJSON(w, http.StatusUnauthorized, errorBody{Error: "missing or malformed Authorization header; send \"Authorization: Bearer <API key>\""})
				return
			}
			got := sha256.Sum256([]byte(strings.TrimSpace(token)))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				writeJSON(w, http.StatusForbidden, errorBody{Error: "invalid API key"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
