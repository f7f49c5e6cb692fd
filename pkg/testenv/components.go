package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
)

// serviceClusterIPRange is the range Services get their ClusterIPs from. The
// simulated cluster routes no traffic to them.
const serviceClusterIPRange = "10.96.0.0/16"

func (c *ControlPlane) logPath(name string) string {
	return filepath.Join(c.Dir, name+".log")
}

func (c *ControlPlane) startEtcd(ctx context.Context) error {
	clientURL := "http://127.0.0.1:" + strconv.Itoa(c.ports.etcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(c.ports.etcdPeer)

	etcd, err := startProcess(processSpec{
		name: "etcd",
		path: c.BinPath("etcd"),
		args: []string{
			"--name=testenv",
			"--data-dir=" + filepath.Join(c.Dir, "etcd"),
			"--listen-client-urls=" + clientURL,
			"--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=testenv=" + peerURL,
			// The data is thrown away, so writes need not wait for fsync.
			"--unsafe-no-fsync=true",
		},
		logPath: c.logPath("etcd"),
	})
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	c.etcd = etcd

	client := &http.Client{Timeout: time.Second}
	err = waitFor(ctx, "etcd to be healthy", func(ctx context.Context) error {
		return getOK(ctx, client, clientURL+"/health")
	}, etcd)
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	return nil
}

func (c *ControlPlane) startAPIServer(ctx context.Context) error {
	creds := c.credentials
	apiServer, err := startProcess(processSpec{
		name: "kube-apiserver",
		path: c.BinPath("kube-apiserver"),
		args: []string{
			"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(c.ports.etcdClient),
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(c.ports.apiServer),
			"--cert-dir=" + creds.servingCertDir(),
			"--token-auth-file=" + creds.tokenFilePath(),
			"--authorization-mode=Node,RBAC",
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + creds.serviceAccountPublicPath(),
			"--service-account-signing-key-file=" + creds.serviceAccountKeyPath(),
			"--service-cluster-ip-range=" + serviceClusterIPRange,
			// The default reconciler writes the advertise address into the
			// "kubernetes" Endpoints, whose validation rejects loopback IPs.
			"--endpoint-reconciler-type=none",
			// Ends open watches at shutdown. Without it, the watches of the
			// other components keep kube-apiserver running after SIGTERM
			// until stop kills it 10 s later.
			"--shutdown-watch-termination-grace-period=2s",
		},
		logPath: c.logPath("kube-apiserver"),
	})
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	c.apiServer = apiServer

	host := "https://127.0.0.1:" + strconv.Itoa(c.ports.apiServer)
	err = waitFor(ctx, "kube-apiserver to be ready", func(ctx context.Context) error {
		// kube-apiserver writes its self-signed certificate before it serves.
		caData, err := os.ReadFile(creds.servingCertPath())
		if err != nil {
			return err
		}
		config := restConfigFor(host, creds.adminToken, caData)
		client, err := rest.HTTPClientFor(config)
		if err != nil {
			return err
		}
		client.Timeout = time.Second
		if err := getOK(ctx, client, host+"/readyz"); err != nil {
			return err
		}
		c.restConfig = config
		return nil
	}, apiServer)
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	return nil
}

// writeKubeconfigs writes the admin kubeconfig and one per component. It
// runs after kube-apiserver is ready, because the files embed its certificate.
func (c *ControlPlane) writeKubeconfigs() error {
	creds := c.credentials
	files := map[string]string{
		c.KubeconfigPath(): creds.adminToken,
		c.componentKubeconfig("kube-controller-manager"): creds.controllerManagerToken,
		c.componentKubeconfig("kube-scheduler"):          creds.schedulerToken,
		c.componentKubeconfig("kwok"):                    creds.kwokToken,
	}
	for path, token := range files {
		config := restConfigFor(c.restConfig.Host, token, c.restConfig.CAData)
		if err := writeKubeconfig(path, config); err != nil {
			return fmt.Errorf("control plane: %w", err)
		}
	}
	return nil
}

func (c *ControlPlane) componentKubeconfig(name string) string {
	return filepath.Join(c.credentials.dir, name+".kubeconfig")
}

// startControllers starts kube-controller-manager, kube-scheduler and kwok,
// and waits until the scheduler and kwok serve their health checks. The
// controller manager is checked later by its effects, in waitForCluster.
//
// The controller manager and the scheduler get no --authentication-kubeconfig,
// so their secure ports serve only the paths that need no authentication:
// /healthz, /readyz and /livez.
func (c *ControlPlane) startControllers(ctx context.Context) error {
	if err := c.startControllerManager(); err != nil {
		return err
	}
	if err := c.startScheduler(ctx); err != nil {
		return err
	}
	return c.startKwok(ctx)
}

func (c *ControlPlane) startControllerManager() error {
	kubeconfig := c.componentKubeconfig("kube-controller-manager")
	controllerManager, err := startProcess(processSpec{
		name: "kube-controller-manager",
		path: c.BinPath("kube-controller-manager"),
		args: []string{
			"--kubeconfig=" + kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(c.ports.controllerManager),
			"--leader-elect=false",
			"--service-account-private-key-file=" + c.credentials.serviceAccountKeyPath(),
			"--root-ca-file=" + c.credentials.servingCertPath(),
		},
		logPath: c.logPath("kube-controller-manager"),
	})
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	c.controllerManager = controllerManager
	return nil
}

func (c *ControlPlane) startScheduler(ctx context.Context) error {
	kubeconfig := c.componentKubeconfig("kube-scheduler")
	scheduler, err := startProcess(processSpec{
		name: "kube-scheduler",
		path: c.BinPath("kube-scheduler"),
		args: []string{
			"--kubeconfig=" + kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(c.ports.scheduler),
			"--leader-elect=false",
		},
		logPath: c.logPath("kube-scheduler"),
	})
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	c.scheduler = scheduler

	// The scheduler serves an in-memory self-signed certificate that no file
	// holds, so this loopback check of our own child skips verification.
	client := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	url := "https://127.0.0.1:" + strconv.Itoa(c.ports.scheduler) + "/healthz"
	err = waitFor(ctx, "kube-scheduler to be healthy", func(ctx context.Context) error {
		return getOK(ctx, client, url)
	}, scheduler)
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	return nil
}

func (c *ControlPlane) startKwok(ctx context.Context) error {
	args := []string{
		"--kubeconfig=" + c.componentKubeconfig("kwok"),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
		"--server-address=127.0.0.1:" + strconv.Itoa(c.ports.kwok),
		// kwok renews a Lease per node, as kubelet does, so the node
		// lifecycle controller keeps the nodes Ready between the slow
		// heartbeats of the node-heartbeat-with-lease stage.
		"--node-lease-duration-seconds=40",
	}
	for _, stage := range kwokStageFiles {
		args = append(args, "--config="+filepath.Join(c.StagesDir, stage))
	}

	kwok, err := startProcess(processSpec{
		name: "kwok",
		path: c.BinPath("kwok"),
		args: args,
		// kwok also loads $KWOK_WORKDIR/kwok.yaml (default ~/.kwok) when
		// it exists. A work dir inside Dir keeps a user's file out.
		env:     append(os.Environ(), "KWOK_WORKDIR="+filepath.Join(c.Dir, "kwok")),
		logPath: c.logPath("kwok"),
	})
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	c.kwok = kwok

	client := &http.Client{Timeout: time.Second}
	url := "http://127.0.0.1:" + strconv.Itoa(c.ports.kwok) + "/healthz"
	err = waitFor(ctx, "kwok to be healthy", func(ctx context.Context) error {
		return getOK(ctx, client, url)
	}, kwok)
	if err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	return nil
}

// getOK sends GET url and returns nil when the status is 200 OK.
func getOK(ctx context.Context, client *http.Client, url string) error {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}

	response, err := client.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()

	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, response.Status)
	}
	return nil
}
