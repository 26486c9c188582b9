package exec

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// snapStep is one batch of a stream: records to fold, then what the
// stream does at the end of the batch.
type snapStep struct {
	recs     []arrow.Record
	emit     bool  // EmitChanged (update mode)
	finalize bool  // Finalize(wm, finalEmit)
	wm       int64 // watermark, µs
	emitFin  bool  // Finalize emits (append mode)
}

// snapOut is what one step emitted, and the counters after it.
type snapOut struct {
	recs []arrow.Record
	late int64
	rows int64
}

// runSnapSteps runs steps on sa and returns what each emitted; the caller
// releases the records.
func runSnapSteps(t *testing.T, sa *StreamAgg, steps []snapStep) []snapOut {
	t.Helper()
	ctx := context.Background()
	var outs []snapOut
	for i, st := range steps {
		var out snapOut
		for _, r := range st.recs {
			if err := sa.Fold(ctx, r); err != nil {
				t.Fatalf("step %d: Fold: %v", i, err)
			}
		}
		if st.emit {
			recs, err := sa.EmitChanged(ctx)
			if err != nil {
				t.Fatalf("step %d: EmitChanged: %v", i, err)
			}
			out.recs = append(out.recs, recs...)
		}
		if st.finalize {
			recs, err := sa.Finalize(ctx, st.wm, st.emitFin)
			if err != nil {
				t.Fatalf("step %d: Finalize: %v", i, err)
			}
			out.recs = append(out.recs, recs...)
		}
		out.late, out.rows = sa.LateRows(), sa.Rows()
		outs = append(outs, out)
	}
	return outs
}

func releaseSnapOuts(outs []snapOut) {
	for _, o := range outs {
		releaseRecords(o.recs)
	}
}

// sameRecords reports how got and want differ (record by record, exact
// types and values), or "".
func sameRecords(got, want []arrow.Record) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d records, want %d:\n%swant\n%s", len(got), len(want), fmtRecords(got), fmtRecords(want))
	}
	for i := range got {
		if !got[i].Schema().Equal(want[i].Schema()) {
			return fmt.Sprintf("record %d schema\n%v\nwant\n%v", i, got[i].Schema(), want[i].Schema())
		}
		if !array.RecordEqual(got[i], want[i]) {
			return fmt.Sprintf("record %d:\n%swant\n%s", i, fmtRows(rowsOf(got[i])), fmtRows(rowsOf(want[i])))
		}
	}
	return ""
}

func fmtRecords(recs []arrow.Record) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(fmtRows(rowsOf(r)))
		b.WriteString("--\n")
	}
	return b.String()
}

// snapshotOf takes a snapshot of sa with mem.
func snapshotOf(t *testing.T, sa *StreamAgg, mem memory.Allocator) (*arrow.Schema, []arrow.Record) {
	t.Helper()
	schema, recs, err := sa.Snapshot(context.Background(), mem)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if !schema.Equal(sa.StateSchema()) {
		t.Fatalf("snapshot schema\n%v\nis not the state schema\n%v", schema, sa.StateSchema())
	}
	for i, r := range recs {
		if !r.Schema().Equal(schema) {
			t.Errorf("snapshot record %d has schema %v", i, r.Schema())
		}
		if r.NumRows() == 0 || r.NumRows() > snapshotRows {
			t.Errorf("snapshot record %d has %d rows", i, r.NumRows())
		}
	}
	return schema, recs
}

// sameSnapshot reports how two snapshots differ, or "".
func sameSnapshot(gotSchema *arrow.Schema, got []arrow.Record, wantSchema *arrow.Schema, want []arrow.Record) string {
	if g, w := gotSchema.Metadata().String(), wantSchema.Metadata().String(); g != w {
		return fmt.Sprintf("metadata %s, want %s", g, w)
	}
	return sameRecords(got, want)
}

// viaIPC writes a snapshot as an Arrow IPC stream and reads it back, as a
// checkpoint would; the records are released.
func viaIPC(t *testing.T, mem memory.Allocator, schema *arrow.Schema, recs []arrow.Record) (*arrow.Schema, []arrow.Record) {
	t.Helper()
	defer releaseRecords(recs)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("writing snapshot: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rd, err := ipc.NewReader(&buf, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	var out []arrow.Record
	for rd.Next() {
		r := rd.Record()
		r.Retain()
		out = append(out, r)
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	return rd.Schema(), out
}

// windowRecords runs rows (eventCols) through the window operator win and
// returns its records; they are released when the test ends.
func windowRecords(t *testing.T, mem memory.Allocator, win *plan.Window, rows [][]any) []arrow.Record {
	t.Helper()
	in := recordOf(t, mem, eventCols, rows)
	defer in.Release()
	env := &Env{Mem: mem, Inputs: map[string]Operator{"e": &recordsOp{schema: in.Schema(), recs: []arrow.Record{in}}}}
	ctx := context.Background()
	op, err := Build(ctx, env, win)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	var out []arrow.Record
	for {
		rec, err := op.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rec == nil {
			break
		}
		rec.Retain()
		out = append(out, rec)
	}
	t.Cleanup(func() { releaseRecords(out) })
	return out
}

// eventRecords returns rows (eventCols) as one record, released when the
// test ends.
func eventRecords(t *testing.T, mem memory.Allocator, rows [][]any) []arrow.Record {
	t.Helper()
	rec := recordOf(t, mem, eventCols, rows)
	t.Cleanup(rec.Release)
	return []arrow.Record{rec}
}

// distinctCalls are DISTINCT aggregates over eventCols of several types.
var distinctCalls = []refCall{
	{fn: plan.AggCount, col: 3, distinct: true}, {fn: plan.AggSum, col: 2, distinct: true},
	{fn: plan.AggAvg, col: 4, distinct: true}, {fn: plan.AggMax, col: 5, distinct: true},
	{fn: plan.AggCount, col: 0, distinct: true},
}

var snapCalls = append(append([]refCall{}, allCalls...), distinctCalls...)

// snapMode is how a case ends each batch.
type snapMode int

const (
	snapUpdate       snapMode = iota // EmitChanged
	snapAppend                       // Finalize(wm, true)
	snapUpdateWindow                 // EmitChanged, then Finalize(wm, false)
)

func TestStreamAggRestoredFromASnapshotGoesOnExactlyAsTheOriginal(t *testing.T) {
	in := &plan.Input{Source: "e", Cols: eventCols}
	ws, we := len(eventCols), len(eventCols)+1
	tumble := plan.NewWindow(in, plan.WindowTumble, colRef(0, tTS), 100*time.Microsecond, 0)
	hop := plan.NewWindow(in, plan.WindowHop, colRef(0, tTS), 50*time.Microsecond, 7*time.Microsecond)
	winKeys := &plan.AggWindow{StartKey: 0, EndKey: 1}
	tests := []struct {
		name string
		win  *plan.Window // nil: folded straight from eventCols
		keys []int
		aw   *plan.AggWindow
		mode snapMode
	}{
		{"without GROUP BY", nil, nil, nil, snapUpdate},
		{"grouped by text and integer keys", nil, []int{1, 2}, nil, snapUpdate},
		{"grouped by a timestamp and a text key", nil, []int{0, 5}, nil, snapUpdate},
		{"tumbling windows in append mode", tumble, []int{ws, we, 1}, winKeys, snapAppend},
		{"tumbling windows in update mode", tumble, []int{ws, we, 1}, winKeys, snapUpdateWindow},
		{"tumbling windows without other keys", tumble, []int{ws, we}, winKeys, snapAppend},
		{"hopping windows in append mode", hop, []int{ws, we, 1, 2}, winKeys, snapAppend},
		{"hopping windows in update mode", hop, []int{ws, we, 1}, winKeys, snapUpdateWindow},
		{"hopping windows keyed after their bounds", hop, []int{1, we, ws}, &plan.AggWindow{StartKey: 2, EndKey: 1}, snapUpdateWindow},
	}
	for ci, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			var input plan.Node = in
			if tc.win != nil {
				input = tc.win
			}
			n := aggPlan(input, tc.keys, snapCalls, tc.aw)
			rng := rand.New(rand.NewSource(int64(10 + ci)))
			var steps []snapStep
			var t0 int64 = -500
			for range 12 {
				// Batches 40 µs apart with rows up to 60 µs out of order:
				// windows span batches and some rows come late.
				rows := randomEvents(rng, 1+rng.Intn(60), t0-60, 100)
				t0 += 40
				st := snapStep{wm: t0 - 30}
				if tc.win != nil {
					st.recs = windowRecords(t, mem, tc.win, rows)
				} else {
					st.recs = eventRecords(t, mem, rows)
				}
				switch tc.mode {
				case snapUpdate:
					st.emit = true
				case snapAppend:
					st.finalize, st.emitFin = true, true
				case snapUpdateWindow:
					st.emit, st.finalize = true, true
				}
				steps = append(steps, st)
			}
			if tc.win != nil {
				steps = append(steps, snapStep{finalize: true, wm: math.MaxInt64, emitFin: true})
			}

			env := &Env{Mem: mem}
			newAgg := func() *StreamAgg {
				sa, err := NewStreamAgg(env, n)
				if err != nil {
					t.Fatal(err)
				}
				return sa
			}
			straight := newAgg()
			defer straight.Close()
			want := runSnapSteps(t, straight, steps)
			defer releaseSnapOuts(want)
			wantSchema, wantFinal := snapshotOf(t, straight, mem)
			defer releaseRecords(wantFinal)

			lateAfterRestore := false
			// Splits early, in the middle and late; odd ones go through
			// Arrow IPC.
			for _, k := range []int{1, 2, 5, 8, len(steps) - 1} {
				a := newAgg()
				releaseSnapOuts(runSnapSteps(t, a, steps[:k]))
				schema, recs := snapshotOf(t, a, mem)
				if k%2 == 1 {
					schema, recs = viaIPC(t, mem, schema, recs)
				}
				b := newAgg()
				err := b.Restore(context.Background(), schema, recs)
				releaseRecords(recs)
				if err != nil {
					t.Fatalf("split after batch %d: Restore: %v", k, err)
				}
				// The restored state snapshots as the original.
				s1, r1 := snapshotOf(t, a, mem)
				s2, r2 := snapshotOf(t, b, mem)
				if d := sameSnapshot(s2, r2, s1, r1); d != "" {
					t.Errorf("split after batch %d: snapshot of the restored state: %s", k, d)
				}
				releaseRecords(r1)
				releaseRecords(r2)
				if b.Rows() != a.Rows() || b.LateRows() != 0 {
					t.Errorf("split after batch %d: restored Rows() = %d, LateRows() = %d, want %d and 0", k, b.Rows(), b.LateRows(), a.Rows())
				}
				a.Close()

				got := runSnapSteps(t, b, steps[k:])
				for i, o := range got {
					step := k + i
					if d := sameRecords(o.recs, want[step].recs); d != "" {
						t.Fatalf("split after batch %d: batch %d emitted %s", k, step, d)
					}
					if o.rows != want[step].rows {
						t.Errorf("split after batch %d: batch %d: Rows() = %d, want %d", k, step, o.rows, want[step].rows)
					}
					if late := want[step].late - want[k-1].late; o.late != late {
						t.Errorf("split after batch %d: batch %d: LateRows() = %d, want %d", k, step, o.late, late)
					}
				}
				if got[len(got)-1].late > 0 {
					lateAfterRestore = true
				}
				releaseSnapOuts(got)
				gotSchema, gotFinal := snapshotOf(t, b, mem)
				if d := sameSnapshot(gotSchema, gotFinal, wantSchema, wantFinal); d != "" {
					t.Errorf("split after batch %d: final snapshot: %s", k, d)
				}
				releaseRecords(gotFinal)
				b.Close()
			}
			if tc.win != nil && !lateAfterRestore {
				t.Error("no late rows after a restore: the test does not exercise the restored watermark")
			}
		})
	}
}

func TestStreamAggSnapshotOfAnEmptyState(t *testing.T) {
	ctx := context.Background()
	cols := []plan.Column{{Name: "ws", Type: tTS}, {Name: "we", Type: tTS}, {Name: "k", Type: tText}, {Name: "v", Type: tInt}}
	in := &plan.Input{Source: "e", Cols: cols}
	calls := []refCall{{fn: plan.AggCountStar, col: -1}, {fn: plan.AggSum, col: 3}, {fn: plan.AggMax, col: 2}, {fn: plan.AggCount, col: 3, distinct: true}}
	tests := []struct {
		name     string
		keys     []int
		win      *plan.AggWindow
		wantRows [][]any // the snapshot's rows, but for the DISTINCT values
	}{
		{"grouped: no records", []int{2}, nil, nil},
		{"windowed: no records", []int{0, 1, 2}, &plan.AggWindow{StartKey: 0, EndKey: 1}, nil},
		{"without GROUP BY: the global group over no rows", nil, nil, [][]any{{int64(0), nil, nil, int64(0)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			env := &Env{Mem: mem}
			n := aggPlan(in, tc.keys, calls, tc.win)
			a, err := NewStreamAgg(env, n)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			schema, recs := snapshotOf(t, a, mem)
			var rows [][]any
			for _, r := range recs {
				for i, row := range rowsOf(r) {
					last := int(r.NumCols()) - 1
					l := r.Column(last).(*array.List)
					if start, end := l.ValueOffsets(i); l.IsNull(i) || start != end {
						t.Errorf("row %d has DISTINCT values", i)
					}
					rows = append(rows, row[len(tc.keys):last])
				}
			}
			if fmt.Sprint(rows) != fmt.Sprint(tc.wantRows) {
				t.Errorf("snapshot rows %v, want %v", rows, tc.wantRows)
			}
			if got := schema.Metadata().String(); strings.Contains(got, stateWatermarkKey) || !strings.Contains(got, stateGroupsKey) {
				t.Errorf("snapshot metadata %s", got)
			}
			b, err := NewStreamAgg(env, n)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			err = b.Restore(ctx, schema, recs)
			releaseRecords(recs)
			if err != nil {
				t.Fatal(err)
			}
			if b.Rows() != a.Rows() {
				t.Errorf("restored Rows() = %d, want %d", b.Rows(), a.Rows())
			}
			emitted, err := b.EmitChanged(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(emitted) != 0 {
				t.Errorf("a restored state reported changes:\n%s", fmtRecords(emitted))
			}
			releaseRecords(emitted)
		})
	}
}

// bigRecords returns records of cols holding rows [lo, hi), row i being
// row(i); they are released when the test ends.
func bigRecords(t *testing.T, mem memory.Allocator, cols []plan.Column, lo, hi int, row func(i int) []any) []arrow.Record {
	t.Helper()
	var out []arrow.Record
	for ; lo < hi; lo += maxBatchRows {
		var rs [][]any
		for i := lo; i < min(hi, lo+maxBatchRows); i++ {
			rs = append(rs, row(i))
		}
		rec := recordOf(t, mem, cols, rs)
		t.Cleanup(rec.Release)
		out = append(out, rec)
	}
	return out
}

func TestStreamAggSnapshotOfManyGroupsAndWindows(t *testing.T) {
	cols := []plan.Column{{Name: "ws", Type: tTS}, {Name: "we", Type: tTS}, {Name: "g", Type: tInt}, {Name: "s", Type: tText}}
	in := &plan.Input{Source: "e", Cols: cols}
	calls := []refCall{{fn: plan.AggCountStar, col: -1}, {fn: plan.AggSum, col: 2}, {fn: plan.AggMin, col: 3}}
	distinct := append(calls, refCall{fn: plan.AggCount, col: 3, distinct: true})
	win := &plan.AggWindow{StartKey: 0, EndKey: 1}
	const many = 70_000 // more than a snapshot record holds
	tests := []struct {
		name  string
		keys  []int
		calls []refCall
		win   *plan.AggWindow
		row   func(i int) []any // rows [0, 80K) are the first batch, [80K, 100K) the second
		wm    int64             // > 0: finalise windows ending by wm after the second batch
	}{
		{"70K groups of text and integer keys", []int{2, 3}, distinct, nil, func(i int) []any {
			return []any{nil, nil, int64(i % many), fmt.Sprintf("s%d", i%7)}
		}, 0},
		// Without DISTINCT: each window's value set costs a hash table.
		{"70K windows of one group", []int{0, 1}, calls, win, func(i int) []any {
			w := int64(i % many)
			return []any{micros(w), micros(w + 1), int64(i), fmt.Sprintf("s%d", i%3)}
		}, 100},
		{"one window of 70K groups between small windows", []int{0, 1, 2}, distinct, win, func(i int) []any {
			if i%8 != 0 {
				return []any{micros(2), micros(3), int64(i), fmt.Sprintf("s%d", i%3)}
			}
			w := []int64{0, 1, 3, 4}[i/8%4]
			return []any{micros(w), micros(w + 1), int64(i % 10), "x"}
		}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			mem := checkedMem(t)
			env := &Env{Mem: mem}
			n := aggPlan(in, tc.keys, tc.calls, tc.win)
			// Windows are emitted one record each: only a few are
			// finalised, the rest compared in the final snapshot.
			steps := []snapStep{
				{recs: bigRecords(t, mem, cols, 0, 80_000, tc.row), emit: tc.win == nil},
				{recs: bigRecords(t, mem, cols, 80_000, 100_000, tc.row), emit: tc.win == nil},
			}
			if tc.wm > 0 {
				steps[1].finalize, steps[1].wm, steps[1].emitFin = true, tc.wm, true
			}
			a, err := NewStreamAgg(env, n)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			releaseSnapOuts(runSnapSteps(t, a, steps[:1]))
			if a.Rows() <= snapshotRows {
				t.Errorf("Rows() = %d, want more than a snapshot record holds", a.Rows())
			}
			schema, snap := snapshotOf(t, a, mem)
			if len(snap) < 2 {
				t.Errorf("snapshot of %d groups in %d records", a.Rows(), len(snap))
			}
			b, err := NewStreamAgg(env, n)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			err = b.Restore(ctx, schema, snap)
			releaseRecords(snap)
			if err != nil {
				t.Fatal(err)
			}
			want := runSnapSteps(t, a, steps[1:])
			defer releaseSnapOuts(want)
			got := runSnapSteps(t, b, steps[1:])
			defer releaseSnapOuts(got)
			for i := range want {
				if d := sameRecords(got[i].recs, want[i].recs); d != "" {
					t.Fatalf("batch %d emitted %.2000s", i+1, d)
				}
			}
			if len(want[0].recs) == 0 {
				t.Error("nothing emitted")
			}
			s1, r1 := snapshotOf(t, a, mem)
			defer releaseRecords(r1)
			s2, r2 := snapshotOf(t, b, mem)
			defer releaseRecords(r2)
			if d := sameSnapshot(s2, r2, s1, r1); d != "" {
				t.Errorf("final snapshot: %.2000s", d)
			}
		})
	}
}

func TestStreamAggRestoreRefusesTheStateOfAnotherQuery(t *testing.T) {
	ctx := context.Background()
	cols := []plan.Column{{Name: "ws", Type: tTS}, {Name: "we", Type: tTS}, {Name: "k", Type: tText}, {Name: "v", Type: tInt}, {Name: "f", Type: tF64}}
	in := &plan.Input{Source: "e", Cols: cols}
	win := &plan.AggWindow{StartKey: 0, EndKey: 1}
	count := refCall{fn: plan.AggCountStar, col: -1}
	sum := refCall{fn: plan.AggSum, col: 3}
	base := aggPlan(in, []int{2}, []refCall{count, sum}, nil)
	tests := []struct {
		name string
		from *plan.Aggregate
		want string // in the message
	}{
		{"another aggregate function", aggPlan(in, []int{2}, []refCall{count, {fn: plan.AggMax, col: 3}}, nil), "state column 2 is agg1_max int64, this query's is agg1_sum int64"},
		{"a sum over another type", aggPlan(in, []int{2}, []refCall{count, {fn: plan.AggSum, col: 4}}, nil), "agg1_sum float64"},
		{"a DISTINCT aggregate", aggPlan(in, []int{2}, []refCall{count, {fn: plan.AggSum, col: 3, distinct: true}}, nil), "agg1_sum_distinct"},
		{"one aggregate more", aggPlan(in, []int{2}, []refCall{count, sum, count}, nil), "the first extra one is agg2_count_star int64 not null"},
		{"one aggregate less", aggPlan(in, []int{2}, []refCall{count}, nil), "the first missing one is agg1_sum int64"},
		{"another key type", aggPlan(in, []int{3}, []refCall{count, sum}, nil), "state column 0 is key0 int64, this query's is key0 utf8"},
		{"a windowed aggregate", aggPlan(in, []int{0, 1, 2}, []refCall{count, sum}, win), "window_start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			env := &Env{Mem: mem}
			other, err := NewStreamAgg(env, tc.from)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			rec := recordOf(t, mem, cols, [][]any{{micros(0), micros(10), "a", int64(1), 1.5}})
			defer rec.Release()
			if err := other.Fold(ctx, rec); err != nil {
				t.Fatal(err)
			}
			schema, recs := snapshotOf(t, other, mem)
			defer releaseRecords(recs)
			sa, err := NewStreamAgg(env, base)
			if err != nil {
				t.Fatal(err)
			}
			defer sa.Close()
			err = sa.Restore(ctx, schema, recs)
			wantCode(t, err, sqlerr.ObjectNotInPrerequisiteState)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name the difference (%q)", err, tc.want)
			}
		})
	}
	t.Run("a schema without the state format", func(t *testing.T) {
		env := &Env{Mem: checkedMem(t)}
		sa, err := NewStreamAgg(env, base)
		if err != nil {
			t.Fatal(err)
		}
		defer sa.Close()
		err = sa.Restore(ctx, arrow.NewSchema(sa.StateSchema().Fields(), nil), nil)
		wantCode(t, err, sqlerr.ObjectNotInPrerequisiteState)
	})
	t.Run("records of another schema than the snapshot's", func(t *testing.T) {
		mem := checkedMem(t)
		env := &Env{Mem: mem}
		sa, err := NewStreamAgg(env, base)
		if err != nil {
			t.Fatal(err)
		}
		defer sa.Close()
		rec := recordOf(t, mem, cols, [][]any{{nil, nil, "a", int64(1), nil}})
		defer rec.Release()
		err = sa.Restore(ctx, sa.StateSchema(), []arrow.Record{rec})
		wantCode(t, err, sqlerr.ObjectNotInPrerequisiteState)
		if !strings.Contains(err.Error(), "record 0") {
			t.Errorf("error %q does not name the record", err)
		}
	})
}

func TestStreamAggRestoreRefusesACorruptSnapshotAndKeepsItsState(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	env := &Env{Mem: mem}
	cols := []plan.Column{{Name: "g", Type: tInt}, {Name: "v", Type: tInt}}
	n := aggPlan(&plan.Input{Source: "e", Cols: cols}, []int{0},
		[]refCall{{fn: plan.AggCountStar, col: -1}, {fn: plan.AggCount, col: 1, distinct: true}}, nil)
	src, err := NewStreamAgg(env, n)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := bigRecords(t, mem, cols, 0, 70_000, func(i int) []any { return []any{int64(i), int64(i % 3)} })
	for _, r := range recs {
		if err := src.Fold(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	schema, snap := snapshotOf(t, src, mem)
	defer releaseRecords(snap)
	if len(snap) != 2 {
		t.Fatalf("snapshot of %d records, want 2", len(snap))
	}

	sa, err := NewStreamAgg(env, n)
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	mine := recordOf(t, mem, cols, [][]any{{int64(-1), int64(5)}})
	defer mine.Release()
	if err := sa.Fold(ctx, mine); err != nil {
		t.Fatal(err)
	}
	before, _ := sa.EmitChanged(ctx)
	releaseRecords(before)
	s0, r0 := snapshotOf(t, sa, mem)
	defer releaseRecords(r0)

	tests := []struct {
		name string
		recs []arrow.Record
		want string
	}{
		{"a record missing", snap[:1], "records are missing"},
		{"a group twice", []arrow.Record{snap[0], snap[0], snap[1]}, "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := sa.Restore(ctx, schema, tc.recs)
			wantCode(t, err, sqlerr.DataCorrupted)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
			s1, r1 := snapshotOf(t, sa, mem)
			defer releaseRecords(r1)
			if d := sameSnapshot(s1, r1, s0, r0); d != "" {
				t.Errorf("a failed Restore changed the state: %s", d)
			}
		})
	}
	t.Run("a good snapshot replaces the state whole", func(t *testing.T) {
		if err := sa.Restore(ctx, schema, snap); err != nil {
			t.Fatal(err)
		}
		if sa.Rows() != src.Rows() {
			t.Errorf("Rows() = %d, want %d", sa.Rows(), src.Rows())
		}
		s1, r1 := snapshotOf(t, sa, mem)
		defer releaseRecords(r1)
		if d := sameSnapshot(s1, r1, schema, snap); d != "" {
			t.Errorf("restored state: %s", d)
		}
	})
	t.Run("after Close", func(t *testing.T) {
		c, err := NewStreamAgg(env, n)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if err := c.Restore(ctx, schema, snap); err == nil {
			t.Error("Restore after Close succeeded")
		}
		if _, _, err := c.Snapshot(ctx, mem); err == nil {
			t.Error("Snapshot after Close succeeded")
		}
	})
}

func TestStreamAggStateSchemaIsTheSameForEqualPlans(t *testing.T) {
	in := &plan.Input{Source: "e", Cols: eventCols}
	ws, we := len(eventCols), len(eventCols)+1
	hop := plan.NewWindow(in, plan.WindowHop, colRef(0, tTS), 50*time.Microsecond, 7*time.Microsecond)
	mk := func() *plan.Aggregate {
		return aggPlan(hop, []int{ws, we, 1}, snapCalls, &plan.AggWindow{StartKey: 0, EndKey: 1})
	}
	env := &Env{Mem: checkedMem(t)}
	a, err := NewStreamAgg(env, mk())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	renamed := mk()
	for i := range renamed.Cols {
		renamed.Cols[i].Name = fmt.Sprintf("renamed%d", i)
	}
	b, err := NewStreamAgg(env, renamed)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !a.StateSchema().Equal(b.StateSchema()) || a.StateSchema().String() != b.StateSchema().String() {
		t.Errorf("state schemas differ:\n%v\n%v", a.StateSchema(), b.StateSchema())
	}
	var names []string
	for _, f := range a.StateSchema().Fields() {
		names = append(names, f.Name)
	}
	got := strings.Join(names, " ")
	want := "window_start window_end key2 agg0_count_star agg1_count agg2_sum agg3_avg_isum agg3_avg_fsum agg3_avg_count agg4_min agg5_max"
	if !strings.HasPrefix(got, want) {
		t.Errorf("state columns\n%s\nwant them to start\n%s", got, want)
	}
	if !strings.Contains(got, "agg17_count_distinct agg17_count_distinct_values") {
		t.Errorf("state columns %s lack the DISTINCT values", got)
	}
}

// benchStateAgg returns a StreamAgg holding groups groups keyed by (text,
// integer), with count(*), sum, avg, min and max over integers and floats.
func benchStateAgg(b *testing.B, mem memory.Allocator, groups int) (*StreamAgg, *plan.Aggregate) {
	b.Helper()
	cols := []plan.Column{{Name: "k", Type: sqltypes.Text}, {Name: "g", Type: sqltypes.Int64}, {Name: "v", Type: sqltypes.Int32}, {Name: "f", Type: sqltypes.Float64}}
	n := aggPlan(&plan.Input{Source: "e", Cols: cols}, []int{0, 1}, []refCall{
		{fn: plan.AggCountStar, col: -1}, {fn: plan.AggSum, col: 2}, {fn: plan.AggAvg, col: 2},
		{fn: plan.AggMin, col: 2}, {fn: plan.AggMax, col: 3},
	}, nil)
	sa, err := NewStreamAgg(&Env{Mem: mem}, n)
	if err != nil {
		b.Fatal(err)
	}
	schema := schemaOf(cols)
	ctx := context.Background()
	for lo := 0; lo < groups; lo += maxBatchRows {
		hi := min(groups, lo+maxBatchRows)
		kb, gb, vb, fb := array.NewStringBuilder(mem), array.NewInt64Builder(mem), array.NewInt32Builder(mem), array.NewFloat64Builder(mem)
		for i := lo; i < hi; i++ {
			kb.Append(fmt.Sprintf("user%07d", i/4))
			gb.Append(int64(i % 4))
			vb.Append(int32(i % 1000))
			fb.Append(float64(i) / 8)
		}
		arrs := []arrow.Array{kb.NewArray(), gb.NewArray(), vb.NewArray(), fb.NewArray()}
		rec := array.NewRecord(schema, arrs, int64(hi-lo))
		releaseArrays(arrs)
		kb.Release()
		gb.Release()
		vb.Release()
		fb.Release()
		err := sa.Fold(ctx, rec)
		rec.Release()
		if err != nil {
			b.Fatal(err)
		}
	}
	if sa.Rows() != int64(groups) {
		b.Fatalf("%d groups, want %d", sa.Rows(), groups)
	}
	return sa, n
}

const benchStateGroups = 1 << 20

func reportStateRows(b *testing.B, rows int) {
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkStreamAggSnapshot(b *testing.B) {
	mem := memory.NewGoAllocator()
	sa, _ := benchStateAgg(b, mem, benchStateGroups)
	defer sa.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_, recs, err := sa.Snapshot(ctx, mem)
		if err != nil {
			b.Fatal(err)
		}
		releaseRecords(recs)
	}
	reportStateRows(b, benchStateGroups)
}

func BenchmarkStreamAggRestore(b *testing.B) {
	mem := memory.NewGoAllocator()
	sa, n := benchStateAgg(b, mem, benchStateGroups)
	ctx := context.Background()
	schema, recs, err := sa.Snapshot(ctx, mem)
	if err != nil {
		b.Fatal(err)
	}
	defer releaseRecords(recs)
	sa.Close()
	var size int64
	for _, r := range recs {
		for _, c := range r.Columns() {
			for _, buf := range c.Data().Buffers() {
				if buf != nil {
					size += int64(buf.Len())
				}
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		r, err := NewStreamAgg(&Env{Mem: mem}, n)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := r.Restore(ctx, schema, recs); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	reportStateRows(b, benchStateGroups)
	b.ReportMetric(float64(size)/(1<<20), "MiB")
}
