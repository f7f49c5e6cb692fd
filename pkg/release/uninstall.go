package release

import (
	"context"
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
)

// Uninstall removes release name and its history from namespace. A release
// that does not exist is not an error, so compensation can call it blindly.
func (d *Driver) Uninstall(_ context.Context, namespace, name string) error {
	cfg, err := d.configuration(namespace)
	if err != nil {
		return err
	}
	if _, err := d.newUninstall(cfg).Run(name); err != nil {
		return fmt.Errorf("helm uninstall %s: %w", name, err)
	}
	return nil
}

func (d *Driver) newUninstall(cfg *action.Configuration) *action.Uninstall {
	uninstall := action.NewUninstall(cfg)
	uninstall.IgnoreNotFound = true
	uninstall.WaitStrategy = kube.HookOnlyStrategy
	uninstall.DeletionPropagation = "background"
	uninstall.Timeout = d.Timeout
	return uninstall
}
