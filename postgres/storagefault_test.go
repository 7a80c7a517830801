package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/internal/tmpfs"
	"github.com/trailhq/trail/postgres"
)

// TestTablespaceFull keeps a database on a tablespace on a small tmpfs and
// fills it: appends fail with ESTORAGEFULL and store nothing, CheckWritable
// says so too, reads go on, and once space returns the same store writes
// again.
func TestTablespaceFull(t *testing.T) {
	dsn, dir := smallTablespaceDB(t)
	db := MustOpen(t, dsn)
	ctx := context.Background()
	if err := db.AppendBatches(ctx, []*trail.Batch{bigBatch(10)}); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	tmpfs.Fill(t, filler)

	var err error
	for i := 0; err == nil; i++ {
		err = db.AppendBatches(ctx, []*trail.Batch{bigBatch(1000)})
		if i == 100 {
			t.Fatal("100 batches of 1000 events stored on a full tablespace")
		}
	}
	if got := trail.ErrorCode(err); got != trail.ESTORAGEFULL {
		t.Fatalf("append on a full tablespace: code %q (%v), want %q", got, err, trail.ESTORAGEFULL)
	}
	if got := trail.ErrorCode(db.CheckWritable(ctx)); got != trail.ESTORAGEFULL {
		t.Errorf("CheckWritable on a full tablespace: code %q, want %q", got, trail.ESTORAGEFULL)
	}
	before := countEvents(t, db)
	if before == 0 {
		t.Error("reads on a full tablespace found no events")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckWritable(ctx); err != nil {
		t.Fatalf("CheckWritable after space returned: %v", err)
	}
	if err := db.AppendBatches(ctx, []*trail.Batch{bigBatch(10)}); err != nil {
		t.Fatalf("append after space returned: %v", err)
	}
	if got := countEvents(t, db); got != before+10 {
		t.Errorf("after recovery: %d events, want %d", got, before+10)
	}
}

// TestReadOnlyDatabase turns the server read-only (as a standby, or with
// default_transaction_read_only): appends fail with ESTORAGEREADONLY, reads
// go on, and the store writes again once the server does.
func TestReadOnlyDatabase(t *testing.T) {
	srv := pgtest.MustServer(t, pgtest.Options{})
	db := MustOpen(t, srv.NewDB(t))
	ctx := context.Background()
	if err := db.AppendBatches(ctx, []*trail.Batch{bigBatch(5)}); err != nil {
		t.Fatal(err)
	}
	setReadOnly(t, srv, "on")
	// The server's sessions take the setting at their next command, so an
	// append may still be stored meanwhile: count what was acknowledged.
	var appendErr error
	acked := 5
	testenv.Eventually(t, 20*time.Second, "appends to fail once the server is read-only", func() bool {
		appendErr = db.AppendBatches(ctx, []*trail.Batch{bigBatch(5)})
		if appendErr == nil {
			acked += 5
		}
		return appendErr != nil
	})
	if got := trail.ErrorCode(appendErr); got != trail.ESTORAGEREADONLY {
		t.Errorf("append on a read-only server: code %q (%v), want %q", got, appendErr, trail.ESTORAGEREADONLY)
	}
	if got := trail.ErrorCode(db.CheckWritable(ctx)); got != trail.ESTORAGEREADONLY {
		t.Errorf("CheckWritable on a read-only server: code %q, want %q", got, trail.ESTORAGEREADONLY)
	}
	if n := countEvents(t, db); n != acked {
		t.Errorf("reads on a read-only server: %d events, want the %d acknowledged", n, acked)
	}
	setReadOnly(t, srv, "off")
	testenv.Eventually(t, 20*time.Second, "appends to work once the server is writable", func() bool {
		return db.AppendBatches(ctx, []*trail.Batch{bigBatch(5)}) == nil
	})
}

// smallTablespaceDB creates a database whose default tablespace lives on a
// new 32 MiB tmpfs, on a server of its own, and returns the database's URL and the tmpfs folder.
func smallTablespaceDB(t *testing.T) (string, string) {
	dir := tmpfs.Mount(t, 32<<20)
	srv := pgtest.MustServer(t, pgtest.Options{})
	if err := srv.Chown(dir); err != nil {
		t.Fatal(err)
	}
	space := filepath.Join(dir, "space")
	if err := os.Mkdir(space, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := srv.Chown(space); err != nil {
		t.Fatal(err)
	}
	adminExec(t, srv, "CREATE TABLESPACE small LOCATION '"+space+"'")
	adminExec(t, srv, "CREATE DATABASE smalldb TEMPLATE template0 TABLESPACE small")
	return srv.DSN("smalldb"), dir
}

func setReadOnly(t *testing.T, srv *pgtest.Server, v string) {
	adminExec(t, srv, "ALTER SYSTEM SET default_transaction_read_only = "+v)
	adminExec(t, srv, "SELECT pg_reload_conf()")
}

func adminExec(t *testing.T, srv *pgtest.Server, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, srv.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// bigBatch is a batch of n events of tenant acme.
func bigBatch(n int) *trail.Batch {
	b := &trail.Batch{}
	now := time.Now().UTC()
	for range n {
		b.Events = append(b.Events, event("acme", now))
	}
	return b
}

func countEvents(t *testing.T, db *postgres.DB) int {
	t.Helper()
	n := 0
	err := trail.ExportEvents(context.Background(), db, trail.Query{Scope: trail.Scope{Tenant: "acme"}},
		func(*trail.Event) error { n++; return nil })
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	return n
}
