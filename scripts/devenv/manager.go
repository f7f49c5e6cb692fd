package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

const (
	defaultAPIKey           = "test-api-key"
	defaultManagerNamespace = "picoclaw-system"

	// managerStartTimeout bounds the wait for GET /health to return 200.
	managerStartTimeout = time.Minute

	// managerStopTimeout is how long the manager gets to shut down after
	// SIGTERM before it is killed.
	managerStopTimeout = 10 * time.Second
)

// managerProcess is the running manager binary.
type managerProcess struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // the result of cmd.Wait, valid after exited is closed
}

// managerEnv returns the environment of the manager: this process's
// environment with DATABASE_URL, KUBECONFIG and LISTEN_ADDR set, and API_KEY
// and MANAGER_NAMESPACE set to their defaults unless already set.
func managerEnv(databaseURL, kubeconfig, listenAddr string) []string {
	env := os.Environ()
	env = setEnv(env, "DATABASE_URL", databaseURL)
	env = setEnv(env, "KUBECONFIG", kubeconfig)
	env = setEnv(env, "LISTEN_ADDR", listenAddr)
	if os.Getenv("API_KEY") == "" {
		env = setEnv(env, "API_KEY", defaultAPIKey)
	}
	if os.Getenv("MANAGER_NAMESPACE") == "" {
		env = setEnv(env, "MANAGER_NAMESPACE", defaultManagerNamespace)
	}
	return env
}

// setEnv returns env with every entry of key replaced by key=value.
func setEnv(env []string, key, value string) []string {
	result := make([]string, 0, len(env)+1)
	for _, entry := range env {
		if !strings.HasPrefix(entry, key+"=") {
			result = append(result, entry)
		}
	}
	return append(result, key+"="+value)
}

// envValue returns the value of key in env, or "".
func envValue(env []string, key string) string {
	for _, entry := range env {
		if value, found := strings.CutPrefix(entry, key+"="); found {
			return value
		}
	}
	return ""
}

// startManager starts the manager with its output on this process's stdout
// and stderr, and waits until GET /health returns 200. It returns the process
// also on failure, so the caller can stop it.
func startManager(ctx context.Context, path, listenAddr string, env []string) (*managerProcess, error) {
	cmd := exec.Command(path)
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// A process group of its own keeps the terminal's Ctrl-C away from the
	// manager, so devenv stops it in order. If devenv dies, the kernel sends
	// the manager SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	progress("starting the manager %s on %s", path, listenAddr)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the manager %s: %w", path, err)
	}

	m := &managerProcess{cmd: cmd, exited: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		close(m.exited)
	}()

	if err := m.waitHealthy(ctx, "http://"+listenAddr+"/health"); err != nil {
		return m, err
	}
	return m, nil
}

func (m *managerProcess) waitHealthy(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, managerStartTimeout)
	defer cancel()

	client := &http.Client{Timeout: time.Second}
	ticker := time.NewTicker(200 * time.Millisecond)
	defer ticker.Stop()

	var lastErr error
	for {
		lastErr = getHealth(ctx, client, url)
		if lastErr == nil {
			return nil
		}

		select {
		case <-m.exited:
			return fmt.Errorf("the manager exited before GET %s returned 200: %v", url, m.exitStatus())
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for GET %s to return 200: %v", url, lastErr)
		case <-ticker.C:
		}
	}
}

func getHealth(ctx context.Context, client *http.Client, url string) error {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	response, err := client.Do(request)
	if err != nil {
		return err
	}
	response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", response.Status)
	}
	return nil
}

// stop sends SIGTERM, waits up to managerStopTimeout, then kills the
// manager's process group.
func (m *managerProcess) stop() error {
	select {
	case <-m.exited:
		return nil
	default:
	}

	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("send SIGTERM: %w", err)
	}

	timer := time.NewTimer(managerStopTimeout)
	defer timer.Stop()
	select {
	case <-m.exited:
		return nil
	case <-timer.C:
	}

	progress("the manager did not exit within %s of SIGTERM; killing it", managerStopTimeout)
	if err := syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill: %w", err)
	}
	<-m.exited
	return nil
}

// exitStatus describes how the manager exited. Call it after exited is closed.
func (m *managerProcess) exitStatus() string {
	if m.err == nil {
		return "exit status 0"
	}
	return m.err.Error()
}
