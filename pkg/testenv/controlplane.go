package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	defaultNodes               = 2
	defaultControlPlaneTimeout = 2 * time.Minute
	defaultCacheSubdir         = ".cache/picoclaw-manager"

	// buildCommand builds the binaries that ControlPlane runs.
	buildCommand = "scripts/build-controlplane.sh"
)

// controlPlaneBinaries are the programs Start runs, in start order.
var controlPlaneBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// ControlPlane is a Kubernetes control plane on 127.0.0.1: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok. kwok
// simulates the nodes, their pods and the volumes of the default
// StorageClass "kwok-volume". No container runs, so pods reach Running
// without pulling their images, and nothing is reachable at their IPs.
type ControlPlane struct {
	// BinDir holds the binaries built by scripts/build-controlplane.sh.
	// Default: $PICOCLAW_CACHE/bin, else ~/.cache/picoclaw-manager/bin.
	BinDir string

	// StagesDir is kwok's kustomize/stage tree. Default: $TESTENV_KWOK_STAGES,
	// else the last kwok-stages-* directory, in lexical order, beside BinDir.
	StagesDir string

	// Dir holds etcd's data, credentials, kubeconfigs and one log per process.
	// Default: a new temporary directory, which Stop removes.
	Dir string

	// Nodes is the number of simulated nodes. Default: $TESTENV_NODES, else 2.
	Nodes int

	// StartTimeout bounds Start and ResumeAPIServer.
	// Default: $TESTENV_START_TIMEOUT, else 2 minutes.
	StartTimeout time.Duration

	started     bool // Start was called and Stop was not
	createdDir  bool
	ports       controlPlanePorts
	credentials *credentials
	restConfig  *rest.Config

	etcd, apiServer, controllerManager, scheduler, kwok *process
}

// controlPlanePorts are the ports on 127.0.0.1 that the components listen on.
type controlPlanePorts struct {
	etcdClient, etcdPeer, apiServer, controllerManager, scheduler, kwok int
}

// Start starts the components and waits until the cluster can run
// workloads: the API server is ready, the controller manager has created the
// "default" ServiceAccount, every node is Ready without a NoSchedule taint,
// and the default StorageClass exists. When Start fails, it stops every
// process it started and keeps Dir for the logs until Stop.
func (c *ControlPlane) Start(ctx context.Context) (err error) {
	if c.started {
		return errors.New("control plane: Start was already called: call Stop before starting again")
	}
	c.started = true

	if err := c.setDefaults(); err != nil {
		return err
	}
	if err := c.CheckBinaries(); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, c.StartTimeout)
	defer cancel()

	defer func() {
		if err != nil {
			_ = c.stopProcesses()
		}
	}()

	if err := c.prepareDir(); err != nil {
		return err
	}
	if err := c.startEtcd(ctx); err != nil {
		return err
	}
	if err := c.startAPIServer(ctx); err != nil {
		return err
	}
	if err := c.writeKubeconfigs(); err != nil {
		return err
	}
	if err := c.startControllers(ctx); err != nil {
		return err
	}
	return c.waitForCluster(ctx)
}

// Stop stops every process that Start started, also after a failed or
// partial Start, and removes Dir when Start created it, so a later Start
// gets a new one. It is safe to call more than once.
func (c *ControlPlane) Stop() error {
	stopErr := c.stopProcesses()
	removeErr := removeCreatedDir(c.Dir, c.createdDir)
	if removeErr == nil && c.createdDir {
		c.Dir, c.createdDir = "", false
	}
	c.started = false
	return errors.Join(stopErr, removeErr)
}

// PauseAPIServer stops kube-apiserver and leaves the other components
// running, so tests can see how clients behave while the API is down.
func (c *ControlPlane) PauseAPIServer() error {
	if c.apiServer == nil {
		return errors.New("control plane: pause: kube-apiserver is not running")
	}
	err := c.apiServer.stop()
	c.apiServer = nil
	return err
}

// ResumeAPIServer starts kube-apiserver again after PauseAPIServer, with the
// same port, serving certificate and etcd data, and waits until it is ready.
func (c *ControlPlane) ResumeAPIServer(ctx context.Context) error {
	if c.apiServer != nil {
		return errors.New("control plane: resume: kube-apiserver is already running")
	}
	if c.etcd == nil {
		return errors.New("control plane: resume: the control plane is not started")
	}

	ctx, cancel := context.WithTimeout(ctx, c.StartTimeout)
	defer cancel()
	return c.startAPIServer(ctx)
}

// KubeconfigPath returns the path of the admin kubeconfig: a bearer token of
// a user in the group system:masters. It exists once Start has succeeded.
func (c *ControlPlane) KubeconfigPath() string {
	return filepath.Join(c.Dir, "kubeconfig")
}

// RESTConfig returns a copy of the admin client configuration, or nil
// before Start.
func (c *ControlPlane) RESTConfig() *rest.Config {
	if c.restConfig == nil {
		return nil
	}
	return rest.CopyConfig(c.restConfig)
}

// BinPath returns the path of a binary in BinDir, for example
// BinPath("kubectl") or BinPath("helm"). It works before Start.
func (c *ControlPlane) BinPath(name string) string {
	return filepath.Join(c.binDir(), name)
}

// CheckBinaries returns an error naming the binaries and stage files that
// are missing and the command that builds them, or nil when all exist.
func (c *ControlPlane) CheckBinaries() error {
	var missing []string
	for _, name := range controlPlaneBinaries {
		if _, err := os.Stat(c.BinPath(name)); err != nil {
			missing = append(missing, c.BinPath(name))
		}
	}

	stagesDir := c.stagesDir()
	if stagesDir == "" {
		missing = append(missing, filepath.Join(filepath.Dir(c.binDir()), "kwok-stages-*"))
	} else {
		for _, file := range append([]string{kwokStorageClassFile}, kwokStageFiles...) {
			if _, err := os.Stat(filepath.Join(stagesDir, file)); err != nil {
				missing = append(missing, filepath.Join(stagesDir, file))
			}
		}
	}

	if len(missing) > 0 {
		return fmt.Errorf("control plane: missing %v: build them with %s (an estimated 6 minutes on 2 cores with a cold Go cache)", missing, buildCommand)
	}
	return nil
}

// processes returns the started processes in start order.
func (c *ControlPlane) processes() []*process {
	var started []*process
	for _, p := range []*process{c.etcd, c.apiServer, c.controllerManager, c.scheduler, c.kwok} {
		if p != nil {
			started = append(started, p)
		}
	}
	return started
}

// stopProcesses stops the components in the reverse of start order, so no
// component loses its API server or etcd while it still runs.
func (c *ControlPlane) stopProcesses() error {
	var errs []error
	started := c.processes()
	for i := len(started) - 1; i >= 0; i-- {
		if err := started[i].stop(); err != nil {
			errs = append(errs, err)
		}
	}
	c.etcd, c.apiServer, c.controllerManager, c.scheduler, c.kwok = nil, nil, nil, nil, nil
	return errors.Join(errs...)
}

func (c *ControlPlane) setDefaults() error {
	c.BinDir = c.binDir()
	c.StagesDir = c.stagesDir()

	if c.Nodes == 0 {
		c.Nodes = defaultNodes
		if value := os.Getenv(envNodes); value != "" {
			nodes, err := strconv.Atoi(value)
			if err != nil || nodes < 1 {
				return fmt.Errorf("control plane: invalid %s=%q: expected a positive integer", envNodes, value)
			}
			c.Nodes = nodes
		}
	}
	if c.Nodes < 0 {
		return fmt.Errorf("control plane: invalid Nodes %d: expected a positive number", c.Nodes)
	}

	if c.StartTimeout == 0 {
		timeout, err := startTimeoutFromEnv(defaultControlPlaneTimeout)
		if err != nil {
			return fmt.Errorf("control plane: %w", err)
		}
		c.StartTimeout = timeout
	}
	return nil
}

func (c *ControlPlane) binDir() string {
	if c.BinDir != "" {
		return c.BinDir
	}
	if cache := os.Getenv(envCache); cache != "" {
		return filepath.Join(cache, "bin")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(defaultCacheSubdir, "bin")
	}
	return filepath.Join(home, defaultCacheSubdir, "bin")
}

// stagesDir returns StagesDir, $TESTENV_KWOK_STAGES, or the last
// kwok-stages-* directory beside BinDir in lexical order, or "" when none exists.
func (c *ControlPlane) stagesDir() string {
	if c.StagesDir != "" {
		return c.StagesDir
	}
	if dir := os.Getenv(envKwokStages); dir != "" {
		return dir
	}
	dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(c.binDir()), "kwok-stages-*"))
	if len(dirs) == 0 {
		return ""
	}
	// NOTE: lexical order ranks v0.10.0 below v0.9.0. The build script keeps
	// one kwok version, so this only matters after changing its version.
	return dirs[len(dirs)-1]
}

func (c *ControlPlane) prepareDir() error {
	if c.Dir == "" {
		dir, err := os.MkdirTemp("", "testenv-controlplane-")
		if err != nil {
			return fmt.Errorf("control plane: create temporary dir: %w", err)
		}
		c.Dir = dir
		c.createdDir = true
	} else if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("control plane: create dir: %w", err)
	}

	ports, err := freePorts(6)
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	c.ports = controlPlanePorts{
		etcdClient:        ports[0],
		etcdPeer:          ports[1],
		apiServer:         ports[2],
		controllerManager: ports[3],
		scheduler:         ports[4],
		kwok:              ports[5],
	}

	creds, err := writeCredentials(c.Dir)
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	c.credentials = creds
	return nil
}

// clientset returns a typed client with the admin credentials.
func (c *ControlPlane) clientset() (*kubernetes.Clientset, error) {
	return kubernetes.NewForConfig(c.restConfig)
}
