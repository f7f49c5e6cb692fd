package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBadFlagsExitWithUsage needs no servers: each command line is rejected
// before the manager connects to anything.
func TestBadFlagsExitWithUsage(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"concurrency zero", []string{"upgrade", "--concurrency", "0"}, "--concurrency must be at least 1"},
		{"concurrency not a number", []string{"upgrade", "--concurrency", "four"}, "invalid argument \"four\""},
		{"negative max failures", []string{"upgrade", "--max-failures", "-1"}, "--max-failures must be 0"},
		{"unknown flag", []string{"upgrade", "--parallel", "2"}, "unknown flag: --parallel"},
		{"unknown command", []string{"upgrad"}, "unknown command \"upgrad\""},
		{"bad duration", []string{"serve", "--operation-timeout", "soon"}, "operation_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), tt.mention) {
				t.Errorf("stderr does not mention %q:\n%s", tt.mention, stderr.String())
			}
			if tt.name != "unknown command" && !strings.Contains(stderr.String(), "Usage: picoclaw-manager") {
				t.Errorf("stderr has no usage message:\n%s", stderr.String())
			}
		})
	}
}
