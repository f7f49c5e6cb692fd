package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/picoclaw-manager/picoclaw-manager/chart"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/api"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/config"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// manager is the tenant service with the clients it runs on, shared by the
// serve and upgrade commands.
type manager struct {
	db      *store.Store
	cluster *kube.Client
	service *tenant.Service
	metrics *api.Metrics
}

func newManager(ctx context.Context, cfg config.Config, logger *slog.Logger) (*manager, error) {
	restConfig, err := kubeConfig(cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	releases, err := release.NewDriver(restConfig, logger.With("component", "helm"))
	if err != nil {
		return nil, err
	}
	cluster, err := kube.NewClient(restConfig)
	if err != nil {
		return nil, err
	}
	tenantChart, err := loadChart(cfg.ChartPath)
	if err != nil {
		return nil, err
	}
	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}

	metrics := api.NewMetrics(db)
	service := tenant.NewService(tenant.Config{
		Store:            db,
		Releases:         releases,
		Cluster:          cluster,
		Chart:            tenantChart,
		Values:           tenant.ValuesOptions{Image: cfg.Image, ManagerNamespace: cfg.ManagerNamespace},
		Logger:           logger,
		OperationTimeout: cfg.OperationTimeout,
		Observe:          metrics.ObserveOperation,
		TokenKey:         []byte(cfg.TokenHashKey),
	})
	logger.Info("tenant chart loaded", "chart", tenantChart.Name(), "version", tenantChart.Metadata.Version)
	return &manager{db: db, cluster: cluster, service: service, metrics: metrics}, nil
}

func (m *manager) close() { m.db.Close() }

// kubeConfig returns the REST config of the kubeconfig at path, or the
// in-cluster config when path is empty.
func kubeConfig(path string) (*rest.Config, error) {
	var (
		c   *rest.Config
		err error
	)
	if path == "" {
		c, err = rest.InClusterConfig()
	} else {
		c, err = clientcmd.BuildConfigFromFlags("", path)
	}
	if err != nil {
		return nil, fmt.Errorf("load Kubernetes configuration (set KUBECONFIG outside a cluster): %w", err)
	}
	// Each create makes dozens of API calls; the client-go default of 5
	// requests per second would queue concurrent creates behind each other.
	c.QPS, c.Burst = 100, 200
	// An unreachable API server fails each request after this long instead
	// of holding the operation until its own deadline.
	c.Timeout = 30 * time.Second
	c.UserAgent = "picoclaw-manager"
	return c, nil
}

func loadChart(path string) (*chartv2.Chart, error) {
	if path == "" {
		return chart.Load()
	}
	return chart.LoadPath(path)
}
