package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestAsOfVersionTakesAParameter(t *testing.T) {
	_, dsn := startTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		"CREATE TABLE rules (page TEXT PRIMARY KEY, max_latency INT)", // version 1
		"INSERT INTO rules VALUES ('/home', 800)",                     // version 2
		"UPDATE rules SET max_latency = 500",                          // version 3
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	const q = "SELECT max_latency FROM rules AS OF VERSION $1 WHERE page = $2"
	for version, want := range map[int64]int32{2: 800, 3: 500} {
		var got int32
		if err := conn.QueryRow(ctx, q, version, "/home").Scan(&got); err != nil {
			t.Fatalf("version %d: %v", version, err)
		}
		if got != want {
			t.Errorf("version %d: max_latency %d, want %d", version, got, want)
		}
	}
	var pe *pgconn.PgError
	err = conn.QueryRow(ctx, q, int64(4), "/home").Scan(new(int32))
	if !errors.As(err, &pe) || pe.Code != "22023" || pe.Message != `table "rules" has no version 4: its latest version is 3` {
		t.Fatalf("version 4: got %v, want 22023 naming the latest version", err)
	}
}
