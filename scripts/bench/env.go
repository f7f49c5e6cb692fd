package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/testenv"
)

// benchEnv is the servers a benchmark run uses: PostgreSQL, the control
// plane and one manager process.
type benchEnv struct {
	postgres     *testenv.Postgres
	controlPlane *testenv.ControlPlane
	kube         kubernetes.Interface
	manager      *exec.Cmd
	client       *apiClient
	pprofAddr    string
	dir          string
}

func startEnv(ctx context.Context, o options) (*benchEnv, error) {
	dir, err := os.MkdirTemp("", "picoclaw-bench-")
	if err != nil {
		return nil, err
	}
	env := &benchEnv{dir: dir, postgres: &testenv.Postgres{}, controlPlane: &testenv.ControlPlane{Nodes: o.nodes}}

	progress("starting PostgreSQL and the control plane (%d simulated nodes)", o.nodes)
	if err := env.postgres.Start(ctx); err != nil {
		env.stop()
		return nil, err
	}
	if err := env.controlPlane.Start(ctx); err != nil {
		env.stop()
		return nil, err
	}
	if env.kube, err = kubernetes.NewForConfig(env.controlPlane.RESTConfig()); err != nil {
		env.stop()
		return nil, err
	}
	if err := env.startManager(ctx, o.managerPath); err != nil {
		env.stop()
		return nil, err
	}
	return env, nil
}

func (e *benchEnv) startManager(ctx context.Context, path string) error {
	listen, err := freeAddr()
	if err != nil {
		return err
	}
	if e.pprofAddr, err = freeAddr(); err != nil {
		return err
	}
	key := randomKey()
	logFile, err := os.Create(filepath.Join(e.dir, "manager.log"))
	if err != nil {
		return err
	}

	e.manager = exec.Command(path)
	e.manager.Env = append(os.Environ(),
		"DATABASE_URL="+e.postgres.URL(),
		"KUBECONFIG="+e.controlPlane.KubeconfigPath(),
		"LISTEN_ADDR="+listen,
		"API_KEY="+key,
		"PPROF_ADDR="+e.pprofAddr,
		"LOG_LEVEL=warn",
	)
	e.manager.Stdout, e.manager.Stderr = logFile, logFile
	e.manager.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := e.manager.Start(); err != nil {
		return fmt.Errorf("start manager %s: %w", path, err)
	}
	e.client = newAPIClient("http://"+listen, key)

	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if e.client.healthy(ctx) {
			progress("manager %s listening on %s (log %s)", path, listen, logFile.Name())
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("manager did not become healthy within a minute; see %s", logFile.Name())
}

func (e *benchEnv) stop() {
	if e.manager != nil && e.manager.Process != nil {
		e.manager.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { e.manager.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			e.manager.Process.Kill()
		}
	}
	if e.controlPlane != nil {
		e.controlPlane.Stop()
	}
	if e.postgres != nil {
		e.postgres.Stop()
	}
	os.RemoveAll(e.dir)
}

// managerRSS returns the manager process's resident set size in bytes.
func (e *benchEnv) managerRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", e.manager.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) >= 2 && fields[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", e.manager.Process.Pid)
}

// profile saves a profile of the manager from its pprof listener.
func (e *benchEnv) profile(ctx context.Context, kind, file string, seconds int) error {
	url := fmt.Sprintf("http://%s/debug/pprof/%s", e.pprofAddr, kind)
	if seconds > 0 {
		url += "?seconds=" + strconv.Itoa(seconds)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	defer out.Close()
	_, err = out.ReadFrom(resp.Body)
	return err
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
