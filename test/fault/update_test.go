package fault_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// patchOutcome is the response to patchBody(n) sent through one manager.
type patchOutcome struct {
	n       int
	manager string
	outcome
}

// expectedValues returns the chart values of a tenant created with
// createDocument(id, displayName, maxTokens), as JSON decodes them.
func expectedValues(t *testing.T, id, displayName string, maxTokens int) map[string]any {
	t.Helper()
	spec, err := tenant.ParseCreate(createDocument(id, displayName, maxTokens))
	if err != nil {
		t.Fatalf("expected spec of %s: %v", id, err)
	}
	return normalizeJSON(t, spec.Values(tenant.ValuesOptions{Image: image, ManagerNamespace: managerNamespace}))
}

// normalizeJSON returns v after a JSON round trip, as Helm storage keeps it.
func normalizeJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode values: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("decode values: %v", err)
	}
	return out
}

// diffValues lists the paths at which got differs from want, at most max.
func diffValues(path string, want, got any, max int) []string {
	if reflect.DeepEqual(want, got) {
		return nil
	}
	wantMap, ok1 := want.(map[string]any)
	gotMap, ok2 := got.(map[string]any)
	if !ok1 || !ok2 {
		return []string{fmt.Sprintf("%s: got %s, want %s", path, compactJSON(got), compactJSON(want))}
	}
	keys := map[string]bool{}
	for k := range wantMap {
		keys[k] = true
	}
	for k := range gotMap {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)

	var diffs []string
	for _, k := range sorted {
		diffs = append(diffs, diffValues(path+"."+k, wantMap[k], gotMap[k], max-len(diffs))...)
		if len(diffs) >= max {
			return diffs[:max]
		}
	}
	return diffs
}

// patchConcurrently sends patchBody(n) for each n of numbers through m,
// from workers goroutines. Each worker pauses for a random 100 to 500 ms
// after each response, about the time one upgrade takes, so patches of
// both managers get accepted.
func patchConcurrently(m *manager, id string, numbers []int, workers int) []patchOutcome {
	var (
		mu       sync.Mutex
		outcomes []patchOutcome
		wg       sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(numbers); i += workers {
				n := numbers[i]
				r, err := m.do(context.Background(), http.MethodPatch, tenantPath(id), patchBody(n))
				mu.Lock()
				outcomes = append(outcomes, patchOutcome{n: n, manager: m.name, outcome: outcome{r, err}})
				mu.Unlock()
				time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	return outcomes
}

func TestTwoManagersSerializeUpdates(t *testing.T) {
	requireEnv(t)
	const (
		id                = "two-managers"
		patchesPerManager = 20
		workersPerManager = 2
		createdName       = "Two managers"
		createdMaxTokens  = 200000
	)
	a := startManager(t, "a")
	b := startManager(t, "b")
	expectStatus(t, a.call(t, http.MethodPost, "/api/v1/tenants", createBody(id, createdName, createdMaxTokens)), http.StatusCreated)

	// Manager a sends n = 1..20, manager b n = 21..40.
	var numbersA, numbersB []int
	for n := 1; n <= patchesPerManager; n++ {
		numbersA = append(numbersA, n)
		numbersB = append(numbersB, patchesPerManager+n)
	}
	var outcomes []patchOutcome
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, run := range []struct {
		m       *manager
		numbers []int
	}{{a, numbersA}, {b, numbersB}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := patchConcurrently(run.m, id, run.numbers, workersPerManager)
			mu.Lock()
			outcomes = append(outcomes, got...)
			mu.Unlock()
		}()
	}
	wg.Wait()

	// Every response is 200, or 409 with Retry-After; each 200 names the
	// revision its patch created.
	acceptedBy := map[string]int{}
	patchOfRevision := map[int]int{}
	for _, o := range outcomes {
		switch {
		case o.err != nil:
			t.Errorf("patch %d through %s: %s", o.n, o.manager, o)
		case o.status == http.StatusConflict && o.header.Get("Retry-After") == "":
			t.Errorf("patch %d through %s: 409 without Retry-After: %s", o.n, o.manager, o)
		case o.status == http.StatusConflict:
		case o.status != http.StatusOK:
			t.Errorf("patch %d through %s: %s; want 200 or 409", o.n, o.manager, o)
		case displayNameOf(o.response) != fmt.Sprintf("p-%d", o.n):
			t.Errorf("patch %d through %s answered with another patch's tenant: %s", o.n, o.manager, o)
		default:
			acceptedBy[o.manager]++
			revision := revisionOf(o.response)
			if other, duplicate := patchOfRevision[revision]; duplicate {
				t.Errorf("patches %d and %d both report revision %d", other, o.n, revision)
			}
			patchOfRevision[revision] = o.n
		}
	}
	accepted := len(patchOfRevision)
	t.Logf("%d patches accepted (%v) of %d", accepted, acceptedBy, len(outcomes))
	if acceptedBy[a.name] == 0 || acceptedBy[b.name] == 0 {
		t.Fatalf("accepted patches per manager: %v; the test needs patches of both managers", acceptedBy)
	}

	s := readState(t, id)
	if err := s.activeErr(); err != nil {
		t.Fatalf("tenant not whole: %v; %s", err, s)
	}
	if want := 1 + accepted; s.latest().Revision != want {
		t.Errorf("latest revision %d, want %d: the create plus one per accepted patch; accepted revisions %v; %s",
			s.latest().Revision, want, patchOfRevision, s)
	}
	if want := fmt.Sprintf("p-%d", patchOfRevision[s.latest().Revision]); s.row.displayName != want {
		t.Errorf("row display_name %q, want %q of the patch that made the latest revision; %s", s.row.displayName, want, s)
	}

	// Each stored revision is whole: its values are exactly those of the
	// create or of the one accepted patch that reported it.
	for _, rev := range s.revisions {
		if rev.Status != "superseded" && !(rev.Status == "deployed" && rev == s.latest()) {
			t.Errorf("revision %d is %s (%s); want superseded, or deployed for the latest", rev.Revision, rev.Status, rev.Description)
		}
		name, maxTokens := createdName, createdMaxTokens
		if rev.Revision > 1 {
			n, ok := patchOfRevision[rev.Revision]
			if !ok {
				t.Errorf("revision %d matches no accepted patch; accepted revisions %v", rev.Revision, patchOfRevision)
				continue
			}
			name, maxTokens = fmt.Sprintf("p-%d", n), n
		}
		want := expectedValues(t, id, name, maxTokens)
		if diffs := diffValues("values", want, normalizeJSON(t, rev.Values), 5); len(diffs) > 0 {
			t.Errorf("revision %d is not exactly display_name %q with max_tokens %d:\n%s",
				rev.Revision, name, maxTokens, strings.Join(diffs, "\n"))
		}
	}
}
