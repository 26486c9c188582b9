package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-sql/sluice/exec/stream"
)

// The metrics listener serves GET /metrics in the Prometheus text
// exposition format, version 0.0.4, with net/http alone and no Prometheus
// client library: the format is a few lines per sample.
//
// Every scrape reads the stream manager afresh; nothing is cached or
// registered. Counters are the streams' Totals, which start at zero when
// the server starts (or the stream is created), as Prometheus expects of
// a counter after a restart.

// metricsContentType is the Content-Type of the text format 0.0.4.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// metricsReadHeaderTimeout bounds how long a scraper may take to send its
// request headers.
const metricsReadHeaderTimeout = 10 * time.Second

// startMetrics listens on cfg.MetricsListen and serves /metrics in the
// background. An empty MetricsListen leaves the server without a metrics
// listener.
func (s *Server) startMetrics(ctx context.Context) error {
	if s.cfg.MetricsListen == "" {
		return nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", s.cfg.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	s.metricsLn = ln
	s.metricsHTTP = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: metricsReadHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.metricsServed = make(chan error, 1)
	go func() { s.metricsServed <- s.metricsHTTP.Serve(ln) }()
	return nil
}

// stopMetrics closes the metrics listener and waits for running scrapes
// (until ctx is done, then it cuts them off).
func (s *Server) stopMetrics(ctx context.Context) error {
	if s.metricsHTTP == nil {
		return nil
	}
	err := s.metricsHTTP.Shutdown(ctx)
	if err != nil {
		_ = s.metricsHTTP.Close()
		err = fmt.Errorf("close metrics listener: %w", err)
	}
	if serr := <-s.metricsServed; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("serve metrics: %w", serr))
	}
	return err
}

// MetricsAddr is the address the metrics listener is bound to, or nil when
// Config.MetricsListen was empty.
func (s *Server) MetricsAddr() net.Addr {
	if s.metricsLn == nil {
		return nil
	}
	return s.metricsLn.Addr()
}

// serveMetrics writes every metric in the text exposition format.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	writeMetrics(&buf, len(s.streams.Sources(r.Context())), s.streams.Streams(), s.streams.Progress())
	w.Header().Set("Content-Type", metricsContentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

// sample is one line of a metric family.
type sample struct {
	labels []string // name, value, name, value, ...
	value  float64
}

// family is one metric with its HELP and TYPE lines.
type family struct {
	name, typ, help string
	samples         []sample
}

// writeMetrics renders the metric families from one look at the manager.
// statuses come sorted by name; progress by stream and batch, so the last
// row of a stream is its newest. The two are read one after the other, so
// a batch committing between them may show in one and not the other.
func writeMetrics(buf *bytes.Buffer, sources int, statuses []stream.Status, progress []stream.Progress) {
	newest := make(map[string]stream.Progress, len(statuses))
	for _, p := range progress {
		newest[p.Stream] = p
	}
	fams := []*family{
		{name: "sluice_sources", typ: "gauge", help: "Number of sources."},
		{name: "sluice_streams", typ: "gauge", help: "Number of streams."},
		{name: "sluice_stream_batches_total", typ: "counter", help: "Batches the stream committed since the server started."},
		{name: "sluice_stream_input_rows_total", typ: "counter", help: "Source rows the stream read since the server started."},
		{name: "sluice_stream_output_rows_total", typ: "counter", help: "Rows the stream wrote to its sink since the server started."},
		{name: "sluice_stream_late_rows_total", typ: "counter", help: "Rows the stream dropped as later than its watermark since the server started."},
		{name: "sluice_stream_bad_rows_total", typ: "counter", help: "Input records the stream could not decode (malformed JSON, wrong types) since the server started."},
		{name: "sluice_stream_last_batch_id", typ: "gauge", help: "Id of the stream's last committed batch; -1 before the first."},
		{name: "sluice_stream_watermark_seconds", typ: "gauge", help: "The stream's event-time watermark as Unix seconds; absent before it has one."},
		{name: "sluice_stream_status", typ: "gauge", help: "The stream's status (running, retrying, paused, failed, finished, stopped): 1 on the current one."},
		{name: "sluice_stream_last_batch_duration_seconds", typ: "gauge", help: "Wall time of the stream's newest batch."},
		{name: "sluice_stream_last_batch_input_rows", typ: "gauge", help: "Source rows read by the stream's newest batch."},
		{name: "sluice_stream_state_rows", typ: "gauge", help: "Rows in the stream's aggregate state after its newest batch."},
	}
	byName := make(map[string]*family, len(fams))
	for _, f := range fams {
		byName[f.name] = f
	}
	add := func(name string, v float64, labels ...string) {
		byName[name].samples = append(byName[name].samples, sample{labels: labels, value: v})
	}
	add("sluice_sources", float64(sources))
	add("sluice_streams", float64(len(statuses)))
	for _, st := range statuses {
		add("sluice_stream_batches_total", float64(st.Totals.Batches), "stream", st.Name)
		add("sluice_stream_input_rows_total", float64(st.Totals.InputRows), "stream", st.Name)
		add("sluice_stream_output_rows_total", float64(st.Totals.OutputRows), "stream", st.Name)
		add("sluice_stream_late_rows_total", float64(st.Totals.LateRows), "stream", st.Name)
		add("sluice_stream_bad_rows_total", float64(st.Totals.BadRows), "stream", st.Name)
		add("sluice_stream_last_batch_id", float64(st.LastBatch), "stream", st.Name)
		if st.Watermark != nil {
			add("sluice_stream_watermark_seconds", float64(st.Watermark.UnixMicro())/1e6, "stream", st.Name)
		}
		add("sluice_stream_status", 1, "stream", st.Name, "status", st.Status)
		if p, ok := newest[st.Name]; ok {
			add("sluice_stream_last_batch_duration_seconds", p.Duration.Seconds(), "stream", st.Name)
			add("sluice_stream_last_batch_input_rows", float64(p.InputRows), "stream", st.Name)
			add("sluice_stream_state_rows", float64(p.StateRows), "stream", st.Name)
		}
	}
	for _, f := range fams {
		fmt.Fprintf(buf, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.typ)
		for _, smp := range f.samples {
			buf.WriteString(f.name)
			if len(smp.labels) > 0 {
				buf.WriteByte('{')
				for i := 0; i < len(smp.labels); i += 2 {
					if i > 0 {
						buf.WriteByte(',')
					}
					buf.WriteString(smp.labels[i])
					buf.WriteString(`="`)
					buf.WriteString(escapeLabelValue(smp.labels[i+1]))
					buf.WriteByte('"')
				}
				buf.WriteByte('}')
			}
			buf.WriteByte(' ')
			buf.WriteString(formatMetricValue(smp.value))
			buf.WriteByte('\n')
		}
	}
}

var (
	labelValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper       = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// escapeLabelValue escapes a label value as the text format requires:
// backslash, double quote and line feed.
func escapeLabelValue(v string) string { return labelValueEscaper.Replace(v) }

// escapeHelp escapes a HELP docstring: backslash and line feed.
func escapeHelp(v string) string { return helpEscaper.Replace(v) }

// formatMetricValue writes a sample value as Go's ParseFloat (and so
// Prometheus) reads it: whole numbers (counts, ids) without an exponent,
// and the format's spellings of the infinities.
func formatMetricValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
