package exec

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// arrayOf builds an array of type t from Go values.
func arrayOf(t *testing.T, env *Env, typ sqltypes.Type, vals ...any) arrow.Array {
	t.Helper()
	b := array.NewBuilder(env.mem(), typ.Arrow())
	defer b.Release()
	for _, v := range vals {
		if err := expr.AppendValue(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return b.NewArray()
}

func valuesOfArray(a arrow.Array) []any {
	out := make([]any, a.Len())
	for i := range out {
		out[i] = expr.ValueAt(a, i)
	}
	return out
}

func TestTake(t *testing.T) {
	env := testEnv(t, 0)
	iv := func(m, d int32, us int64) sqltypes.Interval { return sqltypes.Interval{Months: m, Days: d, Micros: us} }
	tests := []struct {
		name string
		typ  sqltypes.Type
		vals []any // the first value is sliced off before taking
	}{
		{"booleans", tBool, []any{false, true, nil, false, true}},
		{"smallints", sqltypes.Int16, []any{int64(9), int64(1), nil, int64(-3), int64(4)}},
		{"integers", tInt32, []any{int64(9), int64(1), nil, int64(-3), int64(4)}},
		{"bigints", tInt, []any{int64(9), int64(1), nil, int64(-3), int64(4)}},
		{"reals", sqltypes.Float32, []any{9.0, 1.5, nil, -3.0, 4.25}},
		{"doubles", tF64, []any{9.0, 1.5, nil, -3.0, 4.25}},
		{"texts", tText, []any{"skip", "a", nil, "", "dd"}},
		{"timestamps", sqltypes.Timestamp, []any{ts("2000-01-01 00:00:00"), ts("2024-02-29 12:34:56"), nil, ts("1999-12-31 23:59:59"), ts("2030-01-01 00:00:00")}},
		{"dates", sqltypes.Date, []any{date("2000-01-01"), date("2024-02-29"), nil, date("1970-01-01"), date("2030-01-01")}},
		{"intervals", sqltypes.IntervalT, []any{iv(0, 0, 0), iv(1, 2, 3), nil, iv(0, -1, 5), iv(12, 0, 0)}},
	}
	idx := []int32{3, -1, 0, 1, 1, 2}
	for _, tt := range tests {
		t.Run("take gathers "+tt.name+" from a sliced array, -1 giving NULL", func(t *testing.T) {
			full := arrayOf(t, env, tt.typ, tt.vals...)
			defer full.Release()
			sliced := array.NewSlice(full, 1, int64(full.Len()))
			defer sliced.Release()
			got, err := take(env.mem(), sliced, idx)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			src := tt.vals[1:]
			want := make([]any, len(idx))
			for i, j := range idx {
				if j >= 0 {
					want[i] = src[j]
				}
			}
			if g := valuesOfArray(got); fmt.Sprint(g) != fmt.Sprint(want) {
				t.Errorf("got %v, want %v", g, want)
			}
			wantNulls := 0
			for _, v := range want {
				if v == nil {
					wantNulls++
				}
			}
			if got.NullN() != wantNulls {
				t.Errorf("got %d nulls, want %d", got.NullN(), wantNulls)
			}
		})
		t.Run("take of a run of "+tt.name+" is a slice sharing the array's buffers", func(t *testing.T) {
			full := arrayOf(t, env, tt.typ, tt.vals...)
			defer full.Release()
			sliced := array.NewSlice(full, 1, int64(full.Len()))
			defer sliced.Release()
			got, err := take(env.mem(), sliced, []int32{1, 2, 3})
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			if g, want := valuesOfArray(got), tt.vals[2:5]; fmt.Sprint(g) != fmt.Sprint(want) {
				t.Errorf("got %v, want %v", g, want)
			}
			if got.NullN() != 1 {
				t.Errorf("got %d nulls, want 1", got.NullN())
			}
			gb, fb := got.Data().Buffers(), full.Data().Buffers()
			if gb[len(gb)-1] != fb[len(fb)-1] {
				t.Errorf("the values were copied")
			}
		})
	}
}

// TestHashTableAgreesWithAMap feeds random keys with NULLs through the
// hash table in several batches and checks it against a map of printed
// keys: equal keys get equal entries, entries are numbered in order of
// first appearance, and the stored keys come back as they were seen.
func TestHashTableAgreesWithAMap(t *testing.T) {
	env := testEnv(t, 0)
	rng := rand.New(rand.NewSource(1))
	types := []sqltypes.Type{tInt32, tText, tF64}
	ht, err := newHashTable([]arrow.DataType{types[0].Arrow(), types[1].Arrow(), types[2].Arrow()}, false)
	if err != nil {
		t.Fatal(err)
	}
	ref := map[string]int32{}
	var firstSeen [][]any
	pick := func(domain int, mk func(int) any) any {
		k := rng.Intn(domain + 1)
		if k == domain {
			return nil
		}
		return mk(k)
	}
	for batch := 0; batch < 5; batch++ {
		n := []int{1, 3000, 0, 5000, 4097}[batch]
		cols := make([][]any, 3)
		for i := 0; i < n; i++ {
			cols[0] = append(cols[0], pick(40, func(k int) any { return int64(k - 20) }))
			cols[1] = append(cols[1], pick(30, func(k int) any { return fmt.Sprintf("s%d", k) }))
			cols[2] = append(cols[2], pick(3, func(k int) any { return float64(k) / 2 }))
		}
		arrs := make([]arrow.Array, 3)
		for c := range arrs {
			arrs[c] = arrayOf(t, env, types[c], cols[c]...)
		}
		if err := ht.bind(arrs, nil, n); err != nil {
			t.Fatal(err)
		}
		got := make([]int32, n)
		inserted := make([]bool, n)
		ht.findOrInsertAll(got, inserted, false)
		for i := 0; i < n; i++ {
			key := fmt.Sprint(cols[0][i], "|", cols[1][i], "|", cols[2][i])
			want, ok := ref[key]
			if !ok {
				want = int32(len(ref))
				ref[key] = want
				firstSeen = append(firstSeen, []any{cols[0][i], cols[1][i], cols[2][i]})
			}
			if got[i] != want || inserted[i] == ok {
				t.Fatalf("batch %d row %d key %s: got entry %d (inserted %v), want %d (inserted %v)", batch, i, key, got[i], inserted[i], want, !ok)
			}
		}
		found := make([]int32, n)
		ht.findAll(found)
		for i := 0; i < n; i++ {
			want := got[i]
			if cols[0][i] == nil || cols[1][i] == nil || cols[2][i] == nil {
				want = -1
			}
			if found[i] != want {
				t.Fatalf("batch %d row %d: find gave %d, want %d", batch, i, found[i], want)
			}
		}
		releaseArrays(arrs)
	}
	keys, err := ht.keyArrays(env.mem(), []arrow.DataType{types[0].Arrow(), types[1].Arrow(), types[2].Arrow()})
	if err != nil {
		t.Fatal(err)
	}
	defer releaseArrays(keys)
	for e, want := range firstSeen {
		got := []any{expr.ValueAt(keys[0], e), expr.ValueAt(keys[1], e), expr.ValueAt(keys[2], e)}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("entry %d: got key %v, want %v", e, got, want)
		}
	}
	if int(ht.n) != len(ref) {
		t.Errorf("got %d entries, want %d", ht.n, len(ref))
	}
}

func TestOperatorsOverSlicedRecords(t *testing.T) {
	env := testEnv(t, 0)
	types := []sqltypes.Type{tInt, tText}
	// A limit with an offset hands on sliced records (array offset != 0).
	in := &plan.Limit{Offset: lit(int64(1), tInt), Input: batches(types,
		[][]any{{int64(100), "skipped"}, {int64(2), nil}, {int64(1), "a"}, {nil, "b"}, {int64(2), nil}, {int64(1), "a"}},
	)}
	tests := []struct {
		name string
		node plan.Node
		want [][]any // in any order
	}{
		{"distinct", &plan.Distinct{Input: in}, [][]any{{int64(2), nil}, {int64(1), "a"}, {nil, "b"}}},
		{"sort", &plan.Sort{Input: in, Keys: []plan.SortKey{{Expr: colRef(0, tInt), NullsFirst: true}}}, [][]any{{nil, "b"}, {int64(1), "a"}, {int64(1), "a"}, {int64(2), nil}, {int64(2), nil}}},
		{"aggregate", aggNode(in, []plan.Expr{colRef(1, tText)}, countStar, agg(plan.AggSum, colRef(0, tInt), tInt)), [][]any{{nil, int64(2), int64(4)}, {"a", int64(2), int64(2)}, {"b", int64(1), nil}}},
		{"join", &plan.Join{Left: in, Right: in, Kind: plan.JoinInner, LeftKeys: []plan.Expr{colRef(1, tText)}, RightKeys: []plan.Expr{colRef(1, tText)}},
			[][]any{{int64(1), "a", int64(1), "a"}, {int64(1), "a", int64(1), "a"}, {int64(1), "a", int64(1), "a"}, {int64(1), "a", int64(1), "a"}, {nil, "b", nil, "b"}}},
		{"filter", &plan.Filter{Input: in, Pred: call("is_null", tBool, colRef(1, tText))}, [][]any{{int64(2), nil}, {int64(2), nil}}},
	}
	for _, tt := range tests {
		t.Run("a "+tt.name+" reads records sliced by a limit", func(t *testing.T) {
			got := mustRows(t, fresh(env), tt.node)
			sortRows(got)
			sortRows(tt.want)
			if fmtRows(got) != fmtRows(tt.want) {
				t.Errorf("got\n%swant\n%s", fmtRows(got), fmtRows(tt.want))
			}
		})
	}
}

func TestIntervalsCompareAsPostgreSQLDoes(t *testing.T) {
	env := testEnv(t, 0)
	iv := func(m, d int32, us int64) sqltypes.Interval { return sqltypes.Interval{Months: m, Days: d, Micros: us} }
	in := values([]sqltypes.Type{sqltypes.IntervalT}, []any{iv(1, 0, 0)}, []any{iv(0, 30, 0)}, []any{iv(0, 1, 0)}, []any{iv(0, 0, 86400_000_000)}, []any{iv(0, 0, -1)}, []any{nil})
	col := colRef(0, sqltypes.IntervalT)
	t.Run("a month equals thirty days and a day equals 24 hours when grouping", func(t *testing.T) {
		got := mustRows(t, fresh(env), aggNode(in, []plan.Expr{col}, countStar))
		sortRows(got)
		want := [][]any{{iv(0, 0, -1), int64(1)}, {iv(0, 1, 0), int64(2)}, {iv(1, 0, 0), int64(2)}, {nil, int64(1)}}
		sortRows(want)
		if fmtRows(got) != fmtRows(want) {
			t.Errorf("got\n%swant\n%s", fmtRows(got), fmtRows(want))
		}
	})
	t.Run("intervals sort by their length", func(t *testing.T) {
		got := mustRows(t, fresh(env), &plan.Sort{Input: in, Keys: []plan.SortKey{{Expr: col, Desc: true}}})
		want := [][]any{{iv(1, 0, 0)}, {iv(0, 30, 0)}, {iv(0, 1, 0)}, {iv(0, 0, 86400_000_000)}, {iv(0, 0, -1)}, {nil}}
		if fmtRows(got) != fmtRows(want) {
			t.Errorf("got\n%swant\n%s", fmtRows(got), fmtRows(want))
		}
	})
	t.Run("min and max of intervals", func(t *testing.T) {
		got := mustRows(t, fresh(env), aggNode(in, nil, agg(plan.AggMin, col, sqltypes.IntervalT), agg(plan.AggMax, col, sqltypes.IntervalT)))
		want := [][]any{{iv(0, 0, -1), iv(1, 0, 0)}}
		if fmtRows(got) != fmtRows(want) {
			t.Errorf("got\n%swant\n%s", fmtRows(got), fmtRows(want))
		}
	})
}
