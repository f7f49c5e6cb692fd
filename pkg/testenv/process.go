package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

const (
	// logTailLines is how many lines of a process's log an error carries.
	logTailLines = 30

	// stopTimeout is how long a process gets to exit after its stop signal
	// before its whole process group is killed.
	stopTimeout = 10 * time.Second
)

// processSpec describes one server process to run.
type processSpec struct {
	name    string
	path    string
	args    []string
	env     []string // nil inherits the environment of this process
	logPath string

	// credential, when set, runs the process as another user.
	credential *syscall.Credential

	// stopSignal starts a graceful shutdown. Zero means SIGTERM.
	stopSignal syscall.Signal
}

// process is a started server process and the state of its exit.
type process struct {
	spec   processSpec
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited and been reaped
	err    error         // the result of cmd.Wait, valid after exited is closed
}

// startProcess starts spec in a new process group, with its stdout and stderr
// appended to spec.logPath and SIGKILL as its parent-death signal.
func startProcess(spec processSpec) (*process, error) {
	logFile, err := os.OpenFile(spec.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", spec.name, err)
	}
	defer logFile.Close()

	cmd := exec.Command(spec.path, spec.args...)
	cmd.Env = spec.env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,
		Pdeathsig:  syscall.SIGKILL,
		Credential: spec.credential,
	}

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", spec.name, spec.path, err)
	}

	p := &process{spec: spec, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// pid returns the process id, which is also the id of its process group.
func (p *process) pid() int {
	return p.cmd.Process.Pid
}

// hasExited reports whether the process has exited.
func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// exitError returns an error for an unexpected exit, with the log tail.
// Call it only after exited is closed.
func (p *process) exitError() error {
	status := "exited"
	if p.err != nil {
		status = fmt.Sprintf("exited: %v", p.err)
	}
	return fmt.Errorf("%s %s%s", p.spec.name, status, p.logTail())
}

// logTail returns the last lines of the process's log, formatted to be
// appended to an error message, or "" when the log is empty or unreadable.
func (p *process) logTail() string {
	tail := readTail(p.spec.logPath, logTailLines)
	if tail == "" {
		return ""
	}
	return fmt.Sprintf("\nlast lines of %s:\n%s", p.spec.logPath, tail)
}

// stop sends the stop signal to the process and waits for it to exit. After
// stopTimeout, or once the process has exited, it kills the process group,
// so children that stayed in the group cannot outlive it. PostgreSQL
// backends leave the group (they call setsid) but exit when the postmaster dies.
func (p *process) stop() error {
	signal := p.spec.stopSignal
	if signal == 0 {
		signal = syscall.SIGTERM
	}

	if !p.hasExited() {
		if err := p.cmd.Process.Signal(signal); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("signal %s: %w", p.spec.name, err)
		}
	}

	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-timer.C:
	}

	err := syscall.Kill(-p.pid(), syscall.SIGKILL)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill process group of %s: %w", p.spec.name, err)
	}
	<-p.exited
	return nil
}

// readTail returns the last n lines of the file at path. It reads at most the
// last 64 KiB, so a huge log costs no more than a small one.
func readTail(path string, n int) string {
	const maxRead = 64 << 10

	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		return ""
	}
	offset := max(info.Size()-maxRead, 0)
	data, err := io.ReadAll(io.NewSectionReader(f, offset, info.Size()-offset))
	if err != nil {
		return ""
	}

	lines := strings.Split(string(bytes.TrimRight(data, "\n")), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
