package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/config"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// upgradeCommand moves tenants to the chart of this binary (or CHART_PATH),
// as a CI job does after it builds a new manager image.
type upgradeCommand struct {
	options        tenant.UpgradeOptions
	stdout, stderr io.Writer
}

func (u *upgradeCommand) addFlags(flags *pflag.FlagSet) {
	flags.IntVar(&u.options.Concurrency, "concurrency", 4, "how many tenants upgrade at once")
	flags.BoolVar(&u.options.DryRun, "dry-run", false, "print the plan (tenant, from version, to version) and change nothing")
	flags.StringArrayVar(&u.options.Tenants, "tenant", nil, "upgrade only this tenant id; repeat for several")
	flags.IntVar(&u.options.MaxFailures, "max-failures", 0, "stop starting upgrades after this many failures; 0 means no limit")
}

func (u *upgradeCommand) run(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	if u.options.Concurrency < 1 {
		return &usageError{fmt.Sprintf("--concurrency must be at least 1, got %d", u.options.Concurrency)}
	}
	if u.options.MaxFailures < 0 {
		return &usageError{fmt.Sprintf("--max-failures must be 0 (no limit) or more, got %d", u.options.MaxFailures)}
	}
	m, err := newManager(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer m.close()

	u.options.Progress = func(r tenant.UpgradeResult, done, total int) {
		fmt.Fprintf(u.stderr, "[%d/%d] %s: %s %s -> %s\n", done, total, r.Tenant, r.Outcome, r.FromVersion, r.ToVersion)
	}
	report, err := m.service.UpgradeFleet(ctx, u.options)
	if err != nil {
		return err
	}
	writeReport(u.stdout, report)
	if report.Failed > 0 {
		return fmt.Errorf("%d of %d tenants failed to upgrade and were rolled back", report.Failed, report.Total)
	}
	return nil
}

// writeReport prints the final table of a fleet upgrade.
func writeReport(w io.Writer, report tenant.UpgradeReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tFROM\tTO\tOUTCOME\tREVISION\tERROR")
	for _, r := range report.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.Tenant, r.FromVersion, r.ToVersion, r.Outcome, r.Revision, r.Error)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nchart %s: %d tenants, %d upgraded, %d planned, %d failed (dry run: %t)\n",
		report.ChartVersion, report.Total, report.Upgraded, report.Planned, report.Failed, report.DryRun)
}
