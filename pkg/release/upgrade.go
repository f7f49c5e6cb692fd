package release

import (
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
)

// Upgrade upgrades release name to chart with exactly values: the values of
// earlier revisions are reset, not reused, so values must be complete. It
// does not roll back a failed upgrade; the caller does, with Rollback.
func (d *Driver) Upgrade(ctx context.Context, namespace, name string, chart *chartv2.Chart, values map[string]any) (*Release, error) {
	if err := validateValues(chart, values); err != nil {
		return nil, err
	}
	cfg, err := d.configuration(namespace)
	if err != nil {
		return nil, err
	}
	if _, err := d.newUpgrade(cfg, namespace).RunWithContext(ctx, name, chart, values); err != nil {
		return nil, fmt.Errorf("helm upgrade %s: %w", name, err)
	}
	return d.stored(ctx, namespace, name, "upgrade")
}

func (d *Driver) newUpgrade(cfg *action.Configuration, namespace string) *action.Upgrade {
	upgrade := action.NewUpgrade(cfg)
	upgrade.Namespace = namespace
	upgrade.ServerSideApply = "true"
	upgrade.DisableOpenAPIValidation = disableClientValidation
	// Upgrade validated the values against the schema already.
	upgrade.SkipSchemaValidation = true
	upgrade.ResetValues = true
	upgrade.MaxHistory = MaxHistory
	// The chart is the desired state: fields that kubectl or another tool
	// took over go back to the chart's values instead of failing the action.
	upgrade.ForceConflicts = true
	upgrade.WaitStrategy = kube.HookOnlyStrategy
	upgrade.Timeout = d.Timeout
	upgrade.Description = "Upgrade by picoclaw-manager"
	return upgrade
}
