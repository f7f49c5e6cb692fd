package release

import (
	"context"
	"fmt"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ri "helm.sh/helm/v4/pkg/release"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
)

// Get returns the latest revision of a release, whatever its status, so a
// revision that an operator installed with the helm CLI is read as it is.
// It returns ErrNotFound when the release has no revision.
//
// Helm's own Last decodes every stored revision (up to MaxHistory gzipped
// releases, each with the whole chart) to find the newest; Get lists the
// revisions' metadata and decodes only the newest one.
func (d *Driver) Get(ctx context.Context, namespace, name string) (*Release, error) {
	version, err := d.latestVersion(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	cfg, err := d.configuration(namespace)
	if err != nil {
		return nil, err
	}
	rel, err := cfg.Releases.Get(name, version)
	if err != nil {
		return nil, notFound(err)
	}
	return fromReleaser(rel)
}

// secretsResource is the resource of Helm's default release storage.
var secretsResource = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// latestVersion returns the highest revision number among the release
// Secrets of name, reading only their labels.
func (d *Driver) latestVersion(ctx context.Context, namespace, name string) (int, error) {
	list, err := d.clients.metadata.Resource(secretsResource).Namespace(namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{"owner": "helm", "name": name}).String(),
	})
	if err != nil {
		return 0, fmt.Errorf("list revisions of release %s: %w", name, err)
	}
	latest := 0
	for _, item := range list.Items {
		if v, err := strconv.Atoi(item.Labels["version"]); err == nil && v > latest {
			latest = v
		}
	}
	if latest == 0 {
		return 0, ErrNotFound
	}
	return latest, nil
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
