package api_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/client-go/kubernetes"

	"github.com/picoclaw-manager/picoclaw-manager/chart"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/api"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/kube"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/tenant"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/testenv"
)

const apiKey = "integration-test-key"

// env is the real PostgreSQL and control plane that every integration test
// of this package shares; tests isolate themselves by tenant id.
var env struct {
	postgres     *testenv.Postgres
	controlPlane *testenv.ControlPlane
	store        *store.Store
	releases     *release.Driver
	cluster      *kube.Client
	kube         kubernetes.Interface
	// logs holds everything the managers of the tests logged.
	logs *testenv.SyncBuffer
	// manager is the manager built from the embedded chart.
	manager *httptest.Server
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	code, err := runWithEnv(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration environment:", err)
		os.Exit(1)
	}
	os.Exit(checkRecordedResponses(code))
}

func runWithEnv(m *testing.M) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	postgres, controlPlane, stop, err := testenv.Start(ctx)
	if err != nil {
		return 0, err
	}
	defer stop()
	env.postgres, env.controlPlane = postgres, controlPlane

	if err := connect(ctx); err != nil {
		return 0, err
	}
	defer env.store.Close()

	embedded, err := chart.Load()
	if err != nil {
		return 0, err
	}
	env.manager = httptest.NewServer(newHandler(env.store, embedded))
	defer env.manager.Close()
	return m.Run(), nil
}

func connect(ctx context.Context) error {
	var err error
	env.logs = &testenv.SyncBuffer{}
	if env.store, err = store.Open(ctx, env.postgres.URL()); err != nil {
		return err
	}
	if err := env.store.Migrate(ctx); err != nil {
		return err
	}
	config := env.controlPlane.RESTConfig()
	if env.releases, err = release.NewDriver(config, testLogger()); err != nil {
		return err
	}
	if env.cluster, err = kube.NewClient(config); err != nil {
		return err
	}
	env.kube, err = kubernetes.NewForConfig(config)
	return err
}

// testLogger writes JSON logs to env.logs, as the manager does to stderr.
func testLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newHandler assembles a manager on the shared servers, installing c. Its
// responses are recorded for the check against openapi.yaml.
func newHandler(db *store.Store, c *chartv2.Chart) http.Handler {
	metrics := api.NewMetrics(db)
	service := tenant.NewService(tenant.Config{
		Store:    db,
		Releases: env.releases,
		Cluster:  env.cluster,
		Chart:    c,
		Values:   tenant.ValuesOptions{Image: "docker.io/sipeed/picoclaw:latest", ManagerNamespace: "picoclaw-system"},
		Logger:   testLogger(),
		Observe:  metrics.ObserveOperation,
	})
	return recordResponses(api.NewHandler(api.Config{
		Tenants: service,
		APIKey:  apiKey,
		Checks:  []api.Check{{Name: "postgresql", Run: db.Ping}, {Name: "kubernetes", Run: env.cluster.Ping}},
		Logger:  testLogger(),
		Metrics: metrics,
	}))
}

// requireEnv skips integration tests in -short mode, which runs unit tests only.
func requireEnv(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and the control plane; run without -short")
	}
}

// response is a decoded API response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request to server with the test API key and returns the response.
func call(t *testing.T, server *httptest.Server, method, path, body string) response {
	t.Helper()
	return callWithAuth(t, server, method, path, body, "Bearer "+apiKey)
}

func callWithAuth(t *testing.T, server *httptest.Server, method, path, body, authorization string) response {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, server.URL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}
