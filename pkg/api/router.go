// Package api is the HTTP interface of picoclaw-manager: routes, bearer
// authentication, JSON encoding and the mapping of errors to status codes.
// Business rules live in package tenant.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// Tenants is the lifecycle service the handlers call; *tenant.Service
// implements it.
type Tenants interface {
	Create(ctx context.Context, doc map[string]any) (tenant.Tenant, error)
	Get(ctx context.Context, id string) (tenant.Tenant, error)
	List(ctx context.Context, after string, limit int) ([]tenant.Tenant, error)
	Update(ctx context.Context, id string, patch map[string]any) (tenant.Tenant, error)
	Delete(ctx context.Context, id string) error
	Restart(ctx context.Context, id string) (time.Time, error)
	History(ctx context.Context, id string) ([]tenant.Revision, error)
	Rollback(ctx context.Context, id string, revision int) (tenant.Tenant, error)
	UpgradeFleet(ctx context.Context, opts tenant.UpgradeOptions) (tenant.UpgradeReport, error)
}

// Check reports whether a dependency is usable; /ready runs each.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Config assembles the HTTP handler.
type Config struct {
	Tenants Tenants
	APIKey  string
	Checks  []Check
	Logger  *slog.Logger
	// Metrics are served at /metrics; nil creates metrics without the
	// tenants gauge.
	Metrics *Metrics
}

// NewHandler returns the manager's HTTP handler.
func NewHandler(c Config) http.Handler {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
	h := &handlers{tenants: c.Tenants, checks: c.Checks}

	r := mux.NewRouter()
	r.Use(recordRoute)
	r.NotFoundHandler = http.HandlerFunc(notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(methodNotAllowed)

	r.Handle("/metrics", c.Metrics.Handler()).Methods(http.MethodGet)
	r.HandleFunc("/health", h.health).Methods(http.MethodGet)
	r.HandleFunc("/ready", h.ready).Methods(http.MethodGet)
	r.HandleFunc("/openapi.yaml", h.openAPI).Methods(http.MethodGet)

	// Authentication wraps the whole /api/v1 router, so an unknown path or
	// method under it is only revealed to authenticated clients.
	protected := mux.NewRouter()
	protected.NotFoundHandler = http.HandlerFunc(notFound)
	protected.MethodNotAllowedHandler = http.HandlerFunc(methodNotAllowed)
	v1 := protected.PathPrefix("/api/v1").Subrouter()
	v1.Use(recordRoute)
	v1.HandleFunc("/tenants", h.create).Methods(http.MethodPost)
	v1.HandleFunc("/tenants", h.list).Methods(http.MethodGet)
	v1.HandleFunc("/tenants/{id}", h.get).Methods(http.MethodGet)
	v1.HandleFunc("/tenants/{id}", h.update).Methods(http.MethodPut, http.MethodPatch)
	v1.HandleFunc("/tenants/{id}", h.delete).Methods(http.MethodDelete)
	v1.HandleFunc("/tenants/{id}/restart", h.restart).Methods(http.MethodPost)
	v1.HandleFunc("/tenants/{id}/history", h.history).Methods(http.MethodGet)
	v1.HandleFunc("/tenants/{id}/rollback", h.rollback).Methods(http.MethodPost)
	v1.HandleFunc("/admin/upgrade", h.upgradeFleet).Methods(http.MethodPost)
	r.PathPrefix("/api/v1").Handler(withBearerAuth(c.APIKey)(protected))

	// Wrapping the router, rather than mux middleware, which runs only on
	// matched routes, gives unmatched requests an id, a log line and metrics.
	return withObservability(c.Logger, c.Metrics)(withRecover(r))
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, errorBody{Error: "no route for " + r.Method + " " + r.URL.Path})
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method " + r.Method + " is not allowed on " + r.URL.Path})
}

type handlers struct {
	tenants Tenants
	checks  []Check
}
