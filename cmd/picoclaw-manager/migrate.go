package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/config"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// connectTimeout bounds how long start-up waits for PostgreSQL, which may
// start at the same time as the manager.
const connectTimeout = 60 * time.Second

func migrate(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	logger.Info("database migrated")
	return nil
}

// openStore connects to PostgreSQL, retrying until connectTimeout, and
// applies the migrations.
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*store.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()

	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	for {
		err = db.Ping(ctx)
		if err == nil {
			break
		}
		logger.Warn("waiting for PostgreSQL", "error", err.Error())
		select {
		case <-ctx.Done():
			db.Close()
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		case <-time.After(2 * time.Second):
		}
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
