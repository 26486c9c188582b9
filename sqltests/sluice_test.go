package sqltests

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluice-sql/sluice/exec/stream"
	"github.com/sluice-sql/sluice/server"
)

// TestSQL runs every script against Sluice: a fresh server per script and
// protocol, in process, on 127.0.0.1:0 with a temporary data directory.
func TestSQL(t *testing.T) {
	scripts := loadScripts(t)
	newEngine := func(t *testing.T, s *script, p protocol) engine {
		e := &sluiceEngine{dataDir: t.TempDir(), log: &syncBuffer{},
			clock: stream.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
		if err := e.start(t.Context()); err != nil {
			t.Fatalf("%s: start sluice: %v", s.name, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := e.shutdown(ctx); err != nil {
				t.Errorf("%s: shut sluice down: %v", s.name, err)
			}
			if t.Failed() && *sluiceLog {
				t.Logf("sluice log of %s:\n%s", s.name, e.log)
			}
		})
		return e
	}
	// Records PostgreSQL runs are rewritten from PostgreSQL (TestDifferential).
	sluiceOnly := func(r *record) bool { return !r.appliesTo(enginePostgres) }
	runScripts(t, scripts, newEngine, sluiceOnly)
}

// sluiceEngine is one Sluice server on one data directory.
type sluiceEngine struct {
	dataDir string
	log     *syncBuffer
	srv     *server.Server // nil while stopped
	// clock is the streams' processing time, moved by advance records.
	clock *stream.ManualClock
}

var _ engine = (*sluiceEngine)(nil)

func (e *sluiceEngine) start(ctx context.Context) error {
	srv, err := server.Start(ctx, server.Config{
		Listen:      "127.0.0.1:0",
		DataDir:     e.dataDir,
		StreamClock: e.clock,
		Logger:      slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		return err
	}
	e.srv = srv
	return nil
}

func (e *sluiceEngine) shutdown(ctx context.Context) error {
	if e.srv == nil {
		return nil
	}
	err := e.srv.Shutdown(ctx)
	e.srv = nil
	return err
}

// Advance implements streamEngine.
func (e *sluiceEngine) Advance(ctx context.Context, d time.Duration) error {
	if e.srv == nil {
		return errors.New("the server is not running")
	}
	if err := e.srv.Streams().WaitIdle(ctx); err != nil {
		return err
	}
	e.clock.Advance(d)
	return nil
}

// WaitForBatch implements streamEngine.
func (e *sluiceEngine) WaitForBatch(ctx context.Context, name string, id int64) error {
	if e.srv == nil {
		return errors.New("the server is not running")
	}
	_, err := e.srv.Streams().WaitForBatch(ctx, name, id)
	return err
}

// WaitForStatus implements streamEngine.
func (e *sluiceEngine) WaitForStatus(ctx context.Context, name, status string) error {
	if e.srv == nil {
		return errors.New("the server is not running")
	}
	_, err := e.srv.Streams().WaitForStatus(ctx, name, status)
	return err
}

// Name implements engine.
func (e *sluiceEngine) Name() string { return engineSluice }

// Connect implements engine.
func (e *sluiceEngine) Connect(ctx context.Context) (*pgx.Conn, error) {
	if e.srv == nil {
		return nil, errors.New("the server is not running")
	}
	return pgx.Connect(ctx, fmt.Sprintf("postgres://sluice@%s/sluice?sslmode=disable", e.srv.Addr()))
}

// Restart implements engine: a clean shutdown, then a new server on the
// same data directory. The new server starts even if Shutdown reported an
// error, so the rest of the script still tests durability.
func (e *sluiceEngine) Restart(ctx context.Context) error {
	var errs []error
	if err := e.shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown: %w", err))
	}
	if err := e.start(context.WithoutCancel(ctx)); err != nil {
		errs = append(errs, fmt.Errorf("start: %w", err))
	}
	return errors.Join(errs...)
}
