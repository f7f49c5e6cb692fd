package release

import (
	"context"
	"fmt"
	"strings"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
)

// MarkFailed marks the latest revision of release name failed when it is
// stuck in a pending-* status, which a process that died during an action
// leaves behind and which blocks every later action. It returns whether it
// changed the revision.
func (d *Driver) MarkFailed(_ context.Context, namespace, name string) (bool, error) {
	cfg, err := d.configuration(namespace)
	if err != nil {
		return false, err
	}
	last, err := cfg.Releases.Last(name)
	if err != nil {
		return false, notFound(err)
	}
	rel, ok := last.(*releasev1.Release)
	if !ok || rel.Info == nil || !strings.HasPrefix(rel.Info.Status.String(), "pending-") {
		return false, nil
	}

	stuck := rel.Info.Status
	rel.Info.Status = rcommon.StatusFailed
	rel.Info.Description = fmt.Sprintf("Marked failed by picoclaw-manager: the action that left it %s did not finish", stuck)
	if err := cfg.Releases.Update(rel); err != nil {
		return false, fmt.Errorf("mark revision %d of %s failed: %w", rel.Version, name, err)
	}
	return true, nil
}
