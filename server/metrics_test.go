package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sluice-sql/sluice/exec/stream"
)

// startWith starts a server with cfg (on a free port, in a temporary data
// directory, logging nowhere unless set) and shuts it down at the end of
// the test, checking that no goroutine it started is left.
func startWith(t *testing.T, cfg Config) *Server {
	t.Helper()
	before := runtime.NumGoroutine()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines leaked after shutdown:\n%s", n-before, buf[:runtime.Stack(buf, true)])
		}
	})
	return srv
}

// scrape GETs url without keeping the connection, so that no client
// goroutine outlives the test.
func scrape(t *testing.T, ctx context.Context, method, url string) (*http.Response, []byte) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// exposition is a parsed text-format (0.0.4) scrape.
type exposition struct {
	help, typ map[string]string // by metric name
	samples   []parsedSample
}

type parsedSample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseExposition is a small parser of the text format: it checks that
// every sample's metric has HELP and TYPE lines before it, given once, and
// undoes the escaping of label values.
func parseExposition(t *testing.T, body []byte) exposition {
	t.Helper()
	e := exposition{help: map[string]string{}, typ: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "# HELP "), strings.HasPrefix(line, "# TYPE "):
			kind := line[2:6]
			name, text, ok := strings.Cut(line[7:], " ")
			if !ok || text == "" {
				t.Fatalf("line %d: %q has no text", n, line)
			}
			m := e.help
			if kind == "TYPE" {
				m = e.typ
				if text != "counter" && text != "gauge" {
					t.Fatalf("line %d: type %q is not counter or gauge", n, text)
				}
			}
			if _, dup := m[name]; dup {
				t.Fatalf("line %d: second %s line for %s", n, kind, name)
			}
			m[name] = text
			continue
		case strings.HasPrefix(line, "#"):
			continue
		}
		s := parsedSample{labels: map[string]string{}}
		rest := line
		if i := strings.IndexAny(rest, "{ "); i < 0 {
			t.Fatalf("line %d: %q has no value", n, line)
		} else {
			s.name, rest = rest[:i], rest[i:]
		}
		if strings.HasPrefix(rest, "{") {
			rest = rest[1:]
			for !strings.HasPrefix(rest, "}") {
				rest = strings.TrimPrefix(rest, ",")
				name, after, ok := strings.Cut(rest, `="`)
				if !ok {
					t.Fatalf("line %d: bad label in %q", n, line)
				}
				var val strings.Builder
				i := 0
				for ; i < len(after) && after[i] != '"'; i++ {
					if after[i] != '\\' {
						val.WriteByte(after[i])
						continue
					}
					i++
					if i == len(after) {
						t.Fatalf("line %d: escape at end of %q", n, line)
					}
					switch after[i] {
					case '\\', '"':
						val.WriteByte(after[i])
					case 'n':
						val.WriteByte('\n')
					default:
						t.Fatalf("line %d: unknown escape \\%c in %q", n, after[i], line)
					}
				}
				if i == len(after) {
					t.Fatalf("line %d: unterminated label value in %q", n, line)
				}
				s.labels[name] = val.String()
				rest = after[i+1:]
				if rest == "" {
					t.Fatalf("line %d: unterminated labels in %q", n, line)
				}
			}
			rest = rest[1:]
		}
		v, err := strconv.ParseFloat(strings.TrimPrefix(rest, " "), 64)
		if err != nil || !strings.HasPrefix(rest, " ") {
			t.Fatalf("line %d: bad value in %q: %v", n, line, err)
		}
		s.value = v
		if e.help[s.name] == "" || e.typ[s.name] == "" {
			t.Fatalf("line %d: sample of %s before its HELP and TYPE lines", n, s.name)
		}
		e.samples = append(e.samples, s)
	}
	return e
}

// get returns the value of the sample of name whose labels include
// labels (name, value pairs), and whether there is one.
func (e exposition) get(name string, labels ...string) (float64, bool) {
next:
	for _, s := range e.samples {
		if s.name != name {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			if v, ok := s.labels[labels[i]]; !ok || v != labels[i+1] {
				continue next
			}
		}
		return s.value, true
	}
	return 0, false
}

func TestMetricsEndpointReportsAStreamAfterItsFirstBatch(t *testing.T) {
	srv := startWith(t, Config{MetricsListen: "127.0.0.1:0"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://u@%s/d?sslmode=disable", srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A quoted identifier keeps its double quote (doubled in SQL), a
	// backslash followed by n, and a line feed: all three need escaping in
	// the label value, and the last two must not come out alike.
	const name = `we"ird\na` + "\n" + `me`
	for _, sql := range []string{
		"CREATE SOURCE s (ts TIMESTAMP, v INT) WITH (connector='log', event_time='ts')",
		`CREATE STREAM "we""ird\na` + "\n" + `me" WITH (trigger='10ms') AS SELECT v FROM s WHERE v > 1`,
		"INSERT INTO s VALUES ('2026-01-01 00:00:00', 5)",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	st, err := srv.Streams().WaitForBatch(ctx, name, 0)
	if err != nil {
		t.Fatal(err)
	}

	resp, body := scrape(t, ctx, http.MethodGet, fmt.Sprintf("http://%s/metrics", srv.MetricsAddr()))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %s\n%s", resp.Status, body)
	}
	if got, want := resp.Header.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	if !bytes.Contains(body, []byte(`stream="we\"ird\\na\nme"`)) {
		t.Errorf("the stream label is not escaped as the format says:\n%s", body)
	}
	e := parseExposition(t, body)

	wantTypes := map[string]string{
		"sluice_sources":                            "gauge",
		"sluice_streams":                            "gauge",
		"sluice_stream_batches_total":               "counter",
		"sluice_stream_input_rows_total":            "counter",
		"sluice_stream_output_rows_total":           "counter",
		"sluice_stream_late_rows_total":             "counter",
		"sluice_stream_bad_rows_total":              "counter",
		"sluice_stream_last_batch_id":               "gauge",
		"sluice_stream_watermark_seconds":           "gauge",
		"sluice_stream_status":                      "gauge",
		"sluice_stream_last_batch_duration_seconds": "gauge",
		"sluice_stream_last_batch_input_rows":       "gauge",
		"sluice_stream_state_rows":                  "gauge",
	}
	for metric, want := range wantTypes {
		if got := e.typ[metric]; got != want {
			t.Errorf("TYPE of %s = %q, want %q", metric, got, want)
		}
		if e.help[metric] == "" {
			t.Errorf("%s has no HELP line", metric)
		}
	}

	tests := []struct {
		metric string
		labels []string
		want   float64
	}{
		{"sluice_sources", nil, 1},
		{"sluice_streams", nil, 1},
		{"sluice_stream_batches_total", []string{"stream", name}, 1},
		{"sluice_stream_input_rows_total", []string{"stream", name}, 1},
		{"sluice_stream_output_rows_total", []string{"stream", name}, 1},
		{"sluice_stream_late_rows_total", []string{"stream", name}, 0},
		{"sluice_stream_bad_rows_total", []string{"stream", name}, 0},
		{"sluice_stream_last_batch_id", []string{"stream", name}, 0},
		{"sluice_stream_status", []string{"stream", name, "status", "running"}, 1},
		{"sluice_stream_last_batch_input_rows", []string{"stream", name}, 1},
		{"sluice_stream_state_rows", []string{"stream", name}, 0},
	}
	for _, tt := range tests {
		got, ok := e.get(tt.metric, tt.labels...)
		if !ok {
			t.Errorf("no sample of %s%v in:\n%s", tt.metric, tt.labels, body)
			continue
		}
		if got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
		}
	}
	if d, ok := e.get("sluice_stream_last_batch_duration_seconds", "stream", name); !ok || d <= 0 || d > 60 {
		t.Errorf("last batch duration = %v (present %v), want a few seconds at most", d, ok)
	}
	wm, ok := e.get("sluice_stream_watermark_seconds", "stream", name)
	switch {
	case st.Watermark == nil && ok:
		t.Errorf("watermark sample %v for a stream without a watermark", wm)
	case st.Watermark != nil && !ok:
		t.Errorf("no watermark sample; the stream's watermark is %v", st.Watermark)
	case st.Watermark != nil && math.Abs(wm-float64(st.Watermark.UnixMicro())/1e6) > 1e-6:
		t.Errorf("watermark = %v, want %v (%v)", wm, float64(st.Watermark.UnixMicro())/1e6, st.Watermark)
	}
}

func TestMetricsEndpointAnswersOnlyGetOnSlashMetrics(t *testing.T) {
	srv := startWith(t, Config{MetricsListen: "127.0.0.1:0"})
	ctx := context.Background()
	base := fmt.Sprintf("http://%s", srv.MetricsAddr())
	tests := []struct {
		name, method, path string
		want               int
	}{
		{"GET /metrics is served", http.MethodGet, "/metrics", http.StatusOK},
		{"HEAD /metrics is served", http.MethodHead, "/metrics", http.StatusOK},
		{"POST /metrics is not allowed", http.MethodPost, "/metrics", http.StatusMethodNotAllowed},
		{"another path is not found", http.MethodGet, "/", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := scrape(t, ctx, tt.method, base+tt.path)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestNoMetricsListenerWhenMetricsListenIsEmpty(t *testing.T) {
	srv := startWith(t, Config{})
	if addr := srv.MetricsAddr(); addr != nil {
		t.Fatalf("MetricsAddr() = %v, want nil", addr)
	}
}

func TestShutdownClosesTheMetricsListener(t *testing.T) {
	srv := startWith(t, Config{MetricsListen: "127.0.0.1:0"})
	addr := srv.MetricsAddr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		_ = c.Close()
		t.Fatalf("metrics address %s still accepts connections after Shutdown", addr)
	}
}

func TestAMetricsAddressInUseIsAStartErrorNamingIt(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	srv, err := Start(context.Background(), Config{
		Listen: "127.0.0.1:0", DataDir: dir, MetricsListen: addr,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err == nil {
		_ = srv.Shutdown(context.Background())
		t.Fatalf("Start with metrics on the taken address %s succeeded", addr)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the address %s", err, addr)
	}
	// The failed start released what it opened: the same data directory
	// opens again, and no goroutine is left behind.
	srv, err = Start(context.Background(), Config{Listen: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("start again after the failed start: %v", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left after a failed start", n-before)
	}
}

func TestWriteMetricsRendersTheTextFormat(t *testing.T) {
	wm := time.Date(2026, 1, 1, 0, 0, 1, 500_000_000, time.UTC)
	statuses := []stream.Status{
		{Name: "a", Status: stream.StatusRunning, LastBatch: 2, Watermark: &wm,
			Totals: stream.Totals{Batches: 3, InputRows: 30, OutputRows: 12, LateRows: 4, BadRows: 2}},
		{Name: "b\n\"c\"\\", Status: stream.StatusPaused, LastBatch: -1},
	}
	progress := []stream.Progress{
		{Stream: "a", BatchID: 1, Duration: time.Second, InputRows: 20, StateRows: 5},
		{Stream: "a", BatchID: 2, Duration: 250 * time.Millisecond, InputRows: 10, StateRows: 7},
	}
	var buf bytes.Buffer
	writeMetrics(&buf, 2, statuses, progress)
	got := buf.String()
	for _, want := range []string{
		"sluice_sources 2\n",
		"sluice_streams 2\n",
		`sluice_stream_batches_total{stream="a"} 3` + "\n",
		`sluice_stream_input_rows_total{stream="a"} 30` + "\n",
		`sluice_stream_output_rows_total{stream="a"} 12` + "\n",
		`sluice_stream_late_rows_total{stream="a"} 4` + "\n",
		`sluice_stream_bad_rows_total{stream="a"} 2` + "\n",
		`sluice_stream_last_batch_id{stream="a"} 2` + "\n",
		`sluice_stream_watermark_seconds{stream="a"} 1.7672256015e+09` + "\n",
		`sluice_stream_status{stream="a",status="running"} 1` + "\n",
		`sluice_stream_last_batch_duration_seconds{stream="a"} 0.25` + "\n",
		`sluice_stream_last_batch_input_rows{stream="a"} 10` + "\n",
		`sluice_stream_state_rows{stream="a"} 7` + "\n",
		`sluice_stream_last_batch_id{stream="b\n\"c\"\\"} -1` + "\n",
		`sluice_stream_status{stream="b\n\"c\"\\",status="paused"} 1` + "\n",
		"# TYPE sluice_stream_batches_total counter\n",
		"# TYPE sluice_stream_status gauge\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// A stream without a watermark or a batch has no sample of the
	// metrics that need one.
	for _, metric := range []string{"sluice_stream_watermark_seconds", "sluice_stream_last_batch_duration_seconds", "sluice_stream_last_batch_input_rows", "sluice_stream_state_rows"} {
		if strings.Contains(got, metric+`{stream="b`) {
			t.Errorf("%s has a sample for stream b, which has none:\n%s", metric, got)
		}
	}
	e := parseExposition(t, buf.Bytes())
	if v, ok := e.get("sluice_stream_batches_total", "stream", "b\n\"c\"\\"); !ok || v != 0 {
		t.Errorf("batches of the stream with the escaped name = %v (present %v), want 0", v, ok)
	}
}

func TestFormatMetricValue(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		want string
	}{
		{"a whole number has no exponent", 1234567, "1234567"},
		{"a negative whole number keeps its sign", -1, "-1"},
		{"a fraction is written in full", 0.25, "0.25"},
		{"positive infinity is +Inf", math.Inf(1), "+Inf"},
		{"negative infinity is -Inf", math.Inf(-1), "-Inf"},
		{"not a number is NaN", math.NaN(), "NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatMetricValue(tt.in); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
