// Package testenv starts real servers for tests and for the local development
// environment: a throwaway PostgreSQL server (Postgres) and a Kubernetes
// control plane of etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (ControlPlane). kwok simulates the nodes, so
// Deployments get scheduled pods that reach Running, and PersistentVolumeClaims
// of the default StorageClass get bound, without a container runtime.
//
// Every server listens on 127.0.0.1 only, on free ports. Each process runs in
// its own process group and writes its output to a log file in Dir. Stop
// ends every process, also after a partial Start. When Start fails, the error
// ends with the tail of the failing process's log, and every process already
// started is stopped.
//
// If the Go program dies without calling Stop, the kernel kills the servers
// (Linux parent-death signal). NOTE: that signal fires when the OS thread
// that started the process exits. Go ends a thread only when a goroutine
// locked to it with runtime.LockOSThread returns, so do not call Start from
// such a goroutine.
//
// The zero value of both types works. Each field has a default, and these
// environment variables override the defaults (a field set in code wins):
//
//	PG_BINDIR               Postgres.BinDir: directory with initdb and postgres
//	PICOCLAW_CACHE          ControlPlane.BinDir is $PICOCLAW_CACHE/bin
//	                        (default ~/.cache/picoclaw-manager/bin)
//	TESTENV_KWOK_STAGES     ControlPlane.StagesDir: kwok's kustomize/stage tree
//	TESTENV_NODES           ControlPlane.Nodes: number of simulated nodes
//	TESTENV_START_TIMEOUT   StartTimeout of both types, as a Go duration ("3m")
//	TESTENV_KEEP_DIR        when "1" or "true", Stop keeps the temporary Dir
//	                        that it would otherwise remove, so logs can be read
//	TMPDIR                  where the temporary Dirs are created
//
// The control plane binaries come from scripts/build-controlplane.sh, which
// caches them under $PICOCLAW_CACHE.
package testenv
