package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestLoadDefaults(t *testing.T) {
	c, err := Load(newFlags(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != ":8080" {
		t.Errorf("ListenAddr = %q, want :8080", c.ListenAddr)
	}
	if c.APIKey != DefaultAPIKey {
		t.Errorf("APIKey = %q, want the default", c.APIKey)
	}
	if c.OperationTimeout != 5*time.Minute {
		t.Errorf("OperationTimeout = %v, want 5m", c.OperationTimeout)
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	content := "listen_addr: 127.0.0.1:7000\npicoclaw_image: file/image:1\nmanager_namespace: from-file\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PICOCLAW_IMAGE", "env/image:2")
	t.Setenv("MANAGER_NAMESPACE", "from-env")

	c, err := Load(newFlags(), []string{"--config", file, "--manager-namespace", "from-flag"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != "127.0.0.1:7000" {
		t.Errorf("ListenAddr = %q, want the config file's", c.ListenAddr)
	}
	if c.Image != "env/image:2" {
		t.Errorf("Image = %q, want the environment's over the file's", c.Image)
	}
	if c.ManagerNamespace != "from-flag" {
		t.Errorf("ManagerNamespace = %q, want the flag's over the environment's", c.ManagerNamespace)
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"empty api key", []string{"--api-key", " "}},
		{"bad operation timeout", []string{"--operation-timeout", "soon"}},
		{"unknown flag", []string{"--no-such-flag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load(newFlags(), tt.args); err == nil {
				t.Errorf("Load(%v) succeeded, want an error", tt.args)
			}
		})
	}
}

func newFlags() *pflag.FlagSet { return pflag.NewFlagSet("test", pflag.ContinueOnError) }
