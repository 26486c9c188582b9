package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
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

func TestBenchPrintsOneLinePerQueryWithItsFigures(t *testing.T) {
	const events, batch = 20_000, 5_000
	queries := []string{"datagen", "limit", "q0", "q1", "q2", "q5", "q7", "q13", "json"}
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
		if got := num(t, line, "events"); got != events {
			t.Errorf("%s: events %v, want %d", q, got, events)
		}
		if got := num(t, line, "cores"); got != 2 {
			t.Errorf("%s: cores %v, want 2", q, got)
		}
		secs, eps := num(t, line, "seconds"), num(t, line, "events_per_sec")
		if secs <= 0 || math.Abs(eps*secs-events) > 1e-6*events {
			t.Errorf("%s: %v events/s over %v s is not %d events", q, eps, secs, events)
		}
		if got := num(t, line, "events_per_sec_per_core"); math.Abs(got*2-eps) > 1e-6*eps {
			t.Errorf("%s: %v events/s/core is not %v events/s over 2 cores", q, got, eps)
		}
		if num(t, line, "peak_rss_bytes") <= 0 || num(t, line, "cpu_seconds") <= 0 {
			t.Errorf("%s: peak_rss_bytes %v, cpu_seconds %v", q, line["peak_rss_bytes"], line["cpu_seconds"])
		}
		if got, cpu := num(t, line, "events_per_cpu_sec"), num(t, line, "cpu_seconds"); math.Abs(got*cpu-events) > 1e-6*events {
			t.Errorf("%s: %v events per CPU second over %v CPU seconds is not %d events", q, got, cpu, events)
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
	for _, q := range []string{"datagen", "q0", "q1", "q13"} {
		if got := num(t, byQuery[q], "output_rows"); got != events {
			t.Errorf("%s: output_rows %v, want every one of the %d bids", q, got, events)
		}
	}
	// q2 through the server finds the bids the hand-written loop finds.
	matches := num(t, byQuery["limit"], "matches")
	if matches <= 0 || num(t, byQuery["limit"], "output_rows") != matches || num(t, byQuery["q2"], "output_rows") != matches {
		t.Errorf("limit found %v matches (output_rows %v), q2 output %v rows", matches, byQuery["limit"]["output_rows"], byQuery["q2"]["output_rows"])
	}
	if _, ok := byQuery["limit"]["checksum"].(float64); !ok {
		t.Errorf("limit has no checksum: %v", byQuery["limit"])
	}
	if r := num(t, byQuery["q2"], "limit_ratio"); r <= 0 {
		t.Errorf("q2: limit_ratio %v", r)
	}
	// 20,000 bids span about 2.2 s of event time: q5 has 2-second hops
	// of 10 seconds per auction, q7 one 10-second window, never final.
	if num(t, byQuery["q5"], "output_rows") != 0 || num(t, byQuery["q7"], "output_rows") != 0 {
		t.Errorf("q5 output %v rows, q7 %v: no window of 10 s is final after 2.2 s", byQuery["q5"]["output_rows"], byQuery["q7"]["output_rows"])
	}
	if _, ok := byQuery["q13"]["edits"].(float64); !ok {
		t.Errorf("q13 has no edits: %v", byQuery["q13"])
	}
	// The json query fails unless its output is the clicks it wrote with
	// latency_ms > 500, about half.
	if got := num(t, byQuery["json"], "output_rows"); got < 0.4*events || got > 0.6*events {
		t.Errorf("json: output_rows %v, want about half of %d", got, events)
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--queries", "q3"},
		{"--events", "0"},
		{"--cores", "-1"},
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
	if got := num(t, line, "edits"); got != 20 {
		t.Errorf("edits %v, want 400ms / 20ms = 20", got)
	}
	if got := num(t, line, "rate"); got != 100_000 {
		t.Errorf("rate %v, want 100000", got)
	}
	// The stream keeps up with 100,000 events a second (92% of them bids)
	// in 400ms: not far from 36,800 bids read in the window.
	if got := num(t, line, "events"); got < 10_000 || got > 60_000 {
		t.Errorf("events %v, want about 36,800", got)
	}
	if num(t, line, "batches") < 2 || num(t, line, "output_rows") <= 0 {
		t.Errorf("batches %v, output_rows %v", line["batches"], line["output_rows"])
	}
	for _, p := range []string{"batch_ms", "edit_ms"} {
		p50, p99 := num(t, line, p+"_p50"), num(t, line, p+"_p99")
		if p50 <= 0 || p99 < p50 {
			t.Errorf("%s_p50 %v, %s_p99 %v", p, p50, p, p99)
		}
	}
	if max := num(t, line, "edit_ms_max"); max < num(t, line, "edit_ms_p99") || max > 10_000 {
		t.Errorf("edit_ms_max %v", max)
	}
}
