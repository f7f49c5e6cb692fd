package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	postgresUser            = "postgres"
	defaultDatabase         = "picoclaw"
	defaultPostgresPassword = "test"
	defaultPostgresTimeout  = time.Minute

	// debianPostgresDirs matches the server binaries of Debian's postgresql packages.
	debianPostgresDirs = "/usr/lib/postgresql/*/bin"
)

// Postgres is a throwaway PostgreSQL server on 127.0.0.1. It listens on TCP
// only, without a Unix socket, and runs with fsync off, so its data does not
// survive a machine crash. When this process runs as root, initdb and
// postgres run as the system user "postgres", because both reject root.
type Postgres struct {
	// BinDir is the directory with initdb and postgres. Default: $PG_BINDIR,
	// else the newest /usr/lib/postgresql/*/bin.
	BinDir string

	// Dir holds the data directory (Dir/data) and the logs. Default: a new
	// temporary directory, which Stop removes. A Dir that already has data is
	// reused without initdb.
	Dir string

	// Port is the TCP port on 127.0.0.1. Default: a free port.
	Port int

	// Database is created at Start when it does not exist. Default "picoclaw".
	Database string

	// Password is the password of the superuser "postgres". Default "test".
	Password string

	// StartTimeout bounds Start and Resume. Default: $TESTENV_START_TIMEOUT, else 1 minute.
	StartTimeout time.Duration

	createdDir bool
	credential *syscall.Credential // nil runs the server as the current user
	server     *process
}

// Start runs initdb when Dir has no data yet, starts the server, waits until
// it accepts connections and creates Database. When Start fails, the server
// is stopped but Dir is kept for its logs until Stop.
func (p *Postgres) Start(ctx context.Context) error {
	if p.server != nil {
		return errors.New("postgres: already started")
	}
	if err := p.setDefaults(); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, p.StartTimeout)
	defer cancel()

	if err := p.initDataDir(ctx); err != nil {
		return err
	}

	if err := p.startServer(ctx); err != nil {
		return err
	}

	if err := p.createDatabase(ctx); err != nil {
		_ = p.stopServer()
		return err
	}
	return nil
}

// Stop stops the server and removes Dir when Start created it, so a later
// Start gets a new one. It is safe to call after a failed or partial Start,
// and more than once.
func (p *Postgres) Stop() error {
	stopErr := p.stopServer()
	removeErr := removeCreatedDir(p.Dir, p.createdDir)
	if removeErr == nil && p.createdDir {
		p.Dir, p.createdDir = "", false
	}
	return errors.Join(stopErr, removeErr)
}

// Pause stops the server and keeps its data, so tests can see how clients
// behave while the database is down. Resume starts it again.
func (p *Postgres) Pause() error {
	if p.server == nil {
		return errors.New("postgres: pause: server is not running")
	}
	return p.stopServer()
}

// Resume starts the server again on the same port and data after Pause.
func (p *Postgres) Resume(ctx context.Context) error {
	if p.server != nil {
		return errors.New("postgres: resume: server is already running")
	}
	if p.Dir == "" || p.Port == 0 {
		return errors.New("postgres: resume: server was never started")
	}

	ctx, cancel := context.WithTimeout(ctx, p.StartTimeout)
	defer cancel()
	return p.startServer(ctx)
}

// URL returns the connection URL of Database as the superuser, for example
// postgres://postgres:test@127.0.0.1:5432/picoclaw?sslmode=disable.
func (p *Postgres) URL() string {
	return p.urlFor(p.Database)
}

func (p *Postgres) urlFor(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(postgresUser, p.Password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// LogPath returns the path of the server's log file.
func (p *Postgres) LogPath() string {
	return filepath.Join(p.Dir, "postgres.log")
}

func (p *Postgres) dataDir() string {
	return filepath.Join(p.Dir, "data")
}

func (p *Postgres) setDefaults() error {
	if p.BinDir == "" {
		p.BinDir = os.Getenv(envPostgresBinDir)
	}
	if p.BinDir == "" {
		dir, err := newestPostgresBinDir()
		if err != nil {
			return err
		}
		p.BinDir = dir
	}

	if p.Database == "" {
		p.Database = defaultDatabase
	}
	if p.Password == "" {
		p.Password = defaultPostgresPassword
	}
	if p.StartTimeout == 0 {
		timeout, err := startTimeoutFromEnv(defaultPostgresTimeout)
		if err != nil {
			return err
		}
		p.StartTimeout = timeout
	}

	if os.Geteuid() == 0 {
		credential, err := lookupCredential(postgresUser)
		if err != nil {
			return fmt.Errorf("postgres: running as root, and initdb and postgres reject root: %w", err)
		}
		p.credential = credential
	}

	if err := p.prepareDir(); err != nil {
		return err
	}

	if p.Port == 0 {
		ports, err := freePorts(1)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		p.Port = ports[0]
	}
	return nil
}

// prepareDir creates Dir and, when the server runs as another user, hands it
// to that user so initdb can create the data directory inside it.
func (p *Postgres) prepareDir() error {
	if p.Dir == "" {
		dir, err := os.MkdirTemp("", "testenv-postgres-")
		if err != nil {
			return fmt.Errorf("postgres: create temporary dir: %w", err)
		}
		p.Dir = dir
		p.createdDir = true
	} else if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return fmt.Errorf("postgres: create dir: %w", err)
	}

	if p.credential != nil {
		if err := os.Chown(p.Dir, int(p.credential.Uid), int(p.credential.Gid)); err != nil {
			return fmt.Errorf("postgres: give %s to user %s: %w", p.Dir, postgresUser, err)
		}
	}
	return nil
}

// initDataDir runs initdb unless the data directory already has a cluster.
func (p *Postgres) initDataDir(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(p.dataDir(), "PG_VERSION")); err == nil {
		return nil
	}

	passwordFile := filepath.Join(p.Dir, "initdb-password")
	if err := os.WriteFile(passwordFile, []byte(p.Password+"\n"), 0o600); err != nil {
		return fmt.Errorf("postgres: write password file: %w", err)
	}
	defer os.Remove(passwordFile)
	if p.credential != nil {
		if err := os.Chown(passwordFile, int(p.credential.Uid), int(p.credential.Gid)); err != nil {
			return fmt.Errorf("postgres: give password file to user %s: %w", postgresUser, err)
		}
	}

	logPath := filepath.Join(p.Dir, "initdb.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("postgres: create initdb log: %w", err)
	}
	defer logFile.Close()

	cmd := exec.CommandContext(ctx, filepath.Join(p.BinDir, "initdb"),
		"--pgdata="+p.dataDir(),
		"--username="+postgresUser,
		"--pwfile="+passwordFile,
		"--auth=scram-sha-256",
		"--encoding=UTF8",
		"--no-locale",
		"--no-sync",
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: p.credential}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("postgres: initdb failed: %w\nlast lines of %s:\n%s", err, logPath, readTail(logPath, logTailLines))
	}
	return nil
}

// startServer starts postgres and waits until it accepts connections.
func (p *Postgres) startServer(ctx context.Context) error {
	server, err := startProcess(processSpec{
		name: "postgres",
		path: filepath.Join(p.BinDir, "postgres"),
		args: []string{
			"-D", p.dataDir(),
			"-p", strconv.Itoa(p.Port),
			"-c", "listen_addresses=127.0.0.1",
			"-c", "unix_socket_directories=",
			"-c", "fsync=off",
			"-c", "synchronous_commit=off",
			"-c", "full_page_writes=off",
		},
		logPath:    p.LogPath(),
		credential: p.credential,
		// SIGINT is PostgreSQL's fast shutdown: it ends sessions and exits.
		stopSignal: syscall.SIGINT,
	})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	p.server = server

	err = waitFor(ctx, "PostgreSQL to accept connections", func(ctx context.Context) error {
		conn, err := p.connect(ctx, "postgres")
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	}, server)
	if err != nil {
		_ = p.stopServer()
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func (p *Postgres) createDatabase(ctx context.Context) error {
	conn, err := p.connect(ctx, "postgres")
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", p.Database).Scan(&exists)
	if err != nil {
		return fmt.Errorf("postgres: look up database %q: %w", p.Database, err)
	}
	if exists {
		return nil
	}

	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{p.Database}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: create database %q: %w", p.Database, err)
	}
	return nil
}

// connect opens one connection to database, giving up after a second so
// that polling notices a server that hangs.
func (p *Postgres) connect(ctx context.Context, database string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return pgx.Connect(ctx, p.urlFor(database))
}

func (p *Postgres) stopServer() error {
	if p.server == nil {
		return nil
	}
	err := p.server.stop()
	p.server = nil
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// newestPostgresBinDir returns the bin directory of the highest PostgreSQL
// major version installed in Debian's layout.
func newestPostgresBinDir() (string, error) {
	dirs, err := filepath.Glob(debianPostgresDirs)
	if err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}

	best, bestVersion := "", -1.0
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err != nil {
			continue
		}
		versionDir := filepath.Base(filepath.Dir(dir))
		version, err := strconv.ParseFloat(versionDir, 64)
		if err != nil {
			continue
		}
		if version > bestVersion {
			best, bestVersion = dir, version
		}
	}

	if best == "" {
		return "", fmt.Errorf("postgres: no server found in %s: install Debian's postgresql package or set %s", debianPostgresDirs, envPostgresBinDir)
	}
	return best, nil
}

// lookupCredential returns the uid and gid of the named system user, with
// no supplementary groups, so the child drops those of root.
func lookupCredential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("look up user %q: %w", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %q has a non-numeric uid %q", name, u.Uid)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %q has a non-numeric gid %q", name, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
