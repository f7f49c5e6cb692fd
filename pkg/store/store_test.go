package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/picoclaw-manager/picoclaw-manager/pkg/store"
	"github.com/picoclaw-manager/picoclaw-manager/pkg/testenv"
)

// url is the database of the PostgreSQL server every test here shares.
var url string

func TestMain(m *testing.M) {
	ctx := context.Background()
	postgres := &testenv.Postgres{}
	if err := postgres.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "start PostgreSQL:", err)
		os.Exit(1)
	}
	url = postgres.URL()
	code := m.Run()
	postgres.Stop()
	os.Exit(code)
}

func open(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func row(id string) store.Tenant {
	return store.Tenant{ID: id, DisplayName: "Tenant " + id, Namespace: "picoclaw-tenant-" + id,
		Status: "provisioning", ReleaseName: id, Resources: map[string]string{"agent_cpu": "500m"}}
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	s := open(t)
	if err := s.Migrate(context.Background()); err != nil {
		t.Errorf("second Migrate: %v", err)
	}
}

func TestInsertGetUpdateDelete(t *testing.T) {
	ctx := context.Background()
	s := open(t)

	inserted, err := s.Insert(ctx, row("crud"))
	if err != nil {
		t.Fatal(err)
	}
	if inserted.CreatedAt.IsZero() || inserted.Resources["agent_cpu"] != "500m" {
		t.Errorf("inserted = %+v", inserted)
	}
	if _, err := s.Insert(ctx, row("crud")); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("second insert: err = %v, want ErrDuplicate", err)
	}

	inserted.Status, inserted.ReleaseRevision, inserted.LastError = "active", 2, "boom"
	updated, err := s.Update(ctx, inserted)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Status != "active" || updated.ReleaseRevision != 2 || updated.LastError != "boom" {
		t.Errorf("updated = %+v", updated)
	}
	if !updated.UpdatedAt.After(inserted.UpdatedAt) {
		t.Errorf("updated_at %v not after %v", updated.UpdatedAt, inserted.UpdatedAt)
	}

	if err := s.SetStatus(ctx, "crud", "failed", "why"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "crud")
	if err != nil || got.Status != "failed" || got.LastError != "why" {
		t.Errorf("after SetStatus: %+v, %v", got, err)
	}

	if err := s.Delete(ctx, "crud"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "crud"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.SetStatus(ctx, "crud", "active", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetStatus after Delete: err = %v, want ErrNotFound", err)
	}
}

func TestRejectsUnknownStatus(t *testing.T) {
	s := open(t)
	bad := row("bad-status")
	bad.Status = "sleeping"
	if _, err := s.Insert(context.Background(), bad); err == nil {
		t.Error("insert with status sleeping succeeded, want a check violation")
	}
}

func TestListPagesInIDOrder(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for _, id := range []string{"list-c", "list-a", "list-b"} {
		if _, err := s.Insert(ctx, row(id)); err != nil {
			t.Fatal(err)
		}
	}

	page, err := s.List(ctx, "list-", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].ID != "list-a" || page[1].ID != "list-b" {
		t.Errorf("first page = %v", ids(page))
	}
	rest, err := s.List(ctx, "list-b", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rest); len(got) == 0 || got[0] != "list-c" {
		t.Errorf("after list-b = %v, want list-c first", got)
	}
}

func ids(rows []store.Tenant) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// TestLockExcludesOtherStores takes a tenant's lock through one Store and
// checks that a second Store, as a second manager replica would, cannot
// take it until it is released.
func TestLockExcludesOtherStores(t *testing.T) {
	ctx := context.Background()
	first, second := open(t), open(t)

	unlock, err := first.TryLock(ctx, "locked")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.TryLock(ctx, "locked"); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second replica: err = %v, want ErrLocked", err)
	}
	if _, err := first.TryLock(ctx, "locked"); !errors.Is(err, store.ErrLocked) {
		t.Errorf("same replica: err = %v, want ErrLocked", err)
	}
	other, err := second.TryLock(ctx, "other-tenant")
	if err != nil {
		t.Errorf("lock of another tenant: %v", err)
	} else {
		other()
	}

	unlock()
	unlock()
	again, err := second.TryLock(ctx, "locked")
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again()
}

// TestLocksDoNotStarveQueries holds every lock connection and checks that
// queries still run.
func TestLocksDoNotStarveQueries(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for i := range store.LockConnections {
		unlock, err := s.TryLock(ctx, fmt.Sprintf("starve-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
	}
	if _, err := s.Insert(ctx, row("starve")); err != nil {
		t.Errorf("insert while every lock connection is held: %v", err)
	}
}
