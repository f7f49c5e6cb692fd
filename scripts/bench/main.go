// Command bench measures picoclaw-manager against the local control plane and
// PostgreSQL of pkg/testenv and writes a Markdown report. `make bench` runs it.
//
//	go run ./scripts/bench -manager bin/picoclaw-manager -out docs/benchmarks.md
//
// It runs four scenarios. A classroom of tenants is created concurrently
// through the API, and the same tenants are installed by the helm CLI,
// sequentially and 4 at a time. Then it measures the manager's latencies and
// memory as the tenant count grows, and its memory and goroutines over
// create/delete churn.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

type options struct {
	managerPath string
	chartDir    string
	out         string
	profileDir  string
	classroom   int
	scale       int
	churn       int
	nodes       int
}

func main() {
	var o options
	flag.StringVar(&o.managerPath, "manager", "bin/picoclaw-manager", "path of the built manager binary")
	flag.StringVar(&o.chartDir, "chart", "chart/picoclaw-tenant", "chart directory the helm CLI installs")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "where to write the Markdown report")
	flag.StringVar(&o.profileDir, "profiles", "docs/benchmarks/raw", "where to write CPU and heap profiles")
	flag.IntVar(&o.classroom, "classroom", 30, "tenants in the classroom scenarios")
	flag.IntVar(&o.scale, "scale", 1000, "tenants in the scale scenario")
	flag.IntVar(&o.churn, "churn", 500, "create/delete cycles in the churn scenario")
	flag.IntVar(&o.nodes, "nodes", 12, "simulated nodes; the scale scenario needs room for one pod per tenant")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Fatalf("bench: %v", err)
	}
}

func run(ctx context.Context, o options) error {
	started := time.Now()
	env, err := startEnv(ctx, o)
	if err != nil {
		return err
	}
	defer env.stop()

	results := &report{started: started, env: env}
	scenarios := []struct {
		name string
		run  func(context.Context, *benchEnv, options, *report) error
	}{
		{"classroom through the API", runClassroom},
		{"classroom through the helm CLI", runHelmCLI},
		{"scale", runScale},
		{"churn", runChurn},
	}
	for _, s := range scenarios {
		progress("scenario: %s", s.name)
		if err := s.run(ctx, env, o, results); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, []byte(results.markdown()), 0o644); err != nil {
		return err
	}
	progress("report written to %s after %v", o.out, time.Since(started).Round(time.Second))
	return nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
}
