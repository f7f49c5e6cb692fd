package tenant

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
)

// Outcomes of one tenant in a fleet upgrade.
const (
	OutcomePlanned    = "planned"     // dry run: would be upgraded
	OutcomeUpgraded   = "upgraded"    // now runs the target chart version
	OutcomeFailed     = "failed"      // upgrade failed; see Error for the rollback
	OutcomeCurrent    = "current"     // already on the target chart version
	OutcomeNotStarted = "not-started" // skipped after MaxFailures failures
)

// UpgradeOptions select and pace a fleet upgrade.
type UpgradeOptions struct {
	// Concurrency is how many tenants upgrade at once; at least 1.
	Concurrency int
	// DryRun only reports the plan and changes nothing.
	DryRun bool
	// Tenants limits the upgrade to these ids; empty means every tenant.
	Tenants []string
	// MaxFailures stops starting new upgrades once this many failed; 0 means
	// no limit.
	MaxFailures int
	// Progress, when set, is called after each tenant, from one goroutine at
	// a time.
	Progress func(result UpgradeResult, done, total int)
}

// UpgradeResult is the outcome of a fleet upgrade for one tenant.
type UpgradeResult struct {
	Tenant      string `json:"tenant"`
	FromVersion string `json:"from_version"`
	ToVersion   string `json:"to_version"`
	Outcome     string `json:"outcome"`
	Revision    int    `json:"revision,omitempty"`
	Error       string `json:"error,omitempty"`
}

// UpgradeReport is the outcome of a fleet upgrade, one result per tenant in
// id order.
type UpgradeReport struct {
	ChartVersion string          `json:"chart_version"`
	DryRun       bool            `json:"dry_run"`
	Total        int             `json:"total"`
	Upgraded     int             `json:"upgraded"`
	Planned      int             `json:"planned"`
	Failed       int             `json:"failed"`
	Results      []UpgradeResult `json:"results"`
}

// UpgradeFleet upgrades every selected tenant whose release runs a chart
// version other than the service's chart, keeping the values each release
// has and taking the new chart's defaults for the rest. A tenant whose
// upgrade fails is rolled back to its previous revision and reported; the
// others go on. It returns an error only when the tenants cannot be listed
// or the options are invalid (a *ValidationError).
func (s *Service) UpgradeFleet(ctx context.Context, opts UpgradeOptions) (UpgradeReport, error) {
	var errs fieldErrors
	if opts.Concurrency < 1 {
		errs.add("concurrency", "must be at least 1, got %d", opts.Concurrency)
	}
	if opts.MaxFailures < 0 {
		errs.add("max_failures", "must be 0 (no limit) or more, got %d", opts.MaxFailures)
	}
	if err := errs.err(); err != nil {
		return UpgradeReport{}, err
	}
	rows, err := s.selectTenants(ctx, opts.Tenants)
	if err != nil {
		return UpgradeReport{}, err
	}

	report := UpgradeReport{ChartVersion: s.chartVersion(), DryRun: opts.DryRun, Total: len(rows)}
	report.Results = s.runFleet(ctx, rows, opts)
	for _, r := range report.Results {
		switch r.Outcome {
		case OutcomeUpgraded:
			report.Upgraded++
		case OutcomePlanned:
			report.Planned++
		case OutcomeFailed:
			report.Failed++
		}
	}
	return report, nil
}

// selectTenants returns the rows of ids, or of every tenant when ids is
// empty. An unknown id is an error, so a typo does not pass as success.
func (s *Service) selectTenants(ctx context.Context, ids []string) ([]store.Tenant, error) {
	rows, err := s.Store.List(ctx, "", 0)
	if err != nil {
		return nil, &StepError{Operation: "upgrade-chart", Tenant: "*", Step: "list tenants", Err: err}
	}
	if len(ids) == 0 {
		return rows, nil
	}

	var selected []store.Tenant
	for _, row := range rows {
		if slices.Contains(ids, row.ID) {
			selected = append(selected, row)
		}
	}
	var missing []string
	for _, id := range ids {
		if !slices.ContainsFunc(selected, func(r store.Tenant) bool { return r.ID == id }) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, &ValidationError{Fields: []FieldError{{Field: "tenants", Error: fmt.Sprintf("unknown tenant ids: %s", strings.Join(missing, ", "))}}}
	}
	return selected, nil
}

// runFleet upgrades rows with opts.Concurrency workers and returns the
// results in the order of rows.
func (s *Service) runFleet(ctx context.Context, rows []store.Tenant, opts UpgradeOptions) []UpgradeResult {
	results := make([]UpgradeResult, len(rows))
	jobs := make(chan int)
	var (
		mu       sync.Mutex
		done     int
		failures int
		wg       sync.WaitGroup
	)
	for range min(opts.Concurrency, max(len(rows), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				result := s.upgradeTenant(ctx, rows[i], opts.DryRun)
				mu.Lock()
				results[i] = result
				done++
				if result.Outcome == OutcomeFailed {
					failures++
				}
				if opts.Progress != nil {
					opts.Progress(result, done, len(rows))
				}
				mu.Unlock()
			}
		}()
	}

	for i, row := range rows {
		mu.Lock()
		stop := opts.MaxFailures > 0 && failures >= opts.MaxFailures
		mu.Unlock()
		if stop || ctx.Err() != nil {
			results[i] = UpgradeResult{Tenant: row.ID, FromVersion: row.ChartVersion, ToVersion: s.chartVersion(),
				Outcome: OutcomeNotStarted, Error: "not started: the upgrade stopped after earlier failures or was cancelled"}
			continue
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return results
}

// upgradeTenant upgrades one tenant under its lock.
func (s *Service) upgradeTenant(ctx context.Context, row store.Tenant, dryRun bool) (result UpgradeResult) {
	start := time.Now()
	result = UpgradeResult{Tenant: row.ID, FromVersion: row.ChartVersion, ToVersion: s.chartVersion()}
	var err error
	defer func() {
		if err != nil {
			result.Outcome, result.Error = OutcomeFailed, err.Error()
		}
		s.logOperation("upgrade-chart", row.ID, start, err)
	}()

	ctx, cancel := s.operation(ctx)
	defer cancel()
	unlock, err := s.lock(ctx, "upgrade-chart", row.ID)
	if err != nil {
		return result
	}
	defer unlock()

	current, err := s.Releases.Get(ctx, row.Namespace, row.ReleaseName)
	if err != nil {
		err = &StepError{Operation: "upgrade-chart", Tenant: row.ID, Step: "read release", Err: err}
		return result
	}
	result.FromVersion, result.Revision = current.ChartVersion, current.Revision
	switch {
	case current.ChartVersion == result.ToVersion:
		result.Outcome = OutcomeCurrent
		return result
	case dryRun:
		result.Outcome = OutcomePlanned
		return result
	}

	if err = s.Store.SetStatus(ctx, row.ID, string(StatusUpdating), row.LastError); err != nil {
		return result
	}
	rel, upgradeErr := s.Releases.Upgrade(ctx, row.Namespace, row.ReleaseName, s.Chart, current.Values)
	if upgradeErr != nil {
		stepErr := fromRelease("upgrade-chart", row.ID, "upgrade release", current.Values, upgradeErr)
		err = s.recoverUpgrade(ctx, row, current, stepErr)
		return result
	}
	if _, err = s.markActive(ctx, "upgrade-chart", row, rel); err != nil {
		return result
	}
	result.Outcome, result.Revision = OutcomeUpgraded, rel.Revision
	return result
}

func (s *Service) chartVersion() string {
	if s.Chart == nil || s.Chart.Metadata == nil {
		return ""
	}
	return s.Chart.Metadata.Version
}
