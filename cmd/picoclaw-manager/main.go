// Command picoclaw-manager runs the REST API that provisions PicoClaw
// tenants as Helm releases, and the operator subcommands.
//
//	picoclaw-manager [serve] [flags]   run the API server (the default)
//	picoclaw-manager migrate [flags]   apply the database migrations and exit
//	picoclaw-manager upgrade [flags]   upgrade every tenant to this binary's chart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/config"
)

// Exit codes.
const (
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // the command line is invalid
)

// usageError is a command line that parsed but holds an invalid value.
type usageError struct{ message string }

func (e *usageError) Error() string { return e.message }

// command is one subcommand: flags adds its own flags, run runs it.
type command struct {
	summary string
	flags   func(*pflag.FlagSet)
	run     func(ctx context.Context, cfg config.Config, logger *slog.Logger) error
}

func commands(stdout, stderr io.Writer) map[string]command {
	upgrade := &upgradeCommand{stdout: stdout, stderr: stderr}
	return map[string]command{
		"serve":   {summary: "run the API server (the default)", run: serve},
		"migrate": {summary: "apply the database migrations and exit", run: migrate},
		"upgrade": {summary: "upgrade tenants whose chart version differs from this binary's", flags: upgrade.addFlags, run: upgrade.run},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	cmd, ok := commands(stdout, stderr)[name]
	if !ok {
		fmt.Fprintf(stderr, "picoclaw-manager: unknown command %q; commands are serve (the default), migrate and upgrade\n", name)
		return exitUsage
	}

	flags := pflag.NewFlagSet("picoclaw-manager "+name, pflag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintf(stderr, "Usage: picoclaw-manager %s [flags]\n\n%s.\n\nFlags:\n%s", name, cmd.summary, flags.FlagUsages())
	}
	if cmd.flags != nil {
		cmd.flags(flags)
	}
	cfg, err := config.Load(flags, args)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "picoclaw-manager %s: %v\n", name, err)
		flags.Usage()
		return exitUsage
	}
	logger := newLogger(cfg.LogLevel, stderr)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = cmd.run(ctx, cfg, logger)
	var usage *usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(stderr, "picoclaw-manager %s: %v\n", name, err)
		flags.Usage()
		return exitUsage
	}
	if err != nil {
		logger.Error("picoclaw-manager failed", "command", name, "error", err.Error())
		return exitFailure
	}
	return 0
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	logger := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
	slog.SetDefault(logger)
	return logger
}
