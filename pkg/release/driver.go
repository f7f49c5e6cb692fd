// Package release drives the Helm v4 SDK: one file per Helm action, each
// mapping a tenant's release onto the action and running it. It does not
// decide whether an action is wanted; package tenant does.
package release

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/client-go/rest"
)

// MaxHistory is how many revisions each release keeps in Helm storage.
const MaxHistory = 10

// FieldManager is the server-side apply field manager of every Helm action.
// It is the helm CLI's, so an operator's `helm rollback` or `helm upgrade`
// and the manager own the same fields and never conflict. Without it Helm
// names the manager after the running binary.
const FieldManager = "helm"

// disableClientValidation turns off Helm's client-side schema validation.
// Building it fetches and parses the cluster's OpenAPI v3 documents on every
// action (kubectl's Validator caches nothing across calls), which took 80%
// of the manager's CPU while creating tenants. The API server still
// validates every object strictly, since server-side apply sends
// fieldValidation=Strict, and values.schema.json still checks the values.
const disableClientValidation = true

// ErrNotFound is returned when a release does not exist.
var ErrNotFound = errors.New("release not found")

// Driver runs Helm actions against one cluster.
type Driver struct {
	clients *clients
	logger  *slog.Logger
	// Timeout bounds each action's calls to the Kubernetes API.
	Timeout time.Duration
}

// NewDriver returns a Driver for the cluster that config points at.
func NewDriver(config *rest.Config, logger *slog.Logger) (*Driver, error) {
	// Helm reads its field manager from this package variable only.
	kube.ManagedFieldsManager = FieldManager
	c, err := newClients(config)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes clients: %w", err)
	}
	return &Driver{clients: c, logger: logger, Timeout: 2 * time.Minute}, nil
}

// configuration returns a Helm action configuration for releases stored as
// Secrets in namespace, the default storage that the helm CLI reads too.
func (d *Driver) configuration(namespace string) (*action.Configuration, error) {
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(d.logger.Handler()))
	if err := cfg.Init(namespaced{clients: d.clients, namespace: namespace}, namespace, "secret"); err != nil {
		return nil, fmt.Errorf("initialize Helm for namespace %s: %w", namespace, err)
	}
	if kc, ok := cfg.KubeClient.(*kube.Client); ok {
		kc.Namespace = namespace
	}
	return cfg, nil
}

// Release is one revision of a release, as the manager reads it.
type Release struct {
	Name         string
	Namespace    string
	Revision     int
	Status       string
	ChartVersion string
	AppVersion   string
	Description  string
	UpdatedAt    time.Time
	// Values are the values the revision was installed with, secrets included.
	Values map[string]any
}

func notFound(err error) error {
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return ErrNotFound
	}
	return err
}

// chartVersion returns the version of a chart, or "" when it has no metadata.
func chartVersion(c *chartv2.Chart) string {
	if c == nil || c.Metadata == nil {
		return ""
	}
	return c.Metadata.Version
}
