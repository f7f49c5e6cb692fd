package release

import (
	"context"
	"fmt"

	ri "helm.sh/helm/v4/pkg/release"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
)

// Get returns the latest revision of a release, whatever its status, so a
// revision that an operator installed with the helm CLI is read as it is.
// It returns ErrNotFound when the release has no revision.
func (d *Driver) Get(_ context.Context, namespace, name string) (*Release, error) {
	cfg, err := d.configuration(namespace)
	if err != nil {
		return nil, err
	}
	last, err := cfg.Releases.Last(name)
	if err != nil {
		return nil, notFound(err)
	}
	return fromReleaser(last)
}

// stored returns the latest revision of release name as Helm storage holds it
// after an action. Helm logs, but does not return, a failure to record the
// final status, which would leave the release pending-*; this turns it into
// an error.
func (d *Driver) stored(ctx context.Context, namespace, name, action string) (*Release, error) {
	rel, err := d.Get(ctx, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("helm %s %s: read the recorded release: %w", action, name, err)
	}
	if rel.Status != "deployed" {
		return nil, fmt.Errorf("helm %s %s: revision %d is recorded as %s, not deployed", action, name, rel.Revision, rel.Status)
	}
	return rel, nil
}

// fromReleaser converts what Helm returns into a Release.
func fromReleaser(r ri.Releaser) (*Release, error) {
	rel, ok := r.(*releasev1.Release)
	if !ok {
		return nil, fmt.Errorf("unsupported release type %T", r)
	}
	out := &Release{
		Name:         rel.Name,
		Namespace:    rel.Namespace,
		Revision:     rel.Version,
		ChartVersion: chartVersion(rel.Chart),
		Values:       rel.Config,
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		out.AppVersion = rel.Chart.Metadata.AppVersion
	}
	if rel.Info != nil {
		out.Status = rel.Info.Status.String()
		out.Description = rel.Info.Description
		out.UpdatedAt = rel.Info.LastDeployed
	}
	return out, nil
}
