package testenv

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// Environment variables that override defaults. The package documentation
// lists what each one sets.
const (
	envPostgresBinDir = "PG_BINDIR"
	envCache          = "PICOCLAW_CACHE"
	envKwokStages     = "TESTENV_KWOK_STAGES"
	envNodes          = "TESTENV_NODES"
	envStartTimeout   = "TESTENV_START_TIMEOUT"
	envKeepDir        = "TESTENV_KEEP_DIR"
)

// startTimeoutFromEnv returns $TESTENV_START_TIMEOUT, or fallback when it is unset.
func startTimeoutFromEnv(fallback time.Duration) (time.Duration, error) {
	value := os.Getenv(envStartTimeout)
	if value == "" {
		return fallback, nil
	}
	timeout, err := time.ParseDuration(value)
	if err != nil || timeout <= 0 {
		return 0, fmt.Errorf("invalid %s=%q: expected a positive Go duration such as 3m", envStartTimeout, value)
	}
	return timeout, nil
}

// keepDirFromEnv reports whether $TESTENV_KEEP_DIR is true, so Stop keeps temporary Dirs.
func keepDirFromEnv() bool {
	keep, _ := strconv.ParseBool(os.Getenv(envKeepDir))
	return keep
}

// removeCreatedDir removes dir when this package created it, unless
// $TESTENV_KEEP_DIR is set.
func removeCreatedDir(dir string, created bool) error {
	if !created || dir == "" || keepDirFromEnv() {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}
