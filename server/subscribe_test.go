package server

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// lineWriter collects COPY lines and signals each.
type lineWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	s := w.buf.String()
	var done []string
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		done = append(done, s[:i])
		s = s[i+1:]
	}
	w.buf.Reset()
	w.buf.WriteString(s)
	w.mu.Unlock()
	for _, l := range done {
		w.lines <- l
	}
	return len(p), nil
}

func nextLine(t *testing.T, w *lineWriter) string {
	t.Helper()
	select {
	case l := <-w.lines:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no row reached the subscriber within 10s")
		return ""
	}
}

// TestSubscribeDeliversRowsLiveUntilDropStream subscribes with pgx (COPY
// out), then inserts: each batch's rows arrive while the subscription is
// still open, and DROP STREAM ends it cleanly.
func TestSubscribeDeliversRowsLiveUntilDropStream(t *testing.T) {
	srv, url := startTest(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`CREATE SOURCE ev (ts TIMESTAMP, name TEXT, v INT) WITH (connector = 'log')`,
		`CREATE STREAM big WITH (trigger = '10ms', sink = 'none') AS SELECT name, v * 10 AS v10, ts FROM ev WHERE v > 1`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	sub, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(ctx)
	w := &lineWriter{lines: make(chan string, 16)}
	type copyResult struct {
		tag pgconn.CommandTag
		err error
	}
	done := make(chan copyResult, 1)
	go func() {
		tag, err := sub.PgConn().CopyTo(ctx, w, "SUBSCRIBE big")
		done <- copyResult{tag, err}
	}()
	// The subscription starts with its statement: wait until the server
	// has it before inserting, so the rows are new to it.
	deadline := time.Now().Add(10 * time.Second)
	for !hasSubscriber(srv, "big") {
		if time.Now().After(deadline) {
			t.Fatal("the subscription never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO ev VALUES ('2026-01-01 00:00:00', 'tab	here', 5), ('2026-01-01 00:00:01', NULL, 1), ('2026-01-01 00:00:02', 'b', 2)`); err != nil {
		t.Fatal(err)
	}
	if got, want := nextLine(t, w), "tab\\there\t50\t2026-01-01 00:00:00"; got != want {
		t.Fatalf("first row %q, want %q", got, want)
	}
	if got, want := nextLine(t, w), "b\t20\t2026-01-01 00:00:02"; got != want {
		t.Fatalf("second row %q, want %q", got, want)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO ev VALUES ('2026-01-01 00:00:03', NULL, 7)`); err != nil {
		t.Fatal(err)
	}
	if got, want := nextLine(t, w), "\\N\t70\t2026-01-01 00:00:03"; got != want {
		t.Fatalf("third row %q, want %q", got, want)
	}
	select {
	case r := <-done:
		t.Fatalf("the subscription ended early: %v", r.err)
	default:
	}
	if _, err := conn.Exec(ctx, `DROP STREAM big`); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.tag.String() != "COPY 3" {
			t.Fatalf("subscription ended with tag %q, err %v; want COPY 3", r.tag, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("DROP STREAM did not end the subscription")
	}
	// The session goes on.
	var n int
	if err := sub.QueryRow(ctx, "SELECT count(*) FROM sluice_streams").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after the subscription: %d streams, %v", n, err)
	}
}

// TestSubscribeToAnUnknownStreamIs42P01 checks the error comes before any
// COPY starts.
func TestSubscribeToAnUnknownStreamIs42P01(t *testing.T) {
	_, url := startTest(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.PgConn().CopyTo(ctx, &lineWriter{lines: make(chan string, 1)}, "COPY (SUBSCRIBE nope) TO STDOUT")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Fatalf("got %v, want 42P01", err)
	}
}

func hasSubscriber(srv *Server, stream string) bool {
	for _, st := range srv.Streams().Streams() {
		if st.Name == stream {
			return st.Subscribers > 0
		}
	}
	return false
}
