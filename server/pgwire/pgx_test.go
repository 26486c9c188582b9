package pgwire_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/server/pgwire"
)

var execModes = []pgx.QueryExecMode{
	pgx.QueryExecModeCacheStatement,
	pgx.QueryExecModeCacheDescribe,
	pgx.QueryExecModeDescribeExec,
	pgx.QueryExecModeExec,
	pgx.QueryExecModeSimpleProtocol,
}

// typedRow is one value of every type, as pgx scans them.
type typedRow struct {
	B  bool
	I2 int16
	I4 int32
	I8 int64
	F4 float32
	F8 float64
	T  string
	VC string
	TS time.Time
	D  time.Time
	IV pgtype.Interval
}

func (r *typedRow) dest() []any {
	return []any{&r.B, &r.I2, &r.I4, &r.I8, &r.F4, &r.F8, &r.T, &r.VC, &r.TS, &r.D, &r.IV}
}

const allTypesQuery = `SELECT $1::bool, $2::int2, $3::int4, $4::int8, $5::float4, $6::float8, $7::text, $8::varchar(10), $9::timestamp, $10::date, $11::interval`

func TestPgxParametersAndResultsRoundTripInEveryMode(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	conn := ts.connect(t, ctx)

	rows := []struct {
		name string
		row  typedRow
	}{
		{"ordinary values", typedRow{
			B: true, I2: -12, I4: 123456, I8: -9007199254740993, F4: 1.5, F8: 0.1, T: "héllo 'quoted' \"x\"", VC: "abc",
			TS: time.Date(2020, 1, 2, 3, 4, 5, 123456000, time.UTC), D: time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
			IV: pgtype.Interval{Months: 14, Days: 3, Microseconds: 14706500000, Valid: true},
		}},
		{"extreme values", typedRow{
			B: false, I2: math.MinInt16, I4: math.MaxInt32, I8: math.MinInt64, F4: -3.4028235e38, F8: 1e-300, T: "", VC: "",
			TS: time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), D: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
			IV: pgtype.Interval{Months: -1, Days: -2, Microseconds: -3, Valid: true},
		}},
	}
	for _, mode := range execModes {
		for _, tc := range rows {
			t.Run(fmt.Sprintf("%s, %s", mode, tc.name), func(t *testing.T) {
				in := tc.row
				args := []any{mode, in.B, in.I2, in.I4, in.I8, in.F4, in.F8, in.T, in.VC, in.TS, in.D, in.IV}
				var got typedRow
				if err := conn.QueryRow(ctx, allTypesQuery, args...).Scan(got.dest()...); err != nil {
					t.Fatalf("query: %v", err)
				}
				if got != in {
					t.Errorf("got  %+v\nwant %+v", got, in)
				}
			})
		}
		t.Run(fmt.Sprintf("%s, NULLs", mode), func(t *testing.T) {
			args := []any{mode}
			for range 11 {
				args = append(args, nil)
			}
			dest := []any{new(*bool), new(*int16), new(*int32), new(*int64), new(*float32), new(*float64), new(*string), new(*string), new(*time.Time), new(*time.Time), new(pgtype.Interval)}
			if err := conn.QueryRow(ctx, allTypesQuery, args...).Scan(dest...); err != nil {
				t.Fatalf("query: %v", err)
			}
			for i, d := range dest[:10] {
				if p := reflect.ValueOf(d).Elem(); !p.IsNil() {
					t.Errorf("column %d = %v, want NULL", i+1, p.Elem())
				}
			}
			if dest[10].(*pgtype.Interval).Valid {
				t.Errorf("interval = %+v, want NULL", dest[10])
			}
		})
	}
}

func TestPgxReadsEveryResultTypeInTextAndBinary(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	conn := ts.connect(t, ctx)
	want := typedRow{
		B: true, I2: -32768, I4: 2147483647, I8: math.MinInt64, F4: 1.5, F8: 1e100, T: "héllo, 'world'", VC: "abc",
		TS: time.Date(2020, 1, 2, 3, 4, 5, 123456000, time.UTC), D: time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
		IV: pgtype.Interval{Months: 14, Days: 3, Microseconds: 14706500000, Valid: true},
	}
	for _, mode := range execModes {
		t.Run(mode.String(), func(t *testing.T) {
			rows, err := conn.Query(ctx, "SELECT types()", mode)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			if !rows.Next() {
				t.Fatalf("no first row: %v", rows.Err())
			}
			var got typedRow
			if err := rows.Scan(got.dest()...); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if !rows.Next() {
				t.Fatalf("no second row: %v", rows.Err())
			}
			for i, v := range rows.RawValues() {
				if v != nil {
					t.Errorf("column %d of the NULL row = %q, want NULL", i+1, v)
				}
			}
			if rows.Next() {
				t.Fatal("a third row")
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if tag := rows.CommandTag().String(); tag != "SELECT 2" {
				t.Errorf("tag %q, want SELECT 2", tag)
			}
			fds := rows.FieldDescriptions()
			wantOIDs := []uint32{16, 21, 23, 20, 700, 701, 25, 1043, 1114, 1082, 1186}
			for i, fd := range fds {
				if fd.DataTypeOID != wantOIDs[i] {
					t.Errorf("column %d OID %d, want %d", i+1, fd.DataTypeOID, wantOIDs[i])
				}
			}
			var formats []int16
			for _, fd := range fds {
				formats = append(formats, fd.Format)
			}
			wantFormats := "[1 1 1 1 1 1 0 0 1 1 1]" // pgx takes text types in text
			if mode == pgx.QueryExecModeExec || mode == pgx.QueryExecModeSimpleProtocol {
				wantFormats = "[0 0 0 0 0 0 0 0 0 0 0]"
			}
			if got := fmt.Sprint(formats); got != wantFormats {
				t.Errorf("formats %s, want %s", got, wantFormats)
			}
			if fds[7].TypeModifier != 14 || fds[7].DataTypeSize != -1 || fds[3].DataTypeSize != 8 {
				t.Errorf("varchar(10) typmod %d size %d, bigint size %d; want 14, -1, 8", fds[7].TypeModifier, fds[7].DataTypeSize, fds[3].DataTypeSize)
			}
		})
	}
}

func TestPgxErrorsCarrySQLSTATEAndFields(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	conn := ts.connect(t, ctx)
	tests := []struct {
		name              string
		sql               string
		args              []any
		code, msg, detail string
		hint              string
		position          int32
	}{
		{name: "a syntax error has a position", sql: "SELEC 1", code: sqlerr.SyntaxError, msg: `syntax error at or near "SELEC"`, position: 1},
		{name: "an execution error has detail and hint", sql: "SELECT fail()", code: sqlerr.DivisionByZero, msg: "division by zero", detail: "the detail", hint: "the hint"},
		{name: "a bad text parameter is 22P02", sql: "SELECT $1::int4", args: []any{"abc"}, code: sqlerr.InvalidTextRepresentation, msg: `invalid input syntax for type integer: "abc"`},
	}
	for _, mode := range execModes {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s, %s", mode, tc.name), func(t *testing.T) {
				var v any
				err := conn.QueryRow(ctx, tc.sql, append([]any{mode}, tc.args...)...).Scan(&v)
				var pe *pgconn.PgError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v, want a PgError", err)
				}
				if pe.Code != tc.code || pe.Message != tc.msg || pe.Detail != tc.detail || pe.Hint != tc.hint || pe.Position != tc.position || pe.Severity != "ERROR" {
					t.Errorf("got %s %q detail %q hint %q position %d severity %s", pe.Code, pe.Message, pe.Detail, pe.Hint, pe.Position, pe.Severity)
				}
				// The connection goes on.
				var n int64
				if err := conn.QueryRow(ctx, "SELECT 7", mode).Scan(&n); err != nil || n != 7 {
					t.Fatalf("after the error: %d, %v", n, err)
				}
			})
		}
	}
}

func TestPgxReadsLargeMultiBatchResults(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	conn := ts.connect(t, ctx)
	for _, mode := range execModes {
		t.Run(mode.String(), func(t *testing.T) {
			rows, err := conn.Query(ctx, "SELECT series(100000, 4096)", mode)
			if err != nil {
				t.Fatal(err)
			}
			var sum, count int64
			for rows.Next() {
				var n int64
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				sum += n
				count++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if count != 100000 || sum != 100000*100001/2 {
				t.Errorf("got %d rows summing to %d", count, sum)
			}
		})
	}
}

func TestPgxReportsStartupParametersAndBackendKey(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	cfg, err := pgx.ParseConfig(ts.connString() + "&application_name=tester")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	pc := conn.PgConn()
	for name, want := range map[string]string{
		"server_version": "15.0", "client_encoding": "UTF8", "server_encoding": "UTF8", "DateStyle": "ISO, MDY",
		"standard_conforming_strings": "on", "integer_datetimes": "on", "TimeZone": "UTC", "application_name": "tester",
		"is_superuser": "off", "IntervalStyle": "postgres", "session_authorization": "u",
	} {
		if got := pc.ParameterStatus(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if pc.PID() == 0 || len(pc.SecretKey()) != 4 {
		t.Errorf("backend key pid %d secret %x", pc.PID(), pc.SecretKey())
	}
	if pc.TxStatus() != 'I' {
		t.Errorf("tx status %c, want I", pc.TxStatus())
	}
}

func TestPgxConnectsWithSSLPreferredOverPlainText(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, strings.Replace(ts.connString(), "sslmode=disable", "sslmode=prefer", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int32
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("got %d, %v", n, err)
	}
}

func TestRefusedSessionGetsFatalError(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	_, err := pgx.Connect(ctx, strings.Replace(ts.connString(), "u@", "nobody@", 1))
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28000" || pe.Severity != "FATAL" {
		t.Fatalf("error %v, want FATAL 28000", err)
	}
}

func TestTransactionStatusComesFromTheSession(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	conn := ts.connect(t, ctx)
	pc := conn.PgConn()
	for _, step := range []struct {
		sql  string
		want byte
	}{{"BEGIN", 'T'}, {"SELECT 1", 'T'}, {"COMMIT", 'I'}} {
		if _, err := pc.Exec(ctx, step.sql).ReadAll(); err != nil {
			t.Fatal(err)
		}
		if got := pc.TxStatus(); got != step.want {
			t.Errorf("after %s: status %c, want %c", step.sql, got, step.want)
		}
	}
}

func TestSimpleQueryRunsEachStatementAndStopsAtTheFirstError(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	pc := ts.connect(t, ctx).PgConn()

	results, err := pc.Exec(ctx, "CREATE TABLE t (a int); SELECT series(3); INSERT INTO t VALUES (1); SELECT types()").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, r := range results {
		tags = append(tags, fmt.Sprintf("%s/%d rows/%d fields", r.CommandTag, len(r.Rows), len(r.FieldDescriptions)))
	}
	want := "CREATE TABLE/0 rows/0 fields, SELECT 3/3 rows/1 fields, INSERT 0 1/0 rows/0 fields, SELECT 2/2 rows/11 fields"
	if got := strings.Join(tags, ", "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := string(results[3].Rows[0][8]); got != "2020-01-02 03:04:05.123456" {
		t.Errorf("text timestamp %q", got)
	}

	results, err = pc.Exec(ctx, "SELECT series(2); SELECT fail(); SELECT panic()").ReadAll()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != sqlerr.DivisionByZero {
		t.Fatalf("error %v, want 22012", err)
	}
	if len(results) != 2 || results[0].CommandTag.String() != "SELECT 2" {
		t.Errorf("results %+v, want SELECT 2 then the error", results)
	}

	results, err = pc.Exec(ctx, " ; ").ReadAll()
	if err != nil || len(results) != 1 || results[0].CommandTag.String() != "" {
		t.Errorf("empty query: %+v, %v", results, err)
	}
}

func TestParseRefusesSeveralStatements(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	pc := ts.connect(t, ctx).PgConn()
	_, err := pc.Prepare(ctx, "two", "SELECT 1; SELECT 2", nil)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != sqlerr.SyntaxError || pe.Message != "cannot insert multiple commands into a prepared statement" {
		t.Fatalf("error %v", err)
	}
	if _, err := pc.Prepare(ctx, "one", "SELECT 1", nil); err != nil {
		t.Fatal(err)
	}
	_, err = pc.Prepare(ctx, "one", "SELECT 1", nil)
	if !errors.As(err, &pe) || pe.Code != "42P05" {
		t.Fatalf("duplicate statement: %v", err)
	}
}

// cancelConfig makes pgx send a CancelRequest when a query's context ends.
func cancelConfig(t *testing.T, connString string) *pgx.ConnConfig {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, CancelRequestDelay: 0, DeadlineDelay: 10 * time.Second}
	}
	return cfg
}

func TestPgxCancelEndsASlowStatementWith57014(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	conn, err := pgx.ConnectConfig(ctx, cancelConfig(t, ts.connString()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, mode := range execModes {
		t.Run(mode.String(), func(t *testing.T) {
			qctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			var n int32
			err := conn.QueryRow(qctx, "SELECT sleep(20000)", mode).Scan(&n)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != sqlerr.QueryCanceled || pe.Message != "canceling statement due to user request" {
				t.Fatalf("error %v, want 57014", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("cancel took %s", d)
			}
			if err := conn.QueryRow(ctx, "SELECT 5", mode).Scan(&n); err != nil || n != 5 {
				t.Fatalf("after cancel: %d, %v", n, err)
			}
		})
	}
}

func TestPanicInBackendIsRecoveredAndTheServerGoesOn(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	conn := ts.connect(t, ctx)
	for _, mode := range execModes {
		for _, sql := range []string{"SELECT panic()", "SELECT panic_next()", "PANIC"} {
			t.Run(fmt.Sprintf("%s, %s", mode, sql), func(t *testing.T) {
				_, err := conn.Exec(ctx, sql, mode)
				var pe *pgconn.PgError
				if !errors.As(err, &pe) || pe.Code != sqlerr.InternalError || !strings.Contains(pe.Message, "test backend: panic") {
					t.Fatalf("error %v, want XX000", err)
				}
				var n int32
				if err := conn.QueryRow(ctx, "SELECT 3", mode).Scan(&n); err != nil || n != 3 {
					t.Fatalf("same connection after the panic: %d, %v", n, err)
				}
			})
		}
	}
	other := ts.connect(t, ctx)
	var n int32
	if err := other.QueryRow(ctx, "SELECT 4").Scan(&n); err != nil || n != 4 {
		t.Fatalf("new connection after the panics: %d, %v", n, err)
	}
}

func TestTwoHundredConcurrentPgxConnections(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	const clients = 200
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	ready := make(chan struct{})
	var open sync.WaitGroup
	open.Add(clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pgx.Connect(ctx, ts.connString())
			open.Done()
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close(ctx)
			<-ready // all connections are open at once
			var sum int64
			rows, err := conn.Query(ctx, fmt.Sprintf("SELECT series(%d)", 100+i))
			if err == nil {
				for rows.Next() {
					var n int64
					if err = rows.Scan(&n); err != nil {
						break
					}
					sum += n
				}
				rows.Close()
				if err == nil {
					err = rows.Err()
				}
			}
			if n := int64(100 + i); err == nil && sum != n*(n+1)/2 {
				err = fmt.Errorf("client %d: sum %d", i, sum)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	open.Wait()
	close(ready)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
