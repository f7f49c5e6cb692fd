package release

import (
	"context"
	"fmt"
	"sort"
)

// History returns every stored revision of release name, newest first. It
// returns ErrNotFound when the release has none.
func (d *Driver) History(_ context.Context, namespace, name string) ([]*Release, error) {
	cfg, err := d.configuration(namespace)
	if err != nil {
		return nil, err
	}
	revisions, err := cfg.Releases.History(name)
	if err != nil {
		return nil, notFound(err)
	}
	if len(revisions) == 0 {
		return nil, ErrNotFound
	}

	out := make([]*Release, 0, len(revisions))
	for _, r := range revisions {
		rel, err := fromReleaser(r)
		if err != nil {
			return nil, fmt.Errorf("read history of %s: %w", name, err)
		}
		out = append(out, rel)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision > out[j].Revision })
	return out, nil
}
