package testenv

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

func startPostgres(t *testing.T) *Postgres {
	t.Helper()
	pg := &Postgres{}
	t.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			t.Errorf("stop postgres: %v", err)
		}
	})
	if err := pg.Start(t.Context()); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	return pg
}

// queryOne connects to url and returns the result of SELECT 1.
func queryOne(ctx context.Context, url string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)

	var result int
	err = conn.QueryRow(ctx, "SELECT 1").Scan(&result)
	return result, err
}

func TestPostgresRunsQuery(t *testing.T) {
	pg := startPostgres(t)

	result, err := queryOne(t.Context(), pg.URL())
	if err != nil {
		t.Fatalf("query %s: %v", pg.URL(), err)
	}
	if result != 1 {
		t.Errorf("SELECT 1 returned %d", result)
	}
}

func TestPostgresURLNamesDatabase(t *testing.T) {
	pg := startPostgres(t)

	want := "postgres://postgres:test@127.0.0.1:" + strconv.Itoa(pg.Port) + "/picoclaw?sslmode=disable"
	if pg.URL() != want {
		t.Errorf("URL() = %q, want %q", pg.URL(), want)
	}
}

func TestPostgresPauseAndResume(t *testing.T) {
	pg := startPostgres(t)

	if err := pg.Pause(); err != nil {
		t.Fatalf("pause: %v", err)
	}
	if _, err := queryOne(t.Context(), pg.URL()); err == nil {
		t.Errorf("query while paused succeeded, want a connection error")
	}

	if err := pg.Resume(t.Context()); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if _, err := queryOne(t.Context(), pg.URL()); err != nil {
		t.Errorf("query after resume: %v", err)
	}
}

func TestPostgresStopRemovesEverything(t *testing.T) {
	pg := &Postgres{}
	if err := pg.Start(t.Context()); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	pid, dir := pg.server.pid(), pg.Dir

	if err := pg.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	if processAlive(pid) {
		t.Errorf("postgres process %d still runs after Stop", pid)
	}
	if keepDirFromEnv() {
		return
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dir %s still exists after Stop (stat: %v)", dir, err)
	}
}

func TestPostgresStartErrorShowsLog(t *testing.T) {
	portHolder, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer portHolder.Close()

	pg := &Postgres{Port: portHolder.Addr().(*net.TCPAddr).Port, StartTimeout: 30 * time.Second}
	t.Cleanup(func() { _ = pg.Stop() })

	err = pg.Start(t.Context())
	if err == nil {
		t.Fatalf("Start on a taken port succeeded")
	}
	if !strings.Contains(err.Error(), "last lines of") {
		t.Errorf("Start error has no log tail: %v", err)
	}
	if testing.Verbose() {
		t.Logf("error: %v", err)
	}
}

func TestControlPlaneMissingBinaries(t *testing.T) {
	cp := &ControlPlane{BinDir: t.TempDir()}

	err := cp.CheckBinaries()
	if err == nil {
		t.Fatalf("CheckBinaries found binaries in an empty dir")
	}
	if !strings.Contains(err.Error(), buildCommand) {
		t.Errorf("CheckBinaries error does not name %s: %v", buildCommand, err)
	}
}

func TestControlPlaneFailedStartCleansUp(t *testing.T) {
	requireBinaries(t)

	// Empty stage files pass CheckBinaries, but kwok exits with "no stages
	// found" after the other four components are already running.
	stagesDir := t.TempDir()
	for _, file := range append([]string{kwokStorageClassFile}, kwokStageFiles...) {
		path := filepath.Join(stagesDir, file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cp := &ControlPlane{StagesDir: stagesDir}
	t.Cleanup(func() { _ = cp.Stop() })

	err := cp.Start(t.Context())
	if err == nil {
		t.Fatalf("Start with empty kwok stages succeeded")
	}
	if !strings.Contains(err.Error(), "last lines of "+cp.logPath("kwok")) {
		t.Errorf("Start error has no kwok log tail: %v", err)
	}
	if testing.Verbose() {
		t.Logf("error: %v", err)
	}
	if pids := processesMentioning(t, cp.Dir); len(pids) > 0 {
		t.Errorf("processes %v still run after the failed Start", pids)
	}
}

func requireBinaries(t *testing.T) {
	t.Helper()
	if err := (&ControlPlane{}).CheckBinaries(); err != nil {
		t.Fatalf("%v", err)
	}
}

// processesMentioning returns the ids of processes whose command line
// contains text. Every control plane process has Dir in its arguments.
func processesMentioning(t *testing.T, text string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("list processes: %v", err)
	}

	var pids []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), text) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestControlPlane starts one control plane for its subtests, because a
// start takes several seconds. The subtests run in order.
func TestControlPlane(t *testing.T) {
	requireBinaries(t)
	cp := &ControlPlane{}
	t.Cleanup(func() { _ = cp.Stop() })

	began := time.Now()
	if err := cp.Start(t.Context()); err != nil {
		t.Fatalf("start control plane: %v", err)
	}
	t.Logf("control plane started in %s, resident memory %d MiB", time.Since(began).Round(100*time.Millisecond), residentMemory(cp.processes())>>20)

	client, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatalf("create client: %v", err)
	}

	t.Run("pod with volume runs", func(t *testing.T) {
		testPodWithVolumeRuns(t, client)
	})
	t.Run("kubeconfig file works", func(t *testing.T) {
		testKubeconfigFileWorks(t, cp)
	})
	t.Run("api server pauses and resumes", func(t *testing.T) {
		testAPIServerPausesAndResumes(t, cp, client)
	})
	t.Run("stop leaves no process", func(t *testing.T) {
		testStopLeavesNoProcess(t, cp)
	})
}

func testPodWithVolumeRuns(t *testing.T, client kubernetes.Interface) {
	ctx := t.Context()
	const namespace = "restricted"

	_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{
			Name:   namespace,
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}

	// No storageClassName: the DefaultStorageClass admission plugin fills in kwok-volume.
	_, err = client.CoreV1().PersistentVolumeClaims(namespace).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "workspace"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("500Mi")},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create PVC: %v", err)
	}

	_, err = client.AppsV1().Deployments(namespace).Create(ctx, restrictedDeployment("app", "workspace"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Deployment: %v", err)
	}

	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		pvc, err := client.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, "workspace", metav1.GetOptions{})
		return err == nil && pvc.Status.Phase == corev1.ClaimBound, nil
	})
	if err != nil {
		t.Errorf("PVC did not become Bound: %v", err)
	}

	var running *corev1.Pod
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		pods, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=app"})
		if err != nil {
			return false, nil
		}
		for i := range pods.Items {
			if pods.Items[i].Status.Phase == corev1.PodRunning {
				running = &pods.Items[i]
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no pod of the Deployment became Running: %v", err)
	}
	if !strings.HasPrefix(running.Spec.NodeName, "kwok-node-") {
		t.Errorf("pod %s runs on node %q, want a kwok node", running.Name, running.Spec.NodeName)
	}
}

// restrictedDeployment returns a one-replica Deployment whose pod meets the
// restricted Pod Security Standard and mounts the PVC claimName.
func restrictedDeployment(name, claimName string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						RunAsUser:      ptr.To[int64](1000),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:  "app",
						Image: "registry.invalid/app:1",
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
					}},
					Volumes: []corev1.Volume{{
						Name: "data",
						VolumeSource: corev1.VolumeSource{
							PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName},
						},
					}},
				},
			},
		},
	}
}

func testKubeconfigFileWorks(t *testing.T, cp *ControlPlane) {
	client, err := clientFromKubeconfig(cp.KubeconfigPath())
	if err != nil {
		t.Fatalf("load %s: %v", cp.KubeconfigPath(), err)
	}
	if _, err := client.CoreV1().Namespaces().Get(t.Context(), "default", metav1.GetOptions{}); err != nil {
		t.Errorf("get namespace default with the kubeconfig file: %v", err)
	}
}

func testAPIServerPausesAndResumes(t *testing.T, cp *ControlPlane, client kubernetes.Interface) {
	ctx := t.Context()

	if err := cp.PauseAPIServer(); err != nil {
		t.Fatalf("pause: %v", err)
	}
	if _, err := client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err == nil {
		t.Errorf("get namespace while paused succeeded, want a connection error")
	}

	if err := cp.ResumeAPIServer(ctx); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if _, err := client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Errorf("get namespace after resume: %v", err)
	}
}

func testStopLeavesNoProcess(t *testing.T, cp *ControlPlane) {
	var pids []int
	for _, p := range cp.processes() {
		pids = append(pids, p.pid())
	}
	if len(pids) != len(controlPlaneBinaries) {
		t.Fatalf("%d processes run before Stop, want %d", len(pids), len(controlPlaneBinaries))
	}
	dir := cp.Dir

	if err := cp.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("process %d still runs after Stop", pid)
		}
	}
	if others := processesMentioning(t, dir); len(others) > 0 {
		t.Errorf("processes %v that use Dir still run after Stop", others)
	}
	if keepDirFromEnv() {
		return
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dir %s still exists after Stop (stat: %v)", dir, err)
	}
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// residentMemory returns the summed resident set size of processes, in bytes,
// read from /proc/PID/status.
func residentMemory(processes []*process) int64 {
	var total int64
	for _, p := range processes {
		status, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid()) + "/status")
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(status), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 3 && fields[0] == "VmRSS:" {
				kib, _ := strconv.ParseInt(fields[1], 10, 64)
				total += kib << 10
			}
		}
	}
	return total
}

func clientFromKubeconfig(path string) (*kubernetes.Clientset, error) {
	config, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(config)
}
