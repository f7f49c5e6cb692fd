package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/api"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/config"
)

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	if cfg.APIKey == config.DefaultAPIKey {
		logger.Warn("API_KEY is the default test key; set API_KEY before exposing the manager")
	}
	if cfg.TokenHashKey == "" {
		logger.Warn("TOKEN_HASH_KEY is not set; channel token hashes use a built-in key, set a secret one before production")
	}
	m, err := newManager(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer m.close()

	if cfg.PprofAddr != "" {
		go servePprof(cfg.PprofAddr, logger)
	}
	go m.service.RunRecovery(ctx, cfg.RecoveryInterval)
	if cfg.DriftInterval > 0 {
		go m.service.RunDriftCheck(ctx, cfg.DriftInterval)
	}

	handler := api.NewHandler(api.Config{
		Tenants: m.service,
		APIKey:  cfg.APIKey,
		Checks:  []api.Check{{Name: "postgresql", Run: m.db.Ping}, {Name: "kubernetes", Run: m.cluster.Ping}},
		Logger:  logger,
		Metrics: m.metrics,
	})
	return listen(ctx, cfg, handler, m.service.Drain, logger)
}

// listen serves until ctx ends, then shuts down gracefully: it stops
// accepting connections and waits up to ShutdownTimeout for requests in
// flight and for drain, which waits for operations. An operation still
// running then is left to recovery, by this process's successor or another
// replica.
func listen(ctx context.Context, cfg config.Config, handler http.Handler, drain func(context.Context) error, logger *slog.Logger) error {
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
	shutdownErr := server.Shutdown(shutdownCtx)
	// Background operations (recovery, drift) run outside any request.
	drainErr := drain(shutdownCtx)
	if err := errors.Join(shutdownErr, drainErr); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown within %v: %w", cfg.ShutdownTimeout, err)
	}
	logger.Info("stopped")
	return nil
}

// servePprof serves the runtime profiles on their own listener, so they are
// never exposed on the API's address.
func servePprof(addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	logger.Info("pprof listening", "addr", addr)
	server := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := server.ListenAndServe(); err != nil {
		logger.Error("pprof listener stopped", "addr", addr, "error", err.Error())
	}
}
