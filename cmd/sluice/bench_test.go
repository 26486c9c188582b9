package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// runBenchLines runs `sluice bench args...` and decodes its output lines.
func runBenchLines(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, append([]string{"bench", "--data-dir", t.TempDir()}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("sluice bench %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line %q is not a JSON object: %v", line, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func num(t *testing.T, line map[string]any, key string) float64 {
	t.Helper()
	v, ok := line[key].(float64)
	if !ok {
		t.Fatalf("%v: field %q is %v, want a number", line["query"], key, line[key])
	}
	return v
}

// TestBenchPrintsOneLinePerQueryWithItsFigures runs every query on a few
// bids. The command checks the answers of datagen, limit, q0, q1, q2, q13
// and json itself (a wrong one is an error line and a failed run); q2
// runs before limit here, so its limit_ratio is set after both ran.
func TestBenchPrintsOneLinePerQueryWithItsFigures(t *testing.T) {
	const events, batch = 20_000, 5_000
	queries := []string{"datagen", "q2", "limit", "q0", "q1", "q5", "q7", "q13", "json"}
	lines := runBenchLines(t, "--events", "20000", "--max-rows-per-batch", "5000", "--cores", "2",
		"--queries", strings.Join(queries, ","))
	if len(lines) != len(queries) {
		t.Fatalf("got %d lines, want one for each of %v", len(lines), queries)
	}
	byQuery := map[string]map[string]any{}
	for i, line := range lines {
		q, _ := line["query"].(string)
		if q != queries[i] {
			t.Fatalf("line %d is query %q, want %q", i, q, queries[i])
		}
		byQuery[q] = line
		if e, ok := line["error"]; ok {
			t.Fatalf("%s failed: %v", q, e)
		}
		secs, cpu := num(t, line, "seconds"), num(t, line, "cpu_seconds")
		if secs <= 0 || cpu <= 0 || num(t, line, "peak_rss_bytes") <= 0 {
			t.Errorf("%s: seconds %v, cpu_seconds %v, peak_rss_bytes %v", q, secs, cpu, line["peak_rss_bytes"])
		}
		// A stream reads at most max_rows_per_batch rows a batch, so at
		// least 4 batches per pass over the 20,000 bids (q7 makes two).
		passes := 1.0
		if q == "q7" {
			passes = 2
		}
		if got := num(t, line, "batches"); got < passes*events/batch {
			t.Errorf("%s: %v batches for %d events of at most %d a batch", q, got, events, batch)
		}
		if p50, p99 := num(t, line, "batch_ms_p50"), num(t, line, "batch_ms_p99"); p50 <= 0 || p99 < p50 {
			t.Errorf("%s: batch_ms_p50 %v, batch_ms_p99 %v", q, p50, p99)
		}
	}
	if matches := num(t, byQuery["limit"], "matches"); matches <= 0 || num(t, byQuery["q2"], "output_rows") != matches {
		t.Errorf("limit found %v matches, q2 output %v rows", matches, byQuery["q2"]["output_rows"])
	}
	if r := num(t, byQuery["q2"], "limit_ratio"); r <= 0 {
		t.Errorf("q2: limit_ratio %v", r)
	}
	if n := num(t, byQuery["q13"], "edits"); n < 0 || num(t, byQuery["q13"], "table_versions") < 1 {
		t.Errorf("q13: edits %v, table_versions %v", n, byQuery["q13"]["table_versions"])
	}
	// The json query fails unless its output is the clicks it wrote with
	// latency_ms > 500, about half.
	if got := num(t, byQuery["json"], "output_rows"); got < 0.4*events || got > 0.6*events {
		t.Errorf("json: output_rows %v, want about half of %d", got, events)
	}
}

// TestBenchWindowsAnswers runs q5 and q7 on enough bids (about 32 s of
// event time) for windows to close, and checks their output against the
// same bids' windows computed here. q2 runs without limit: the command
// checks it against the hand-written loop run untimed.
func TestBenchWindowsAnswers(t *testing.T) {
	const events = 300_000
	lines := runBenchLines(t, "--events", strconv.Itoa(events), "--cores", "2", "--queries", "q5,q7,q2")
	byQuery := map[string]map[string]any{}
	for _, line := range lines {
		if e, ok := line["error"]; ok {
			t.Fatalf("%v failed: %v", line["query"], e)
		}
		byQuery[line["query"].(string)] = line
	}
	if _, ok := byQuery["q2"]["limit_ratio"]; ok {
		t.Errorf("q2 has a limit_ratio without limit: %v", byQuery["q2"])
	}

	// The bids, as the queries read them: a window is final once the
	// watermark (the latest date_time less the source's 4 s delay) has
	// passed its end.
	cfg := benchConfig{events: events, batchRows: 1 << 18}
	x, err := openBids(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	type bid struct{ auction, price, at int64 }
	var bids []bid
	if _, err := readBids(context.Background(), cfg, x, func(rec arrow.Record) {
		auctions := rec.Column(0).(*array.Int64).Int64Values()
		prices := rec.Column(2).(*array.Int64).Int64Values()
		times := rec.Column(5).(*array.Timestamp).TimestampValues()
		for i := range auctions {
			bids = append(bids, bid{auctions[i], prices[i], int64(times[i])})
		}
	}); err != nil {
		t.Fatal(err)
	}
	const second = int64(time.Second / time.Microsecond)
	var latest int64
	for _, b := range bids {
		latest = max(latest, b.at)
	}
	watermark := latest - 4*second
	floor := func(v, d int64) int64 { return v - ((v%d)+d)%d }

	// q7: the bids whose price is the highest of their final 10-second
	// tumbling window.
	top := map[int64]int64{}
	for _, b := range bids {
		if w := floor(b.at, 10*second); w+10*second <= watermark {
			top[w] = max(top[w], b.price)
		}
	}
	var q7 int64
	for _, b := range bids {
		if p, ok := top[floor(b.at, 10*second)]; ok && b.price == p {
			q7++
		}
	}
	if len(top) < 2 {
		t.Fatalf("%d final tumbling windows: too few bids", len(top))
	}
	if got := num(t, byQuery["q7"], "output_rows"); got != float64(q7) {
		t.Errorf("q7 output %v rows, want the %d bids at the highest price of their window (%d windows)", got, q7, len(top))
	}

	// q5: one row per auction and final hopping window (10 s every 2 s)
	// with a bid.
	groups := map[[2]int64]bool{}
	windows := map[int64]bool{}
	for _, b := range bids {
		for w := floor(b.at, 2*second); w > b.at-10*second; w -= 2 * second {
			if w+10*second <= watermark {
				groups[[2]int64{b.auction, w}] = true
				windows[w] = true
			}
		}
	}
	if len(windows) < 5 {
		t.Fatalf("%d final hopping windows: too few bids", len(windows))
	}
	if got := num(t, byQuery["q5"], "output_rows"); got != float64(len(groups)) {
		t.Errorf("q5 output %v rows, want %d (auction, window) pairs over %d windows", got, len(groups), len(windows))
	}
}

// TestBenchCheckCatchesWrongAnswers feeds the command's check wrong
// answers.
func TestBenchCheckCatchesWrongAnswers(t *testing.T) {
	ans := answer{matches: 10, checksum: 1000, prices: 50_000, full: true}
	matches, checksum, wrongSum := int64(10), int64(1000), int64(999)
	for _, c := range []struct {
		res   benchResult
		wrong bool
	}{
		{benchResult{Query: "q2", Events: 100, OutputRows: 10, tap: &tapResult{rows: 10, isum: 1000}}, false},
		{benchResult{Query: "q2", Events: 100, OutputRows: 9, tap: &tapResult{rows: 9, isum: 1000}}, true},
		{benchResult{Query: "q2", Events: 100, OutputRows: 10, tap: &tapResult{rows: 10, isum: 999}}, true},
		{benchResult{Query: "q2", Events: 100, OutputRows: 10, tap: &tapResult{rows: 9, isum: 1000}}, true},
		{benchResult{Query: "q2", Events: 100, OutputRows: 10}, true},
		{benchResult{Query: "q0", Events: 100, OutputRows: 100, tap: &tapResult{rows: 100, isum: 50_000}}, false},
		{benchResult{Query: "q0", Events: 100, OutputRows: 99, tap: &tapResult{rows: 99, isum: 50_000}}, true},
		{benchResult{Query: "q13", Events: 100, OutputRows: 100, tap: &tapResult{rows: 100, isum: 49_000}}, true},
		{benchResult{Query: "q1", Events: 100, OutputRows: 100, tap: &tapResult{rows: 100, fsum: 45_400, float: true}}, false},
		{benchResult{Query: "q1", Events: 100, OutputRows: 100, tap: &tapResult{rows: 100, fsum: 50_000, float: true}}, true},
		{benchResult{Query: "datagen", Events: 100, OutputRows: 99}, true},
		{benchResult{Query: "limit", Events: 100, OutputRows: 10, Matches: &matches, Checksum: &checksum}, false},
		{benchResult{Query: "limit", Events: 100, OutputRows: 10, Matches: &matches, Checksum: &wrongSum}, true},
	} {
		e := &expectation{ans: &ans}
		if err := e.check(context.Background(), &c.res); (err != nil) != c.wrong {
			t.Errorf("%s %+v (tap %+v): check says %v", c.res.Query, c.res, c.res.tap, err)
		}
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--queries", "q3"},
		{"--events", "0"},
		{"--cores", "-1"},
		{"--cores", "100000"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), append([]string{"bench"}, args...), &stdout, &stderr); err == nil {
			t.Errorf("sluice bench %s: no error (output %q)", strings.Join(args, " "), stdout.String())
		}
	}
}

func TestBenchLatencyMeasuresBatchesAndEdits(t *testing.T) {
	lines := runBenchLines(t, "--latency", "--rate", "100000", "--duration", "400ms", "--edit-every", "20ms", "--cores", "2")
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1", len(lines))
	}
	line := lines[0]
	if line["query"] != "latency" {
		t.Fatalf("query %v, want latency", line["query"])
	}
	if e, ok := line["error"]; ok {
		t.Fatalf("latency failed: %v", e)
	}
	// The stream keeps up with 100,000 events a second (92% of them bids)
	// in 400ms: not far from 36,800 bids read in the window.
	if got := num(t, line, "events"); got < 10_000 || got > 60_000 {
		t.Errorf("events %v, want about 36,800", got)
	}
	if num(t, line, "batches") < 2 || num(t, line, "output_rows") <= 0 {
		t.Errorf("batches %v, output_rows %v", line["batches"], line["output_rows"])
	}
	for _, p := range []string{"batch_ms", "edit_ms", "edit_ack_ms"} {
		p50, p99 := num(t, line, p+"_p50"), num(t, line, p+"_p99")
		if p50 <= 0 || p99 < p50 {
			t.Errorf("%s_p50 %v, %s_p99 %v", p, p50, p, p99)
		}
	}
	if max := num(t, line, "edit_ms_max"); max < num(t, line, "edit_ms_p99") || max > 10_000 {
		t.Errorf("edit_ms_max %v", max)
	}
}
