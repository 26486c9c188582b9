// Package server is Sluice's SQL server: it opens the catalog in the data
// directory and serves the PostgreSQL wire protocol (package pgwire) over
// a Backend that parses and binds statements with package planner and runs
// them with package exec.
//
// Data flows one way: pgwire (bytes, messages) -> session (parse, bind,
// settings, transaction state) -> exec (operators) -> catalog (versioned
// tables). Package pgwire knows nothing of SQL beyond types.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/exec/stream"
	"github.com/sluice-sql/sluice/server/pgwire"
)

// Config configures a Server.
type Config struct {
	// Listen is the TCP address to listen on; "127.0.0.1:0" picks a free
	// port. Default "127.0.0.1:5433".
	Listen string
	// DataDir holds the catalog's durable state. Default "./sluice-data".
	DataDir string
	// Logger receives the server's logs. Default: slog.Default().
	Logger *slog.Logger
	// MaxMessageSize bounds one protocol message; 0 means pgwire's default.
	MaxMessageSize int
	// StreamClock is the processing-time clock of streams' triggers;
	// nil is the system clock. Tests use a stream.ManualClock.
	StreamClock stream.Clock
	// MetricsListen is the TCP address to serve Prometheus metrics on
	// (GET /metrics, text format 0.0.4); "127.0.0.1:0" picks a free port.
	// Default "": no metrics listener. (cmd/sluice defaults it to
	// "127.0.0.1:9187".)
	MetricsListen string
	// StreamHook, when set, is called by every stream at named points of
	// each batch (stream.Config.Hook lists them). Crash tests use it to
	// kill the server there; nil, the default, calls nothing.
	StreamHook func(point string)
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:5433"
	}
	if c.DataDir == "" {
		c.DataDir = "./sluice-data"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxMessageSize < 0 {
		return fmt.Errorf("max message size %d is negative", c.MaxMessageSize)
	}
	return nil
}

// Server is a running Sluice server.
type Server struct {
	cfg     Config
	cat     *catalog.Catalog
	wire    *pgwire.Server
	ln      net.Listener
	served  chan error
	mem     memory.Allocator
	streams *stream.Manager
	stopped sync.Once
	stopErr error

	// The metrics listener (metrics.go); nil without one.
	metricsLn     net.Listener
	metricsHTTP   *http.Server
	metricsServed chan error
}

// Start opens the catalog in cfg.DataDir (recovering it), listens on
// cfg.Listen (and cfg.MetricsListen, if set) and serves in the
// background. It returns once the server accepts connections.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cat, err := catalog.Open(ctx, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("open catalog in %s: %w", cfg.DataDir, err)
	}
	s := &Server{cfg: cfg, cat: cat, served: make(chan error, 1), mem: memory.NewGoAllocator()}
	s.streams, err = stream.NewManager(stream.Config{Catalog: cat, Dir: cfg.DataDir, Clock: cfg.StreamClock, Mem: s.mem, Logger: cfg.Logger, Hook: cfg.StreamHook})
	if err != nil {
		_ = cat.Close()
		return nil, err
	}
	s.restoreObjects(ctx)
	s.wire, err = pgwire.NewServer(pgwire.Config{Logger: cfg.Logger, MaxMessageSize: cfg.MaxMessageSize}, &backend{srv: s})
	if err != nil {
		_ = s.streams.Close()
		_ = cat.Close()
		return nil, err
	}
	var lc net.ListenConfig
	s.ln, err = lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		_ = s.streams.Close()
		_ = cat.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	if err := s.startMetrics(ctx); err != nil {
		_ = s.ln.Close()
		_ = s.streams.Close()
		_ = cat.Close()
		return nil, err
	}
	go func() { s.served <- s.wire.Serve(context.WithoutCancel(ctx), s.ln) }()
	return s, nil
}

// Streams is the server's stream manager (tests wait on it).
func (s *Server) Streams() *stream.Manager { return s.streams }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops accepting connections, lets in-flight statements finish
// (until ctx is done), closes the connections and the metrics listener
// (which stays up while statements drain) and flushes the catalog. It is
// safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopped.Do(func() {
		err := s.wire.Shutdown(ctx)
		_ = s.ln.Close()
		if serr := <-s.served; serr != nil && !errors.Is(serr, net.ErrClosed) && !errors.Is(serr, pgwire.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		if merr := s.stopMetrics(ctx); merr != nil {
			err = errors.Join(err, merr)
		}
		if cerr := s.streams.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close streams: %w", cerr))
		}
		if cerr := s.cat.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close catalog: %w", cerr))
		}
		s.stopErr = err
	})
	return s.stopErr
}
