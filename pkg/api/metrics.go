package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TenantCounter counts tenants by status for the tenants gauge;
// *store.Store implements it.
type TenantCounter interface {
	CountByStatus(ctx context.Context) (map[string]int, error)
}

// Statuses every scrape reports, so a status with no tenant reads 0.
var statuses = []string{"provisioning", "active", "updating", "failed", "deleting"}

// Metrics are the manager's Prometheus metrics, served at /metrics.
type Metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	operations *prometheus.HistogramVec
}

// NewMetrics registers the manager's metrics and the Go runtime and process
// collectors. tenants may be nil, which leaves out the tenants gauge.
func NewMetrics(tenants TenantCounter) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picoclaw_http_requests_total",
			Help: "HTTP requests by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "picoclaw_http_request_duration_seconds",
			Help:    "HTTP request duration by route template and method.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"route", "method"}),
		operations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "picoclaw_operation_duration_seconds",
			Help:    "Tenant operation duration by operation and outcome (success, invalid, not_found, conflict, error).",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}, []string{"operation", "outcome"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.operations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if tenants != nil {
		m.registry.MustRegister(&tenantCollector{tenants: tenants})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveOperation records one tenant operation; it is the tenant service's
// Observe hook.
func (m *Metrics) ObserveOperation(operation string, duration time.Duration, err error) {
	m.operations.WithLabelValues(operation, outcomeOf(err)).Observe(duration.Seconds())
}

func (m *Metrics) observeRequest(route, method string, status int, duration time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(duration.Seconds())
}

// outcomeOf names the outcome of an operation by the status its error maps to.
func outcomeOf(err error) string {
	if err == nil {
		return "success"
	}
	switch status, _ := statusOf(err); status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	}
	return "error"
}

// tenantCollector reads the tenants gauge from PostgreSQL at each scrape.
type tenantCollector struct {
	tenants TenantCounter
}

var tenantsDesc = prometheus.NewDesc("picoclaw_tenants", "Tenants by status, read from PostgreSQL at scrape time.", []string{"status"}, nil)

func (c *tenantCollector) Describe(ch chan<- *prometheus.Desc) { ch <- tenantsDesc }

// Collect reports nothing when PostgreSQL cannot be read, so a scrape during
// an outage shows the gap instead of zeros.
func (c *tenantCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	counts, err := c.tenants.CountByStatus(ctx)
	if err != nil {
		return
	}
	for _, status := range statuses {
		ch <- prometheus.MustNewConstMetric(tenantsDesc, prometheus.GaugeValue, float64(counts[status]), status)
	}
}
