package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/picoclaw-manager/picoclaw-manager/chart"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/testenv"
)

// fleetSize is the number of tenants the fleet upgrade test moves.
const fleetSize = 20

// markerName is the ConfigMap that chart version B adds to every tenant.
const markerName = "picoclaw-upgrade-marker"

func TestUpgradeFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and the control plane; run without -short")
	}
	ctx := context.Background()
	postgres := &testenv.Postgres{}
	if err := postgres.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { postgres.Stop() })
	controlPlane := &testenv.ControlPlane{}
	if err := controlPlane.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { controlPlane.Stop() })

	ids := createFleet(t, postgres, controlPlane)
	chartB := writeChartB(t)
	t.Setenv("DATABASE_URL", postgres.URL())
	t.Setenv("KUBECONFIG", controlPlane.KubeconfigPath())
	t.Setenv("CHART_PATH", chartB)
	client, err := kubernetes.NewForConfig(controlPlane.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("dry run lists every tenant", func(t *testing.T) {
		out, code := runCommand(t, "upgrade", "--dry-run")
		if code != 0 {
			t.Fatalf("exit code %d, output %s", code, out)
		}
		if n := strings.Count(out, " planned "); n != fleetSize {
			t.Errorf("%d tenants planned, want %d; output %s", n, fleetSize, out)
		}
		if versions := chartVersions(t, controlPlane, ids); versions["0.1.0"] != fleetSize {
			t.Errorf("chart versions after dry run = %v, want all 0.1.0", versions)
		}
	})

	failing := ids[7]
	blocker := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: markerName, Namespace: tenant.NamespaceFor(failing)}}
	if _, err := client.CoreV1().ConfigMaps(blocker.Namespace).Create(ctx, blocker, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("one failure is rolled back", func(t *testing.T) {
		out, code := runCommand(t, "upgrade", "--concurrency", "4")
		if code != exitFailure {
			t.Errorf("exit code %d, want %d; output %s", code, exitFailure, out)
		}
		versions := chartVersions(t, controlPlane, ids)
		if versions["0.2.0"] != fleetSize-1 || versions["0.1.0"] != 1 {
			t.Errorf("chart versions = %v, want %d on 0.2.0 and 1 on 0.1.0", versions, fleetSize-1)
		}
		if !strings.Contains(out, failing) || !strings.Contains(out, "failed") {
			t.Errorf("output does not report %s as failed: %s", failing, out)
		}
	})

	t.Run("failed tenant keeps serving", func(t *testing.T) {
		rel := readRelease(t, controlPlane, failing)
		if rel.Status != "deployed" || rel.ChartVersion != "0.1.0" {
			t.Errorf("release of %s = %s on %s, want deployed on 0.1.0", failing, rel.Status, rel.ChartVersion)
		}
	})

	if err := client.CoreV1().ConfigMaps(blocker.Namespace).Delete(ctx, markerName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("rerun moves every tenant", func(t *testing.T) {
		out, code := runCommand(t, "upgrade", "--tenant", failing)
		if code != 0 {
			t.Fatalf("exit code %d, output %s", code, out)
		}
		if versions := chartVersions(t, controlPlane, ids); versions["0.2.0"] != fleetSize {
			t.Errorf("chart versions = %v, want all %d on 0.2.0", versions, fleetSize)
		}
	})
}

// createFleet creates fleetSize tenants on the embedded chart (version A).
func createFleet(t *testing.T, postgres *testenv.Postgres, controlPlane *testenv.ControlPlane) []string {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, postgres.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	releases, err := release.NewDriver(controlPlane.RESTConfig(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := kube.NewClient(controlPlane.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := chart.Load()
	if err != nil {
		t.Fatal(err)
	}
	service := tenant.NewService(tenant.Config{Store: db, Releases: releases, Cluster: cluster, Chart: embedded,
		Values: tenant.ValuesOptions{Image: "docker.io/sipeed/picoclaw:latest", ManagerNamespace: "picoclaw-system"},
		Logger: slog.New(slog.DiscardHandler)})

	ids := make([]string, fleetSize)
	errs := make([]error, fleetSize)
	var wg sync.WaitGroup
	limit := make(chan struct{}, 4)
	for i := range ids {
		ids[i] = fmt.Sprintf("fleet-%02d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			limit <- struct{}{}
			defer func() { <-limit }()
			_, errs[i] = service.Create(ctx, fleetRequest(ids[i]))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %s: %v", ids[i], err)
		}
	}
	return ids
}

func fleetRequest(id string) map[string]any {
	return map[string]any{
		"tenant_id":    id,
		"display_name": "Fleet " + id,
		"providers":    map[string]any{"openai": map[string]any{"api_key": "sk-fleet-test-key-0000000000"}},
		"channels":     map[string]any{"discord": map[string]any{"enabled": true, "token": "discord-fleet-token-" + id}},
	}
}

// writeChartB copies the embedded chart's source to a directory as version
// 0.2.0 with one more template, and returns the directory.
func writeChartB(t *testing.T) string {
	t.Helper()
	source := filepath.Join("..", "..", "chart", "picoclaw-tenant")
	dir := filepath.Join(t.TempDir(), "picoclaw-tenant")
	err := filepath.WalkDir(source, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, strings.TrimPrefix(path, source))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if d.Name() == "Chart.yaml" {
			data = bytes.Replace(data, []byte("version: 0.1.0"), []byte("version: 0.2.0"), 1)
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	marker := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + markerName + "\ndata:\n  chart: \"0.2.0\"\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "marker.yaml"), []byte(marker), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runCommand runs the manager's command line in this process and returns
// its stdout (the final table), and its exit code. Its stderr (logs and
// progress) goes to the test log.
func runCommand(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	t.Logf("stderr of %v:\n%s", args, stderr.String())
	return stdout.String(), code
}

func readRelease(t *testing.T, controlPlane *testenv.ControlPlane, id string) *release.Release {
	t.Helper()
	releases, err := release.NewDriver(controlPlane.RESTConfig(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := releases.Get(context.Background(), tenant.NamespaceFor(id), id)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// chartVersions counts the chart versions of the tenants' latest revisions.
func chartVersions(t *testing.T, controlPlane *testenv.ControlPlane, ids []string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, id := range ids {
		counts[readRelease(t, controlPlane, id).ChartVersion]++
	}
	return counts
}
