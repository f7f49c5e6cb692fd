// Package config reads the manager's settings with viper, in the order
// flag > environment > config file > default.
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// DefaultAPIKey is the API key of a fresh installation. The manager warns at
// start while it is in use.
const DefaultAPIKey = "test-api-key"

// Config is every setting of the manager.
type Config struct {
	DatabaseURL      string
	APIKey           string
	ListenAddr       string
	Image            string
	ChartPath        string
	Kubeconfig       string
	ManagerNamespace string
	LogLevel         string
	OperationTimeout time.Duration
	ShutdownTimeout  time.Duration
	TokenHashKey     string
	RecoveryInterval time.Duration
	DriftInterval    time.Duration
	PprofAddr        string
}

// setting is one configuration key: its flag, environment variable (the key
// in upper case), default and help text.
type setting struct {
	key, flag, value, usage string
}

var settings = []setting{
	{"database_url", "database-url", "postgres://postgres:test@localhost:5432/picoclaw?sslmode=disable", "PostgreSQL connection URL"},
	{"api_key", "api-key", DefaultAPIKey, "bearer token clients send in the Authorization header (prefer the API_KEY environment variable: flags are visible in the process list)"},
	{"listen_addr", "listen-addr", ":8080", "HTTP listen address"},
	{"picoclaw_image", "picoclaw-image", "docker.io/sipeed/picoclaw:latest", "PicoClaw image of the tenant pods"},
	{"chart_path", "chart-path", "", "chart directory or .tgz that replaces the embedded tenant chart"},
	{"kubeconfig", "kubeconfig", "", "kubeconfig path; empty uses the in-cluster configuration"},
	{"manager_namespace", "manager-namespace", "picoclaw-system", "namespace the manager runs in; tenant NetworkPolicies admit it"},
	{"log_level", "log-level", "info", "log level: debug, info, warn or error"},
	{"operation_timeout", "operation-timeout", "5m", "upper bound of one create, update, delete or restart"},
	{"shutdown_timeout", "shutdown-timeout", "30s", "how long shutdown waits for requests in flight"},
	{"recovery_interval", "recovery-interval", "30s", "how often to recover tenants an interrupted operation left behind (also at start)"},
	{"drift_interval", "drift-interval", "0s", "how often to check tenants for changes made outside the manager; 0s turns the check off"},
	{"pprof_addr", "pprof-addr", "", "address of a separate listener for net/http/pprof profiles, such as 127.0.0.1:6060; empty turns it off"},
	{"token_hash_key", "token-hash-key", "", "secret key of the hashes of channel tokens in PostgreSQL; the same on every replica (prefer the TOKEN_HASH_KEY environment variable)"},
}

// Load adds the settings' flags to flags, parses args (without the program
// and subcommand names), then reads the environment and the config file
// named by --config or CONFIG_FILE. A subcommand adds its own flags to flags
// before calling Load.
func Load(flags *pflag.FlagSet, args []string) (Config, error) {
	configFile := flags.String("config", "", "optional config file (YAML, JSON or TOML) with the keys below in lower case, such as database_url")

	v := viper.New()
	for _, s := range settings {
		flags.String(s.flag, s.value, s.usage)
		v.SetDefault(s.key, s.value)
		if err := v.BindPFlag(s.key, flags.Lookup(s.flag)); err != nil {
			return Config{}, err
		}
	}
	if err := flags.Parse(args); err != nil {
		return Config{}, err
	}
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()

	if path := firstNonEmpty(*configFile, v.GetString("config_file")); path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("read config file %s: %w", path, err)
		}
	}
	return fromViper(v)
}

func fromViper(v *viper.Viper) (Config, error) {
	c := Config{
		DatabaseURL:      v.GetString("database_url"),
		APIKey:           v.GetString("api_key"),
		ListenAddr:       v.GetString("listen_addr"),
		Image:            v.GetString("picoclaw_image"),
		ChartPath:        v.GetString("chart_path"),
		Kubeconfig:       v.GetString("kubeconfig"),
		ManagerNamespace: v.GetString("manager_namespace"),
		LogLevel:         v.GetString("log_level"),
		TokenHashKey:     v.GetString("token_hash_key"),
		PprofAddr:        v.GetString("pprof_addr"),
	}
	var errs []error
	var err error
	if c.OperationTimeout, err = time.ParseDuration(v.GetString("operation_timeout")); err != nil {
		errs = append(errs, fmt.Errorf("operation_timeout: %w", err))
	}
	if c.ShutdownTimeout, err = time.ParseDuration(v.GetString("shutdown_timeout")); err != nil {
		errs = append(errs, fmt.Errorf("shutdown_timeout: %w", err))
	}
	if c.RecoveryInterval, err = time.ParseDuration(v.GetString("recovery_interval")); err != nil || c.RecoveryInterval <= 0 {
		errs = append(errs, fmt.Errorf("recovery_interval: must be a positive duration such as 30s, got %q", v.GetString("recovery_interval")))
	}
	if c.DriftInterval, err = time.ParseDuration(v.GetString("drift_interval")); err != nil || c.DriftInterval < 0 {
		errs = append(errs, fmt.Errorf("drift_interval: must be a duration such as 5m, or 0s for off, got %q", v.GetString("drift_interval")))
	}
	if strings.TrimSpace(c.APIKey) == "" {
		errs = append(errs, errors.New("api_key: must not be empty"))
	}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("database_url: must not be empty"))
	}
	return c, errors.Join(errs...)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
