package fault_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
)

// sendAll sends the requests at once, after every goroutine is ready, and
// returns the outcomes in the order of requests.
func sendAll(m *manager, method, path string, bodies []string) []outcome {
	outcomes := make([]outcome, len(bodies))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := m.do(context.Background(), method, path, body)
			outcomes[i] = outcome{r, err}
		}()
	}
	close(start)
	wg.Wait()
	return outcomes
}

// statusCounts summarizes outcomes as "201 x1, 409 x49".
func statusCounts(outcomes []outcome) string {
	counts := map[int]int{}
	for _, o := range outcomes {
		counts[o.status]++
	}
	var parts []string
	for status, n := range counts {
		label := fmt.Sprint(status)
		if status == 0 {
			label = "no response"
		}
		parts = append(parts, fmt.Sprintf("%s x%d", label, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func TestSameIDCreatedOnce(t *testing.T) {
	requireEnv(t)
	const id, requests = "same-id", 50
	m := startManager(t, "manager")

	bodies := make([]string, requests)
	for i := range bodies {
		bodies[i] = createBody(id, fmt.Sprintf("Request %d", i), 1000+i)
	}
	outcomes := sendAll(m, http.MethodPost, "/api/v1/tenants", bodies)
	t.Logf("%d concurrent creates of %s: %s", requests, id, statusCounts(outcomes))

	var created, unexpected []outcome
	for _, o := range outcomes {
		switch {
		case o.err == nil && o.status == http.StatusCreated:
			created = append(created, o)
		case o.err != nil || o.status != http.StatusConflict:
			unexpected = append(unexpected, o)
		}
	}
	if len(created) != 1 {
		t.Errorf("%d creates got 201, want exactly 1: %v", len(created), created)
	}
	if len(unexpected) > 0 {
		t.Errorf("%d creates got neither 201 nor 409, for example %s", len(unexpected), unexpected[0])
	}

	s := readState(t, id)
	if s.rows != 1 {
		t.Errorf("%d rows, want 1; %s", s.rows, s)
	}
	if len(s.labelled) != 1 {
		t.Errorf("namespaces labelled with the tenant: %v, want one; %s", s.labelled, s)
	}
	if len(s.releases) != 1 || len(s.revisions) != 1 {
		t.Errorf("releases %v with %d revisions, want one release with one revision; %s", s.releases, len(s.revisions), s)
	}
	if err := s.activeErr(); err != nil {
		t.Errorf("tenant not whole: %v; %s", err, s)
	}
	if len(created) == 1 {
		if want := displayNameOf(created[0].response); s.row.displayName != want {
			t.Errorf("row display_name = %q, want %q of the create that got 201; %s", s.row.displayName, want, s)
		}
	}
}

func TestDistinctIDsAllCreated(t *testing.T) {
	requireEnv(t)
	const tenants = 30
	m := startManager(t, "manager")

	ids := make([]string, tenants)
	bodies := make([]string, tenants)
	for i := range ids {
		ids[i] = fmt.Sprintf("distinct-%02d", i)
		bodies[i] = createBody(ids[i], "Distinct "+ids[i], 200000)
	}
	outcomes := sendAll(m, http.MethodPost, "/api/v1/tenants", bodies)
	t.Logf("%d concurrent creates of distinct ids: %s", tenants, statusCounts(outcomes))

	for i, o := range outcomes {
		if o.err != nil || o.status != http.StatusCreated {
			t.Errorf("create %s: %s; want 201", ids[i], o)
		}
	}
	for _, id := range ids {
		s := readState(t, id)
		if err := s.activeErr(); err != nil {
			t.Errorf("tenant not whole: %v; %s", err, s)
		}
	}
}
