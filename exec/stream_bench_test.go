package exec

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// The streaming benchmarks run the per-batch work of a stream (records of
// streamBatchRows events from a source) through the real operators and
// StreamAgg, next to a hand-written loop computing the same over the same
// Arrow arrays, and report events per second.

const (
	streamBenchRows = 1 << 20
	streamBatchRows = 8192
	streamPages     = 16
	// streamEventGap is the time between events, so a batch spans about
	// 0.8 s and a 10 s window about 12 batches.
	streamEventGap = 100 // µs
	streamWindow   = 10 * time.Second
)

var streamEventCols = []plan.Column{
	{Name: "ts", Type: sqltypes.Timestamp}, {Name: "user_id", Type: sqltypes.Int64},
	{Name: "page", Type: sqltypes.Text}, {Name: "latency", Type: sqltypes.Int32},
}

// streamEvents returns rows events in records of streamBatchRows, in time
// order from 2024-01-01, with user_id among 10000 users, page among
// streamPages pages and latency in [0, 1000).
func streamEvents(mem memory.Allocator, rows int) *recordsOp {
	rng := rand.New(rand.NewSource(1))
	schema := schemaOf(streamEventCols)
	op := &recordsOp{schema: schema}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	pages := make([]string, streamPages)
	for i := range pages {
		pages[i] = fmt.Sprintf("/page/%d", i)
	}
	tsType := sqltypes.Timestamp.Arrow().(*arrow.TimestampType)
	for start := 0; start < rows; start += streamBatchRows {
		n := min(streamBatchRows, rows-start)
		tb := array.NewTimestampBuilder(mem, tsType)
		ub := array.NewInt64Builder(mem)
		pb := array.NewStringBuilder(mem)
		lb := array.NewInt32Builder(mem)
		for i := start; i < start+n; i++ {
			tb.Append(arrow.Timestamp(t0 + int64(i)*streamEventGap))
			ub.Append(int64(rng.Intn(10000)))
			pb.Append(pages[rng.Intn(streamPages)])
			lb.Append(int32(rng.Intn(1000)))
		}
		cols := []arrow.Array{tb.NewArray(), ub.NewArray(), pb.NewArray(), lb.NewArray()}
		op.recs = append(op.recs, array.NewRecord(schema, cols, int64(n)))
		releaseArrays(cols)
		tb.Release()
		ub.Release()
		pb.Release()
		lb.Release()
	}
	return op
}

func reportEvents(b *testing.B, rows int) {
	b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "events/s")
}

// filterProjectPlan is
//
//	SELECT ts, user_id, page, latency * 2 FROM events WHERE latency > 100
func filterProjectPlan() plan.Node {
	in := &plan.Input{Source: "events", Cols: streamEventCols}
	lat := colRef(3, sqltypes.Int32)
	f := &plan.Filter{Input: in, Pred: gt(lat, lit(int64(100), sqltypes.Int32))}
	return &plan.Project{
		Input: f,
		Exprs: []plan.Expr{colRef(0, sqltypes.Timestamp), colRef(1, sqltypes.Int64), colRef(2, sqltypes.Text),
			call("*", sqltypes.Int32, lat, lit(int64(2), sqltypes.Int32))},
		Cols: []plan.Column{streamEventCols[0], streamEventCols[1], streamEventCols[2], {Name: "latency2", Type: sqltypes.Int32}},
	}
}

// runFilterProject runs filterProjectPlan over input through Build and
// returns the rows out and the sum of latency2.
func runFilterProject(b *testing.B, mem memory.Allocator, input *recordsOp, n plan.Node) (rows int, sum int64) {
	ctx := context.Background()
	input.i = 0
	env := &Env{Mem: mem, Inputs: map[string]Operator{"events": input}}
	op, err := Build(ctx, env, n)
	if err != nil {
		b.Fatal(err)
	}
	defer op.Close()
	for {
		rec, err := op.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if rec == nil {
			return rows, sum
		}
		rows += int(rec.NumRows())
		for _, v := range rec.Column(3).(*array.Int32).Int32Values() {
			sum += int64(v)
		}
	}
}

// handFilterProject computes filterProjectPlan's output over the same
// arrays into reused Go slices (the page strings as offsets and bytes).
type handFilterProject struct {
	ts, users []int64
	lat2      []int32
	offs      []int32
	bytes     []byte
}

func (h *handFilterProject) run(recs []arrow.Record) (rows int, sum int64) {
	for _, r := range recs {
		ts := r.Column(0).(*array.Timestamp).TimestampValues()
		users := r.Column(1).(*array.Int64).Int64Values()
		pages := r.Column(2).(*array.String)
		lats := r.Column(3).(*array.Int32).Int32Values()
		h.ts, h.users, h.lat2 = h.ts[:0], h.users[:0], h.lat2[:0]
		h.offs, h.bytes = append(h.offs[:0], 0), h.bytes[:0]
		for i, l := range lats {
			if l > 100 {
				h.ts = append(h.ts, int64(ts[i]))
				h.users = append(h.users, users[i])
				h.bytes = append(h.bytes, pages.Value(i)...)
				h.offs = append(h.offs, int32(len(h.bytes)))
				h.lat2 = append(h.lat2, l*2)
			}
		}
		rows += len(h.lat2)
		for _, v := range h.lat2 {
			sum += int64(v)
		}
	}
	return rows, sum
}

// BenchmarkStreamFilterProject runs a stream's stateless per-batch work,
// filter then project, through operators built from plan nodes with a
// plan.Input leaf.
func BenchmarkStreamFilterProject(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	input := streamEvents(mem, streamBenchRows)
	defer releaseRecords(input.recs)
	n := filterProjectPlan()
	var hand handFilterProject
	wantRows, wantSum := hand.run(input.recs)
	if rows, sum := runFilterProject(b, mem, input, n); rows != wantRows || sum != wantSum {
		b.Fatalf("operators: %d rows, sum %d; hand loop: %d rows, sum %d", rows, sum, wantRows, wantSum)
	}
	b.ResetTimer()
	for range b.N {
		runFilterProject(b, mem, input, n)
	}
	reportEvents(b, streamBenchRows)
}

// BenchmarkStreamFilterProjectHandLoop is the baseline of
// BenchmarkStreamFilterProject.
func BenchmarkStreamFilterProjectHandLoop(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	input := streamEvents(mem, streamBenchRows)
	defer releaseRecords(input.recs)
	var hand handFilterProject
	hand.run(input.recs)
	b.ResetTimer()
	for range b.N {
		hand.run(input.recs)
	}
	reportEvents(b, streamBenchRows)
}

// tumbleAggPlan is the window and the aggregate of
//
//	SELECT window_start, window_end, page, count(*), sum(latency), max(latency)
//	FROM TUMBLE(events, ts, INTERVAL '10 seconds')
//	GROUP BY window_start, window_end, page
func tumbleAggPlan() (*plan.Window, *plan.Aggregate) {
	in := &plan.Input{Source: "events", Cols: streamEventCols}
	win := plan.NewWindow(in, plan.WindowTumble, colRef(0, sqltypes.Timestamp), streamWindow, 0)
	lat := colRef(3, sqltypes.Int32)
	agg := aggNode(win, []plan.Expr{colRef(4, sqltypes.Timestamp), colRef(5, sqltypes.Timestamp), colRef(2, sqltypes.Text)},
		countStar, agg(plan.AggSum, lat, sqltypes.Int64), agg(plan.AggMax, lat, sqltypes.Int32))
	agg.Window = &plan.AggWindow{StartKey: 0, EndKey: 1}
	return win, agg
}

// tumbleTotals sums what the finalised groups report, to compare runs.
type tumbleTotals struct {
	groups, count, sum, maxSum int64
}

func (t *tumbleTotals) add(recs []arrow.Record) {
	for _, r := range recs {
		t.groups += r.NumRows()
		for i := range int(r.NumRows()) {
			t.count += r.Column(3).(*array.Int64).Value(i)
			t.sum += r.Column(4).(*array.Int64).Value(i)
			t.maxSum += int64(r.Column(5).(*array.Int32).Value(i))
		}
	}
	releaseRecords(recs)
}

// runTumbleAgg runs every batch through the window operator into a
// StreamAgg, finalising (append mode) the windows that end by the last
// event time of the batch.
func runTumbleAgg(b *testing.B, mem memory.Allocator, input *recordsOp, win *plan.Window, n *plan.Aggregate) tumbleTotals {
	ctx := context.Background()
	input.i = 0
	env := &Env{Mem: mem, Inputs: map[string]Operator{"events": input}}
	sa, err := NewStreamAgg(env, n)
	if err != nil {
		b.Fatal(err)
	}
	defer sa.Close()
	op, err := Build(ctx, env, win)
	if err != nil {
		b.Fatal(err)
	}
	defer op.Close()
	var tot tumbleTotals
	for {
		rec, err := op.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if rec == nil {
			break
		}
		ts := rec.Column(0).(*array.Timestamp).TimestampValues()
		if err := sa.Fold(ctx, rec); err != nil {
			b.Fatal(err)
		}
		out, err := sa.Finalize(ctx, int64(ts[len(ts)-1]), true)
		if err != nil {
			b.Fatal(err)
		}
		tot.add(out)
	}
	out, err := sa.Finalize(ctx, math.MaxInt64, true)
	if err != nil {
		b.Fatal(err)
	}
	tot.add(out)
	return tot
}

// handTumble computes the same as runTumbleAgg with a Go map per
// (window, page).
type handTumbleKey struct {
	start int64
	page  string
}

type handTumbleAcc struct {
	count, sum int64
	max        int32
}

func handTumble(recs []arrow.Record) tumbleTotals {
	size := streamWindow.Microseconds()
	groups := make(map[handTumbleKey]*handTumbleAcc)
	var tot tumbleTotals
	flush := func(wm int64) {
		for k, a := range groups {
			if k.start+size <= wm {
				tot.groups++
				tot.count += a.count
				tot.sum += a.sum
				tot.maxSum += int64(a.max)
				delete(groups, k)
			}
		}
	}
	for _, r := range recs {
		ts := r.Column(0).(*array.Timestamp).TimestampValues()
		pages := r.Column(2).(*array.String)
		lats := r.Column(3).(*array.Int32).Int32Values()
		for i, t := range ts {
			start := int64(t) - floorMod(int64(t), size)
			k := handTumbleKey{start, pages.Value(i)}
			a := groups[k]
			if a == nil {
				k.page = strings.Clone(k.page)
				a = &handTumbleAcc{max: math.MinInt32}
				groups[k] = a
			}
			a.count++
			a.sum += int64(lats[i])
			a.max = max(a.max, lats[i])
		}
		flush(int64(ts[len(ts)-1]))
	}
	flush(math.MaxInt64)
	return tot
}

// BenchmarkTumbleAggregate runs a stream's windowed aggregate per batch:
// the tumble window operator, StreamAgg.Fold and Finalize.
func BenchmarkTumbleAggregate(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	input := streamEvents(mem, streamBenchRows)
	defer releaseRecords(input.recs)
	win, n := tumbleAggPlan()
	want := handTumble(input.recs)
	if got := runTumbleAgg(b, mem, input, win, n); got != want {
		b.Fatalf("operators %+v, hand loop %+v", got, want)
	}
	b.ResetTimer()
	for range b.N {
		runTumbleAgg(b, mem, input, win, n)
	}
	reportEvents(b, streamBenchRows)
}

// BenchmarkTumbleAggregateHandLoop is the baseline of
// BenchmarkTumbleAggregate.
func BenchmarkTumbleAggregateHandLoop(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	input := streamEvents(mem, streamBenchRows)
	defer releaseRecords(input.recs)
	b.ResetTimer()
	for range b.N {
		handTumble(input.recs)
	}
	reportEvents(b, streamBenchRows)
}
