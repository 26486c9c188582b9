// Command sluice is the Sluice server: a SQL-first structured streaming
// server that speaks the PostgreSQL wire protocol.
//
//	sluice [serve] [--listen 127.0.0.1:5433] [--data-dir ./sluice-data] [--log-level info]
//	       [--metrics-listen 127.0.0.1:9187]
//
// `sluice bench [flags]` runs the Nexmark benchmark queries through an
// in-process server instead and prints one JSON line per query (see
// bench.go and BENCHMARKS.md; `sluice bench -h` lists its flags).
//
// Each flag may also be set by environment: SLUICE_LISTEN, SLUICE_DATA_DIR,
// SLUICE_LOG_LEVEL, SLUICE_METRICS_LISTEN. Prometheus metrics (text format
// 0.0.4) are served at http://<metrics-listen>/metrics; "off" turns that
// listener off. SIGTERM or SIGINT stops accepting connections, lets
// in-flight statements finish, flushes the catalog and exits 0.
//
// Test-only knob: SLUICE_CRASH_AT makes the server kill itself with
// SIGKILL at named points of its streams' batches, for crash tests. It is
// a comma-separated list of point:probability ("sunk:0.05,snapshot:0.3");
// each time a stream reaches a listed point the server dies there with
// that probability. The points are those of stream.Config.Hook: planned,
// sunk, committed, snapshot. SLUICE_CRASH_SEED (an integer) seeds the
// draws; unset, they are seeded from the clock. The server writes a line
// naming the point to stderr before it dies. Unset, nothing is hooked.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sluice-sql/sluice/server"
)

// defaultMetricsListen is where metrics are served unless
// --metrics-listen or SLUICE_METRICS_LISTEN says otherwise.
const defaultMetricsListen = "127.0.0.1:9187"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sluice:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// run parses arguments and serves until a signal arrives.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "bench" {
		return runBench(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("sluice", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", envOr("SLUICE_LISTEN", "127.0.0.1:5433"), "address to serve the PostgreSQL protocol on (env SLUICE_LISTEN)")
	dataDir := fs.String("data-dir", envOr("SLUICE_DATA_DIR", "./sluice-data"), "data directory (env SLUICE_DATA_DIR)")
	logLevel := fs.String("log-level", envOr("SLUICE_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env SLUICE_LOG_LEVEL)")
	metricsListen := fs.String("metrics-listen", envOr("SLUICE_METRICS_LISTEN", defaultMetricsListen), `address to serve Prometheus metrics on at /metrics, or "off" (env SLUICE_METRICS_LISTEN)`)
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long SIGTERM waits for in-flight statements")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unknown command %q", fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("bad --log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	hook, err := crashHook(os.Getenv("SLUICE_CRASH_AT"), os.Getenv("SLUICE_CRASH_SEED"), stderr)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *metricsListen == "off" {
		*metricsListen = "" // the server's "no metrics listener"
	}
	srv, err := server.Start(ctx, server.Config{Listen: *listen, DataDir: *dataDir, Logger: logger, MetricsListen: *metricsListen, StreamHook: hook})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sluice listening on %s (data dir %s)\n", srv.Addr(), *dataDir)
	if addr := srv.MetricsAddr(); addr != nil {
		fmt.Fprintf(stdout, "sluice metrics on http://%s/metrics\n", addr)
	} else {
		fmt.Fprintln(stdout, "sluice metrics off")
	}
	<-ctx.Done()
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(stdout, "sluice stopped")
	return nil
}

// crashPoints are the points stream.Config.Hook names.
var crashPoints = []string{"planned", "sunk", "committed", "snapshot"}

// crashHook returns the stream hook that SLUICE_CRASH_AT (spec) and
// SLUICE_CRASH_SEED (seed) ask for, or nil when spec is empty. The hook
// writes the point to stderr and kills the process with SIGKILL, with
// the point's probability.
func crashHook(spec, seed string, stderr io.Writer) (func(point string), error) {
	if spec == "" {
		return nil, nil
	}
	probs := map[string]float64{}
	for _, item := range strings.Split(spec, ",") {
		point, p, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok {
			return nil, fmt.Errorf("bad SLUICE_CRASH_AT item %q: want point:probability", item)
		}
		if !slices.Contains(crashPoints, point) {
			return nil, fmt.Errorf("bad SLUICE_CRASH_AT item %q: unknown point %q (want one of %s)", item, point, strings.Join(crashPoints, ", "))
		}
		prob, err := strconv.ParseFloat(p, 64)
		if err != nil || prob < 0 || prob > 1 {
			return nil, fmt.Errorf("bad SLUICE_CRASH_AT item %q: the probability must be a number from 0 to 1", item)
		}
		probs[point] = prob
	}
	s := uint64(time.Now().UnixNano())
	if seed != "" {
		n, err := strconv.ParseInt(seed, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad SLUICE_CRASH_SEED %q: %w", seed, err)
		}
		s = uint64(n)
	}
	var mu sync.Mutex // streams call the hook from their own goroutines
	rng := rand.New(rand.NewPCG(s, 0))
	return func(point string) {
		prob, ok := probs[point]
		if !ok {
			return
		}
		mu.Lock()
		hit := rng.Float64() < prob
		mu.Unlock()
		if !hit {
			return
		}
		fmt.Fprintf(stderr, "sluice: SLUICE_CRASH_AT: killing the server at %q\n", point)
		if err := syscall.Kill(os.Getpid(), syscall.SIGKILL); err != nil {
			fmt.Fprintf(stderr, "sluice: SLUICE_CRASH_AT: kill: %v\n", err)
			os.Exit(2)
		}
		select {} // SIGKILL is on its way: go no further
	}, nil
}
