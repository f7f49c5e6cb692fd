// Command picoclaw-manager runs the REST API that provisions PicoClaw
// tenants as Helm releases, and the operator subcommands.
//
//	picoclaw-manager [serve] [flags]   run the API server (the default)
//	picoclaw-manager migrate [flags]   apply the database migrations and exit
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/config"
)

// exitUsage is the exit code of a command line that cannot be parsed.
const exitUsage = 2

func main() {
	command, args := "serve", os.Args[1:]
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		command, args = args[0], args[1:]
	}

	run, ok := map[string]func(context.Context, config.Config, *slog.Logger) error{
		"serve":   serve,
		"migrate": migrate,
	}[command]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown command %q; commands are serve (the default) and migrate\n", command)
		os.Exit(exitUsage)
	}

	cfg, err := config.Load("picoclaw-manager "+command, args)
	if errors.Is(err, pflag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "picoclaw-manager %s: %v\n", command, err)
		os.Exit(exitUsage)
	}
	logger := newLogger(cfg.LogLevel)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("picoclaw-manager failed", "command", command, "error", err.Error())
		os.Exit(1)
	}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
	slog.SetDefault(logger)
	return logger
}
