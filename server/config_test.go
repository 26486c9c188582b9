package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestConcurrentPairUpdatesAreSeenWhole runs UPDATE pair SET v = v + 1
// (two rows in one statement) as fast as it can while a stream joins every
// event to both rows: every event must see both rows with the same v, and
// v must never go backwards along the input.
func TestConcurrentPairUpdatesAreSeenWhole(t *testing.T) {
	srv, url := startTest(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`CREATE TABLE pair (k INT PRIMARY KEY, v BIGINT)`,
		`INSERT INTO pair VALUES (1, 0), (2, 0)`,
		`CREATE SOURCE ev (id BIGINT, k1 INT, k2 INT) WITH (connector = 'log')`,
		`CREATE STREAM seen WITH (trigger = '0s', max_rows_per_batch = 50) AS
		 SELECT e.id, a.v AS v1, b.v AS v2 FROM ev e JOIN pair a ON e.k1 = a.k JOIN pair b ON e.k2 = b.k`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	const events, perInsert = 3000, 20
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var updates int
	wg.Add(1)
	go func() {
		defer wg.Done()
		up, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer up.Close(ctx)
		for {
			select {
			case <-stop:
				return
			default:
			}
			tag, err := up.Exec(ctx, `UPDATE pair SET v = v + 1`)
			if err != nil {
				t.Error(err)
				return
			}
			if tag.RowsAffected() != 2 {
				t.Errorf("UPDATE changed %d rows", tag.RowsAffected())
				return
			}
			updates++
		}
	}()
	for id := 0; id < events; id += perInsert {
		var b strings.Builder
		b.WriteString("INSERT INTO ev VALUES ")
		for i := 0; i < perInsert; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%d, 1, 2)", id+i)
		}
		if _, err := conn.Exec(ctx, b.String()); err != nil {
			t.Fatal(err)
		}
	}
	var last int64
	deadline := time.Now().Add(60 * time.Second)
	for {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM seen").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == events {
			break
		}
		if n > events || time.Now().After(deadline) {
			t.Fatalf("the stream has %d rows, want %d", n, events)
		}
		if n == last {
			time.Sleep(10 * time.Millisecond)
		}
		last = n
	}
	close(stop)
	wg.Wait()

	rows, err := conn.Query(ctx, "SELECT id, v1, v2 FROM seen ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	prev, distinct := int64(-1), 0
	for rows.Next() {
		var id, v1, v2 int64
		if err := rows.Scan(&id, &v1, &v2); err != nil {
			t.Fatal(err)
		}
		if v1 != v2 {
			t.Fatalf("event %d saw the pair half-updated: v1 = %d, v2 = %d", id, v1, v2)
		}
		if v1 < prev {
			t.Fatalf("event %d saw v = %d after an earlier event saw %d", id, v1, prev)
		}
		if v1 != prev {
			distinct++
		}
		prev = v1
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var batches int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM sluice_progress WHERE stream = 'seen'").Scan(&batches); err != nil {
		t.Fatal(err)
	}
	// The check has teeth only if the edits landed between batches.
	if distinct < 3 {
		t.Fatalf("the events saw only %d values of v over %d batches and %d updates: the updates did not interleave", distinct, batches, updates)
	}
	t.Logf("%d events, %d batches, %d updates, %d distinct values seen", events, batches, updates, distinct)
	_ = srv
}
