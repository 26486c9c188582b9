package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	kafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-sql/sluice/exec/stream"
)

// startAt starts a server over dir; stop shuts it down.
func startAt(t *testing.T, dir string) (srv *Server, dsn string, stop func()) {
	t.Helper()
	srv, err := Start(context.Background(), Config{Listen: "127.0.0.1:0", DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}
	t.Cleanup(stop)
	return srv, fmt.Sprintf("postgres://u@%s/d?sslmode=disable", srv.Addr()), stop
}

// waitFed waits until the feed of table has read n records of its
// topic (its offsets add up to n).
func waitFed(t *testing.T, srv *Server, table string, n int64) stream.FeedStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := srv.Streams().WaitForFeed(ctx, table, func(st stream.FeedStatus) bool {
		sum := int64(0)
		for _, o := range st.Offsets {
			sum += o
		}
		return sum >= n
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func produceTo(t *testing.T, addr, topic string, msgs ...kafka.Message) {
	t.Helper()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireAll, Transport: tr}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func queryRows(t *testing.T, ctx context.Context, conn *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func wantSQLState(t *testing.T, err error, code string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("got %v, want SQLSTATE %s", err, code)
	}
}

func TestChangelogFedTableOverTheWire(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "rules"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	addr := cluster.ListenAddrs()[0]
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	srv, dsn, stop := startAt(t, dir)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	create := fmt.Sprintf(`CREATE TABLE rules (page VARCHAR(16) PRIMARY KEY, max_latency INT)
		WITH (connector = 'kafka', brokers = '%s', topic = 'rules', format = 'json')`, addr)
	if _, err := conn.Exec(ctx, create); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `CREATE TABLE plain (a INT) WITH (connector = 'kafka', brokers = '127.0.0.1:1', topic = 't')`)
	wantSQLState(t, err, "42P16") // no primary key
	_, err = conn.Exec(ctx, `CREATE TABLE plain (a INT PRIMARY KEY) WITH (connector = 'kafka', brokers = '127.0.0.1:1', topic = 't', colour = 'red')`)
	wantSQLState(t, err, "42601")

	produceTo(t, addr, "rules",
		kafka.Message{Key: []byte("/home"), Value: []byte(`{"page":"/home","max_latency":800}`)},
		kafka.Message{Key: []byte("/cart"), Value: []byte(`{"page":"/cart","max_latency":300}`)},
		kafka.Message{Key: []byte("/old"), Value: []byte(`{"page":"/old","max_latency":1}`)},
		kafka.Message{Key: []byte("/bad"), Value: []byte(`{"page":"/bad","max_latency":"high"}`)},
		kafka.Message{Key: []byte("/old")})
	waitFed(t, srv, "rules", 5)
	got := queryRows(t, ctx, conn, `SELECT page, max_latency FROM rules ORDER BY page`)
	if fmt.Sprint(got) != "[/cart 300 /home 800]" {
		t.Fatalf("rules: %v", got)
	}
	got = queryRows(t, ctx, conn, `SELECT table_name, connector, topic, status, upserts, deletes, bad_records, last_error FROM sluice_table_feeds`)
	if fmt.Sprint(got) != "[rules kafka rules running 3 1 1 <nil>]" {
		t.Fatalf("sluice_table_feeds: %v", got)
	}

	// The topic owns the table's rows.
	for _, sql := range []string{
		`INSERT INTO rules VALUES ('/x', 1)`,
		`UPDATE rules SET max_latency = 1`,
		`DELETE FROM rules WHERE page = '/home'`,
		`TRUNCATE rules`,
	} {
		_, err := conn.Exec(ctx, sql)
		wantSQLState(t, err, "42809")
	}

	// A stream reading it keeps it from being dropped.
	if _, err := conn.Exec(ctx, `CREATE SOURCE clicks (page TEXT, latency_ms INT) WITH (connector = 'log')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE STREAM slow AS SELECT c.page FROM clicks c JOIN rules r ON c.page = r.page WHERE c.latency_ms > r.max_latency`); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `DROP TABLE rules`)
	wantSQLState(t, err, "2BP01")
	if _, err := conn.Exec(ctx, `DROP STREAM slow`); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)

	// After a restart the table is there, and the feed goes on from where
	// it was: the records before are not applied again.
	stop()
	produceTo(t, addr, "rules", kafka.Message{Key: []byte("/cart"), Value: []byte(`{"page":"/cart","max_latency":250}`)})
	srv, dsn, stop = startAt(t, dir)
	conn, err = pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	st := waitFed(t, srv, "rules", 6)
	if st.Upserts != 1 || st.Deletes != 0 || st.BadRecords != 0 {
		t.Fatalf("after the restart the feed applied %+v, want only the new record", st)
	}
	got = queryRows(t, ctx, conn, `SELECT page, max_latency FROM rules ORDER BY page`)
	if fmt.Sprint(got) != "[/cart 250 /home 800]" {
		t.Fatalf("rules after the restart: %v", got)
	}
	if _, err := conn.Exec(ctx, `DROP TABLE rules`); err != nil {
		t.Fatal(err)
	}
	if got := queryRows(t, ctx, conn, `SELECT table_name FROM sluice_table_feeds`); len(got) != 0 {
		t.Fatalf("sluice_table_feeds after DROP TABLE: %v", got)
	}
	_ = conn.Close(ctx)
	stop()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines leaked after shutdown:\n%s", n-before, buf[:runtime.Stack(buf, true)])
	}
}
