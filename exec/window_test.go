package exec

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

var tTS = sqltypes.Timestamp

// recordOf builds a record of columns cols from Go values.
func recordOf(t testing.TB, mem memory.Allocator, cols []plan.Column, rows [][]any) arrow.Record {
	t.Helper()
	schema := schemaOf(cols)
	arrs := make([]arrow.Array, len(cols))
	for c, col := range cols {
		b := array.NewBuilder(mem, col.Type.Arrow())
		for _, r := range rows {
			if err := expr.AppendValue(b, r[c]); err != nil {
				t.Fatalf("column %s: %v", col.Name, err)
			}
		}
		arrs[c] = b.NewArray()
		b.Release()
	}
	defer releaseArrays(arrs)
	return array.NewRecord(schema, arrs, int64(len(rows)))
}

// rowsOf returns the rows of rec as Go values.
func rowsOf(rec arrow.Record) [][]any {
	rows := make([][]any, rec.NumRows())
	for i := range rows {
		row := make([]any, rec.NumCols())
		for c := range row {
			row[c] = expr.ValueAt(rec.Column(c), i)
		}
		rows[i] = row
	}
	return rows
}

// inputOf registers batches of rows as the records of source name in env
// and returns the Input node reading them. The records are released when
// the test ends.
func inputOf(t testing.TB, env *Env, name string, cols []plan.Column, batches ...[][]any) *plan.Input {
	t.Helper()
	op := &recordsOp{schema: schemaOf(cols)}
	for _, b := range batches {
		op.recs = append(op.recs, recordOf(t, env.mem(), cols, b))
	}
	t.Cleanup(func() { releaseRecords(op.recs) })
	if env.Inputs == nil {
		env.Inputs = make(map[string]Operator)
	}
	env.Inputs[name] = op
	return &plan.Input{Source: name, Cols: cols}
}

// micros is the time µs microseconds after the epoch.
func micros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// refStarts returns the starts of the windows [k*slide, k*slide+size)
// holding t, ascending, by big-integer floor division (a second way to
// the answer windowOp computes).
func refStarts(t, size, slide int64) []int64 {
	q := new(big.Int).Div(big.NewInt(t), big.NewInt(slide)) // Euclidean: floor for slide > 0
	var out []int64
	for k := q.Int64(); k*slide+size > t; k-- {
		out = append([]int64{k * slide}, out...)
	}
	return out
}

// refWindowRows is the expected output of a window over rows whose
// column tcol is the time.
func refWindowRows(rows [][]any, tcol int, size, slide time.Duration) [][]any {
	var out [][]any
	sz, sl := size.Microseconds(), slide.Microseconds()
	for _, r := range rows {
		tv, ok := r[tcol].(time.Time)
		if !ok {
			continue
		}
		for _, s := range refStarts(tv.UnixMicro(), sz, sl) {
			row := append(append([]any{}, r...), micros(s), micros(s+sz))
			out = append(out, row)
		}
	}
	return out
}

var windowCols = []plan.Column{{Name: "ts", Type: tTS}, {Name: "v", Type: tInt}}

func TestTumbleAssignsEachRowItsEpochAlignedWindow(t *testing.T) {
	const sec = int64(time.Second / time.Microsecond)
	tests := []struct {
		name  string
		size  time.Duration
		times []int64 // µs since the epoch
		// starts are the window starts wanted, row by row (checked
		// besides the reference computation).
		starts []int64
	}{
		{
			name:   "times on and just before a boundary",
			size:   10 * time.Second,
			times:  []int64{0, 10*sec - 1, 10 * sec, 25 * sec},
			starts: []int64{0, 0, 10 * sec, 20 * sec},
		},
		{
			name:   "times before the epoch fall in the window that starts at or before them",
			size:   10 * time.Second,
			times:  []int64{-1, -10 * sec, -10*sec - 1, -25 * sec},
			starts: []int64{-10 * sec, -10 * sec, -20 * sec, -30 * sec},
		},
		{
			name:   "a record inside one window",
			size:   time.Hour,
			times:  []int64{3600*sec + 5, 3600*sec + 1, 7200*sec - 1},
			starts: []int64{3600 * sec, 3600 * sec, 3600 * sec},
		},
		{
			name:   "a record whose last time starts the next window",
			size:   10 * time.Microsecond,
			times:  []int64{1, 10},
			starts: []int64{0, 10},
		},
		{
			name:   "a window size that does not divide a day",
			size:   7 * time.Microsecond,
			times:  []int64{-8, -7, -1, 0, 6, 7, 13, 14},
			starts: []int64{-14, -7, -7, 0, 0, 7, 7, 14},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := testEnv(t, 0)
			var rows [][]any
			for i, us := range tc.times {
				rows = append(rows, []any{micros(us), int64(i)})
			}
			in := inputOf(t, env, "src", windowCols, rows)
			got := mustRows(t, env, plan.NewWindow(in, plan.WindowTumble, colRef(0, tTS), tc.size, 0))
			want := refWindowRows(rows, 0, tc.size, tc.size)
			if !sameRows(got, want) {
				t.Fatalf("got\n%swant\n%s", fmtRows(got), fmtRows(want))
			}
			for i, s := range tc.starts {
				if got[i][2] != micros(s) || got[i][3] != micros(s+tc.size.Microseconds()) {
					t.Errorf("row %d (%d µs): window [%v, %v), want start %v", i, tc.times[i], got[i][2], got[i][3], micros(s))
				}
			}
		})
	}
}

func TestWindowDropsRowsWithoutATime(t *testing.T) {
	for _, kind := range []plan.WindowKind{plan.WindowTumble, plan.WindowHop} {
		t.Run(kind.String(), func(t *testing.T) {
			env := testEnv(t, 0)
			b1 := [][]any{{nil, int64(1)}, {micros(5), int64(2)}, {nil, int64(3)}, {micros(-5), int64(4)}}
			b2 := [][]any{{nil, int64(5)}, {nil, int64(6)}}
			b3 := [][]any{{micros(11), int64(7)}}
			in := inputOf(t, env, "src", windowCols, b1, b2, b3)
			size, slide := 10*time.Microsecond, 5*time.Microsecond
			got, records, err := runNode(t, env, plan.NewWindow(in, kind, colRef(0, tTS), size, slide))
			if err != nil {
				t.Fatal(err)
			}
			if kind == plan.WindowTumble {
				slide = size
			}
			want := refWindowRows(append(append(b1, b2...), b3...), 0, size, slide)
			if !sameWindowRows(got, want) {
				t.Fatalf("got\n%swant\n%s", fmtRows(got), fmtRows(want))
			}
			// None for the record whose times are all NULL. A hop
			// gathers the rows of b1 into one record, and sends b3, whose
			// rows all have a time, once per window of a row (2).
			wantRecords := 2
			if kind == plan.WindowHop {
				wantRecords = 3
			}
			if records != wantRecords {
				t.Errorf("got %d records, want %d", records, wantRecords)
			}
		})
	}
}

func TestTumblePassesTheInputArraysOnUncopied(t *testing.T) {
	env := testEnv(t, 0)
	in := inputOf(t, env, "src", windowCols, [][]any{{micros(1), int64(1)}, {micros(2), nil}})
	src := env.Inputs["src"].(*recordsOp).recs[0]
	ctx := context.Background()
	op, err := Build(ctx, env, plan.NewWindow(in, plan.WindowTumble, colRef(0, tTS), time.Second, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	rec, err := op.Next(ctx)
	if err != nil || rec == nil {
		t.Fatalf("Next = %v, %v", rec, err)
	}
	for i := range src.NumCols() {
		if rec.Column(int(i)) != src.Column(int(i)) {
			t.Errorf("column %d was copied", i)
		}
	}
	if rec.NumCols() != 4 {
		t.Errorf("got %d columns, want 4", rec.NumCols())
	}
}

func TestHopOfRowsThatAllHaveATimeSendsTheInputArraysOncePerWindow(t *testing.T) {
	env := testEnv(t, 0)
	rows := [][]any{{micros(1), int64(1)}, {micros(7), int64(2)}, {micros(12), nil}}
	in := inputOf(t, env, "src", windowCols, rows)
	src := env.Inputs["src"].(*recordsOp).recs[0]
	ctx := context.Background()
	// Size 10 µs, slide 5 µs: every row is in 2 windows.
	op, err := Build(ctx, env, plan.NewWindow(in, plan.WindowHop, colRef(0, tTS), 10*time.Microsecond, 5*time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	var starts [][]any
	for j := range 2 {
		rec, err := op.Next(ctx)
		if err != nil || rec == nil {
			t.Fatalf("Next %d = %v, %v", j, rec, err)
		}
		for i := range src.NumCols() {
			if rec.Column(int(i)) != src.Column(int(i)) {
				t.Errorf("record %d: column %d was copied", j, i)
			}
		}
		var s []any
		for r := range int(rec.NumRows()) {
			s = append(s, expr.ValueAt(rec.Column(2), r))
		}
		starts = append(starts, s)
	}
	if rec, err := op.Next(ctx); rec != nil || err != nil {
		t.Fatalf("a third record: %v, %v", rec, err)
	}
	// The earlier window of every row, then the later one.
	want := [][]any{{micros(-5), micros(0), micros(5)}, {micros(0), micros(5), micros(10)}}
	if !reflect.DeepEqual(starts, want) {
		t.Fatalf("window starts %v, want %v", starts, want)
	}
}

// sameWindowRows reports whether the rows of a window (time, v, start,
// end) are those of want in any order: a hop sends the windows of a
// record's rows window by window.
func sameWindowRows(got, want [][]any) bool {
	key := func(r []any) string { return fmt.Sprint(r...) }
	sorted := func(rows [][]any) []string {
		keys := make([]string, len(rows))
		for i, r := range rows {
			keys[i] = key(r)
		}
		slices.Sort(keys)
		return keys
	}
	return slices.Equal(sorted(got), sorted(want))
}

func TestHopAssignsEveryWindowHoldingARow(t *testing.T) {
	tests := []struct {
		name        string
		size, slide time.Duration
		times       []int64
		perRow      []int // windows wanted per row, besides the reference
	}{
		{
			name: "slide divides size: size/slide windows per row",
			size: 10 * time.Microsecond, slide: 5 * time.Microsecond,
			times:  []int64{0, 4, 5, 9, 10, -1, -5, -6},
			perRow: []int{2, 2, 2, 2, 2, 2, 2, 2},
		},
		{
			name: "slide does not divide size: rows in 2 or 3 windows",
			size: 10 * time.Microsecond, slide: 4 * time.Microsecond,
			times:  []int64{0, 1, 2, 3, -1, -2, -3, -4, 17, 18},
			perRow: []int{3, 3, 2, 2, 2, 2, 3, 3, 3, 2},
		},
		{
			name: "slide equal to size is a tumble",
			size: 3 * time.Microsecond, slide: 3 * time.Microsecond,
			times:  []int64{-4, -3, 0, 2, 3},
			perRow: []int{1, 1, 1, 1, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := testEnv(t, 0)
			var rows [][]any
			for i, us := range tc.times {
				rows = append(rows, []any{micros(us), int64(i)})
			}
			in := inputOf(t, env, "src", windowCols, rows)
			got := mustRows(t, env, plan.NewWindow(in, plan.WindowHop, colRef(0, tTS), tc.size, tc.slide))
			want := refWindowRows(rows, 0, tc.size, tc.slide)
			if !sameWindowRows(got, want) {
				t.Fatalf("got\n%swant\n%s", fmtRows(got), fmtRows(want))
			}
			per := make([]int, len(rows))
			for _, r := range got {
				per[r[1].(int64)]++
				start, end, ts := r[2].(time.Time), r[3].(time.Time), r[0].(time.Time)
				if ts.Before(start) || !ts.Before(end) || start.UnixMicro()%tc.slide.Microseconds() != 0 {
					t.Errorf("row at %v in window [%v, %v)", ts, start, end)
				}
			}
			if fmt.Sprint(per) != fmt.Sprint(tc.perRow) {
				t.Errorf("windows per row %v, want %v", per, tc.perRow)
			}
		})
	}
}

func TestWindowsOfRandomTimesMatchTheReference(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for round := range 30 {
		size := time.Duration(1+rng.Intn(50)) * time.Microsecond
		slide := time.Duration(1+rng.Int63n(int64(size/time.Microsecond))) * time.Microsecond
		kind := plan.WindowKind(round % 2)
		if kind == plan.WindowTumble {
			slide = size
		}
		t.Run(fmt.Sprintf("%s size %s slide %s", kind, size, slide), func(t *testing.T) {
			env := testEnv(t, 0)
			var batches [][][]any
			var rows [][]any
			for b := 0; b < 1+rng.Intn(4); b++ {
				var batch [][]any
				for i := 0; i < 1+rng.Intn(40); i++ {
					var ts any
					if rng.Intn(8) > 0 {
						ts = micros(rng.Int63n(400) - 200)
					}
					batch = append(batch, []any{ts, int64(len(rows))})
					rows = append(rows, batch[len(batch)-1])
				}
				batches = append(batches, batch)
			}
			in := inputOf(t, env, "src", windowCols, batches...)
			got := mustRows(t, env, plan.NewWindow(in, kind, colRef(0, tTS), size, slide))
			want := refWindowRows(rows, 0, size, slide)
			if !sameWindowRows(got, want) {
				t.Fatalf("got\n%swant\n%s", fmtRows(got), fmtRows(want))
			}
		})
	}
}

func TestHopOutputIsCutIntoRecordsOfAtMostMaxBatchRows(t *testing.T) {
	env := testEnv(t, 0)
	var rows [][]any
	for i := range 20000 {
		rows = append(rows, []any{micros(int64(i)), int64(i)})
	}
	in := inputOf(t, env, "src", windowCols, rows)
	got, records, err := runNode(t, env, plan.NewWindow(in, plan.WindowHop, colRef(0, tTS), 4*time.Microsecond, time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	want := refWindowRows(rows, 0, 4*time.Microsecond, time.Microsecond)
	if len(got) != len(want) || !sameWindowRows(got, want) {
		t.Fatalf("got %d rows, want %d (or they differ)", len(got), len(want))
	}
	if min := (len(want) + maxBatchRows - 1) / maxBatchRows; records < min {
		t.Errorf("got %d records, want at least %d", records, min)
	}
}

func TestWindowRejectsBadBounds(t *testing.T) {
	tests := []struct {
		name        string
		kind        plan.WindowKind
		size, slide time.Duration
		timeType    sqltypes.Type
		code        string
	}{
		{"a zero size", plan.WindowTumble, 0, 0, tTS, sqlerr.InvalidParameterValue},
		{"a negative size", plan.WindowTumble, -time.Second, 0, tTS, sqlerr.InvalidParameterValue},
		{"a zero slide", plan.WindowHop, time.Second, 0, tTS, sqlerr.InvalidParameterValue},
		{"a negative slide", plan.WindowHop, time.Second, -time.Second, tTS, sqlerr.InvalidParameterValue},
		{"a slide longer than the size", plan.WindowHop, time.Second, 2 * time.Second, tTS, sqlerr.InvalidParameterValue},
		{"a size in fractions of a microsecond", plan.WindowTumble, 1500 * time.Nanosecond, 0, tTS, sqlerr.InvalidParameterValue},
		{"a time that is not a timestamp", plan.WindowTumble, time.Second, 0, tInt, sqlerr.DatatypeMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := testEnv(t, 0)
			in := inputOf(t, env, "src", windowCols, [][]any{{micros(1), int64(1)}})
			tcol := colRef(0, tTS)
			if tc.timeType != tTS {
				tcol = colRef(1, tc.timeType)
			}
			_, _, err := runNode(t, env, plan.NewWindow(in, tc.kind, tcol, tc.size, tc.slide))
			wantCode(t, err, tc.code)
		})
	}
}

func TestWindowOfATimeAtTheEndOfTimeIsAnError(t *testing.T) {
	for _, kind := range []plan.WindowKind{plan.WindowTumble, plan.WindowHop} {
		for _, us := range []int64{math.MaxInt64 - 5, math.MinInt64 + 5} {
			t.Run(fmt.Sprintf("%s at %d", kind, us), func(t *testing.T) {
				env := testEnv(t, 0)
				// Build the timestamp directly: the value is beyond what a
				// time.Time converts exactly.
				b := array.NewTimestampBuilder(env.mem(), tTS.Arrow().(*arrow.TimestampType))
				b.Append(arrow.Timestamp(us))
				ts := b.NewArray()
				b.Release()
				vb := array.NewInt64Builder(env.mem())
				vb.Append(1)
				v := vb.NewArray()
				vb.Release()
				rec := array.NewRecord(schemaOf(windowCols), []arrow.Array{ts, v}, 1)
				ts.Release()
				v.Release()
				t.Cleanup(rec.Release)
				env.Inputs = map[string]Operator{"src": &recordsOp{schema: rec.Schema(), recs: []arrow.Record{rec}}}
				in := &plan.Input{Source: "src", Cols: windowCols}
				_, _, err := runNode(t, env, plan.NewWindow(in, kind, colRef(0, tTS), 10*time.Microsecond, 5*time.Microsecond))
				wantCode(t, err, sqlerr.DatetimeFieldOverflow)
			})
		}
	}
}
