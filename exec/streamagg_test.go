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
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// refCall is one aggregate of the reference: fn over input column col
// (-1 for count(*)).
type refCall struct {
	fn       plan.AggFunc
	col      int
	distinct bool
}

// refAgg is the reference a StreamAgg is checked against: it keeps every
// row of every group and computes the aggregates from scratch, in plain
// Go over Go values.
type refAgg struct {
	keys    []int // input columns grouped by
	calls   []refCall
	endKey  int // position in keys of the window end, -1 without window
	groups  map[string]*refGroup
	changed map[string]bool
	wmark   *int64
	late    int
}

type refGroup struct {
	key  []any
	rows [][]any
}

func newRefAgg(keys []int, calls []refCall, endKey int) *refAgg {
	r := &refAgg{keys: keys, calls: calls, endKey: endKey, groups: map[string]*refGroup{}, changed: map[string]bool{}}
	if len(keys) == 0 {
		// One global group from the start, changed.
		r.groups[""] = &refGroup{}
		r.changed[""] = true
	}
	return r
}

// keyString identifies a key tuple, NULL apart from any string.
func keyString(key []any) string {
	var b strings.Builder
	for _, v := range key {
		fmt.Fprintf(&b, "%T:%v|", v, v)
	}
	return b.String()
}

func (r *refAgg) add(rows [][]any) {
	for _, row := range rows {
		key := make([]any, len(r.keys))
		for i, c := range r.keys {
			key[i] = row[c]
		}
		if r.endKey >= 0 && r.wmark != nil {
			if end, ok := key[r.endKey].(time.Time); ok && end.UnixMicro() <= *r.wmark {
				r.late++
				continue
			}
		}
		k := keyString(key)
		g := r.groups[k]
		if g == nil {
			g = &refGroup{key: key}
			r.groups[k] = g
		}
		g.rows = append(g.rows, row)
		r.changed[k] = true
	}
}

// result is the output row of a group.
func (r *refAgg) result(g *refGroup) []any {
	out := append([]any{}, g.key...)
	for _, c := range r.calls {
		var vals []any
		seen := map[string]bool{}
		for _, row := range g.rows {
			if c.col < 0 {
				vals = append(vals, true)
				continue
			}
			v := row[c.col]
			if v == nil {
				continue
			}
			if c.distinct {
				k := keyString([]any{v})
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			vals = append(vals, v)
		}
		out = append(out, refValue(c.fn, vals))
	}
	return out
}

// refValue is aggregate fn over non-NULL values vals.
func refValue(fn plan.AggFunc, vals []any) any {
	switch fn {
	case plan.AggCountStar, plan.AggCount:
		return int64(len(vals))
	}
	if len(vals) == 0 {
		return nil
	}
	switch fn {
	case plan.AggSum, plan.AggAvg:
		var isum int64
		var fsum float64
		_, isFloat := vals[0].(float64)
		for _, v := range vals {
			if isFloat {
				fsum += v.(float64)
			} else {
				isum += v.(int64)
			}
		}
		if fn == plan.AggAvg {
			if !isFloat {
				fsum = float64(isum)
			}
			return fsum / float64(len(vals))
		}
		if isFloat {
			return fsum
		}
		return isum
	}
	best := vals[0]
	for _, v := range vals[1:] {
		if c := compareAny(v, best); (fn == plan.AggMin && c < 0) || (fn == plan.AggMax && c > 0) {
			best = v
		}
	}
	return best
}

func compareAny(a, b any) int {
	switch a := a.(type) {
	case int64:
		return cmpOf(a, b.(int64))
	case float64:
		return cmpOf(a, b.(float64))
	case string:
		return strings.Compare(a, b.(string))
	case time.Time:
		return a.Compare(b.(time.Time))
	}
	panic(fmt.Sprintf("cannot compare %T", a))
}

func cmpOf[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// emitChanged is the reference EmitChanged.
func (r *refAgg) emitChanged() [][]any {
	var out [][]any
	for k := range r.changed {
		if g := r.groups[k]; g != nil {
			out = append(out, r.result(g))
		}
	}
	clear(r.changed)
	sortRows(out)
	return out
}

// finalize is the reference Finalize.
func (r *refAgg) finalize(wm int64, emit bool) [][]any {
	if r.wmark == nil || wm > *r.wmark {
		r.wmark = &wm
	}
	var out [][]any
	for k, g := range r.groups {
		if end, ok := g.key[r.endKey].(time.Time); ok && end.UnixMicro() <= wm {
			if emit {
				out = append(out, r.result(g))
			}
			delete(r.groups, k)
			delete(r.changed, k)
		}
	}
	sortRows(out)
	return out
}

// aggPlan returns the Aggregate node of the reference's aggregate over
// input; window names the key positions of the window, or is nil.
func aggPlan(input plan.Node, keys []int, calls []refCall, window *plan.AggWindow) *plan.Aggregate {
	cols := input.Columns()
	n := &plan.Aggregate{Input: input, Window: window}
	for _, k := range keys {
		n.GroupBy = append(n.GroupBy, colRef(k, cols[k].Type))
		n.Cols = append(n.Cols, cols[k])
	}
	for _, c := range calls {
		call := plan.AggCall{Func: c.fn, Distinct: c.distinct, T: sqltypes.Int64}
		if c.col >= 0 {
			at := cols[c.col].Type
			call.Arg = colRef(c.col, at)
			switch c.fn {
			case plan.AggAvg:
				call.T = sqltypes.Float64
			case plan.AggSum:
				if at.Kind == sqltypes.KindFloat64 || at.Kind == sqltypes.KindFloat32 {
					call.T = sqltypes.Float64
				}
			case plan.AggMin, plan.AggMax:
				call.T = at
			}
		}
		n.Aggs = append(n.Aggs, call)
		n.Cols = append(n.Cols, plan.Column{Name: fmt.Sprintf("a%d", len(n.Aggs)), Type: call.T})
	}
	return n
}

// aggHarness runs a StreamAgg next to its reference.
type aggHarness struct {
	t   *testing.T
	env *Env
	in  []plan.Column // the columns of the records folded
	sa  *StreamAgg
	ref *refAgg
}

func newAggHarness(t *testing.T, input plan.Node, keys []int, calls []refCall, window *plan.AggWindow) *aggHarness {
	t.Helper()
	env := &Env{Mem: checkedMem(t)}
	sa, err := NewStreamAgg(env, aggPlan(input, keys, calls, window))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sa.Close)
	endKey := -1
	if window != nil {
		endKey = window.EndKey
	}
	return &aggHarness{t: t, env: env, in: input.Columns(), sa: sa, ref: newRefAgg(keys, calls, endKey)}
}

// fold folds rows (as one record) into both.
func (h *aggHarness) fold(rows [][]any) {
	h.t.Helper()
	rec := recordOf(h.t, h.env.mem(), h.in, rows)
	defer rec.Release()
	h.foldRecord(rec)
}

func (h *aggHarness) foldRecord(rec arrow.Record) {
	h.t.Helper()
	if err := h.sa.Fold(context.Background(), rec); err != nil {
		h.t.Fatalf("Fold: %v", err)
	}
	h.ref.add(rowsOf(rec))
}

// collect returns the rows of recs, sorted, and releases them, checking
// their schema and size.
func (h *aggHarness) collect(recs []arrow.Record) [][]any {
	h.t.Helper()
	defer releaseRecords(recs)
	var rows [][]any
	for _, r := range recs {
		if !r.Schema().Equal(h.sa.Schema()) {
			h.t.Errorf("record schema %v, want %v", r.Schema(), h.sa.Schema())
		}
		if r.NumRows() == 0 || r.NumRows() > maxBatchRows {
			h.t.Errorf("record of %d rows", r.NumRows())
		}
		rows = append(rows, rowsOf(r)...)
	}
	sortRows(rows)
	return rows
}

// emitChanged checks EmitChanged against the reference and returns the
// rows.
func (h *aggHarness) emitChanged() [][]any {
	h.t.Helper()
	recs, err := h.sa.EmitChanged(context.Background())
	if err != nil {
		h.t.Fatalf("EmitChanged: %v", err)
	}
	got, want := h.collect(recs), h.ref.emitChanged()
	if !sameRows(got, want) {
		h.t.Fatalf("EmitChanged got\n%swant\n%s", fmtRows(got), fmtRows(want))
	}
	h.checkRows()
	return got
}

// finalize checks Finalize against the reference and returns the rows.
func (h *aggHarness) finalize(wm int64, emit bool) [][]any {
	h.t.Helper()
	recs, err := h.sa.Finalize(context.Background(), wm, emit)
	if err != nil {
		h.t.Fatalf("Finalize: %v", err)
	}
	if !emit && len(recs) > 0 {
		h.t.Errorf("Finalize without emit returned %d records", len(recs))
	}
	got, want := h.collect(recs), h.ref.finalize(wm, emit)
	if !sameRows(got, want) {
		h.t.Fatalf("Finalize(%d, %v) got\n%swant\n%s", wm, emit, fmtRows(got), fmtRows(want))
	}
	h.checkRows()
	return got
}

func (h *aggHarness) checkRows() {
	h.t.Helper()
	if got, want := h.sa.Rows(), int64(len(h.ref.groups)); got != want {
		h.t.Errorf("Rows() = %d, want %d", got, want)
	}
	if got, want := h.sa.LateRows(), int64(h.ref.late); got != want {
		h.t.Errorf("LateRows() = %d, want %d", got, want)
	}
}

// eventCols are the columns of the random events: k and s are
// low-cardinality text, g a small integer.
var eventCols = []plan.Column{
	{Name: "ts", Type: tTS}, {Name: "k", Type: tText}, {Name: "g", Type: tInt},
	{Name: "v", Type: tInt32}, {Name: "f", Type: tF64}, {Name: "s", Type: tText},
}

// randomEvents returns n random rows of eventCols with times in [t0, t0+span)
// µs, about one value in eight NULL.
func randomEvents(rng *rand.Rand, n int, t0, span int64) [][]any {
	maybe := func(v any) any {
		if rng.Intn(8) == 0 {
			return nil
		}
		return v
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{
			maybe(micros(t0 + rng.Int63n(span))),
			maybe([]string{"a", "b", "c", "dd"}[rng.Intn(4)]),
			maybe(int64(rng.Intn(5) - 2)),
			maybe(int64(rng.Intn(2001) - 1000)),
			maybe(float64(rng.Intn(400)-200) / 4),
			maybe(fmt.Sprintf("s%03d", rng.Intn(50))),
		}
	}
	return rows
}

// allCalls are aggregates of every kind over every type of eventCols.
var allCalls = []refCall{
	{fn: plan.AggCountStar, col: -1},
	{fn: plan.AggCount, col: 3}, {fn: plan.AggSum, col: 3}, {fn: plan.AggAvg, col: 3},
	{fn: plan.AggMin, col: 3}, {fn: plan.AggMax, col: 3},
	{fn: plan.AggSum, col: 2}, {fn: plan.AggMax, col: 2},
	{fn: plan.AggSum, col: 4}, {fn: plan.AggAvg, col: 4}, {fn: plan.AggMin, col: 4}, {fn: plan.AggMax, col: 4},
	{fn: plan.AggCount, col: 5}, {fn: plan.AggMin, col: 5}, {fn: plan.AggMax, col: 5},
	{fn: plan.AggMin, col: 0}, {fn: plan.AggMax, col: 0},
}

func TestStreamAggReportsRunningTotalsOfChangedGroups(t *testing.T) {
	tests := []struct {
		name string
		keys []int
	}{
		{"grouped by a text key with NULLs", []int{1}},
		{"grouped by text and integer keys", []int{1, 2}},
		{"grouped by a timestamp", []int{0}},
		{"without GROUP BY: one global group", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(1))
			h := newAggHarness(t, &plan.Input{Source: "e", Cols: eventCols}, tc.keys, allCalls, nil)
			for range 6 {
				for range rng.Intn(3) {
					h.fold(randomEvents(rng, 1+rng.Intn(60), 0, 1000))
				}
				h.emitChanged()
			}
		})
	}
}

func TestStreamAggEmitsOnlyTheGroupsABatchTouched(t *testing.T) {
	cols := []plan.Column{{Name: "k", Type: tText}, {Name: "v", Type: tInt}}
	h := newAggHarness(t, &plan.Input{Source: "e", Cols: cols}, []int{0},
		[]refCall{{fn: plan.AggCountStar, col: -1}, {fn: plan.AggSum, col: 1}}, nil)
	h.fold([][]any{{"a", int64(1)}, {"b", int64(2)}, {"a", int64(3)}})
	h.fold([][]any{{"c", int64(4)}})
	if got := h.emitChanged(); len(got) != 3 {
		t.Fatalf("first round emitted %d groups, want 3", len(got))
	}
	h.fold([][]any{{"b", int64(10)}, {"b", nil}})
	got := h.emitChanged()
	want := [][]any{{"b", int64(3), int64(12)}} // the total, not the batch's delta
	if !sameRows(got, want) {
		t.Fatalf("second round got\n%swant\n%s", fmtRows(got), fmtRows(want))
	}
	if got := h.emitChanged(); len(got) != 0 {
		t.Fatalf("a round without rows emitted\n%s", fmtRows(got))
	}
	if h.sa.Rows() != 3 {
		t.Errorf("Rows() = %d, want 3", h.sa.Rows())
	}
}

func TestStreamAggGlobalGroupStartsAtTheEmptyAggregate(t *testing.T) {
	cols := []plan.Column{{Name: "v", Type: tInt}}
	h := newAggHarness(t, &plan.Input{Source: "e", Cols: cols}, nil,
		[]refCall{{fn: plan.AggCountStar, col: -1}, {fn: plan.AggSum, col: 0}, {fn: plan.AggMax, col: 0}}, nil)
	if got, want := h.emitChanged(), [][]any{{int64(0), nil, nil}}; !sameRows(got, want) {
		t.Fatalf("before any row got\n%swant\n%s", fmtRows(got), fmtRows(want))
	}
	h.fold([][]any{{int64(5)}, {nil}})
	h.fold([][]any{{int64(7)}})
	if got, want := h.emitChanged(), [][]any{{int64(3), int64(12), int64(7)}}; !sameRows(got, want) {
		t.Fatalf("after two records got\n%swant\n%s", fmtRows(got), fmtRows(want))
	}
	h.emitChanged()
	if h.sa.Rows() != 1 {
		t.Errorf("Rows() = %d, want 1", h.sa.Rows())
	}
}

// windowedAgg returns a harness aggregating the window (kind, size,
// slide) of eventCols grouped by (window_start, window_end, k), and the
// window node to feed it through.
func windowedAgg(t *testing.T, kind plan.WindowKind, size, slide time.Duration, calls []refCall) (*aggHarness, *plan.Window) {
	win := plan.NewWindow(&plan.Input{Source: "e", Cols: eventCols}, kind, colRef(0, tTS), size, slide)
	ws, we := len(eventCols), len(eventCols)+1
	h := newAggHarness(t, win, []int{ws, we, 1}, calls, &plan.AggWindow{StartKey: 0, EndKey: 1})
	return h, win
}

// foldWindowed runs rows through a window operator and folds its output.
func (h *aggHarness) foldWindowed(win *plan.Window, rows [][]any) {
	h.t.Helper()
	env := &Env{Mem: h.env.Mem}
	in := recordOf(h.t, env.mem(), eventCols, rows)
	defer in.Release()
	env.Inputs = map[string]Operator{"e": &recordsOp{schema: in.Schema(), recs: []arrow.Record{in}}}
	ctx := context.Background()
	op, err := Build(ctx, env, win)
	if err != nil {
		h.t.Fatal(err)
	}
	defer op.Close()
	for {
		rec, err := op.Next(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		if rec == nil {
			return
		}
		h.foldRecord(rec)
	}
}

func TestStreamAggFinalizesTumblingWindowsOnceInAppendMode(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	h, win := windowedAgg(t, plan.WindowTumble, 100*time.Microsecond, 0, allCalls)
	var finalized [][]any
	var t0 int64 = -1000
	for range 20 {
		// Batches 30 µs apart, rows up to 60 µs out of order: windows
		// span several batches, and some rows come after the watermark
		// passed them.
		rows := randomEvents(rng, 1+rng.Intn(50), t0-60, 90)
		t0 += 30
		h.foldWindowed(win, rows)
		finalized = append(finalized, h.finalize(t0-20, true)...)
	}
	finalized = append(finalized, h.finalize(math.MaxInt64, true)...)
	if h.sa.Rows() != 0 {
		t.Errorf("Rows() = %d after the last window, want 0", h.sa.Rows())
	}
	if h.ref.late == 0 {
		t.Fatal("no late rows: the test does not exercise them")
	}
	// Each group was finalised exactly once (a late row does not bring
	// its window back).
	seen := map[string]bool{}
	for _, r := range finalized {
		k := keyString(r[:3])
		if seen[k] {
			t.Errorf("group %v finalised twice", r[:3])
		}
		seen[k] = true
	}
	if len(seen) == 0 {
		t.Error("nothing was finalised")
	}
}

func TestStreamAggWithoutLateRowsFinalizesTheFullTotals(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	h, win := windowedAgg(t, plan.WindowTumble, 100*time.Microsecond, 0, allCalls)
	total := newRefAgg(h.ref.keys, h.ref.calls, h.ref.endKey)
	var finalized [][]any
	var t0 int64 = -500
	for range 15 {
		rows := randomEvents(rng, 1+rng.Intn(50), t0, 40) // in order batch by batch
		t0 += 40
		h.foldWindowed(win, rows)
		total.add(refWindowRows(rows, 0, 100*time.Microsecond, 100*time.Microsecond))
		finalized = append(finalized, h.finalize(t0, true)...)
	}
	finalized = append(finalized, h.finalize(math.MaxInt64, true)...)
	sortRows(finalized)
	if want := total.emitChanged(); !sameRows(finalized, want) {
		t.Fatalf("finalised\n%swant every window's total\n%s", fmtRows(finalized), fmtRows(want))
	}
}

func TestStreamAggUpdateModeEmitsThenFinalizesSilently(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	h, win := windowedAgg(t, plan.WindowTumble, 100*time.Microsecond, 0, allCalls)
	var t0 int64
	for range 12 {
		h.foldWindowed(win, randomEvents(rng, 1+rng.Intn(50), t0-30, 60))
		t0 += 40
		h.emitChanged()
		h.finalize(t0-10, false)
	}
	if h.sa.LateRows() == 0 {
		t.Error("no late rows: the test does not exercise them")
	}
}

func TestStreamAggFinalizeWithEmitLeavesTheChangedSet(t *testing.T) {
	cols := []plan.Column{{Name: "ws", Type: tTS}, {Name: "we", Type: tTS}, {Name: "v", Type: tInt}}
	h := newAggHarness(t, &plan.Input{Source: "e", Cols: cols}, []int{0, 1},
		[]refCall{{fn: plan.AggCountStar, col: -1}, {fn: plan.AggSum, col: 2}}, &plan.AggWindow{StartKey: 0, EndKey: 1})
	h.fold([][]any{{micros(0), micros(10), int64(1)}, {micros(10), micros(20), int64(2)}})
	h.fold([][]any{{micros(0), micros(10), int64(3)}})
	got := h.finalize(10, true)
	if want := [][]any{{micros(0), micros(10), int64(2), int64(4)}}; !sameRows(got, want) {
		t.Fatalf("Finalize got\n%swant\n%s", fmtRows(got), fmtRows(want))
	}
	got = h.emitChanged()
	if want := [][]any{{micros(10), micros(20), int64(1), int64(2)}}; !sameRows(got, want) {
		t.Fatalf("EmitChanged after Finalize got\n%swant\n%s", fmtRows(got), fmtRows(want))
	}
	// A row for the finalised window is late and dropped.
	h.fold([][]any{{micros(5), micros(10), int64(100)}, {micros(10), micros(20), int64(5)}})
	h.emitChanged()
	if h.sa.LateRows() != 1 {
		t.Errorf("LateRows() = %d, want 1", h.sa.LateRows())
	}
}

func TestStreamAggNullWindowsNeverEnd(t *testing.T) {
	cols := []plan.Column{{Name: "ws", Type: tTS}, {Name: "we", Type: tTS}, {Name: "v", Type: tInt}}
	h := newAggHarness(t, &plan.Input{Source: "e", Cols: cols}, []int{0, 1},
		[]refCall{{fn: plan.AggCountStar, col: -1}}, &plan.AggWindow{StartKey: 0, EndKey: 1})
	h.fold([][]any{{nil, nil, int64(1)}, {micros(0), nil, int64(2)}, {micros(0), micros(1), int64(3)}, {nil, nil, int64(4)}})
	h.emitChanged()
	if got := h.finalize(math.MaxInt64, true); len(got) != 1 {
		t.Fatalf("finalised %d groups, want the one with an end", len(got))
	}
	if h.sa.Rows() != 2 {
		t.Errorf("Rows() = %d, want 2", h.sa.Rows())
	}
}

func TestStreamAggOverHoppingWindows(t *testing.T) {
	calls := append(append([]refCall{}, allCalls...),
		refCall{fn: plan.AggCount, col: 3, distinct: true}, refCall{fn: plan.AggSum, col: 2, distinct: true},
		refCall{fn: plan.AggMax, col: 5, distinct: true})
	for _, slide := range []time.Duration{5, 7, 50} {
		t.Run(fmt.Sprintf("size 50 µs slide %d µs", slide), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(slide)))
			h, win := windowedAgg(t, plan.WindowHop, 50*time.Microsecond, slide*time.Microsecond, calls)
			var t0 int64 = -300
			for range 10 {
				h.foldWindowed(win, randomEvents(rng, 1+rng.Intn(80), t0-20, 60))
				t0 += 40
				h.emitChanged()
				h.finalize(t0-60, rng.Intn(2) == 0)
			}
			h.finalize(math.MaxInt64, true)
		})
	}
}

func TestStreamAggWithManyWindowsInOneRecord(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	h, win := windowedAgg(t, plan.WindowTumble, 3*time.Microsecond, 0, allCalls)
	for range 3 {
		h.foldWindowed(win, randomEvents(rng, 400, -300, 600)) // ~200 windows, shuffled
		h.emitChanged()
	}
	h.finalize(0, true)
	h.emitChanged()
	h.finalize(math.MaxInt64, true)
}

func TestStreamAggDistinctAcrossBatches(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	calls := []refCall{
		{fn: plan.AggCount, col: 2, distinct: true}, {fn: plan.AggSum, col: 3, distinct: true},
		{fn: plan.AggAvg, col: 4, distinct: true}, {fn: plan.AggCount, col: 5, distinct: true},
		{fn: plan.AggCount, col: 5},
	}
	for _, keys := range [][]int{{1}, nil} {
		t.Run(fmt.Sprintf("keys %v", keys), func(t *testing.T) {
			h := newAggHarness(t, &plan.Input{Source: "e", Cols: eventCols}, keys, calls, nil)
			for range 5 {
				h.fold(randomEvents(rng, 1+rng.Intn(80), 0, 10))
				h.emitChanged()
			}
		})
	}
}

func TestStreamAggEmitsManyChangedGroupsInSeveralRecords(t *testing.T) {
	cols := []plan.Column{{Name: "g", Type: tInt}}
	h := newAggHarness(t, &plan.Input{Source: "e", Cols: cols}, []int{0}, []refCall{{fn: plan.AggCountStar, col: -1}}, nil)
	n := maxBatchRows + 1000
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(n - i)}
	}
	h.fold(rows)
	recs, err := h.sa.EmitChanged(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer releaseRecords(recs)
	total := 0
	for _, r := range recs {
		if r.NumRows() > maxBatchRows {
			t.Errorf("record of %d rows", r.NumRows())
		}
		total += int(r.NumRows())
	}
	if len(recs) < 2 || total != n {
		t.Errorf("got %d rows in %d records, want %d rows in at least 2", total, len(recs), n)
	}
}

func TestStreamAggErrors(t *testing.T) {
	ctx := context.Background()
	cols := []plan.Column{{Name: "v", Type: tInt}}
	in := &plan.Input{Source: "e", Cols: cols}
	t.Run("Finalize without a window is an internal error", func(t *testing.T) {
		env := &Env{Mem: checkedMem(t)}
		sa, err := NewStreamAgg(env, aggPlan(in, []int{0}, []refCall{{fn: plan.AggCountStar, col: -1}}, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer sa.Close()
		_, err = sa.Finalize(ctx, 0, true)
		wantCode(t, err, sqlerr.InternalError)
	})
	t.Run("an integer sum that overflows across batches is 22003", func(t *testing.T) {
		env := &Env{Mem: checkedMem(t)}
		sa, err := NewStreamAgg(env, aggPlan(in, nil, []refCall{{fn: plan.AggSum, col: 0}}, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer sa.Close()
		for i, v := range []int64{math.MaxInt64 - 1, 2} {
			rec := recordOf(t, env.mem(), cols, [][]any{{v}})
			err = sa.Fold(ctx, rec)
			rec.Release()
			if i == 0 && err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, err, sqlerr.NumericValueOutOfRange)
	})
	t.Run("window keys that are not timestamps are an internal error", func(t *testing.T) {
		env := &Env{Mem: checkedMem(t)}
		_, err := NewStreamAgg(env, aggPlan(in, []int{0, 0}, nil, &plan.AggWindow{StartKey: 0, EndKey: 1}))
		wantCode(t, err, sqlerr.InternalError)
	})
	t.Run("use after Close is an error", func(t *testing.T) {
		env := &Env{Mem: checkedMem(t)}
		sa, err := NewStreamAgg(env, aggPlan(in, nil, []refCall{{fn: plan.AggCountStar, col: -1}}, nil))
		if err != nil {
			t.Fatal(err)
		}
		sa.Close()
		sa.Close()
		if _, err := sa.EmitChanged(ctx); err == nil {
			t.Error("EmitChanged after Close succeeded")
		}
	})
}

func TestStreamAggReportsWindowsInOrderOfStart(t *testing.T) {
	ctx := context.Background()
	cols := []plan.Column{{Name: "ws", Type: tTS}, {Name: "we", Type: tTS}, {Name: "k", Type: tText}}
	env := &Env{Mem: checkedMem(t)}
	sa, err := NewStreamAgg(env, aggPlan(&plan.Input{Source: "e", Cols: cols}, []int{2, 0, 1},
		[]refCall{{fn: plan.AggCountStar, col: -1}}, &plan.AggWindow{StartKey: 1, EndKey: 2}))
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	w := func(s int64) (any, any) { return micros(s), micros(s + 10) }
	var rows [][]any
	for _, x := range []struct {
		start int64
		k     string
	}{{20, "y"}, {0, "y"}, {20, "x"}, {10, "z"}, {0, "x"}, {0, "y"}} {
		s, e := w(x.start)
		rows = append(rows, []any{s, e, x.k})
	}
	rec := recordOf(t, env.mem(), cols, rows)
	defer rec.Release()
	if err := sa.Fold(ctx, rec); err != nil {
		t.Fatal(err)
	}
	order := func(recs []arrow.Record) string {
		defer releaseRecords(recs)
		var b strings.Builder
		for _, r := range recs {
			for _, row := range rowsOf(r) {
				fmt.Fprintf(&b, "%s@%d ", row[0], row[1].(time.Time).UnixMicro())
			}
		}
		return b.String()
	}
	recs, err := sa.EmitChanged(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := order(recs), "y@0 x@0 z@10 y@20 x@20 "; got != want {
		t.Errorf("EmitChanged order %q, want %q (windows by start, groups by first appearance)", got, want)
	}
	if err := sa.Fold(ctx, rec); err != nil {
		t.Fatal(err)
	}
	recs, err = sa.Finalize(ctx, 30, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := order(recs), "y@0 x@0 z@10 y@20 x@20 "; got != want {
		t.Errorf("Finalize order %q, want %q", got, want)
	}
}
