package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func startTest(t *testing.T) (*Server, string) {
	t.Helper()
	before := runtime.NumGoroutine()
	srv, err := Start(context.Background(), Config{
		Listen:  "127.0.0.1:0",
		DataDir: t.TempDir(),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		// Every goroutine the server started must be gone.
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines leaked after shutdown:\n%s", n-before, buf[:runtime.Stack(buf, true)])
		}
	})
	return srv, fmt.Sprintf("postgres://u@%s/d?sslmode=disable", srv.Addr())
}

func TestTwoHundredConcurrentSessionsReadAndWrite(t *testing.T) {
	_, dsn := startTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setup, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Exec(ctx, "CREATE TABLE hits (session INT PRIMARY KEY, n BIGINT)"); err != nil {
		t.Fatal(err)
	}
	_ = setup.Close(ctx)

	const sessions = 200
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := 0; i < sessions; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				errs <- fmt.Errorf("session %d connect: %w", i, err)
				return
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "INSERT INTO hits VALUES ($1, $2)", i, int64(i)*10); err != nil {
				errs <- fmt.Errorf("session %d insert: %w", i, err)
				return
			}
			var n int64
			if err := conn.QueryRow(ctx, "SELECT n FROM hits WHERE session = $1", i).Scan(&n); err != nil {
				errs <- fmt.Errorf("session %d select: %w", i, err)
				return
			}
			if n != int64(i)*10 {
				errs <- fmt.Errorf("session %d read n = %d, want %d", i, n, i*10)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var count, sum int64
	if err := conn.QueryRow(ctx, "SELECT count(*), sum(n) FROM hits").Scan(&count, &sum); err != nil {
		t.Fatal(err)
	}
	if count != sessions || sum != 10*sessions*(sessions-1)/2 {
		t.Fatalf("got count=%d sum=%d, want %d and %d", count, sum, sessions, 10*sessions*(sessions-1)/2)
	}
}

func TestCancelStopsALongRunningQuery(t *testing.T) {
	_, dsn := startTest(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE n (i INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	var values []string
	for i := 0; i < 2000; i++ {
		values = append(values, fmt.Sprintf("(%d)", i))
	}
	if _, err := conn.Exec(ctx, "INSERT INTO n VALUES "+strings.Join(values, ",")); err != nil {
		t.Fatal(err)
	}
	// 2000^3 = 8e9 joined rows: minutes of work unless cancelled.
	qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	var c int64
	err = conn.QueryRow(qctx, "SELECT count(*) FROM n a, n b, n c WHERE a.i + b.i + c.i >= 0").Scan(&c)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v (count %d), want SQLSTATE 57014 or a deadline error", err, c)
		}
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("cancel took %s", took)
	}
	// The session still works afterwards (pgx may need a new connection
	// if it closed this one on the deadline).
	conn2, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close(ctx)
	if err := conn2.QueryRow(ctx, "SELECT count(*) FROM n").Scan(&c); err != nil || c != 2000 {
		t.Fatalf("after cancel: count=%d err=%v", c, err)
	}
}

func TestWritesInsideTransactionBlocksAreRefusedClearly(t *testing.T) {
	_, dsn := startTest(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "INSERT INTO t VALUES (1)")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "0A000" {
		t.Fatalf("insert in a transaction block: got %v, want 0A000", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count = %d, err = %v; want 0 rows", n, err)
	}
}
