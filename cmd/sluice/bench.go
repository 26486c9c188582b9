package main

// sluice bench: the Nexmark queries and a few more, through the real
// planner and micro-batch runner, one JSON object per query on stdout.
//
// Each query gets a server of its own (server.Start in this process, a
// fresh data directory under --data-dir, pgx over loopback): its source and
// tables are created with SQL, then the clock starts, the CREATE STREAM
// statements are sent, and the clock stops when the stream has read every
// event (Manager.WaitForBatch, batch by batch, never a sleep). Streams sink
// into 'none': the output records are computed and counted
// (output_rows), then dropped. Batch durations come from the stream's
// progress rows; peak_rss_bytes is the process's VmHWM, reset before each
// query through /proc/self/clear_refs; cpu_seconds is the process's user
// and system time over the run. 'datagen' and 'limit' read the Nexmark
// generator directly, without a server: the generation alone, and a
// hand-written loop computing q2's answer over the same Arrow columns.
// BENCHMARKS.md describes every query and how it differs from the
// reference Nexmark queries.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-sql/sluice/exec/source"
	"github.com/sluice-sql/sluice/exec/stream"
	"github.com/sluice-sql/sluice/server"
)

// benchQueries are the queries `sluice bench` runs, in this order, unless
// --queries names others.
var benchQueries = []string{"datagen", "limit", "q0", "q1", "q2", "q5", "q7", "q13", "json"}

// benchConfig is what `sluice bench` was asked to do.
type benchConfig struct {
	events    int64
	queries   []string
	cores     int
	trigger   string
	batchRows int
	edits     int // UPDATEs a second during q13
	dir       string
	seed      uint64
	// --latency
	latency  bool
	rate     int64
	duration time.Duration
	editGap  time.Duration
	log      io.Writer // progress messages (stderr)
	// profile is where the CPU profile of the running query's timed run
	// goes ("": none).
	profile string
}

// benchResult is one line of output.
type benchResult struct {
	Query               string  `json:"query"`
	Events              int64   `json:"events"`
	Seconds             float64 `json:"seconds"`
	EventsPerSec        float64 `json:"events_per_sec"`
	EventsPerSecPerCore float64 `json:"events_per_sec_per_core"`
	Cores               int     `json:"cores"`
	PeakRSSBytes        int64   `json:"peak_rss_bytes"`
	Batches             int64   `json:"batches"`
	BatchMsP50          float64 `json:"batch_ms_p50"`
	BatchMsP99          float64 `json:"batch_ms_p99"`
	CPUSeconds          float64 `json:"cpu_seconds"`
	// EventsPerCPUSec is events over the process's CPU time: the work per
	// core actually used, steadier than events_per_sec_per_core on a
	// machine shared with other work.
	EventsPerCPUSec float64 `json:"events_per_cpu_sec"`
	OutputRows      int64   `json:"output_rows"`
	// limit: q2's answer, computed by hand.
	Matches  *int64 `json:"matches,omitempty"`
	Checksum *int64 `json:"checksum,omitempty"`
	// q2: events_per_sec of limit over that of q2 (the query is this many
	// times slower than the hand-written loop).
	LimitRatio *float64 `json:"limit_ratio,omitempty"`
	// q13: the UPDATEs made while it ran, and the table versions its
	// batches read.
	Edits         *int64 `json:"edits,omitempty"`
	TableVersions *int64 `json:"table_versions,omitempty"`
	// latency: the input rate (events/s).
	Rate *int64 `json:"rate,omitempty"`
	// latency: the times from an edit's UPDATE being sent to the first
	// output row carrying it.
	EditMsP50 *float64 `json:"edit_ms_p50,omitempty"`
	EditMsP99 *float64 `json:"edit_ms_p99,omitempty"`
	EditMsMax *float64 `json:"edit_ms_max,omitempty"`
	// latency: the same from the UPDATE's acknowledgement instead of its
	// send.
	EditAckMsP50 *float64 `json:"edit_ack_ms_p50,omitempty"`
	EditAckMsP99 *float64 `json:"edit_ack_ms_p99,omitempty"`
	EditAckMsMax *float64 `json:"edit_ack_ms_max,omitempty"`
	Error        string   `json:"error,omitempty"`

	// tap is what a subscription saw of the query's output (the queries
	// whose answer is checked by a sum over one column).
	tap *tapResult
}

// runBench is `sluice bench`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sluice bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int64("events", 10_000_000, "events (bids) each query reads")
	queries := fs.String("queries", strings.Join(benchQueries, ","), "comma-separated queries to run: "+strings.Join(benchQueries, ", "))
	cores := fs.Int("cores", runtime.NumCPU(), "GOMAXPROCS for the run")
	trigger := fs.String("trigger", "available_now", "the streams' trigger: available_now, or an interval such as '0s' or '100ms'")
	batchRows := fs.Int("max-rows-per-batch", 1<<18, "the streams' max_rows_per_batch (and the batch of datagen and limit)")
	edits := fs.Int("edits-per-second", 100, "UPDATEs a second of q13's table while q13 runs")
	dir := fs.String("data-dir", os.TempDir(), "where each query's throwaway data directory goes")
	seed := fs.Uint64("seed", 0, "the Nexmark generator's seed")
	latency := fs.Bool("latency", false, "measure latency instead: trigger 0s, a steady input rate, batch and config edit-to-effect latency")
	rate := fs.Int64("rate", 500_000, "--latency: events a second")
	duration := fs.Duration("duration", 10*time.Second, "--latency: how long to measure")
	editGap := fs.Duration("edit-every", 20*time.Millisecond, "--latency: time between config edits")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of each query's timed run to this file (with several queries, to <file>.<query>)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	cfg := benchConfig{events: *events, cores: *cores, trigger: *trigger, batchRows: *batchRows, edits: *edits,
		dir: *dir, seed: *seed, latency: *latency, rate: *rate, duration: *duration, editGap: *editGap, log: stderr}
	switch {
	case cfg.events <= 0:
		return fmt.Errorf("bench: --events must be positive")
	case cfg.cores <= 0:
		return fmt.Errorf("bench: --cores must be positive")
	case cfg.cores > runtime.NumCPU():
		return fmt.Errorf("bench: --cores %d is more than the %d CPUs this machine has", cfg.cores, runtime.NumCPU())
	case cfg.batchRows <= 0:
		return fmt.Errorf("bench: --max-rows-per-batch must be positive")
	case cfg.edits < 0:
		return fmt.Errorf("bench: --edits-per-second must not be negative")
	case cfg.rate <= 0 || cfg.duration <= 0 || cfg.editGap <= 0:
		return fmt.Errorf("bench: --rate, --duration and --edit-every must be positive")
	}
	for _, q := range strings.Split(*queries, ",") {
		if q = strings.TrimSpace(q); q == "" {
			continue
		}
		if !slices.Contains(benchQueries, q) {
			return fmt.Errorf("bench: unknown query %q (the queries are %s)", q, strings.Join(benchQueries, ", "))
		}
		cfg.queries = append(cfg.queries, q)
	}
	prev := runtime.GOMAXPROCS(cfg.cores)
	defer runtime.GOMAXPROCS(prev)

	enc := json.NewEncoder(stdout)
	if cfg.latency {
		cfg.profile = *cpuProfile
		res, err := benchLatency(ctx, cfg)
		if err != nil {
			res.Error = err.Error()
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
		if res.Error != "" {
			return fmt.Errorf("bench: latency: %s", res.Error)
		}
		return nil
	}
	exp := &expectation{cfg: cfg}
	var results []benchResult
	for _, q := range cfg.queries {
		fmt.Fprintf(cfg.log, "sluice bench: %s, %d events, %d cores\n", q, cfg.events, cfg.cores)
		if cfg.profile = *cpuProfile; cfg.profile != "" && len(cfg.queries) > 1 {
			cfg.profile += "." + q
		}
		res := benchOne(ctx, cfg, q)
		if res.Error == "" {
			if err := exp.check(ctx, &res); err != nil {
				res.Error = "wrong answer: " + err.Error()
			}
		}
		if res.Error != "" {
			fmt.Fprintf(cfg.log, "sluice bench: %s failed: %s\n", q, res.Error)
		} else {
			fmt.Fprintf(cfg.log, "sluice bench: %s: %.3f s, %.0f events/s, %.0f events/CPU-s, %d output rows\n",
				q, res.Seconds, res.EventsPerSec, res.EventsPerCPUSec, res.OutputRows)
		}
		results = append(results, res)
		if ctx.Err() != nil {
			break
		}
	}
	limitRatios(results)
	var failed []string
	for _, res := range results {
		if err := enc.Encode(res); err != nil {
			return err
		}
		if res.Error != "" {
			failed = append(failed, res.Query)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("bench: %s failed (see the error field of their lines)", strings.Join(failed, ", "))
	}
	return nil
}

// limitRatios sets q2's limit_ratio, limit's events/s over q2's, once
// every query has run, whatever their order.
func limitRatios(results []benchResult) {
	var limitEPS float64
	for _, res := range results {
		if res.Query == "limit" && res.Error == "" {
			limitEPS = res.EventsPerSec
		}
	}
	for i := range results {
		if res := &results[i]; res.Query == "q2" && res.Error == "" && limitEPS > 0 && res.EventsPerSec > 0 {
			r := limitEPS / res.EventsPerSec
			res.LimitRatio = &r
		}
	}
}

// benchOne runs one query and returns its line (with Error set if it
// could not run).
func benchOne(ctx context.Context, cfg benchConfig, q string) benchResult {
	var res benchResult
	var err error
	switch q {
	case "datagen", "limit":
		res, err = benchGenerator(ctx, cfg, q == "limit")
	case "json":
		res, err = benchJSON(ctx, cfg)
	default:
		res, err = benchStreams(ctx, cfg, q)
	}
	res.Query, res.Cores = q, cfg.cores
	if res.Events == 0 {
		res.Events = cfg.events
	}
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// answer is what the hand-written loop computes over the generated bids.
type answer struct {
	// matches and checksum are q2's answer: the bids with auction % 123
	// = 0 and the sum of their prices.
	matches, checksum int64
	// prices is the sum of every bid's price, when full.
	prices int64
	full   bool
}

// add folds a record of bids into the answer (every price too with all).
func (a *answer) add(rec arrow.Record, all bool) {
	auctions := rec.Column(0).(*array.Int64).Int64Values()
	prices := rec.Column(2).(*array.Int64).Int64Values()
	for i, x := range auctions {
		if x%123 == 0 {
			a.matches++
			a.checksum += prices[i]
		}
	}
	if all {
		for _, p := range prices {
			a.prices += p
		}
	}
}

// expectation holds the expected answers of a run's queries: limit's, or
// the hand-written loop's run untimed (once) over the same bids when a
// query needs it and limit has not given it.
type expectation struct {
	cfg benchConfig
	ans *answer
}

// get returns the hand-written loop's answer; full asks for the sum of
// every price too.
func (e *expectation) get(ctx context.Context, full bool) (answer, error) {
	if e.ans != nil && (e.ans.full || !full) {
		return *e.ans, nil
	}
	fmt.Fprintf(e.cfg.log, "sluice bench: computing the expected answer with the hand-written loop (not timed)\n")
	a := answer{full: true}
	x, err := openBids(e.cfg)
	if err == nil {
		_, err = readBids(ctx, e.cfg, x, func(rec arrow.Record) { a.add(rec, true) })
		x.Close()
	}
	if err != nil {
		return a, fmt.Errorf("the hand-written loop: %w", err)
	}
	if e.ans != nil && (e.ans.matches != a.matches || e.ans.checksum != a.checksum) {
		return a, fmt.Errorf("limit's timed loop found %d bids (checksum %d), the same loop run again %d (checksum %d)",
			e.ans.matches, e.ans.checksum, a.matches, a.checksum)
	}
	e.ans = &a
	return a, nil
}

// check compares a query's answer with the expected one: every bid out of
// datagen, q0, q1 and q13, the sum of their prices (q1: times 0.908) on a
// subscription to q0, q1 and q13, and q2's rows and the sum of their
// prices against the hand-written loop's. (json checks its own count: the
// clicks written with latency_ms > 500.)
func (e *expectation) check(ctx context.Context, res *benchResult) error {
	q := res.Query
	switch q {
	case "datagen", "q0", "q1", "q13":
		if res.OutputRows != res.Events {
			return fmt.Errorf("%d output rows, want one for each of the %d bids", res.OutputRows, res.Events)
		}
	}
	switch q {
	case "limit":
		a := answer{matches: *res.Matches, checksum: *res.Checksum}
		if e.ans == nil {
			e.ans = &a
		} else if e.ans.matches != a.matches || e.ans.checksum != a.checksum {
			return fmt.Errorf("found %d bids (checksum %d), the untimed loop over the same bids %d (checksum %d)",
				a.matches, a.checksum, e.ans.matches, e.ans.checksum)
		}
	case "q2":
		a, err := e.get(ctx, false)
		if err != nil {
			return err
		}
		if res.OutputRows != a.matches {
			return fmt.Errorf("%d output rows, the hand-written loop found %d bids with auction %% 123 = 0", res.OutputRows, a.matches)
		}
		return res.tap.check(res, a.checksum, 1, "the hand-written loop's checksum")
	case "q0", "q1", "q13":
		a, err := e.get(ctx, true)
		if err != nil {
			return err
		}
		scale := 1.0
		if q == "q1" {
			scale = 0.908
		}
		return res.tap.check(res, a.prices, scale, "the hand-written loop's sum of every bid's price")
	}
	return nil
}

// outputTap subscribes to a stream's output before its first batch reads
// anything (from the streams' "planned" hook) and sums one column of the
// rows, which the 'none' sink would only count.
type outputTap struct {
	stream, column string
	mgr            atomic.Pointer[stream.Manager]
	ctx            context.Context
	cancel         context.CancelFunc
	once           sync.Once
	sub            *stream.Subscription
	done           chan struct{}
	res            tapResult
}

// tapResult is what a tap saw: its rows and the sum of its column.
type tapResult struct {
	rows  int64
	isum  int64
	fsum  float64
	float bool
	err   error
}

func newOutputTap(ctx context.Context, streamName, column string) *outputTap {
	t := &outputTap{stream: streamName, column: column, done: make(chan struct{})}
	t.ctx, t.cancel = context.WithCancel(ctx)
	return t
}

// hook is the server's stream hook: the first "planned" batch subscribes.
func (t *outputTap) hook(point string) {
	m := t.mgr.Load()
	if point != "planned" || m == nil {
		return
	}
	t.once.Do(func() {
		sub, err := m.Subscribe(t.stream)
		if err != nil {
			t.res.err = fmt.Errorf("subscribe to %s: %w", t.stream, err)
			close(t.done)
			return
		}
		t.sub = sub
		go t.consume()
	})
}

func (t *outputTap) consume() {
	defer close(t.done)
	for {
		rec, err := t.sub.Next(t.ctx)
		if rec == nil {
			if err != nil && t.ctx.Err() == nil {
				t.res.err = fmt.Errorf("subscription to %s: %w", t.stream, err)
			}
			return
		}
		t.res.rows += rec.NumRows()
		if t.res.err == nil {
			t.res.err = t.add(rec)
		}
		rec.Release()
	}
}

func (t *outputTap) add(rec arrow.Record) error {
	idx := rec.Schema().FieldIndices(t.column)
	if len(idx) != 1 {
		return fmt.Errorf("the output of %s has no column %s", t.stream, t.column)
	}
	col := rec.Column(idx[0])
	if col.NullN() > 0 {
		return fmt.Errorf("%d NULLs in %s's %s", col.NullN(), t.stream, t.column)
	}
	switch c := col.(type) {
	case *array.Int64:
		for _, v := range c.Int64Values() {
			t.res.isum += v
		}
	case *array.Float64:
		t.res.float = true
		for _, v := range c.Float64Values() {
			t.res.fsum += v
		}
	default:
		return fmt.Errorf("%s's %s is a %s", t.stream, t.column, col.DataType())
	}
	return nil
}

// finish waits for the rows of every committed batch (call it once the
// stream has committed its last) and ends the subscription.
func (t *outputTap) finish() *tapResult {
	t.once.Do(func() {
		t.res.err = fmt.Errorf("no batch of %s was planned: nothing subscribed", t.stream)
		close(t.done)
	})
	// A committed batch's records are queued before WaitForBatch wakes,
	// and Next hands out what is queued before it looks at ctx.
	t.cancel()
	<-t.done
	if t.sub != nil {
		t.sub.Close()
	}
	return &t.res
}

// check compares the tap's rows with the stream's count and its sum with
// want (times scale for a DOUBLE column, to a relative 1e-9).
func (r *tapResult) check(res *benchResult, want int64, scale float64, what string) error {
	switch {
	case r == nil:
		return fmt.Errorf("no subscription to the output")
	case r.err != nil:
		return r.err
	case r.rows != res.OutputRows:
		return fmt.Errorf("a subscription to the output saw %d rows, the stream counted %d", r.rows, res.OutputRows)
	case r.float:
		if w := scale * float64(want); math.Abs(r.fsum-w) > 1e-9*math.Max(1, math.Abs(w)) {
			return fmt.Errorf("the output's prices sum to %v, %s (times %v) is %v", r.fsum, what, scale, w)
		}
	case scale != 1 || r.isum != want:
		return fmt.Errorf("the output's prices sum to %d, %s (times %v) is %d", r.isum, what, scale, want)
	}
	return nil
}

// bidSource is the CREATE SOURCE of the Nexmark bids: the events whose
// bids are the first n.
func bidSource(name string, cfg benchConfig, extra string) string {
	events := source.NexmarkOptions{Table: source.NexmarkBid}.EventsFor(cfg.events)
	return fmt.Sprintf(`CREATE SOURCE %s (auction BIGINT, bidder BIGINT, price BIGINT, channel TEXT, url TEXT, date_time TIMESTAMP, extra TEXT)
  WITH (connector = 'nexmark', table = 'bid', seed = '%d', max_events = '%d', event_time = 'date_time', watermark_delay = '4s'%s)`,
		name, cfg.seed, events, extra)
}

// streamWith is a CREATE STREAM's WITH list.
func streamWith(cfg benchConfig, sink string, extra string) string {
	return fmt.Sprintf("WITH (trigger = '%s', max_rows_per_batch = %d, sink = '%s'%s)", cfg.trigger, cfg.batchRows, sink, extra)
}

// benchPlan is how a query runs: setup statements (not timed), then
// CREATE STREAM statements run one after the other (timed), each stream
// reading every event.
type benchPlan struct {
	setup   []string
	streams []benchStream
	edits   bool // UPDATE q13's side_input while the streams run
	// sum is the column of the last stream's output that a subscription
	// sums for the check ("": none).
	sum string
}

type benchStream struct{ name, sql string }

func planFor(cfg benchConfig, q string) (benchPlan, error) {
	none := streamWith(cfg, "none", "")
	bid := bidSource("bid", cfg, "")
	switch q {
	case "q0":
		return benchPlan{setup: []string{bid}, streams: []benchStream{{"q0",
			"CREATE STREAM q0 " + none + " AS SELECT auction, bidder, price, date_time, extra FROM bid"}}, sum: "price"}, nil
	case "q1":
		return benchPlan{setup: []string{bid}, streams: []benchStream{{"q1",
			"CREATE STREAM q1 " + none + " AS SELECT auction, bidder, 0.908 * price AS price, date_time, extra FROM bid"}}, sum: "price"}, nil
	case "q2":
		return benchPlan{setup: []string{bid}, streams: []benchStream{{"q2",
			"CREATE STREAM q2 " + none + " AS SELECT auction, price FROM bid WHERE auction % 123 = 0"}}, sum: "price"}, nil
	case "q5":
		return benchPlan{setup: []string{bid}, streams: []benchStream{{"q5",
			"CREATE STREAM q5 " + streamWith(cfg, "none", ", output_mode = 'append'") + ` AS
  SELECT auction, HOP_START(date_time, INTERVAL '2 seconds', INTERVAL '10 seconds') AS window_start,
         count(*) AS num, max(price) AS max_price
  FROM bid GROUP BY auction, HOP(date_time, INTERVAL '2 seconds', INTERVAL '10 seconds')`}}}, nil
	case "q7":
		return benchPlan{setup: []string{bid}, streams: []benchStream{
			{"q7_max", "CREATE STREAM q7_max " + streamWith(cfg, "table", ", output_mode = 'append'") + ` AS
  SELECT TUMBLE_START(date_time, INTERVAL '10 seconds') AS window_start,
         TUMBLE_END(date_time, INTERVAL '10 seconds') AS window_end, max(price) AS max_price
  FROM bid GROUP BY TUMBLE(date_time, INTERVAL '10 seconds')`},
			{"q7", "CREATE STREAM q7 " + none + ` AS
  SELECT b.auction, b.price, b.bidder, b.date_time, b.extra
  FROM bid b JOIN q7_max m ON b.price = m.max_price
  WHERE b.date_time >= m.window_start AND b.date_time < m.window_end`},
		}}, nil
	case "q13":
		return benchPlan{setup: []string{bid, "CREATE TABLE side_input (k BIGINT PRIMARY KEY, v TEXT)", sideInputRows()},
			streams: []benchStream{{"q13", "CREATE STREAM q13 " + none + ` AS
  SELECT b.auction, b.bidder, b.price, b.date_time, s.v
  FROM bid b JOIN side_input s ON b.auction % 10000 = s.k`}},
			edits: true, sum: "price"}, nil
	}
	return benchPlan{}, fmt.Errorf("no plan for query %q", q)
}

// sideInputRows is the INSERT of q13's 10,000 rows.
func sideInputRows() string {
	var b strings.Builder
	b.WriteString("INSERT INTO side_input VALUES ")
	for k := range 10_000 {
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, 'value-%d')", k, k)
	}
	return b.String()
}

// benchServer is a server of its own in a fresh data directory, and a
// connection to it.
type benchServer struct {
	srv  *server.Server
	conn *pgx.Conn
	dsn  string
	dir  string
}

// startBenchServer starts a server; hook, when not nil, is its streams'
// hook (stream.Config.Hook).
func startBenchServer(ctx context.Context, cfg benchConfig, hook func(string)) (*benchServer, error) {
	dir, err := os.MkdirTemp(cfg.dir, "sluice-bench-")
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(cfg.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.Start(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: dir, Logger: logger, StreamHook: hook})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	b := &benchServer{srv: srv, dir: dir, dsn: fmt.Sprintf("postgres://bench@%s/bench?sslmode=disable", srv.Addr())}
	if b.conn, err = pgx.Connect(ctx, b.dsn); err != nil {
		b.close(ctx)
		return nil, err
	}
	return b, nil
}

func (b *benchServer) close(ctx context.Context) {
	if b.conn != nil {
		b.conn.Close(ctx)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	_ = b.srv.Shutdown(sctx)
	os.RemoveAll(b.dir)
}

// exec runs statements, naming the one that fails.
func (b *benchServer) exec(ctx context.Context, stmts ...string) error {
	for _, s := range stmts {
		if _, err := b.conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", firstLine(s), err)
		}
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 80 {
		line = line[:80] + "..."
	}
	return line
}

// batchStat is what a query keeps of one batch's progress row.
type batchStat struct {
	dur      time.Duration
	out      int64
	versions string
}

// waitStream waits until stream name has read want rows, batch by batch,
// and returns the progress of its batches. A stream that ends (finished,
// failed) before is an error, and so is a batch whose progress row it
// missed (the manager keeps a stream's last 100).
func (b *benchServer) waitStream(ctx context.Context, name string, want int64) ([]batchStat, int64, error) {
	m := b.srv.Streams()
	seen := map[int64]batchStat{}
	collect := func() {
		for _, p := range m.Progress() {
			if _, ok := seen[p.BatchID]; p.Stream == name && !ok {
				seen[p.BatchID] = batchStat{dur: p.Duration, out: p.OutputRows, versions: p.ConfigVersions}
			}
		}
	}
	for id := int64(0); ; {
		st, err := m.WaitForBatch(ctx, name, id)
		// Reading the progress rows after each wakeup keeps up with the
		// manager's window unless this goroutine is starved for 100
		// batches; a gap is reported below.
		collect()
		if st.Totals.InputRows >= want {
			stats, gerr := batchStats(name, seen, st.Totals.Batches)
			if st.Totals.InputRows != want {
				return stats, st.Totals.Batches, fmt.Errorf("stream %s read %d rows, want %d", name, st.Totals.InputRows, want)
			}
			return stats, st.Totals.Batches, gerr
		}
		if err != nil {
			stats, _ := batchStats(name, seen, st.Totals.Batches)
			return stats, st.Totals.Batches, fmt.Errorf("stream %s after %d of %d rows: %w", name, st.Totals.InputRows, want, err)
		}
		id = st.LastBatch + 1
	}
}

// batchStats returns the stats of batches 0 to n-1, or an error naming
// the first one whose progress row was not seen.
func batchStats(name string, seen map[int64]batchStat, n int64) ([]batchStat, error) {
	stats := make([]batchStat, 0, n)
	for id := range n {
		st, ok := seen[id]
		if !ok {
			return stats, fmt.Errorf("stream %s: the progress rows of batch %d (and maybe others) were gone before the bench read them: %d of the %d batches seen", name, id, len(seen), n)
		}
		stats = append(stats, st)
	}
	if int64(len(seen)) != n {
		return stats, fmt.Errorf("stream %s: %d progress rows for %d batches", name, len(seen), n)
	}
	return stats, nil
}

// benchStreams runs a query through a server.
func benchStreams(ctx context.Context, cfg benchConfig, q string) (benchResult, error) {
	var res benchResult
	plan, err := planFor(cfg, q)
	if err != nil {
		return res, err
	}
	last := plan.streams[len(plan.streams)-1].name
	var tap *outputTap
	var hook func(string)
	if plan.sum != "" {
		tap = newOutputTap(ctx, last, plan.sum)
		hook = tap.hook
	}
	b, err := startBenchServer(ctx, cfg, hook)
	if err != nil {
		return res, err
	}
	defer b.close(ctx)
	if err := b.exec(ctx, plan.setup...); err != nil {
		return res, err
	}
	if tap != nil {
		tap.mgr.Store(b.srv.Streams())
		defer tap.finish()
	}

	var edits atomic.Int64
	begin, stopEdits := func() {}, func() error { return nil }
	if plan.edits && cfg.edits > 0 {
		begin, stopEdits, err = startEdits(ctx, b.dsn, cfg.edits, &edits)
		if err != nil {
			return res, err
		}
		defer stopEdits()
	}
	meter, err := startMeter(cfg)
	if err != nil {
		return res, err
	}
	defer meter.end()
	begin()
	var stats []batchStat
	for _, s := range plan.streams {
		if err = b.exec(ctx, s.sql); err != nil {
			break
		}
		st, batches, werr := b.waitStream(ctx, s.name, cfg.events)
		stats = append(stats, st...)
		res.Batches += batches
		if err = werr; err != nil {
			break
		}
	}
	if merr := meter.stop(&res, cfg); err == nil {
		err = merr
	}
	if eerr := stopEdits(); err == nil {
		err = eerr
	}
	if err != nil {
		return res, err
	}
	res.setBatches(stats, last, b)
	if tap != nil {
		res.tap = tap.finish()
	}
	if plan.edits {
		n := edits.Load()
		versions := map[string]bool{}
		for _, s := range stats {
			versions[s.versions] = true
		}
		nv := int64(len(versions))
		res.Edits, res.TableVersions = &n, &nv
	}
	return res, nil
}

// setBatches fills the batch percentiles and the output rows of the last
// stream.
func (res *benchResult) setBatches(stats []batchStat, last string, b *benchServer) {
	ms := make([]float64, len(stats))
	for i, s := range stats {
		ms[i] = float64(s.dur) / float64(time.Millisecond)
	}
	slices.Sort(ms)
	res.BatchMsP50, res.BatchMsP99 = percentile(ms, 0.50), percentile(ms, 0.99)
	for _, st := range b.srv.Streams().Streams() {
		if st.Name == last {
			res.OutputRows = st.Totals.OutputRows
		}
	}
}

// startEdits UPDATEs a random row of side_input perSec times a second over
// a connection of its own, from the call of begin (the clock's start) until
// that of stop; edits counts the UPDATEs. stop may be called more than once.
func startEdits(ctx context.Context, dsn string, perSec int, edits *atomic.Int64) (begin func(), stop func() error, err error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	started, done := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	var editErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-done:
			return
		case <-started:
		}
		rng := rand.New(rand.NewPCG(1, 2))
		// Edit i is due at start + i/perSec; one that is late (the
		// stream keeps every core busy) goes at once, so the edits
		// average perSec a second whatever the scheduler does.
		start, gap := time.Now(), time.Second/time.Duration(perSec)
		timer := time.NewTimer(0)
		defer timer.Stop()
		for i := 0; ; i++ {
			if wait := time.Until(start.Add(time.Duration(i) * gap)); wait > 0 {
				timer.Reset(wait)
				select {
				case <-done:
					return
				case <-timer.C:
				}
			} else {
				select {
				case <-done:
					return
				default:
				}
			}
			k := rng.Int64N(10_000)
			if _, err := conn.Exec(ctx, "UPDATE side_input SET v = $1 WHERE k = $2", "edit-"+strconv.Itoa(i), k); err != nil {
				editErr = fmt.Errorf("UPDATE side_input: %w", err)
				return
			}
			edits.Add(1)
		}
	}()
	var beginOnce, stopOnce sync.Once
	begin = func() { beginOnce.Do(func() { close(started) }) }
	stop = func() error {
		stopOnce.Do(func() {
			close(done)
			wg.Wait()
			conn.Close(ctx)
		})
		return editErr
	}
	return begin, stop, nil
}

// meter measures a run: wall time, CPU time, peak RSS, and a CPU profile
// when asked for one.
type meter struct {
	start   time.Time
	cpu     time.Duration
	profile *os.File
	log     io.Writer
}

// startMeter collects garbage, resets the peak RSS, starts the clocks and
// the profile (cfg.profile). The caller defers end, which stops the
// profile on every path.
func startMeter(cfg benchConfig) (*meter, error) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := resetPeakRSS(); err != nil {
		fmt.Fprintf(cfg.log, "sluice bench: cannot reset the peak RSS (%v): peak_rss_bytes is the process's peak so far\n", err)
	}
	m := &meter{log: cfg.log}
	if cfg.profile != "" {
		f, err := os.Create(cfg.profile)
		if err != nil {
			return nil, fmt.Errorf("cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("cpuprofile: %w", err)
		}
		m.profile = f
	}
	m.start, m.cpu = time.Now(), cpuTime()
	return m, nil
}

// end stops the profile, if one runs; later calls do nothing.
func (m *meter) end() error {
	if m.profile == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := m.profile.Close()
	m.profile = nil
	if err != nil {
		return fmt.Errorf("cpuprofile: %w", err)
	}
	return nil
}

// stop stops the clocks and the profile and fills res's measures.
func (m *meter) stop(res *benchResult, cfg benchConfig) error {
	res.Seconds = time.Since(m.start).Seconds()
	res.CPUSeconds = (cpuTime() - m.cpu).Seconds()
	err := m.end()
	res.PeakRSSBytes = peakRSS()
	if res.Events == 0 {
		res.Events = cfg.events
	}
	res.rates(cfg)
	return err
}

// rates fills the rates from Events, Seconds and CPUSeconds.
func (res *benchResult) rates(cfg benchConfig) {
	if res.Seconds > 0 {
		res.EventsPerSec = float64(res.Events) / res.Seconds
		res.EventsPerSecPerCore = res.EventsPerSec / float64(cfg.cores)
	}
	if res.CPUSeconds > 0 {
		res.EventsPerCPUSec = float64(res.Events) / res.CPUSeconds
	}
}

// cpuTime is the process's user and system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS sets the process's peak RSS (VmHWM) to its current RSS,
// where Linux allows it.
func resetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS is VmHWM in bytes, or, where /proc has none, getrusage's
// maxrss (the peak over the process's life).
func peakRSS() int64 {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10
}

// percentile returns the nearest-rank p-quantile of sorted values (0 for
// none).
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// benchGenerator reads the bids from the Nexmark generator directly, as
// a stream's batches would (max-rows-per-batch rows a batch, records of
// 1<<14 rows, the generator's goroutines), without a server. With limit it
// computes q2's answer by hand over the columns: the count of bids with
// auction % 123 = 0 and the sum of their prices.
func benchGenerator(ctx context.Context, cfg benchConfig, limit bool) (benchResult, error) {
	var res benchResult
	var a answer
	var rows int64
	x, err := openBids(cfg)
	if err != nil {
		return res, err
	}
	defer x.Close()
	meter, err := startMeter(cfg)
	if err != nil {
		return res, err
	}
	defer meter.end()
	ms, err := readBids(ctx, cfg, x, func(rec arrow.Record) {
		if limit {
			a.add(rec, false)
		}
		rows += rec.NumRows()
	})
	if merr := meter.stop(&res, cfg); err == nil {
		err = merr
	}
	if err != nil {
		return res, err
	}
	res.OutputRows = rows
	res.Batches = int64(len(ms))
	slices.Sort(ms)
	res.BatchMsP50, res.BatchMsP99 = percentile(ms, 0.50), percentile(ms, 0.99)
	if limit {
		res.OutputRows = a.matches
		res.Matches, res.Checksum = &a.matches, &a.checksum
	}
	return res, nil
}

// openBids opens the Nexmark generator of the bids the queries read.
func openBids(cfg benchConfig) (*source.Nexmark, error) {
	opts := source.NexmarkOptions{Table: source.NexmarkBid, Seed: cfg.seed}
	opts.MaxEvents = opts.EventsFor(cfg.events)
	return source.NewNexmark(source.NexmarkColumns(source.NexmarkBid), opts, nil)
}

// readBids reads cfg.events bids from x, as a stream's batches would,
// hands each record to each (then releases it) and returns each batch's
// milliseconds.
func readBids(ctx context.Context, cfg benchConfig, x *source.Nexmark, each func(arrow.Record)) ([]float64, error) {
	mem := memory.NewGoAllocator()
	var ms []float64
	for start := int64(0); start < cfg.events; start += int64(cfg.batchRows) {
		end := min(start+int64(cfg.batchRows), cfg.events)
		t0 := time.Now()
		recs, err := x.Read(ctx, mem, source.Offsets{0: start}, source.Offsets{0: end}, 1<<14)
		if err != nil {
			return ms, err
		}
		for _, rec := range recs {
			each(rec)
			rec.Release()
		}
		ms = append(ms, float64(time.Since(t0))/float64(time.Millisecond))
	}
	return ms, nil
}

// benchJSON is the json query: the clicks of DESIGN.md as JSON messages
// in Sluice's log (connector = 'log', format = 'json'), written before the
// clock starts, then a stream that decodes, filters and projects them.
// The bench counts the clicks the filter should keep as it writes them,
// and the stream's output must be that many rows.
func benchJSON(ctx context.Context, cfg benchConfig) (benchResult, error) {
	var res benchResult
	b, err := startBenchServer(ctx, cfg, nil)
	if err != nil {
		return res, err
	}
	defer b.close(ctx)
	if err := b.exec(ctx, `CREATE SOURCE clicks (ts TIMESTAMP, user_id BIGINT, page VARCHAR(64), latency_ms INT)
  WITH (connector = 'log', format = 'json', event_time = 'ts')`); err != nil {
		return res, err
	}
	var want int64
	msgs := make([][]byte, 0, 1<<16)
	var buf []byte
	for start := int64(0); start < cfg.events; start += 1 << 16 {
		msgs, buf = msgs[:0], buf[:0]
		end := min(start+1<<16, cfg.events)
		// One buffer for the chunk's messages, grown first so that the
		// slices into it stay put.
		buf = slices.Grow(buf, int(end-start)*96)
		for i := start; i < end; i++ {
			from := len(buf)
			var slow bool
			buf, slow = appendClick(buf, cfg.seed, i)
			if slow {
				want++
			}
			msgs = append(msgs, buf[from:len(buf):len(buf)])
		}
		if err := b.srv.Streams().AppendJSON(ctx, "clicks", msgs); err != nil {
			return res, err
		}
	}
	meter, err := startMeter(cfg)
	if err != nil {
		return res, err
	}
	defer meter.end()
	if err := b.exec(ctx, "CREATE STREAM json "+streamWith(cfg, "none", "")+
		" AS SELECT ts, user_id, page FROM clicks WHERE latency_ms > 500"); err != nil {
		return res, err
	}
	stats, batches, err := b.waitStream(ctx, "json", cfg.events)
	if merr := meter.stop(&res, cfg); err == nil {
		err = merr
	}
	if err != nil {
		return res, err
	}
	res.Batches = batches
	res.setBatches(stats, "json", b)
	if res.OutputRows != want {
		return res, fmt.Errorf("the stream output %d clicks, want the %d with latency_ms > 500", res.OutputRows, want)
	}
	return res, nil
}

// clickPages are the pages of the json query's clicks.
var clickPages = func() []string {
	p := []string{"/", "/home", "/cart", "/checkout", "/search", "/login", "/account", "/help"}
	for i := range 42 {
		p = append(p, "/product/"+strconv.Itoa(1000+i*37))
	}
	return p
}()

var clickEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// appendClick appends click i as a JSON object: one a millisecond from
// 2026-01-01, a user of a million, one of 50 pages, a latency uniform in
// [0, 1000) ms. slow reports whether its latency is above 500.
func appendClick(dst []byte, seed uint64, i int64) (_ []byte, slow bool) {
	h := splitmix64(seed ^ uint64(i)*0x9e3779b97f4a7c15)
	user := h % 1_000_000
	page := clickPages[(h>>24)%uint64(len(clickPages))]
	lat := (h >> 40) % 1000
	dst = append(dst, `{"ts":"`...)
	dst = time.UnixMicro(clickEpoch+i*1000).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z07:00")
	dst = append(dst, `","user_id":`...)
	dst = strconv.AppendUint(dst, user, 10)
	dst = append(dst, `,"page":"`...)
	dst = append(dst, page...)
	dst = append(dst, `","latency_ms":`...)
	dst = strconv.AppendUint(dst, lat, 10)
	dst = append(dst, '}')
	return dst, lat > 500
}

// splitmix64 is splitmix64's finaliser.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// benchLatency is --latency: a stream at trigger 0s over bids arriving at
// a steady rate (events_per_second), joined to a config table of rules per
// hot channel; the tag of a rule is edited every --edit-every. It measures
// the batches' durations and, for each edit, the time from the UPDATE's
// send (edit_ms; edit_ack_ms: from its acknowledgement) to the first output
// row carrying the new tag (on a subscription to the stream).
func benchLatency(ctx context.Context, cfg benchConfig) (benchResult, error) {
	res := benchResult{Query: "latency", Cores: cfg.cores}
	b, err := startBenchServer(ctx, cfg, nil)
	if err != nil {
		return res, err
	}
	defer b.close(ctx)
	// No max_events: the source grows with the clock. A bid's price is at
	// least $500,000 about one time in 20.
	src := fmt.Sprintf(`CREATE SOURCE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel TEXT, url TEXT, date_time TIMESTAMP, extra TEXT)
  WITH (connector = 'nexmark', table = 'bid', seed = '%d', events_per_second = '%d', event_time = 'date_time')`, cfg.seed, cfg.rate)
	rules := "INSERT INTO channel_rules VALUES ('Google', 'e-1', 50000000), ('Facebook', 'e-1', 50000000), ('Baidu', 'e-1', 50000000), ('Apple', 'e-1', 50000000)"
	lat := `CREATE STREAM lat WITH (trigger = '0s', sink = 'none') AS
  SELECT b.auction, b.price, b.date_time, r.tag FROM bid b JOIN channel_rules r ON b.channel = r.channel
  WHERE b.price >= r.min_price`
	if err := b.exec(ctx, "CREATE TABLE channel_rules (channel TEXT PRIMARY KEY, tag TEXT, min_price BIGINT)", rules, src, lat); err != nil {
		return res, err
	}
	m := b.srv.Streams()
	sub, err := m.Subscribe("lat")
	if err != nil {
		return res, err
	}
	defer sub.Close()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The subscriber: when each edit's tag first shows.
	n := int(cfg.duration / cfg.editGap)
	const nRules = 4
	seen := make([]atomic.Int64, n) // UnixNano
	var nSeen atomic.Int64
	allSeen := make(chan struct{})
	var wg sync.WaitGroup
	var subErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			rec, err := sub.Next(runCtx)
			if err != nil || rec == nil {
				if err != nil && runCtx.Err() == nil {
					subErr = err
				}
				return
			}
			now := time.Now().UnixNano()
			tags := rec.Column(3).(*array.String)
			for r := range tags.Len() {
				// Tag j of a rule shows that edit j, and every edit of
				// the rule before it, has taken effect: an edit that the
				// next one replaced before a batch read it takes effect
				// with that one.
				j, err := strconv.Atoi(strings.TrimPrefix(tags.Value(r), "e"))
				for i := min(j, n-1); err == nil && i >= 0; i -= nRules {
					if !seen[i].CompareAndSwap(0, now) {
						break
					}
					if nSeen.Add(1) == int64(n) {
						close(allSeen)
					}
				}
			}
			rec.Release()
		}
	}()
	// The progress collector: every batch's duration.
	type batch struct {
		at  time.Time
		dur time.Duration
	}
	batches := map[int64]batch{}
	var progErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for id := int64(0); ; {
			st, err := m.WaitForBatch(runCtx, "lat", id)
			for _, p := range m.Progress() {
				if _, ok := batches[p.BatchID]; p.Stream == "lat" && !ok {
					batches[p.BatchID] = batch{at: p.StartedAt, dur: p.Duration}
				}
			}
			if err != nil {
				if runCtx.Err() == nil {
					progErr = err
				}
				return
			}
			id = st.LastBatch + 1
		}
	}()
	totals := func() stream.Totals {
		for _, st := range m.Streams() {
			if st.Name == "lat" {
				return st.Totals
			}
		}
		return stream.Totals{}
	}
	// Measure once the stream has caught up with the rate.
	if _, err := m.WaitForBatch(ctx, "lat", 10); err != nil {
		cancel()
		wg.Wait()
		return res, err
	}
	fmt.Fprintf(cfg.log, "sluice bench: latency at %d events/s, an edit every %s for %s\n", cfg.rate, cfg.editGap, cfg.duration)
	channels := [nRules]string{"Google", "Facebook", "Baidu", "Apple"}
	sent, acked := make([]time.Time, n), make([]time.Time, n)
	meter, err := startMeter(cfg)
	if err != nil {
		cancel()
		wg.Wait()
		return res, err
	}
	defer meter.end()
	before := totals()
	tick := time.NewTicker(cfg.editGap)
	for i := range n {
		<-tick.C
		sent[i] = time.Now()
		if _, err := b.conn.Exec(ctx, "UPDATE channel_rules SET tag = $1 WHERE channel = $2", "e"+strconv.Itoa(i), channels[i%nRules]); err != nil {
			tick.Stop()
			cancel()
			wg.Wait()
			return res, fmt.Errorf("UPDATE channel_rules: %w", err)
		}
		acked[i] = time.Now()
	}
	tick.Stop()
	end := time.Now()
	after := totals()
	merr := meter.stop(&res, cfg)
	select {
	case <-allSeen:
	case <-time.After(10 * time.Second):
	}
	cancel()
	wg.Wait()
	if progErr != nil || subErr != nil || merr != nil {
		return res, errors.Join(progErr, subErr, merr)
	}
	var edit, editAck []float64
	for i := range n {
		if t := seen[i].Load(); t != 0 {
			edit = append(edit, float64(time.Unix(0, t).Sub(sent[i]))/float64(time.Millisecond))
			editAck = append(editAck, float64(time.Unix(0, t).Sub(acked[i]))/float64(time.Millisecond))
		}
	}
	// Events and output rows: the stream's totals over the edits; batch
	// durations: the progress rows of the batches started meanwhile, every
	// one of them (the manager keeps a stream's last 100 rows: a collector
	// that fell further behind has lost some).
	res.Events, res.OutputRows = after.InputRows-before.InputRows, after.OutputRows-before.OutputRows
	var ms []float64
	var maxID int64 = -1
	for id, bt := range batches {
		maxID = max(maxID, id)
		if !bt.at.Before(meter.start) && bt.at.Before(end) {
			ms = append(ms, float64(bt.dur)/float64(time.Millisecond))
		}
	}
	res.rates(cfg)
	slices.Sort(ms)
	slices.Sort(edit)
	slices.Sort(editAck)
	res.Batches = int64(len(ms))
	res.BatchMsP50, res.BatchMsP99 = percentile(ms, 0.50), percentile(ms, 0.99)
	rate, edits := cfg.rate, int64(n)
	p50, p99, worst := percentile(edit, 0.50), percentile(edit, 0.99), percentile(edit, 1)
	res.Rate, res.Edits, res.EditMsP50, res.EditMsP99, res.EditMsMax = &rate, &edits, &p50, &p99, &worst
	a50, a99, aWorst := percentile(editAck, 0.50), percentile(editAck, 0.99), percentile(editAck, 1)
	res.EditAckMsP50, res.EditAckMsP99, res.EditAckMsMax = &a50, &a99, &aWorst
	if int64(len(batches)) != maxID+1 {
		return res, fmt.Errorf("the progress rows of %d of batches 0-%d were gone before the bench read them", maxID+1-int64(len(batches)), maxID)
	}
	if len(edit) < n {
		return res, fmt.Errorf("%d of %d edits never showed in the output", n-len(edit), n)
	}
	return res, nil
}
