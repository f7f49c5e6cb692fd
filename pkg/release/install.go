package release

import (
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
)

// Install installs chart as release name into namespace, which must exist,
// applying the manifests with server-side apply. It does not wait for the
// workloads to become ready, and it does not clean up after a failure; the
// caller decides whether to uninstall.
func (d *Driver) Install(ctx context.Context, namespace, name string, chart *chartv2.Chart, values map[string]any) (*Release, error) {
	if err := validateValues(chart, values); err != nil {
		return nil, err
	}
	cfg, err := d.configuration(namespace)
	if err != nil {
		return nil, err
	}
	if _, err := d.newInstall(cfg, namespace, name).RunWithContext(ctx, chart, values); err != nil {
		return nil, fmt.Errorf("helm install %s: %w", name, err)
	}
	return d.stored(ctx, namespace, name, "install")
}

func (d *Driver) newInstall(cfg *action.Configuration, namespace, name string) *action.Install {
	install := action.NewInstall(cfg)
	install.ReleaseName = name
	install.Namespace = namespace
	install.ServerSideApply = true
	install.DisableOpenAPIValidation = disableClientValidation
	// Install validated the values against the schema already.
	install.SkipSchemaValidation = true
	install.WaitStrategy = kube.HookOnlyStrategy
	install.Timeout = d.Timeout
	install.Description = "Install by picoclaw-manager"
	return install
}
