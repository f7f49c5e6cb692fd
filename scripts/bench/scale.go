package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// checkpoint is the scale scenario's measurements at one tenant count.
type checkpoint struct {
	existing   int
	creates    []time.Duration
	listPage   []time.Duration // ?limit=100
	listAll    []time.Duration
	get        []time.Duration
	rssBytes   int64
	goroutines int
}

// churnResult is the manager's footprint before and after churn.
type churnResult struct {
	cycles                         int
	rssBefore, rssAfter            int64
	goroutinesBefore, goroutinesAt int
	wall                           time.Duration
}

// samples per measurement at each checkpoint.
const (
	createSamples = 20
	readSamples   = 50
	listSamples   = 20
)

func runScale(ctx context.Context, env *benchEnv, o options, r *report) error {
	created := 0
	for _, target := range []int{0, o.scale / 2, o.scale} {
		if err := bulkCreate(ctx, env, created, target); err != nil {
			return err
		}
		created = target
		progress("scale: %d tenants exist, waiting for the cluster to settle", created)
		if err := settle(ctx, env); err != nil {
			return err
		}
		progress("scale: measuring")
		cp, err := measure(ctx, env, created)
		if err != nil {
			return err
		}
		created += createSamples
		r.checkpoints = append(r.checkpoints, cp)
	}
	return env.profile(ctx, "heap?gc=1", filepath.Join(o.profileDir, "scale-heap.pprof"), 0)
}

// bulkCreate creates tenants scale-<from> to scale-<to-1>, 8 at a time,
// with the agent disabled: the scenario measures release objects.
func bulkCreate(ctx context.Context, env *benchEnv, from, to int) error {
	if to <= from {
		return nil
	}
	var pending []string
	for i := from; i < to; i++ {
		pending = append(pending, fmt.Sprintf("scale-%04d", i))
	}
	_, err := forEach(pending, 8, func(id string) (time.Duration, error) {
		return env.client.expect(ctx, http.StatusCreated, http.MethodPost, "/api/v1/tenants", tenantRequest(id, false))
	})
	return err
}

// measure samples create, list and get latencies with existing tenants,
// one request at a time, and reads the manager's memory.
func measure(ctx context.Context, env *benchEnv, existing int) (checkpoint, error) {
	cp := checkpoint{existing: existing}
	for i := range createSamples {
		id := fmt.Sprintf("sample-%04d-%02d", existing, i)
		latency, err := env.client.expect(ctx, http.StatusCreated, http.MethodPost, "/api/v1/tenants", tenantRequest(id, false))
		if err != nil {
			return cp, err
		}
		cp.creates = append(cp.creates, latency)
	}
	for range listSamples {
		page, err := env.client.expect(ctx, http.StatusOK, http.MethodGet, "/api/v1/tenants?limit=100", "")
		if err != nil {
			return cp, err
		}
		all, err := env.client.expect(ctx, http.StatusOK, http.MethodGet, "/api/v1/tenants", "")
		if err != nil {
			return cp, err
		}
		cp.listPage, cp.listAll = append(cp.listPage, page), append(cp.listAll, all)
	}
	for i := range readSamples {
		id := fmt.Sprintf("sample-%04d-%02d", existing, i%createSamples)
		latency, err := env.client.expect(ctx, http.StatusOK, http.MethodGet, "/api/v1/tenants/"+id, "")
		if err != nil {
			return cp, err
		}
		cp.get = append(cp.get, latency)
	}

	var err error
	if cp.rssBytes, err = env.managerRSS(); err != nil {
		return cp, err
	}
	cp.goroutines, err = env.client.goroutines(ctx)
	return cp, err
}

// settle waits until no namespace is terminating and every tenant pod runs,
// so a checkpoint measures the manager rather than a control plane still
// busy with the previous step. On this 2-core machine the API server, etcd,
// the controllers and kwok share the cores with the manager.
func settle(ctx context.Context, env *benchEnv) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		busy, err := clusterBusy(ctx, env)
		if err != nil {
			return err
		}
		if !busy {
			time.Sleep(2 * time.Second)
			return nil
		}
		time.Sleep(time.Second)
	}
	progress("the cluster did not settle within 5 minutes; measuring anyway")
	return nil
}

func clusterBusy(ctx context.Context, env *benchEnv) (bool, error) {
	namespaces, err := env.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, err
	}
	for _, ns := range namespaces.Items {
		if ns.Status.Phase == corev1.NamespaceTerminating {
			return true, nil
		}
	}
	pods, err := env.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=picoclaw"})
	if err != nil {
		return false, err
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			return true, nil
		}
	}
	return false, nil
}

func runChurn(ctx context.Context, env *benchEnv, o options, r *report) error {
	before, goroutinesBefore, err := settledFootprint(ctx, env)
	if err != nil {
		return err
	}

	start := time.Now()
	_, err = forEach(ids("churn", o.churn), 4, func(id string) (time.Duration, error) {
		if _, err := env.client.expect(ctx, http.StatusCreated, http.MethodPost, "/api/v1/tenants", tenantRequest(id, false)); err != nil {
			return 0, err
		}
		return env.client.expect(ctx, http.StatusNoContent, http.MethodDelete, "/api/v1/tenants/"+id, "")
	})
	if err != nil {
		return err
	}
	wall := time.Since(start)

	after, goroutinesAfter, err := settledFootprint(ctx, env)
	if err != nil {
		return err
	}
	r.churn = &churnResult{cycles: o.churn, rssBefore: before, rssAfter: after,
		goroutinesBefore: goroutinesBefore, goroutinesAt: goroutinesAfter, wall: wall}
	return nil
}

// settledFootprint lets idle connections and timers expire, runs a garbage
// collection through the heap profile endpoint, and reads RSS and goroutines.
func settledFootprint(ctx context.Context, env *benchEnv) (int64, int, error) {
	time.Sleep(5 * time.Second)
	if err := env.profile(ctx, "heap?gc=1", filepath.Join(env.dir, "gc.pprof"), 0); err != nil {
		return 0, 0, err
	}
	rss, err := env.managerRSS()
	if err != nil {
		return 0, 0, err
	}
	goroutines, err := env.client.goroutines(ctx)
	return rss, goroutines, err
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
