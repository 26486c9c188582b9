package pgwire_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluice-sql/sluice/server/pgwire"
)

// servedResult waits for Serve to return and leaves the result for the
// cleanup to check again.
func (ts *testServer) servedResult(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ts.served:
		ts.served <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

func TestShutdownLetsAnInFlightStatementFinishAndClosesIdleConnections(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	busy := ts.connect(t, ctx)
	idle := ts.connect(t, ctx)
	idleRaw := dialRaw(t, ts.addr)
	idleRaw.startup()

	result := make(chan error, 1)
	go func() {
		var n int32
		err := busy.QueryRow(ctx, "SELECT wait()").Scan(&n)
		if err == nil && n != 1 {
			err = errors.New("wrong row")
		}
		result <- err
	}()
	<-ts.backend.started

	shutdown := make(chan error, 1)
	go func() { shutdown <- ts.srv.Shutdown(ctx) }()

	if got := idleRaw.untilClosed(); got != "FATAL 57P01" {
		t.Errorf("idle connection got %q, want FATAL 57P01 then close", got)
	}
	if err := ts.servedResult(t); !errors.Is(err, pgwire.ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if nc, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		nc.Close()
		t.Error("a new connection was accepted after Shutdown")
	}
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v with a statement in flight", err)
	case <-time.After(100 * time.Millisecond):
	}

	close(ts.backend.release)
	if err := <-result; err != nil {
		t.Errorf("in-flight statement: %v, want it to finish", err)
	}
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := busy.Ping(ctx); err == nil {
		t.Error("the busy connection is still open after its statement")
	}
	if err := idle.Ping(ctx); err == nil {
		t.Error("the idle connection is still open")
	}
	if _, err := pgx.Connect(ctx, ts.connString()); err == nil {
		t.Error("connected after Shutdown")
	}
}

func TestShutdownForceClosesWhenItsContextEnds(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	ctx := testContext(t)
	busy := ts.connect(t, ctx)
	result := make(chan error, 1)
	go func() {
		var n int32
		result <- busy.QueryRow(ctx, "SELECT wait()").Scan(&n)
	}()
	<-ts.backend.started

	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown returned %v, want DeadlineExceeded", err)
	}
	if err := <-result; err == nil {
		t.Error("the statement succeeded; want it cancelled")
	}
}

func TestServeStopsWhenItsContextEnds(t *testing.T) {
	b := newTestBackend()
	srv, err := pgwire.NewServer(pgwire.Config{}, b)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()

	conn, err := pgx.Connect(ctx, "postgres://u@"+ln.Addr().String()+"/d?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	result := make(chan error, 1)
	go func() {
		var n int32
		result <- conn.QueryRow(ctx, "SELECT sleep(20000)").Scan(&n)
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-served; !errors.Is(err, context.Canceled) {
		t.Errorf("Serve returned %v, want context.Canceled", err)
	}
	if err := <-result; err == nil {
		t.Error("the statement succeeded; want it cancelled")
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown after Serve: %v", err)
	}
	if err := srv.Serve(ctx, ln); !errors.Is(err, pgwire.ErrServerClosed) {
		t.Errorf("Serve after Shutdown returned %v", err)
	}
	if n := b.openSessions.Load(); n != 0 {
		t.Errorf("%d sessions left open", n)
	}
}

func TestNewServerValidatesItsConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     pgwire.Config
		backend pgwire.Backend
	}{
		{"a negative message size", pgwire.Config{MaxMessageSize: -1}, newTestBackend()},
		{"a negative startup timeout", pgwire.Config{StartupTimeout: -time.Second}, newTestBackend()},
		{"no backend", pgwire.Config{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := pgwire.NewServer(tc.cfg, tc.backend); err == nil {
				t.Error("NewServer accepted it")
			}
		})
	}
}

func TestStartupTimeoutClosesSilentConnections(t *testing.T) {
	ts := startServer(t, pgwire.Config{StartupTimeout: 100 * time.Millisecond})
	c := dialRaw(t, ts.addr)
	if got := c.untilClosed(); got != "" {
		t.Errorf("got %q, want a silent close", got)
	}
}
