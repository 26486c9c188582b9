// Command sluice is the Sluice server: a SQL-first structured streaming
// server that speaks the PostgreSQL wire protocol.
//
//	sluice [serve] [--listen 127.0.0.1:5433] [--data-dir ./sluice-data] [--log-level info]
//	       [--metrics-listen 127.0.0.1:9187]
//
// Each flag may also be set by environment: SLUICE_LISTEN, SLUICE_DATA_DIR,
// SLUICE_LOG_LEVEL, SLUICE_METRICS_LISTEN. Prometheus metrics (text format
// 0.0.4) are served at http://<metrics-listen>/metrics; "off" turns that
// listener off. SIGTERM or SIGINT stops accepting connections, lets
// in-flight statements finish, flushes the catalog and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
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

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *metricsListen == "off" {
		*metricsListen = "" // the server's "no metrics listener"
	}
	srv, err := server.Start(ctx, server.Config{Listen: *listen, DataDir: *dataDir, Logger: logger, MetricsListen: *metricsListen})
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
