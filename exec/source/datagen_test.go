package source

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
)

// genCols has a column of every type, some with default generators and
// some configured (genFields).
var genCols = []Column{
	{"i16", sqltypes.Int16},
	{"i32", sqltypes.Int32},
	{"i64", sqltypes.Int64},
	{"f32", sqltypes.Float32},
	{"f64", sqltypes.Float64},
	{"b", sqltypes.Bool},
	{"vc", sqltypes.Varchar(5)},
	{"t", sqltypes.Text},
	{"ts", sqltypes.Timestamp},
	{"d", sqltypes.Date},
	{"iv", sqltypes.IntervalT},
	{"seq", sqltypes.Int64},
	{"pick", sqltypes.Text},
	{"tseq", sqltypes.Text},
	{"tsr", sqltypes.Timestamp},
	{"ivs", sqltypes.IntervalT},
	{"long", sqltypes.Text},
}

var genFields = []FieldOptions{
	11: {Kind: GenSequence, Start: int64(100), Step: int64(-3)},
	12: {Kind: GenChoices, Choices: []any{"red", "green", nil, "blue"}},
	13: {Kind: GenSequence, Start: int64(7), Step: int64(11)},
	14: {Kind: GenRandom},
	15: {Kind: GenSequence, Step: sqltypes.Interval{Months: 1, Days: 2, Micros: 3}},
	16: {Length: 33},
}

func newGen(t *testing.T, cols []Column, opts DatagenOptions, now func() time.Time) *Datagen {
	t.Helper()
	d, err := NewDatagen(cols, opts, now)
	if err != nil {
		t.Fatalf("NewDatagen: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// readColumns reads [s, e) in records of at most maxRows rows and returns
// each column as one array; the caller releases them.
func readColumns(t *testing.T, src Source, mem memory.Allocator, s, e int64, maxRows int) []arrow.Array {
	t.Helper()
	recs, err := src.Read(context.Background(), mem, Offsets{0: s}, Offsets{0: e}, maxRows)
	if err != nil {
		t.Fatalf("Read [%d, %d): %v", s, e, err)
	}
	defer release(recs)
	return concatColumns(t, recs, mem)
}

func concatColumns(t *testing.T, recs []arrow.Record, mem memory.Allocator) []arrow.Array {
	t.Helper()
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	out := make([]arrow.Array, recs[0].NumCols())
	for c := range out {
		var arrs []arrow.Array
		for _, r := range recs {
			if r.NumRows() > 0 {
				arrs = append(arrs, r.Column(c))
			}
		}
		var err error
		if out[c], err = array.Concatenate(arrs, mem); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func releaseArrays(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// due makes rows [0, n) of d readable (an unlimited source moves by
// UnlimitedStep per Latest call).
func due(t *testing.T, d *Datagen, n int64) {
	t.Helper()
	for latest(t, d) < n {
	}
}

func TestDatagenGivesTheSameValuesWholeOrInParts(t *testing.T) {
	mem := checkedAlloc(t)
	d := newGen(t, genCols, DatagenOptions{Seed: 7, Fields: genFields}, nil)
	due(t, d, 2000)
	whole := readColumns(t, d, mem, 0, 2000, 2000)
	defer releaseArrays(whole)

	// The same range in parts, in another order, with another batch size,
	// and from another source with the same options.
	d2 := newGen(t, genCols, DatagenOptions{Seed: 7, Fields: genFields}, nil)
	due(t, d2, 2000)
	pieces := map[int64][]arrow.Record{}
	for _, r := range [][2]int64{{1500, 2000}, {0, 1}, {1, 17}, {17, 1024}, {1024, 1500}} {
		recs, err := d2.Read(context.Background(), mem, Offsets{0: r[0]}, Offsets{0: r[1]}, 7)
		if err != nil {
			t.Fatal(err)
		}
		defer release(recs)
		pieces[r[0]] = recs
	}
	var parts []arrow.Record
	for _, s := range []int64{0, 1, 17, 1024, 1500} {
		parts = append(parts, pieces[s]...)
	}
	inParts := concatColumns(t, parts, mem)
	defer releaseArrays(inParts)
	for c := range whole {
		if !array.Equal(whole[c], inParts[c]) {
			t.Errorf("column %s differs when read in parts", genCols[c].Name)
		}
	}

	// A middle range equals the matching slice of the whole.
	mid := readColumns(t, d, mem, 333, 777, 50)
	defer releaseArrays(mid)
	for c := range whole {
		want := array.NewSlice(whole[c], 333, 777)
		if !array.Equal(mid[c], want) {
			t.Errorf("column %s: [333, 777) differs from the slice of the whole", genCols[c].Name)
		}
		want.Release()
	}
}

func TestDatagenSeedsGiveDifferentValues(t *testing.T) {
	mem := checkedAlloc(t)
	read := func(seed uint64) []arrow.Array {
		d := newGen(t, genCols, DatagenOptions{Seed: seed, Fields: genFields}, nil)
		due(t, d, 200)
		return readColumns(t, d, mem, 0, 200, 64)
	}
	a, a2, b := read(1), read(1), read(2)
	defer releaseArrays(a)
	defer releaseArrays(a2)
	defer releaseArrays(b)
	for c, col := range genCols {
		if !array.Equal(a[c], a2[c]) {
			t.Errorf("column %s differs between two sources with seed 1", col.Name)
		}
		random := !(col.Name == "ts" || col.Name == "d" || col.Name == "seq" || col.Name == "tseq" || col.Name == "ivs")
		if random && array.Equal(a[c], b[c]) {
			t.Errorf("random column %s is the same with seeds 1 and 2", col.Name)
		}
		if !random && !array.Equal(a[c], b[c]) {
			t.Errorf("sequence column %s depends on the seed", col.Name)
		}
	}
	// Two columns with the same type and options still differ.
	if array.Equal(a[2], a[11]) || equalValues(a[7], a[12]) {
		t.Error("columns with the same options repeat each other")
	}
	cols := []Column{{"x", sqltypes.Int64}, {"y", sqltypes.Int64}}
	d := newGen(t, cols, DatagenOptions{Seed: 1}, nil)
	due(t, d, 100)
	xy := readColumns(t, d, mem, 0, 100, 100)
	defer releaseArrays(xy)
	if array.Equal(xy[0], xy[1]) {
		t.Error("two default BIGINT columns are equal")
	}
}

func equalValues(a, b arrow.Array) bool {
	if a.Len() != b.Len() {
		return false
	}
	for i := range a.Len() {
		if fmt.Sprint(expr.ValueAt(a, i)) != fmt.Sprint(expr.ValueAt(b, i)) {
			return false
		}
	}
	return true
}

func TestDatagenLatestFollowsTheRate(t *testing.T) {
	clock := newFakeClock()
	d := newGen(t, kv, DatagenOptions{RowsPerSecond: 100, MaxRows: 1234}, clock.Now)
	steps := []struct {
		advance time.Duration
		want    int64
	}{
		{0, 0},
		{9 * time.Millisecond, 0},
		{time.Millisecond, 1},
		{990 * time.Millisecond, 100},
		{1500 * time.Millisecond, 250},
		{-2 * time.Second, 250}, // the clock went back: Latest does not
		{2*time.Second + 5*time.Millisecond, 250},
		{5 * time.Millisecond, 251},
		{time.Hour, 1234}, // MaxRows
		{time.Hour, 1234},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if got := latest(t, d); got != s.want {
			t.Fatalf("step %d (+%v): Latest = %d, want %d", i, s.advance, got, s.want)
		}
	}
	if got := earliest(t, d); got != 0 {
		t.Fatalf("Earliest = %d, want 0", got)
	}
}

func TestDatagenLatestWithoutARateMovesByUnlimitedStep(t *testing.T) {
	d := newGen(t, kv, DatagenOptions{}, nil)
	for i := int64(1); i <= 3; i++ {
		if got := latest(t, d); got != i*UnlimitedStep {
			t.Fatalf("call %d: Latest = %d, want %d", i, got, i*UnlimitedStep)
		}
	}
	capped := newGen(t, kv, DatagenOptions{MaxRows: UnlimitedStep + 5}, nil)
	for i, want := range []int64{UnlimitedStep, UnlimitedStep + 5, UnlimitedStep + 5} {
		if got := latest(t, capped); got != want {
			t.Fatalf("call %d: Latest = %d, want %d", i, got, want)
		}
	}
}

func TestDatagenReadStopsAtLatest(t *testing.T) {
	mem := checkedAlloc(t)
	clock := newFakeClock()
	d := newGen(t, kv, DatagenOptions{Name: "gen", RowsPerSecond: 10}, clock.Now)
	// Nothing is due before Latest says so.
	_, err := d.Read(context.Background(), mem, Offsets{0: 0}, Offsets{0: 1}, 10)
	assertCode(t, err, sqlerr.InvalidParameterValue, "gen")
	clock.Advance(time.Second)
	if got := latest(t, d); got != 10 {
		t.Fatalf("Latest = %d, want 10", got)
	}
	if got := readRows(t, d, mem, 0, 10, 3); len(got) != 10 {
		t.Fatalf("read %d rows, want 10", len(got))
	}
	_, err = d.Read(context.Background(), mem, Offsets{0: 5}, Offsets{0: 11}, 10)
	assertCode(t, err, sqlerr.InvalidParameterValue, "gen")
	_, err = d.Read(context.Background(), mem, Offsets{0: 0}, Offsets{0: 5}, 0)
	assertCode(t, err, sqlerr.InvalidParameterValue, "maxRows")
}

func TestDatagenKinds(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := sqltypes.ParseText(sqltypes.Timestamp, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.(time.Time)
	}
	day := func(s string) time.Time {
		v, err := sqltypes.ParseText(sqltypes.Date, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.(time.Time)
	}
	// seqOf checks that value i is want(i).
	seqOf := func(want func(i int64) any) func(t *testing.T, vals []any) {
		return func(t *testing.T, vals []any) {
			for i, v := range vals {
				w := want(int64(i))
				if !equalRows([][]any{{v}}, [][]any{{w}}) {
					t.Fatalf("value %d = %v, want %v", i, v, w)
				}
			}
		}
	}
	// within checks every value with ok and that every value of all turns
	// up; without all, that the values are not all alike (100 distinct).
	within := func(ok func(v any) bool, all ...any) func(t *testing.T, vals []any) {
		return func(t *testing.T, vals []any) {
			seen := map[string]bool{}
			for i, v := range vals {
				if !ok(v) {
					t.Fatalf("value %d = %v is out of range", i, v)
				}
				seen[fmt.Sprint(v)] = true
			}
			for _, a := range all {
				if !seen[fmt.Sprint(a)] {
					t.Fatalf("value %v never came up in %d rows", a, len(vals))
				}
			}
			if len(all) == 0 && len(seen) < 100 {
				t.Fatalf("only %d distinct values in %d rows", len(seen), len(vals))
			}
		}
	}
	inInts := func(lo, hi int64) func(v any) bool {
		return func(v any) bool { x := v.(int64); return x >= lo && x <= hi }
	}
	inFloats := func(lo, hi float64) func(v any) bool {
		return func(v any) bool { x := v.(float64); return x >= lo && x <= hi && !math.IsNaN(x) }
	}
	inTimes := func(lo, hi time.Time) func(v any) bool {
		return func(v any) bool { x := v.(time.Time); return !x.Before(lo) && !x.After(hi) }
	}
	textOf := func(length int) func(v any) bool {
		return func(v any) bool {
			s := v.(string)
			return len(s) == length && strings.Trim(s, alphabet) == ""
		}
	}
	ints := func(lo, hi int64) []any {
		var out []any
		for i := lo; i <= hi; i++ {
			out = append(out, i)
		}
		return out
	}
	intervals := func(lo, hi int64) []any {
		var out []any
		for i := lo; i <= hi; i++ {
			out = append(out, sqltypes.Interval{Micros: i})
		}
		return out
	}
	tests := []struct {
		name  string
		typ   sqltypes.Type
		opts  FieldOptions
		check func(t *testing.T, vals []any)
	}{
		{"a smallint sequence wraps at the type's range", sqltypes.Int16, FieldOptions{Start: int64(32760), Step: int64(3)},
			seqOf(func(i int64) any { return int64(int16(32760 + 3*i)) })},
		{"an integer sequence by default counts from 0", sqltypes.Int32, FieldOptions{Kind: GenSequence},
			seqOf(func(i int64) any { return i })},
		{"a bigint sequence can step down", sqltypes.Int64, FieldOptions{Start: int64(-10), Step: int64(-2)},
			seqOf(func(i int64) any { return -10 - 2*i })},
		{"a random smallint by default is in 0..1000", sqltypes.Int16, FieldOptions{},
			within(inInts(0, 1000))},
		{"a random integer range is inclusive", sqltypes.Int32, FieldOptions{Min: int64(-5), Max: int64(5)},
			within(inInts(-5, 5), ints(-5, 5)...)},
		{"a random bigint can span the whole type", sqltypes.Int64, FieldOptions{Min: int64(math.MinInt64), Max: int64(math.MaxInt64)},
			within(func(v any) bool { return true }, nil...)},
		{"a one-value integer range", sqltypes.Int64, FieldOptions{Kind: GenRandom, Min: int64(42), Max: int64(42)},
			seqOf(func(i int64) any { return int64(42) })},
		{"integer choices", sqltypes.Int64, FieldOptions{Choices: []any{int64(7), int64(11), int64(13)}},
			within(inInts(7, 13), int64(7), int64(11), int64(13))},
		{"a real sequence", sqltypes.Float32, FieldOptions{Start: 0.5, Step: 0.25},
			seqOf(func(i int64) any { return 0.5 + 0.25*float64(i) })},
		{"a random real range", sqltypes.Float32, FieldOptions{Min: 1.5, Max: 2.5},
			within(inFloats(1.5, 2.5))},
		{"a random double by default is in [0, 1]", sqltypes.Float64, FieldOptions{},
			within(inFloats(0, 1))},
		{"a random double over the whole type stays finite", sqltypes.Float64, FieldOptions{Min: -math.MaxFloat64, Max: math.MaxFloat64},
			within(func(v any) bool { return !math.IsInf(v.(float64), 0) && !math.IsNaN(v.(float64)) })},
		{"double choices", sqltypes.Float64, FieldOptions{Choices: []any{0.5, -1.0}},
			within(func(v any) bool { return v == 0.5 || v == -1.0 }, 0.5, -1.0)},
		{"random booleans", sqltypes.Bool, FieldOptions{},
			within(func(v any) bool { return true }, true, false)},
		{"boolean choices", sqltypes.Bool, FieldOptions{Choices: []any{true}},
			seqOf(func(i int64) any { return true })},
		{"random text by default has 8 characters", sqltypes.Text, FieldOptions{},
			within(textOf(8))},
		{"random varchar by default fits the width", sqltypes.Varchar(3), FieldOptions{},
			within(textOf(3))},
		{"random text of a given length", sqltypes.Text, FieldOptions{Length: 25},
			within(textOf(25))},
		{"a text sequence is decimal", sqltypes.Text, FieldOptions{Start: int64(-3), Step: int64(2)},
			seqOf(func(i int64) any { return fmt.Sprint(-3 + 2*i) })},
		{"a varchar sequence is cut to the width", sqltypes.Varchar(2), FieldOptions{Start: int64(98), Step: int64(1)},
			seqOf(func(i int64) any { s := fmt.Sprint(98 + i); return s[:min(2, len(s))] })},
		{"text choices", sqltypes.Varchar(3), FieldOptions{Choices: []any{"a", "bb", "ccc", nil}},
			within(func(v any) bool { return v == nil || v == "a" || v == "bb" || v == "ccc" }, "a", "bb", "ccc", nil)},
		{"a timestamp sequence by default counts milliseconds from 2024", sqltypes.Timestamp, FieldOptions{},
			seqOf(func(i int64) any { return datagenEpoch.Add(time.Duration(i) * time.Millisecond) })},
		{"a timestamp sequence by months", sqltypes.Timestamp, FieldOptions{Start: ts("2024-01-31 10:00:00"), Step: sqltypes.Interval{Months: 1, Micros: 1}},
			seqOf(func(i int64) any {
				return ts("2024-01-31 10:00:00").AddDate(0, int(i), 0).Add(time.Duration(i) * time.Microsecond)
			})},
		{"random timestamps by default fall on 2024-01-01", sqltypes.Timestamp, FieldOptions{Kind: GenRandom},
			within(inTimes(ts("2024-01-01 00:00:00"), ts("2024-01-01 23:59:59.999999")))},
		{"a random timestamp range", sqltypes.Timestamp, FieldOptions{Min: ts("1999-12-31 23:59:59"), Max: ts("2000-01-01 00:00:01")},
			within(inTimes(ts("1999-12-31 23:59:59"), ts("2000-01-01 00:00:01")))},
		{"timestamp choices", sqltypes.Timestamp, FieldOptions{Choices: []any{ts("2020-05-05 05:05:05")}},
			seqOf(func(i int64) any { return ts("2020-05-05 05:05:05") })},
		{"a date sequence by default counts days from 2024", sqltypes.Date, FieldOptions{},
			seqOf(func(i int64) any { return datagenEpoch.AddDate(0, 0, int(i)) })},
		{"a date sequence by weeks", sqltypes.Date, FieldOptions{Start: day("2023-12-25"), Step: sqltypes.Interval{Days: 7}},
			seqOf(func(i int64) any { return day("2023-12-25").AddDate(0, 0, 7*int(i)) })},
		{"random dates by default fall in 2024", sqltypes.Date, FieldOptions{Kind: GenRandom},
			within(inTimes(day("2024-01-01"), day("2024-12-31")), day("2024-01-01"), day("2024-12-31"))},
		{"a random date range", sqltypes.Date, FieldOptions{Min: day("2024-02-27"), Max: day("2024-03-01")},
			within(inTimes(day("2024-02-27"), day("2024-03-01")), day("2024-02-27"), day("2024-02-28"), day("2024-02-29"), day("2024-03-01"))},
		{"date choices", sqltypes.Date, FieldOptions{Choices: []any{day("2024-07-04"), day("1970-01-01")}},
			within(func(v any) bool { return true }, day("2024-07-04"), day("1970-01-01"))},
		{"an interval sequence by default counts seconds", sqltypes.IntervalT, FieldOptions{Kind: GenSequence},
			seqOf(func(i int64) any { return sqltypes.Interval{Micros: i * 1_000_000} })},
		{"an interval sequence with every field", sqltypes.IntervalT, FieldOptions{Start: sqltypes.Interval{Months: 1}, Step: sqltypes.Interval{Months: 2, Days: 3, Micros: 4}},
			seqOf(func(i int64) any { return sqltypes.Interval{Months: int32(1 + 2*i), Days: int32(3 * i), Micros: 4 * i} })},
		{"random intervals by default are within an hour", sqltypes.IntervalT, FieldOptions{},
			within(func(v any) bool {
				x := v.(sqltypes.Interval)
				return x.Months == 0 && x.Days == 0 && x.Micros >= 0 && x.Micros <= 3_600_000_000
			})},
		{"a random interval range", sqltypes.IntervalT, FieldOptions{Min: sqltypes.Interval{Days: 1}, Max: sqltypes.Interval{Days: 1, Micros: 10}},
			within(func(v any) bool {
				x := v.(sqltypes.Interval)
				return x.Months == 0 && x.Days == 0 && x.Micros >= 86_400_000_000 && x.Micros <= 86_400_000_010
			}, intervals(86_400_000_000, 86_400_000_010)...)},
		{"interval choices", sqltypes.IntervalT, FieldOptions{Choices: []any{sqltypes.Interval{Months: 14}}},
			seqOf(func(i int64) any { return sqltypes.Interval{Months: 14} })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := checkedAlloc(t)
			cols := []Column{{"x", tt.typ}}
			d := newGen(t, cols, DatagenOptions{Seed: 3, Fields: []FieldOptions{tt.opts}}, nil)
			due(t, d, 2000)
			recs, err := d.Read(context.Background(), mem, Offsets{0: 0}, Offsets{0: 2000}, 300)
			if err != nil {
				t.Fatal(err)
			}
			defer release(recs)
			if dt := recs[0].Column(0).DataType(); !arrow.TypeEqual(dt, tt.typ.Arrow()) {
				t.Fatalf("column type %s, want %s", dt, tt.typ.Arrow())
			}
			var vals []any
			for _, r := range rows(recs) {
				vals = append(vals, r[0])
			}
			tt.check(t, vals)
		})
	}
}

func TestDatagenRejectsBadFieldOptions(t *testing.T) {
	tests := []struct {
		name string
		typ  sqltypes.Type
		opts FieldOptions
		key  string
	}{
		{"min above max", sqltypes.Int64, FieldOptions{Min: int64(5), Max: int64(4)}, "fields.x.min"},
		{"a smallint max out of range", sqltypes.Int16, FieldOptions{Max: int64(40000)}, "fields.x.max"},
		{"an integer start out of range", sqltypes.Int32, FieldOptions{Start: int64(1 << 40)}, "fields.x.start"},
		{"a real max out of range", sqltypes.Float32, FieldOptions{Max: 1e39}, "fields.x.max"},
		{"an infinite double", sqltypes.Float64, FieldOptions{Min: math.Inf(-1)}, "fields.x.min"},
		{"a value of the wrong Go type", sqltypes.Int64, FieldOptions{Min: 1.5}, "fields.x.min"},
		{"an empty choice list", sqltypes.Text, FieldOptions{Kind: GenChoices}, "fields.x.choices"},
		{"a choice of the wrong type", sqltypes.Int64, FieldOptions{Choices: []any{"seven"}}, "fields.x.choices"},
		{"a choice too long for the varchar", sqltypes.Varchar(2), FieldOptions{Choices: []any{"ab", "abc"}}, "fields.x.choices"},
		{"a text min (random text has no range)", sqltypes.Text, FieldOptions{Min: "a"}, "fields.x.min"},
		{"a boolean max", sqltypes.Bool, FieldOptions{Max: true}, "fields.x.max"},
		{"a boolean sequence asked for by its start", sqltypes.Bool, FieldOptions{Start: true}, "fields.x.start"},
		{"a boolean sequence asked for by its kind", sqltypes.Bool, FieldOptions{Kind: GenSequence}, "fields.x.kind"},
		{"a length for a sequence", sqltypes.Text, FieldOptions{Kind: GenSequence, Length: 3}, "fields.x.length"},
		{"a length longer than the varchar", sqltypes.Varchar(4), FieldOptions{Length: 5}, "fields.x.length"},
		{"a negative length", sqltypes.Text, FieldOptions{Length: -1}, "fields.x.length"},
		{"a start for random values", sqltypes.Int64, FieldOptions{Kind: GenRandom, Start: int64(1)}, "fields.x.start"},
		{"choices for a sequence", sqltypes.Int64, FieldOptions{Kind: GenSequence, Choices: []any{int64(1)}}, "fields.x.choices"},
		{"a date step of hours", sqltypes.Date, FieldOptions{Step: sqltypes.Interval{Micros: 3_600_000_000}}, "fields.x.step"},
		{"a timestamp step that is not an interval", sqltypes.Timestamp, FieldOptions{Step: int64(1)}, "fields.x.step"},
		{"a random interval max in months", sqltypes.IntervalT, FieldOptions{Max: sqltypes.Interval{Months: 1}}, "fields.x.max"},
		{"a random interval min above max", sqltypes.IntervalT, FieldOptions{Min: sqltypes.Interval{Days: 2}, Max: sqltypes.Interval{Days: 1}}, "fields.x.min"},
		{"min after max for timestamps", sqltypes.Timestamp, FieldOptions{Min: datagenEpoch.Add(time.Hour), Max: datagenEpoch}, "fields.x.min"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDatagen([]Column{{"x", tt.typ}}, DatagenOptions{Fields: []FieldOptions{tt.opts}}, nil)
			assertCode(t, err, sqlerr.InvalidParameterValue, tt.key)
		})
	}
	for _, tt := range []struct {
		name string
		opts DatagenOptions
		key  string
	}{
		{"a negative rate", DatagenOptions{RowsPerSecond: -1}, "rows_per_second"},
		{"a negative row limit", DatagenOptions{MaxRows: -1}, "max_rows"},
		{"more fields than columns", DatagenOptions{Fields: make([]FieldOptions, 3)}, "fields"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDatagen(kv, tt.opts, nil)
			assertCode(t, err, sqlerr.InvalidParameterValue, tt.key)
		})
	}
}
