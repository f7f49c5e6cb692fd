package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
)

// classroomResult is one way of provisioning a classroom.
type classroomResult struct {
	method      string
	tenants     int
	concurrency int
	// wall is from the first request until every pod runs.
	wall      time.Duration
	latencies []time.Duration
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// forEach runs fn for every id, concurrency at a time, and returns each
// call's duration in the order of ids.
func forEach(ids []string, concurrency int, fn func(id string) (time.Duration, error)) ([]time.Duration, error) {
	durations := make([]time.Duration, len(ids))
	errs := make([]error, len(ids))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				durations[i], errs[i] = fn(ids[i])
			}
		}()
	}
	for i := range ids {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return durations, nil
}

func runClassroom(ctx context.Context, env *benchEnv, o options, r *report) error {
	tenants := ids("class", o.classroom)
	profileDone := make(chan error, 1)
	go func() {
		profileDone <- env.profile(ctx, "profile", filepath.Join(o.profileDir, "classroom-cpu.pprof"), 10)
	}()

	start := time.Now()
	latencies, err := forEach(tenants, len(tenants), func(id string) (time.Duration, error) {
		return env.client.expect(ctx, http.StatusCreated, http.MethodPost, "/api/v1/tenants", tenantRequest(id, true))
	})
	if err != nil {
		return err
	}
	if err := waitRunning(ctx, env, tenants, 2); err != nil {
		return err
	}
	r.classrooms = append(r.classrooms, classroomResult{
		method: "manager API", tenants: len(tenants), concurrency: len(tenants),
		wall: time.Since(start), latencies: latencies,
	})
	if err := <-profileDone; err != nil {
		progress("CPU profile not saved: %v", err)
	}

	_, err = forEach(tenants, 8, func(id string) (time.Duration, error) {
		return env.client.expect(ctx, http.StatusNoContent, http.MethodDelete, "/api/v1/tenants/"+id, "")
	})
	return err
}

// waitRunning waits until each tenant's namespace has podsEach Running pods.
func waitRunning(ctx context.Context, env *benchEnv, tenants []string, podsEach int) error {
	want := map[string]bool{}
	for _, id := range tenants {
		want[tenant.NamespaceFor(id)] = true
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		pods, err := env.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=picoclaw"})
		if err != nil {
			return err
		}
		running := map[string]int{}
		for _, p := range pods.Items {
			if want[p.Namespace] && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				running[p.Namespace]++
			}
		}
		done := 0
		for ns := range want {
			if running[ns] >= podsEach {
				done++
			}
		}
		if done == len(want) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("pods of %d tenants not all Running after 5 minutes", len(tenants))
}

func runHelmCLI(ctx context.Context, env *benchEnv, o options, r *report) error {
	for _, concurrency := range []int{1, 4} {
		tenants := ids(fmt.Sprintf("cli%d", concurrency), o.classroom)
		files, err := writeValues(env.dir, tenants)
		if err != nil {
			return err
		}

		start := time.Now()
		latencies, err := forEach(tenants, concurrency, func(id string) (time.Duration, error) {
			return helmInstall(ctx, env, o.chartDir, id, files[id])
		})
		if err != nil {
			return err
		}
		if err := waitRunning(ctx, env, tenants, 2); err != nil {
			return err
		}
		r.classrooms = append(r.classrooms, classroomResult{
			method: "helm CLI", tenants: len(tenants), concurrency: concurrency,
			wall: time.Since(start), latencies: latencies,
		})
		for _, id := range tenants {
			env.kube.CoreV1().Namespaces().Delete(ctx, tenant.NamespaceFor(id), metav1.DeleteOptions{})
		}
	}
	return nil
}

// writeValues writes, for each tenant, the chart values the manager would
// install, so both methods install the same chart with the same values.
func writeValues(dir string, tenants []string) (map[string]string, error) {
	files := map[string]string{}
	for _, id := range tenants {
		var doc map[string]any
		decoder := json.NewDecoder(stringsReader(tenantRequest(id, true)))
		decoder.UseNumber()
		if err := decoder.Decode(&doc); err != nil {
			return nil, err
		}
		spec, err := tenant.ParseCreate(doc)
		if err != nil {
			return nil, err
		}
		values := spec.Values(tenant.ValuesOptions{Image: "docker.io/sipeed/picoclaw:latest", ManagerNamespace: "picoclaw-system"})
		data, err := json.Marshal(values)
		if err != nil {
			return nil, err
		}
		files[id] = filepath.Join(dir, id+"-values.json")
		if err := os.WriteFile(files[id], data, 0o600); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// helmInstall runs one `helm install` process, as an operator's script
// would, creating the namespace too.
func helmInstall(ctx context.Context, env *benchEnv, chartDir, id, valuesFile string) (time.Duration, error) {
	home := filepath.Join(env.dir, "helm-home")
	cmd := exec.CommandContext(ctx, env.controlPlane.BinPath("helm"), "install", id, chartDir,
		"--namespace", tenant.NamespaceFor(id), "--create-namespace", "--values", valuesFile)
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+env.controlPlane.KubeconfigPath(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("helm install %s: %w: %s", id, err, out)
	}
	return time.Since(start), nil
}
