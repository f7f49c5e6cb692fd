// Package store keeps tenant metadata in PostgreSQL through pgx. It stores no
// secret: provider keys and bot tokens never reach it.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	// ErrNotFound is returned when no tenant has the id.
	ErrNotFound = errors.New("tenant not found")
	// ErrDuplicate is returned when inserting an id that exists.
	ErrDuplicate = errors.New("tenant already exists")
)

// Tenant is one row of the tenants table.
type Tenant struct {
	ID              string
	DisplayName     string
	Namespace       string
	Status          string
	ReleaseName     string
	ReleaseRevision int
	ChartVersion    string
	Resources       map[string]string
	LastError       string
	// Drift is the last drift check's description of changes made outside the manager.
	Drift     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Connection pool sizes. A tenant lock holds one connection for the whole
// operation, so locks get a pool of their own: operations that hold every
// lock connection can still run queries. Together they stay well below
// PostgreSQL's default max_connections of 100 with two manager replicas.
const (
	QueryConnections = 10
	LockConnections  = 30
)

// QueryTimeout bounds every query, so an unreachable or stuck PostgreSQL
// fails a request in seconds instead of holding it.
const QueryTimeout = 10 * time.Second

// Store is the tenants table.
type Store struct {
	pool  *pgxpool.Pool
	locks *pgxpool.Pool
}

func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, QueryTimeout)
}

// Open connects to the database at url. It does not migrate.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := newPool(ctx, url, QueryConnections)
	if err != nil {
		return nil, err
	}
	locks, err := newPool(ctx, url, LockConnections)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool, locks: locks}, nil
}

func newPool(ctx context.Context, url string, size int32) (*pgxpool.Pool, error) {
	config, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	config.MaxConns = size
	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, nil
}

// Close closes every connection.
func (s *Store) Close() {
	s.pool.Close()
	s.locks.Close()
}

// Ping runs a trivial query to check that PostgreSQL is reachable.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := bounded(ctx)
	defer cancel()

	var result int
	if err := s.pool.QueryRow(ctx, "SELECT 1").Scan(&result); err != nil {
		return fmt.Errorf("PostgreSQL not reachable: %w", err)
	}
	return nil
}

const columns = `id, display_name, namespace, status, release_name, release_revision,
	chart_version, resources, last_error, drift, created_at, updated_at`

func scanTenant(row pgx.Row) (Tenant, error) {
	var t Tenant
	err := row.Scan(&t.ID, &t.DisplayName, &t.Namespace, &t.Status, &t.ReleaseName,
		&t.ReleaseRevision, &t.ChartVersion, &t.Resources, &t.LastError, &t.Drift, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

// Insert adds t and returns it as stored, with its timestamps. It returns
// ErrDuplicate when the id or the namespace exists.
func (s *Store) Insert(ctx context.Context, t Tenant) (Tenant, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()

	row := s.pool.QueryRow(ctx, `INSERT INTO tenants
		(id, display_name, namespace, status, release_name, release_revision, chart_version, resources, last_error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+columns,
		t.ID, t.DisplayName, t.Namespace, t.Status, t.ReleaseName, t.ReleaseRevision,
		t.ChartVersion, t.Resources, t.LastError)
	stored, err := scanTenant(row)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Tenant{}, ErrDuplicate
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("insert tenant %s: %w", t.ID, err)
	}
	return stored, nil
}

// Get returns the tenant with id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Tenant, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()

	t, err := scanTenant(s.pool.QueryRow(ctx, "SELECT "+columns+" FROM tenants WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("get tenant %s: %w", id, err)
	}
	return t, nil
}

// List returns tenants ordered by id, starting after the id after (all when
// empty), at most limit of them (all when limit is 0).
func (s *Store) List(ctx context.Context, after string, limit int) ([]Tenant, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()

	query := "SELECT " + columns + " FROM tenants WHERE id > $1 ORDER BY id"
	args := []any{after}
	if limit > 0 {
		query += " LIMIT $2"
		args = append(args, limit)
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	tenants, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Tenant, error) { return scanTenant(row) })
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return tenants, nil
}

// Update writes every mutable column of t and sets updated_at. It returns
// the tenant as stored, or ErrNotFound.
func (s *Store) Update(ctx context.Context, t Tenant) (Tenant, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()

	row := s.pool.QueryRow(ctx, `UPDATE tenants SET display_name = $2, status = $3,
		release_revision = $4, chart_version = $5, resources = $6, last_error = $7, updated_at = now()
		WHERE id = $1 RETURNING `+columns,
		t.ID, t.DisplayName, t.Status, t.ReleaseRevision, t.ChartVersion, t.Resources, t.LastError)
	stored, err := scanTenant(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("update tenant %s: %w", t.ID, err)
	}
	return stored, nil
}

// SetStatus sets the status and last error of tenant id.
func (s *Store) SetStatus(ctx context.Context, id, status, lastError string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()

	tag, err := s.pool.Exec(ctx, `UPDATE tenants SET status = $2, last_error = $3, updated_at = now()
		WHERE id = $1`, id, status, lastError)
	if err != nil {
		return fmt.Errorf("set status of tenant %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete removes tenant id. A missing row is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()

	if _, err := s.pool.Exec(ctx, "DELETE FROM tenants WHERE id = $1", id); err != nil {
		return fmt.Errorf("delete tenant %s: %w", id, err)
	}
	return nil
}

// CountByStatus returns how many tenants are in each status.
func (s *Store) CountByStatus(ctx context.Context) (map[string]int, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()

	rows, err := s.pool.Query(ctx, "SELECT status, count(*) FROM tenants GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("count tenants: %w", err)
	}
	counts := map[string]int{}
	var status string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		counts[status] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count tenants: %w", err)
	}
	return counts, nil
}

// ListByStatus returns the tenants in any of statuses, ordered by id.
func (s *Store) ListByStatus(ctx context.Context, statuses ...string) ([]Tenant, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()

	rows, err := s.pool.Query(ctx, "SELECT "+columns+" FROM tenants WHERE status = ANY($1) ORDER BY id", statuses)
	if err != nil {
		return nil, fmt.Errorf("list tenants by status: %w", err)
	}
	tenants, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Tenant, error) { return scanTenant(row) })
	if err != nil {
		return nil, fmt.Errorf("list tenants by status: %w", err)
	}
	return tenants, nil
}

// SetDrift records what the drift check found for tenant id; empty clears it.
// It leaves updated_at alone, because the tenant itself did not change.
func (s *Store) SetDrift(ctx context.Context, id, drift string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()

	if _, err := s.pool.Exec(ctx, "UPDATE tenants SET drift = $2 WHERE id = $1", id, drift); err != nil {
		return fmt.Errorf("set drift of tenant %s: %w", id, err)
	}
	return nil
}
