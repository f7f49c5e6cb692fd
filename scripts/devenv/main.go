// Command devenv runs the local development environment: a throwaway
// PostgreSQL, a simulated Kubernetes control plane (or the cluster of
// $KUBECONFIG) and the manager binary, all on 127.0.0.1. `make dev` runs it
// after building the manager:
//
//	go run ./scripts/devenv -manager bin/picoclaw-manager [-listen 127.0.0.1:8080]
//
// It prints where everything is and curl commands to try, and stops
// everything on Ctrl-C, on SIGTERM, or when the manager exits. State lives
// under -dir (default .dev), which it recreates on each run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/testenv"
)

// preferredPostgresPort is PostgreSQL's standard port, used when it is free
// so that the manager's default DATABASE_URL works too.
const preferredPostgresPort = 5432

// options are the command-line flags.
type options struct {
	managerPath string
	listenAddr  string
	dir         string
}

func main() {
	var opts options
	flag.StringVar(&opts.managerPath, "manager", "", "path of the picoclaw-manager binary to run (required)")
	flag.StringVar(&opts.listenAddr, "listen", "127.0.0.1:8080", "host:port the manager listens on; the host must be a loopback address")
	flag.StringVar(&opts.dir, "dir", ".dev", "directory for PostgreSQL data, the cluster and the kubeconfig; recreated on each run")
	flag.Parse()

	if err := run(opts); err != nil {
		fmt.Fprintf(os.Stderr, "devenv: %v\n", err)
		os.Exit(1)
	}
}

func run(opts options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	dir, err := filepath.Abs(opts.dir)
	if err != nil {
		return fmt.Errorf("resolve -dir: %w", err)
	}
	// An absolute path stops exec from searching $PATH for a bare file name.
	managerPath, err := filepath.Abs(opts.managerPath)
	if err != nil {
		return fmt.Errorf("resolve -manager: %w", err)
	}

	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	pg, err := startPostgres(ctx, filepath.Join(dir, "postgres"))
	if pg != nil {
		defer stopAndReport("PostgreSQL", pg.Stop)
	}
	if err != nil {
		return err
	}

	cluster, err := startCluster(ctx, dir)
	if cluster.controlPlane != nil {
		defer stopAndReport("the control plane", cluster.controlPlane.Stop)
	}
	if err != nil {
		return err
	}

	env := managerEnv(pg.URL(), cluster.kubeconfig, opts.listenAddr)
	manager, err := startManager(ctx, managerPath, opts.listenAddr, env)
	if manager != nil {
		defer stopAndReport("the manager", manager.stop)
	}
	if err != nil {
		return err
	}

	printSummary(os.Stdout, summary{
		listenAddr:    opts.listenAddr,
		postgres:      pg,
		cluster:       cluster,
		apiKeyFromEnv: os.Getenv("API_KEY") != "",
		namespace:     envValue(env, "MANAGER_NAMESPACE"),
	})

	select {
	case <-ctx.Done():
		progress("received a stop signal")
		return nil
	case <-manager.exited:
		// Ctrl-C reaches the whole process group, so the manager may exit
		// on the same signal a moment before this process receives it.
		time.Sleep(100 * time.Millisecond)
		if ctx.Err() != nil {
			progress("received a stop signal")
			return nil
		}
		return fmt.Errorf("the manager exited: %v", manager.exitStatus())
	}
}

func (o options) validate() error {
	if o.managerPath == "" {
		return errors.New("missing -manager: pass the path of the built manager binary, for example -manager bin/picoclaw-manager")
	}
	if info, err := os.Stat(o.managerPath); err != nil {
		return fmt.Errorf("invalid -manager: %w", err)
	} else if info.IsDir() || info.Mode()&0o111 == 0 {
		return fmt.Errorf("invalid -manager %s: not an executable file", o.managerPath)
	}

	host, _, err := net.SplitHostPort(o.listenAddr)
	if err != nil {
		return fmt.Errorf("invalid -listen %q: %w", o.listenAddr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("invalid -listen %q: the host must be a loopback address such as 127.0.0.1", o.listenAddr)
	}
	return nil
}

// startPostgres recreates dir and starts PostgreSQL in it, on port 5432 when
// that is free. It returns the server also on failure, for Stop.
func startPostgres(ctx context.Context, dir string) (*testenv.Postgres, error) {
	if err := recreateDir(dir); err != nil {
		return nil, err
	}

	port, err := postgresPort()
	if err != nil {
		return nil, err
	}
	pg := &testenv.Postgres{Dir: dir, Port: port}

	progress("starting PostgreSQL on 127.0.0.1:%d", port)
	if err := pg.Start(ctx); err != nil {
		return pg, err
	}
	return pg, nil
}

// postgresPort returns 5432 when it is free on 127.0.0.1, else a free port.
func postgresPort() (int, error) {
	for _, port := range []int{preferredPostgresPort, 0} {
		listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		chosen := listener.Addr().(*net.TCPAddr).Port
		listener.Close()
		return chosen, nil
	}
	return 0, errors.New("find a free port on 127.0.0.1 for PostgreSQL: none available")
}

// clusterInfo is the cluster the manager uses.
type clusterInfo struct {
	kubeconfig   string
	controlPlane *testenv.ControlPlane // nil when $KUBECONFIG names the cluster
}

// startCluster uses $KUBECONFIG when it is set. Otherwise it starts a
// control plane in dir/cluster and copies its kubeconfig to dir/kubeconfig.
func startCluster(ctx context.Context, dir string) (clusterInfo, error) {
	if kubeconfig := os.Getenv("KUBECONFIG"); kubeconfig != "" {
		progress("using the cluster of KUBECONFIG=%s", kubeconfig)
		return clusterInfo{kubeconfig: kubeconfig}, nil
	}

	clusterDir := filepath.Join(dir, "cluster")
	if err := recreateDir(clusterDir); err != nil {
		return clusterInfo{}, err
	}
	cp := &testenv.ControlPlane{Dir: clusterDir}
	info := clusterInfo{kubeconfig: filepath.Join(dir, "kubeconfig"), controlPlane: cp}

	if err := cp.CheckBinaries(); err != nil {
		return clusterInfo{}, err
	}
	progress("starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) in %s", clusterDir)
	if err := cp.Start(ctx); err != nil {
		return info, err
	}

	data, err := os.ReadFile(cp.KubeconfigPath())
	if err != nil {
		return info, fmt.Errorf("read kubeconfig: %w", err)
	}
	if err := os.WriteFile(info.kubeconfig, data, 0o600); err != nil {
		return info, fmt.Errorf("write kubeconfig: %w", err)
	}
	return info, nil
}

func recreateDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove the previous run's %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}

func stopAndReport(what string, stop func() error) {
	progress("stopping %s", what)
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "devenv: stop %s: %v\n", what, err)
	}
}

// progress writes one progress line to stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
}
