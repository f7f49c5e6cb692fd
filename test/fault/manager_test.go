package fault_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	apiKey = "fault-test-key"
	// recoveryInterval is the managers' RECOVERY_INTERVAL: short, so a
	// restarted manager finishes interrupted operations within seconds.
	recoveryInterval = "2s"
	// image and managerNamespace are set explicitly, so the tests know the
	// chart values every release must have.
	image            = "docker.io/sipeed/picoclaw:latest"
	managerNamespace = "picoclaw-system"
	// requestTimeout bounds one HTTP request. Operations take seconds, so a
	// manager that hangs fails the test instead of blocking it.
	requestTimeout = 3 * time.Minute
	// stopTimeout is how long a manager gets to exit after SIGTERM. The
	// managers' SHUTDOWN_TIMEOUT is shorter.
	stopTimeout = 30 * time.Second
)

// configVariables are the environment variables the manager reads. They are
// removed from the tests' own environment before a manager starts, so a
// developer's settings cannot leak into it.
var configVariables = []string{
	"DATABASE_URL", "API_KEY", "LISTEN_ADDR", "PICOCLAW_IMAGE", "CHART_PATH", "KUBECONFIG",
	"MANAGER_NAMESPACE", "OPERATION_TIMEOUT", "SHUTDOWN_TIMEOUT", "LOG_LEVEL",
	"RECOVERY_INTERVAL", "DRIFT_INTERVAL", "TOKEN_HASH_KEY", "CONFIG_FILE",
}

var httpClient = &http.Client{
	Timeout:   requestTimeout,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
}

// manager is one picoclaw-manager process. Its stdout and stderr go to a
// log file, which a failed test prints.
type manager struct {
	name    string
	baseURL string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// startManager starts a manager on a free loopback port, waits until
// /health returns 200, and kills the manager when the test ends.
func startManager(t *testing.T, name string) *manager {
	t.Helper()
	dir := t.TempDir()
	addr := "127.0.0.1:" + freePort(t)
	m := &manager{
		name:    name,
		baseURL: "http://" + addr,
		logPath: filepath.Join(dir, name+".log"),
		exited:  make(chan struct{}),
	}
	logFile, err := os.Create(m.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	m.cmd = exec.Command(env.binary, "serve")
	m.cmd.Env = managerEnv(dir, addr)
	m.cmd.Stdout = logFile
	m.cmd.Stderr = logFile
	// The kernel kills the manager if the test binary dies first.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start manager %s: %v", name, err)
	}
	go func() {
		m.waitErr = m.cmd.Wait()
		close(m.exited)
	}()
	t.Cleanup(func() {
		m.kill(t)
		if t.Failed() {
			t.Logf("last lines of manager %s's log %s:\n%s", m.name, m.logPath, m.logTail(40))
		}
		m.checkNoDataRace(t)
	})

	m.waitHealthy(t)
	return m
}

func managerEnv(home, addr string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(configVariables, name) && name != "HOME" {
			out = append(out, kv)
		}
	}
	return append(out,
		"HOME="+home,
		"DATABASE_URL="+env.postgres.URL(),
		"KUBECONFIG="+env.controlPlane.KubeconfigPath(),
		"LISTEN_ADDR="+addr,
		"API_KEY="+apiKey,
		"TOKEN_HASH_KEY=fault-test-token-hash-key",
		"RECOVERY_INTERVAL="+recoveryInterval,
		"SHUTDOWN_TIMEOUT=20s",
		"LOG_LEVEL=info",
		"PICOCLAW_IMAGE="+image,
		"MANAGER_NAMESPACE="+managerNamespace,
	)
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// waitHealthy waits until GET /health returns 200. A manager built with
// -race starts slower, hence the generous bound.
func (m *manager) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := m.do(context.Background(), http.MethodGet, "/health", "")
		if err == nil && r.status == http.StatusOK {
			return
		}
		select {
		case <-m.exited:
			t.Fatalf("manager %s exited before /health returned 200 (%v); log:\n%s", m.name, m.waitErr, m.logTail(40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("manager %s: /health not 200 after 60 s (last: %v, %v); log:\n%s", m.name, r, err, m.logTail(40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the manager to exit, killing it after
// stopTimeout.
func (m *manager) stop(t *testing.T) {
	t.Helper()
	if m.hasExited() {
		return
	}
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM manager %s: %v", m.name, err)
	}
	select {
	case <-m.exited:
	case <-time.After(stopTimeout):
		t.Errorf("manager %s still runs %v after SIGTERM; killing it", m.name, stopTimeout)
		m.kill(t)
	}
}

// kill sends SIGKILL and waits for the manager to exit.
func (m *manager) kill(t *testing.T) {
	t.Helper()
	if m.hasExited() {
		return
	}
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil && !m.hasExited() {
		t.Errorf("SIGKILL manager %s: %v", m.name, err)
	}
	<-m.exited
}

func (m *manager) hasExited() bool {
	select {
	case <-m.exited:
		return true
	default:
		return false
	}
}

func (m *manager) logs() string {
	data, err := os.ReadFile(m.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", m.logPath, err)
	}
	return string(data)
}

func (m *manager) logTail(n int) string {
	lines := strings.Split(strings.TrimRight(m.logs(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// checkNoDataRace fails the test when the race detector, in a manager built
// with -race, reported a data race.
func (m *manager) checkNoDataRace(t *testing.T) {
	t.Helper()
	logs := m.logs()
	if i := strings.Index(logs, "WARNING: DATA RACE"); i >= 0 {
		end := min(len(logs), i+4000)
		t.Errorf("manager %s reported a data race:\n%s", m.name, logs[i:end])
	}
}

// logEvents returns the JSON log events of the manager whose message is msg.
func (m *manager) logEvents(msg string) []map[string]any {
	var events []map[string]any
	scanner := bufio.NewScanner(strings.NewReader(m.logs()))
	scanner.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for scanner.Scan() {
		var event map[string]any
		if json.Unmarshal(scanner.Bytes(), &event) == nil && event[slog.MessageKey] == msg {
			events = append(events, event)
		}
	}
	return events
}

// loggedRecovery reports whether the manager logged that it recovered an
// interrupted operation on tenant id.
func (m *manager) loggedRecovery(id string) bool {
	for _, event := range m.logEvents("recovered an interrupted operation") {
		if event["tenant"] == id {
			return true
		}
	}
	return false
}

// response is one HTTP exchange with a manager.
type response struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
}

func (r response) String() string {
	body := strings.TrimSpace(string(r.body))
	if len(body) > 600 {
		body = body[:600] + "..."
	}
	return fmt.Sprintf("%s %s -> %d %s", r.method, r.path, r.status, body)
}

// errorMessage returns the "error" string of an error response, or "".
func (r response) errorMessage() string {
	var body struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.body, &body)
	return body.Error
}

// do sends a request with the API key. It returns an error only when no
// response arrived, so goroutines can call it.
func (m *manager) do(ctx context.Context, method, path, body string) (response, error) {
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.baseURL+path, reader)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s on manager %s: %w", method, path, m.name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s on manager %s: read body: %w", method, path, m.name, err)
	}
	return response{method: method, path: path, status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// call is do for the test goroutine: a missing response fails the test.
func (m *manager) call(t *testing.T, method, path, body string) response {
	t.Helper()
	r, err := m.do(context.Background(), method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// outcome is the response of a request sent in the background, or the
// error that stopped it.
type outcome struct {
	response
	err error
}

func (o outcome) String() string {
	if o.err != nil {
		return "no response: " + o.err.Error()
	}
	return o.response.String()
}

// sendAsync sends a request in the background. The channel receives its
// outcome.
func (m *manager) sendAsync(method, path, body string) <-chan outcome {
	done := make(chan outcome, 1)
	go func() {
		r, err := m.do(context.Background(), method, path, body)
		done <- outcome{r, err}
	}()
	return done
}

// expectStatus fails the test unless r has status want.
func expectStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s; want status %d", r, want)
	}
}

// telegramToken is tenant id's bot token: a token serves one tenant only.
func telegramToken(id string) string { return "100000001:fault-test-token-" + id }

// createBody returns a create request for id with the given display name and
// agents.defaults.max_tokens.
func createBody(id, displayName string, maxTokens int) string {
	doc := createDocument(id, displayName, maxTokens)
	data, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// createDocument is createBody as the decoded document.
func createDocument(id, displayName string, maxTokens int) map[string]any {
	return map[string]any{
		"tenant_id":    id,
		"display_name": displayName,
		"providers": map[string]any{
			"anthropic": map[string]any{"api_key": "sk-ant-fault-test-0123456789-9f2c", "api_base": "https://api.minimax.io/v1"},
		},
		"agents": map[string]any{
			"defaults": map[string]any{"provider": "anthropic", "model": "MiniMax-M2.5", "max_tokens": maxTokens, "temperature": 0.7},
		},
		"channels": map[string]any{
			"telegram": map[string]any{"enabled": true, "token": telegramToken(id), "allow_from": []any{123456}},
		},
	}
}

// patchBody returns an update that sets display_name to "p-<n>" and
// agents.defaults.max_tokens to n.
func patchBody(n int) string {
	return fmt.Sprintf(`{"display_name": "p-%d", "agents": {"defaults": {"max_tokens": %d}}}`, n, n)
}

func tenantPath(id string) string { return "/api/v1/tenants/" + id }

// displayNameOf returns display_name of a tenant response, or "".
func displayNameOf(r response) string {
	var body struct {
		DisplayName string `json:"display_name"`
	}
	_ = json.Unmarshal(r.body, &body)
	return body.DisplayName
}

// revisionOf returns release.revision of a tenant response, or 0.
func revisionOf(r response) int {
	var body struct {
		Release *struct {
			Revision int `json:"revision"`
		} `json:"release"`
	}
	if json.Unmarshal(r.body, &body) != nil || body.Release == nil {
		return 0
	}
	return body.Release.Revision
}

func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// compactJSON returns v as one line of JSON, for failure messages.
func compactJSON(v any) string {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSpace(buf.String())
}
