// Package fault_test runs the picoclaw-manager binary as real processes
// against one real PostgreSQL server and one Kubernetes control plane, and
// checks that concurrency, crashes and outages of its dependencies never
// lose, duplicate or half-make a tenant.
//
// The tests run one after another, because some pause PostgreSQL or
// kube-apiserver, which every manager of the package shares. They isolate
// themselves by tenant id. `go test -short` skips them.
package fault_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"k8s.io/client-go/kubernetes"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/release"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/testenv"
)

// envStartTimeout bounds the start of PostgreSQL, the control plane and the
// build of the manager binary.
const envStartTimeout = 5 * time.Minute

// env is what every test of the package shares.
var env struct {
	postgres     *testenv.Postgres
	controlPlane *testenv.ControlPlane
	// binary is the manager built from this repository.
	binary string
	// db reads the tenants table directly, bypassing the manager.
	db *pgxpool.Pool
	// releases reads Helm storage directly, bypassing the manager.
	releases *release.Driver
	kube     kubernetes.Interface
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	code, err := runWithEnv(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault test environment:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runWithEnv(m *testing.M) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), envStartTimeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "picoclaw-fault-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if env.binary, err = buildManager(ctx, dir); err != nil {
		return 0, err
	}

	postgres, controlPlane, stop, err := testenv.Start(ctx)
	if err != nil {
		return 0, err
	}
	defer stop()
	env.postgres, env.controlPlane = postgres, controlPlane

	if err := connect(ctx); err != nil {
		return 0, err
	}
	defer env.db.Close()
	return m.Run(), nil
}

// buildManager builds cmd/picoclaw-manager into dir and returns the binary's
// path. When the tests run with -race, so does the manager.
func buildManager(ctx context.Context, dir string) (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	binary := filepath.Join(dir, "picoclaw-manager")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/picoclaw-manager")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/picoclaw-manager in %s: %w\n%s", root, err, out)
	}
	return binary, nil
}

// connect opens the direct clients of env and creates the tables, so tests
// can query them before a manager has started.
func connect(ctx context.Context) error {
	db, err := store.Open(ctx, env.postgres.URL())
	if err != nil {
		return err
	}
	migrateErr := db.Migrate(ctx)
	db.Close()
	if migrateErr != nil {
		return migrateErr
	}

	if env.db, err = pgxpool.New(ctx, env.postgres.URL()); err != nil {
		return err
	}
	config := env.controlPlane.RESTConfig()
	if config == nil {
		return errors.New("control plane has no REST config after Start")
	}
	if env.releases, err = release.NewDriver(config, discardLogger()); err != nil {
		return err
	}
	env.kube, err = kubernetes.NewForConfig(config)
	return err
}

// requireEnv skips a test in -short mode, which runs no integration test.
func requireEnv(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("fault test: needs PostgreSQL, the control plane and the manager binary; run without -short")
	}
}
