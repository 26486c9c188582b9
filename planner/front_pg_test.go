package planner

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// TestSyntaxErrorsMatchPostgres sends texts with syntax errors to a
// PostgreSQL server and checks that the front reports the same SQLSTATE,
// message and position. It runs when SLUICE_TEST_PG_DSN names a server
// (for example "host=/tmp port=5432 user=postgres"); PostgreSQL parses
// the whole text before running any of it, so nothing is executed.
func TestSyntaxErrorsMatchPostgres(t *testing.T) {
	dsn := os.Getenv("SLUICE_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("SLUICE_TEST_PG_DSN is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		"SELECT 1 FROM WHERE",
		"SELECT 'é', from",
		"SELECT 1; SELECT 'ü' 'x', FROM t",
		"SELECT 1; SELECT 2 +",
		"SELECT ( -- c",
		"SELECT 1 +; SELECT 2",
		"SELECT x::int8 FROM FROM",
		"SELECT E'é\\n', x y z",
		"SELECT INTERVAL '1 day' + ) ",
		"SELECT CAST(1)",
		"SELECT CAST(1 AS int x)",
		"SELECT ::int",
		"SELECT 1::",
		"SELECT INTERVAL 1",
		"SELECT 1 AS 'x'",
		"SELECT 'a' 'b'",
		"SELECT 1 LIMIT 1, 2",
		"SELECT 'abc",
		"SELECT \"abc",
		"SELECT \"\"",
		"SELECT $$a",
		"SELECT 1abc",
		"SELECT $1a",
		"SET x",
		"SET x TO; SELECT 1",
		"SET x = 1 + 1",
		"SET x = $1",
		"SET GLOBAL x = 1",
		"SHOW COLUMNS FROM t",
		"SHOW",
		"BEGIN READ SOMETIMES",
		"BEGIN ISOLATION LEVEL READ SOMETIMES",
		"SET CHARACTERISTICS AS TRANSACTION READ ONLY",
		"SELECT a FROM t WHERE x = 1 AND",
		"EXPLAIN",
	} {
		t.Run(sql, func(t *testing.T) {
			_, pgErr := conn.Exec(ctx, sql).ReadAll()
			var want *pgconn.PgError
			if !errors.As(pgErr, &want) {
				t.Fatalf("PostgreSQL gave %v, want a syntax error", pgErr)
			}
			_, err := NewParser().Parse(sql)
			var got *sqlerr.Error
			if !errors.As(err, &got) {
				t.Fatalf("Parse gave %v, want %s %q at %d", err, want.Code, want.Message, want.Position)
			}
			if got.Code != want.Code || got.Message != want.Message || got.Position != int(want.Position) {
				t.Errorf("Parse gave %s %q at %d, PostgreSQL %s %q at %d",
					got.Code, got.Message, got.Position, want.Code, want.Message, want.Position)
			}
		})
	}
}
