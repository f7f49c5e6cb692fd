package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/picoclaw-manager/picoclaw-manager/chart"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/api"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/config"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	if cfg.APIKey == config.DefaultAPIKey {
		logger.Warn("API_KEY is the default test key; set API_KEY before exposing the manager")
	}

	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()

	restConfig, err := kubeConfig(cfg.Kubeconfig)
	if err != nil {
		return err
	}
	releases, err := release.NewDriver(restConfig, logger.With("component", "helm"))
	if err != nil {
		return err
	}
	cluster, err := kube.NewClient(restConfig)
	if err != nil {
		return err
	}
	tenantChart, err := loadChart(cfg.ChartPath)
	if err != nil {
		return err
	}

	service := tenant.NewService(tenant.Config{
		Store:            db,
		Releases:         releases,
		Cluster:          cluster,
		Chart:            tenantChart,
		Values:           tenant.ValuesOptions{Image: cfg.Image, ManagerNamespace: cfg.ManagerNamespace},
		Logger:           logger,
		OperationTimeout: cfg.OperationTimeout,
	})
	handler := api.NewHandler(api.Config{
		Tenants: service,
		APIKey:  cfg.APIKey,
		Checks:  []api.Check{{Name: "postgresql", Run: db.Ping}, {Name: "kubernetes", Run: cluster.Ping}},
		Logger:  logger,
	})
	return listen(ctx, cfg, handler, logger)
}

// listen serves until ctx ends, then shuts down gracefully: it stops
// accepting connections and waits up to ShutdownTimeout for requests in
// flight, whose operations run detached from their connections.
func listen(ctx context.Context, cfg config.Config, handler http.Handler, logger *slog.Logger) error {
	server := &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errs := make(chan error, 1)
	go func() { errs <- server.ListenAndServe() }()
	logger.Info("picoclaw-manager listening", "addr", cfg.ListenAddr)

	select {
	case err := <-errs:
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	case <-ctx.Done():
	}

	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

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
	c.UserAgent = "picoclaw-manager"
	return c, nil
}

func loadChart(path string) (*chartv2.Chart, error) {
	if path == "" {
		return chart.Load()
	}
	return chart.LoadPath(path)
}
