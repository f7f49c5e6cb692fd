package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report collects every figure of a run and renders the Markdown page.
type report struct {
	started     time.Time
	env         *benchEnv
	classrooms  []classroomResult
	checkpoints []checkpoint
	churn       *churnResult
}

// percentile returns the p-th percentile (0 to 100) of durations by the
// nearest-rank method.
func percentile(durations []time.Duration, p float64) time.Duration {
	if len(durations) == 0 {
		return 0
	}
	sorted := slices.Clone(durations)
	slices.Sort(sorted)
	rank := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mib(bytes int64) string { return fmt.Sprintf("%.0f MiB", float64(bytes)/(1<<20)) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `make bench` (scripts/bench) on %s; the run took %s. ",
		r.started.UTC().Format("2006-01-02 15:04 MST"), time.Since(r.started).Round(time.Second))
	fmt.Fprintf(&b, "Every figure below comes from that one run, so ratios compare measurements taken minutes apart on the same machine.\n\n")
	r.writeMachine(&b)
	r.writeClassroom(&b)
	r.writeScale(&b)
	r.writeChurn(&b)
	fmt.Fprintf(&b, "\n## Profiles\n\nThe run saves a CPU profile of the manager during the classroom "+
		"(`classroom-cpu.pprof`) and a heap profile at the largest tenant count (`scale-heap.pprof`) under "+
		"`docs/benchmarks/raw/`, which git ignores. Read them with `go tool pprof -top bin/picoclaw-manager FILE`.\n")
	return b.String()
}

func (r *report) writeMachine(b *strings.Builder) {
	fmt.Fprintf(b, "## Machine and versions\n\n| | |\n|---|---|\n")
	fmt.Fprintf(b, "| CPU | %s, %d cores |\n", cpuModel(), runtime.NumCPU())
	fmt.Fprintf(b, "| Memory | %s |\n", memTotal())
	fmt.Fprintf(b, "| Go | %s |\n", runtime.Version())
	fmt.Fprintf(b, "| Control plane | k8s.io/kubernetes %s, built from its module |\n", builtVersion(r.env.controlPlane.BinPath("kube-apiserver")))
	fmt.Fprintf(b, "| helm CLI | %s |\n", builtVersion(r.env.controlPlane.BinPath("helm")))
	fmt.Fprintf(b, "| Nodes | %d simulated by kwok; pods reach Running without containers |\n\n", r.env.controlPlane.Nodes)
}

func (r *report) writeClassroom(b *strings.Builder) {
	if len(r.classrooms) == 0 {
		return
	}
	fmt.Fprintf(b, "## Classroom: tenants until every pod runs\n\n")
	fmt.Fprintf(b, "Each tenant has a gateway and an agent pod. Wall time runs from the first request until all pods are Running.\n\n")
	fmt.Fprintf(b, "| Method | Tenants | At once | Wall time | p50 | p95 | max |\n|---|---|---|---|---|---|---|\n")
	for _, c := range r.classrooms {
		fmt.Fprintf(b, "| %s | %d | %d | %s | %s | %s | %s |\n", c.method, c.tenants, c.concurrency,
			seconds(c.wall), ms(percentile(c.latencies, 50)), ms(percentile(c.latencies, 95)), ms(percentile(c.latencies, 100)))
	}
	manager := r.classrooms[0]
	fmt.Fprintf(b, "\nThe p50, p95 and max columns are the latency of one create request (API) or one `helm install` process (CLI).\n\n")
	fmt.Fprintf(b, "| Target | Measured | |\n|---|---|---|\n")
	fmt.Fprintf(b, "| 30 tenants Running in under 15 s | %s | %s |\n", seconds(manager.wall), verdict(manager.wall < 15*time.Second))
	for _, c := range r.classrooms[1:] {
		ratio := c.wall.Seconds() / manager.wall.Seconds()
		target := ""
		if c.concurrency == 1 {
			target = verdict(ratio >= 3)
		}
		fmt.Fprintf(b, "| helm CLI, %d at a time, over the manager (at least 3 for sequential) | %.1fx | %s |\n", c.concurrency, ratio, target)
	}
	fmt.Fprintln(b)
}

func (r *report) writeScale(b *strings.Builder) {
	if len(r.checkpoints) == 0 {
		return
	}
	fmt.Fprintf(b, "## Scale: latency and memory as tenants grow\n\n")
	fmt.Fprintf(b, "Tenants with the agent disabled (one gateway pod each), created 8 at a time. Before each checkpoint the run waits until no namespace is terminating and every tenant pod runs; then it sends %d creates, %d lists of each kind and %d GETs, one at a time.\n\n",
		createSamples, listSamples, readSamples)
	fmt.Fprintf(b, "| Existing tenants | Create p50 | List, limit=100, p50 | List all, p50 | GET p50 | Manager RSS | Goroutines |\n|---|---|---|---|---|---|---|\n")
	for _, cp := range r.checkpoints {
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %d |\n", cp.existing, ms(percentile(cp.creates, 50)),
			ms(percentile(cp.listPage, 50)), ms(percentile(cp.listAll, 50)), ms(percentile(cp.get, 50)), mib(cp.rssBytes), cp.goroutines)
	}
	first, last := r.checkpoints[0], r.checkpoints[len(r.checkpoints)-1]
	growth := percentile(last.creates, 50).Seconds()/percentile(first.creates, 50).Seconds() - 1
	fmt.Fprintf(b, "\n| Target | Measured | |\n|---|---|---|\n")
	fmt.Fprintf(b, "| Create p50 grows less than 20%% from 0 to %d tenants | %+.0f%% | %s |\n", last.existing, growth*100, verdict(growth < 0.2))
	fmt.Fprintf(b, "| List of %d tenants under 100 ms | %s | %s |\n", last.existing, ms(percentile(last.listAll, 50)), verdict(percentile(last.listAll, 50) < 100*time.Millisecond))
	fmt.Fprintf(b, "| One page of 100 under 20 ms | %s | %s |\n", ms(percentile(last.listPage, 50)), verdict(percentile(last.listPage, 50) < 20*time.Millisecond))
	fmt.Fprintf(b, "| Manager RSS under 150 MB at %d tenants | %s | %s |\n\n", last.existing, mib(last.rssBytes), verdict(last.rssBytes < 150e6))
}

func (r *report) writeChurn(b *strings.Builder) {
	if r.churn == nil {
		return
	}
	c := r.churn
	rssGrowth := float64(c.rssAfter)/float64(c.rssBefore) - 1
	goroutineGrowth := float64(c.goroutinesAt)/float64(c.goroutinesBefore) - 1
	fmt.Fprintf(b, "## Churn: %d create/delete cycles, 4 at a time\n\n", c.cycles)
	fmt.Fprintf(b, "Measured after a 5 s pause and a forced garbage collection, before and after; the cycles took %s.\n\n", seconds(c.wall))
	fmt.Fprintf(b, "| | Before | After | Growth | Target: at most 10%% |\n|---|---|---|---|---|\n")
	fmt.Fprintf(b, "| Manager RSS | %s | %s | %+.1f%% | %s |\n", mib(c.rssBefore), mib(c.rssAfter), rssGrowth*100, verdict(rssGrowth <= 0.1))
	fmt.Fprintf(b, "| Goroutines | %d | %d | %+.1f%% | %s |\n", c.goroutinesBefore, c.goroutinesAt, goroutineGrowth*100, verdict(goroutineGrowth <= 0.1))
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if name, value, ok := strings.Cut(scanner.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.Join(strings.Fields(strings.TrimPrefix(line, "MemTotal:")), " ")
}

// builtVersion reads the version scripts/build-controlplane.sh recorded
// beside a binary; binaries built from modules report no version of their own.
func builtVersion(binary string) string {
	data, err := os.ReadFile(filepath.Join(filepath.Dir(binary), "."+filepath.Base(binary)+".version"))
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}
