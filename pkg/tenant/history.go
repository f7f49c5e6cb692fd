package tenant

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/picoclaw"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
)

// Revision is one revision of a tenant's release, as GET .../history lists it.
type Revision struct {
	Revision     int       `json:"revision"`
	Status       string    `json:"status"`
	ChartVersion string    `json:"chart_version"`
	AppVersion   string    `json:"app_version"`
	Description  string    `json:"description"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// History returns the revisions of tenant id's release, newest first, as
// Helm stores them; at most release.MaxHistory are kept.
func (s *Service) History(ctx context.Context, id string) ([]Revision, error) {
	row, err := s.getRow(ctx, "history", id)
	if err != nil {
		return nil, err
	}
	revisions, err := s.Releases.History(ctx, row.Namespace, row.ReleaseName)
	if err != nil {
		return nil, &StepError{Operation: "history", Tenant: id, Step: "read release history", Err: err}
	}
	out := make([]Revision, len(revisions))
	for i, r := range revisions {
		out[i] = Revision{
			Revision:     r.Revision,
			Status:       r.Status,
			ChartVersion: r.ChartVersion,
			AppVersion:   r.AppVersion,
			Description:  r.Description,
			UpdatedAt:    r.UpdatedAt,
		}
	}
	return out, nil
}

// Rollback rolls tenant id's release back to revision, or, when revision is
// 0, to the newest earlier revision that served, and records the new
// revision it creates. A revision that Helm does not store is a
// *ValidationError naming the stored ones.
func (s *Service) Rollback(ctx context.Context, id string, revision int) (t Tenant, err error) {
	start := time.Now()
	defer func() { s.logOperation("rollback", id, start, err) }()

	ctx, cancel := s.operation(ctx)
	defer cancel()
	unlock, err := s.lock(ctx, "rollback", id)
	if err != nil {
		return Tenant{}, err
	}
	defer unlock()

	row, err := s.getRow(ctx, "rollback", id)
	if err != nil {
		return Tenant{}, err
	}
	revisions, err := s.Releases.History(ctx, row.Namespace, row.ReleaseName)
	if err != nil {
		return Tenant{}, &StepError{Operation: "rollback", Tenant: id, Step: "read release history", Err: err}
	}
	target, err := rollbackTarget(revisions, revision)
	if err != nil {
		return Tenant{}, err
	}
	if err := checkWorkspaceKept(revisions[0].Values, target); err != nil {
		return Tenant{}, err
	}
	if err := s.claimTokens(ctx, "rollback", id, picoclaw.SectionsOf(object(target.Values["config"]))); err != nil {
		return Tenant{}, err
	}

	if err := s.Store.SetStatus(ctx, id, string(StatusUpdating), row.LastError); err != nil {
		return Tenant{}, &StepError{Operation: "rollback", Tenant: id, Step: "mark tenant updating", Err: err}
	}
	rel, err := s.Releases.Rollback(ctx, row.Namespace, row.ReleaseName, target.Revision)
	if err != nil {
		return Tenant{}, s.recoverUpgrade(ctx, row, revisions[0],
			fromRelease("rollback", id, "roll back release", target.Values, err))
	}

	if spec, errs := parseDocument(id, documentFromValues(rel.Values)); len(errs) == 0 {
		row.DisplayName = spec.DisplayName
		row.Resources = resourcesRow(spec.Resources)
	}
	return s.markActive(ctx, "rollback", row, rel)
}

// rollbackTarget returns the stored revision requested, from revisions
// newest first. 0 requests the newest revision before the latest one that
// served, skipping failed ones, so a rollback after a failed upgrade does
// not return to the failure.
func rollbackTarget(revisions []*release.Release, requested int) (*release.Release, error) {
	if requested == 0 {
		for _, r := range revisions[1:] {
			if r.Status == "superseded" || r.Status == "deployed" {
				return r, nil
			}
		}
		return nil, &ValidationError{Fields: []FieldError{{Field: "revision",
			Error: "the release has no earlier revision that served; name one of the stored revisions"}}}
	}
	stored := make([]string, len(revisions))
	for i, r := range revisions {
		if r.Revision == requested {
			return r, nil
		}
		stored[i] = strconv.Itoa(r.Revision)
	}
	return nil, &ValidationError{Fields: []FieldError{{Field: "revision",
		Error: fmt.Sprintf("revision %d does not exist; stored revisions are %s", requested, strings.Join(stored, ", "))}}}
}

// checkWorkspaceKept rejects a rollback to a revision with a smaller
// workspace than the current one, which Kubernetes refuses because a bound
// volume cannot shrink.
func checkWorkspaceKept(current map[string]any, target *release.Release) error {
	now, errNow := resource.ParseQuantity(str(object(current["workspace"])["size"]))
	then, errThen := resource.ParseQuantity(str(object(target.Values["workspace"])["size"]))
	if errNow != nil || errThen != nil || then.Cmp(now) >= 0 {
		return nil
	}
	return &ValidationError{Fields: []FieldError{{Field: "revision", Error: fmt.Sprintf(
		"revision %d has a %s workspace, smaller than the current %s, and a workspace cannot shrink",
		target.Revision, then.String(), now.String())}}}
}
