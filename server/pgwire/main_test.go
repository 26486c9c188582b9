package pgwire_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluice-sql/sluice/server/pgwire"
)

// TestMain fails the run if goroutines of this package (server or test)
// outlive the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaks := waitForLeaks(10 * time.Second); leaks != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", leaks)
			code = 1
		}
	}
	os.Exit(code)
}

// waitForLeaks waits for goroutines running code of this package or of
// the clients it drives to end; it returns their stacks if some don't.
func waitForLeaks(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		leaks := leakedGoroutines()
		if leaks == "" || time.Now().After(deadline) {
			return leaks
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func leakedGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var leaks []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "pgwire_test.TestMain") || strings.Contains(g, "pgwire_test.leakedGoroutines") {
			continue
		}
		if strings.Contains(g, "sluice/server/pgwire") || strings.Contains(g, "jackc/pgx") {
			leaks = append(leaks, g)
		}
	}
	return strings.Join(leaks, "\n\n")
}

// testServer is a Server on a loopback port with a testBackend behind it.
type testServer struct {
	srv     *pgwire.Server
	backend *testBackend
	addr    string
	served  chan error // Serve's result
}

// startServer starts a server; the test's cleanup shuts it down and checks
// that every session and result was closed and every Arrow buffer freed.
func startServer(t *testing.T, cfg pgwire.Config) *testServer {
	t.Helper()
	b := newTestBackend()
	srv, err := pgwire.NewServer(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, backend: b, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-ts.served; !errors.Is(err, pgwire.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if n := b.openSessions.Load(); n != 0 {
			t.Errorf("%d sessions left open", n)
		}
		if n := b.openResults.Load(); n != 0 {
			t.Errorf("%d results left open", n)
		}
		if n := b.alloc.CurrentAlloc(); n != 0 {
			t.Errorf("%d bytes of Arrow memory not released", n)
		}
	})
	return ts
}

func (ts *testServer) host() string { h, _, _ := net.SplitHostPort(ts.addr); return h }
func (ts *testServer) port() string { _, p, _ := net.SplitHostPort(ts.addr); return p }

func (ts *testServer) connString() string {
	return fmt.Sprintf("postgres://u@%s/d?sslmode=disable", ts.addr)
}

// connect opens a pgx connection, closed by the test's cleanup.
func (ts *testServer) connect(t *testing.T, ctx context.Context) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, ts.connString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
