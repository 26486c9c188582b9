package exec

import (
	"context"
	"math"
	"testing"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

var (
	tInt   = sqltypes.Int64
	tInt32 = sqltypes.Int32
	tText  = sqltypes.Text
	tF64   = sqltypes.Float64
	tBool  = sqltypes.Bool
)

// ints is the input used by several tests: 1..10 in three records.
func ints() plan.Node {
	return batches([]sqltypes.Type{tInt},
		[][]any{{int64(1)}, {int64(2)}, {int64(3)}},
		[][]any{{int64(4)}, {int64(5)}, {int64(6)}},
		[][]any{{int64(7)}, {int64(8)}, {int64(9)}, {int64(10)}},
	)
}

func intRows(vs ...int64) [][]any {
	out := make([][]any, len(vs))
	for i, v := range vs {
		out[i] = []any{v}
	}
	return out
}

func TestScan(t *testing.T) {
	env := testEnv(t, 2)
	def := catalog.TableDef{Name: "t", Columns: []catalog.ColumnDef{{Name: "id", Type: tInt}, {Name: "s", Type: sqltypes.Varchar(10)}}}
	createTable(t, env, def, []any{int64(1), "a"}, []any{int64(2), nil}, []any{int64(3), "c"}, []any{int64(4), "d"}, []any{int64(5), "e"})
	createTable(t, env, catalog.TableDef{Name: "empty", Columns: []catalog.ColumnDef{{Name: "x", Type: tInt}}})

	t.Run("a scan returns every row of a table that spans several chunks", func(t *testing.T) {
		rows, records, err := runNode(t, fresh(env), scanOf(t, env, "t"))
		if err != nil {
			t.Fatal(err)
		}
		sortRows(rows)
		want := [][]any{{int64(1), "a"}, {int64(2), nil}, {int64(3), "c"}, {int64(4), "d"}, {int64(5), "e"}}
		if !sameRows(rows, want) {
			t.Errorf("got\n%swant\n%s", fmtRows(rows), fmtRows(want))
		}
		if records != 3 {
			t.Errorf("got %d records, want 3 (chunks of 2 rows)", records)
		}
	})
	t.Run("a scan of an empty table returns no record", func(t *testing.T) {
		rows, records, err := runNode(t, fresh(env), scanOf(t, env, "empty"))
		if err != nil || len(rows) != 0 || records != 0 {
			t.Errorf("got %d rows in %d records, err %v; want none", len(rows), records, err)
		}
	})
	t.Run("a scan whose columns no longer match the table is refused", func(t *testing.T) {
		stale := &plan.Scan{Table: "t", Cols: []plan.Column{{Name: "id", Type: tText}}}
		_, err := Build(context.Background(), fresh(env), stale)
		wantCode(t, err, "0A000")
	})
	t.Run("a scan of a missing table is 42P01", func(t *testing.T) {
		_, err := Build(context.Background(), fresh(env), &plan.Scan{Table: "nope"})
		wantCode(t, err, "42P01")
	})
}

func TestValues(t *testing.T) {
	env := testEnv(t, 0)
	env.Params = []any{int64(42), "p"}
	tests := []struct {
		name string
		node plan.Node
		want [][]any
	}{
		{
			name: "values produce their literal rows",
			node: values([]sqltypes.Type{tInt, tText}, []any{int64(1), "a"}, []any{nil, "b"}),
			want: [][]any{{int64(1), "a"}, {nil, "b"}},
		},
		{
			name: "a values row without columns is one row",
			node: &plan.Values{Rows: [][]plan.Expr{{}}},
			want: [][]any{{}},
		},
		{
			name: "values evaluate parameters and functions",
			node: &plan.Values{
				Rows: [][]plan.Expr{{&plan.Param{Index: 0, T: tInt}, call("+", tInt, lit(int64(1), tInt), lit(int64(2), tInt)), &plan.Param{Index: 1, T: tText}}},
				Cols: []plan.Column{{Name: "a", Type: tInt}, {Name: "b", Type: tInt}, {Name: "c", Type: tText}},
			},
			want: [][]any{{int64(42), int64(3), "p"}},
		},
		{
			name: "values without rows produce nothing",
			node: values([]sqltypes.Type{tInt}),
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRows(t, fresh(env), tt.node)
			if !sameRows(got, tt.want) {
				t.Errorf("got\n%swant\n%s", fmtRows(got), fmtRows(tt.want))
			}
		})
	}
	t.Run("an error in a values row is returned", func(t *testing.T) {
		n := &plan.Values{Rows: [][]plan.Expr{{call("/", tInt, lit(int64(1), tInt), lit(int64(0), tInt))}}, Cols: []plan.Column{{Name: "x", Type: tInt}}}
		_, _, err := runNode(t, fresh(env), n)
		wantCode(t, err, "22012")
	})
}

func TestFilterAndProject(t *testing.T) {
	env := testEnv(t, 0)
	in := batches([]sqltypes.Type{tInt, tText},
		[][]any{{int64(1), "a"}, {nil, "b"}, {int64(3), nil}},
		[][]any{{int64(4), "d"}},
		[][]any{{int64(5), "e"}, {int64(6), "f"}},
	)
	tests := []struct {
		name string
		node plan.Node
		want [][]any
	}{
		{
			name: "a filter keeps the rows where the predicate is true and drops false and NULL",
			node: &plan.Filter{Input: in, Pred: gt(colRef(0, tInt), lit(int64(2), tInt))},
			want: [][]any{{int64(3), nil}, {int64(4), "d"}, {int64(5), "e"}, {int64(6), "f"}},
		},
		{
			name: "a filter that passes every row returns every row",
			node: &plan.Filter{Input: in, Pred: lit(true, tBool)},
			want: [][]any{{int64(1), "a"}, {nil, "b"}, {int64(3), nil}, {int64(4), "d"}, {int64(5), "e"}, {int64(6), "f"}},
		},
		{
			name: "a filter that passes no row returns nothing",
			node: &plan.Filter{Input: in, Pred: null(tBool)},
			want: nil,
		},
		{
			name: "a projection computes expressions per row",
			node: &plan.Project{
				Input: in,
				Exprs: []plan.Expr{colRef(1, tText), call("+", tInt, colRef(0, tInt), lit(int64(10), tInt)), lit("k", tText)},
				Cols:  []plan.Column{{Name: "s", Type: tText}, {Name: "x", Type: tInt}, {Name: "k", Type: tText}},
			},
			want: [][]any{{"a", int64(11), "k"}, {"b", nil, "k"}, {nil, int64(13), "k"}, {"d", int64(14), "k"}, {"e", int64(15), "k"}, {"f", int64(16), "k"}},
		},
		{
			name: "a projection over a filter sees only the passing rows",
			node: &plan.Project{
				Input: &plan.Filter{Input: in, Pred: call("is_not_null", tBool, colRef(1, tText))},
				Exprs: []plan.Expr{call("||", tText, colRef(1, tText), colRef(1, tText))},
				Cols:  []plan.Column{{Name: "ss", Type: tText}},
			},
			want: [][]any{{"aa"}, {"bb"}, {"dd"}, {"ee"}, {"ff"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRows(t, fresh(env), tt.node)
			if !sameRows(got, tt.want) {
				t.Errorf("got\n%swant\n%s", fmtRows(got), fmtRows(tt.want))
			}
		})
	}
	t.Run("an error in a projection is returned", func(t *testing.T) {
		n := &plan.Project{Input: in, Exprs: []plan.Expr{call("/", tInt, colRef(0, tInt), lit(int64(0), tInt))}, Cols: []plan.Column{{Name: "x", Type: tInt}}}
		_, _, err := runNode(t, fresh(env), n)
		wantCode(t, err, "22012")
	})
}

func TestLimit(t *testing.T) {
	env := testEnv(t, 0)
	env.Params = []any{int64(2), nil}
	i := func(v int64) plan.Expr { return lit(v, tInt) }
	tests := []struct {
		name          string
		count, offset plan.Expr
		want          [][]any
		code          string
	}{
		{name: "a limit passes the first rows", count: i(2), want: intRows(1, 2)},
		{name: "an offset and a limit cross record boundaries", count: i(3), offset: i(4), want: intRows(5, 6, 7)},
		{name: "an offset alone skips rows", offset: i(8), want: intRows(9, 10)},
		{name: "a limit of zero passes nothing", count: i(0), want: nil},
		{name: "a NULL limit is no limit", count: null(tInt), want: intRows(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)},
		{name: "a NULL offset is no offset", count: i(1), offset: &plan.Param{Index: 1, T: tInt}, want: intRows(1)},
		{name: "an offset past the end passes nothing", offset: i(100), want: nil},
		{name: "a limit larger than the input passes everything", count: i(100), offset: i(9), want: intRows(10)},
		{name: "a limit may be a parameter", count: &plan.Param{Index: 0, T: tInt}, want: intRows(1, 2)},
		{name: "a negative limit is 2201W", count: i(-1), code: "2201W"},
		{name: "a negative offset is 2201X", offset: i(-1), code: "2201X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, _, err := runNode(t, fresh(env), &plan.Limit{Input: ints(), Count: tt.count, Offset: tt.offset})
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameRows(rows, tt.want) {
				t.Errorf("got\n%swant\n%s", fmtRows(rows), fmtRows(tt.want))
			}
		})
	}
	t.Run("the negative limit message is PostgreSQL's", func(t *testing.T) {
		_, err := Build(context.Background(), fresh(env), &plan.Limit{Input: ints(), Count: i(-5)})
		if err == nil || err.Error() != "LIMIT must not be negative" {
			t.Errorf("got %v, want LIMIT must not be negative", err)
		}
	})
}

func TestDistinctAndUnionAll(t *testing.T) {
	env := testEnv(t, 0)
	types := []sqltypes.Type{tInt, tText}
	tests := []struct {
		name string
		node plan.Node
		want [][]any
	}{
		{
			name: "distinct keeps the first of equal rows across records and treats NULLs as equal",
			node: &plan.Distinct{Input: batches(types,
				[][]any{{int64(1), "a"}, {nil, "b"}, {int64(1), "a"}, {int64(1), nil}},
				[][]any{{nil, "b"}, {int64(1), nil}, {int64(2), "a"}, {nil, nil}},
				[][]any{{nil, nil}, {int64(1), "a"}},
			)},
			want: [][]any{{int64(1), "a"}, {nil, "b"}, {int64(1), nil}, {int64(2), "a"}, {nil, nil}},
		},
		{
			name: "distinct over empty input is empty",
			node: &plan.Distinct{Input: values(types)},
			want: nil,
		},
		{
			name: "distinct compares floats as SQL does: -0 equals 0, NaN equals NaN",
			node: &plan.Distinct{Input: values([]sqltypes.Type{tF64}, []any{0.0}, []any{math.Copysign(0, -1)}, []any{math.NaN()}, []any{math.NaN()}, []any{1.5})},
			want: [][]any{{0.0}, {math.NaN()}, {1.5}},
		},
		{
			name: "union all concatenates its inputs, skipping empty ones",
			node: &plan.UnionAll{
				Inputs: []plan.Node{
					values(types, []any{int64(1), "a"}),
					values(types),
					values(types, []any{int64(2), nil}, []any{int64(1), "a"}),
				},
				Cols: []plan.Column{{Name: "x", Type: tInt}, {Name: "y", Type: tText}},
			},
			want: [][]any{{int64(1), "a"}, {int64(2), nil}, {int64(1), "a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRows(t, fresh(env), tt.node)
			if fmtRows(got) != fmtRows(tt.want) { // NaN != NaN under DeepEqual
				t.Errorf("got\n%swant\n%s", fmtRows(got), fmtRows(tt.want))
			}
		})
	}
}

func TestSort(t *testing.T) {
	env := testEnv(t, 0)
	types := []sqltypes.Type{tInt, tText}
	in := batches(types,
		[][]any{{int64(3), "c"}, {nil, "n1"}, {int64(1), "a1"}},
		[][]any{{int64(2), "b"}, {int64(1), "a2"}, {nil, "n2"}},
		[][]any{{int64(1), "a3"}},
	)
	key := func(i int, t sqltypes.Type, desc, nullsFirst bool) plan.SortKey {
		return plan.SortKey{Expr: colRef(i, t), Desc: desc, NullsFirst: nullsFirst}
	}
	tests := []struct {
		name string
		node plan.Node
		want [][]any
	}{
		{
			name: "ascending with NULLs last keeps equal keys in input order",
			node: &plan.Sort{Input: in, Keys: []plan.SortKey{key(0, tInt, false, false)}},
			want: [][]any{{int64(1), "a1"}, {int64(1), "a2"}, {int64(1), "a3"}, {int64(2), "b"}, {int64(3), "c"}, {nil, "n1"}, {nil, "n2"}},
		},
		{
			name: "descending with NULLs first",
			node: &plan.Sort{Input: in, Keys: []plan.SortKey{key(0, tInt, true, true)}},
			want: [][]any{{nil, "n1"}, {nil, "n2"}, {int64(3), "c"}, {int64(2), "b"}, {int64(1), "a1"}, {int64(1), "a2"}, {int64(1), "a3"}},
		},
		{
			name: "ascending with NULLs first and descending with NULLs last",
			node: &plan.Sort{Input: in, Keys: []plan.SortKey{key(0, tInt, true, false)}},
			want: [][]any{{int64(3), "c"}, {int64(2), "b"}, {int64(1), "a1"}, {int64(1), "a2"}, {int64(1), "a3"}, {nil, "n1"}, {nil, "n2"}},
		},
		{
			name: "a second key orders rows the first leaves equal",
			node: &plan.Sort{Input: in, Keys: []plan.SortKey{key(0, tInt, false, true), key(1, tText, true, false)}},
			want: [][]any{{nil, "n2"}, {nil, "n1"}, {int64(1), "a3"}, {int64(1), "a2"}, {int64(1), "a1"}, {int64(2), "b"}, {int64(3), "c"}},
		},
		{
			name: "text sorts bytewise",
			node: &plan.Sort{Input: values([]sqltypes.Type{tText}, []any{"b"}, []any{"é"}, []any{"B"}, []any{"a"}, []any{""}, []any{"ab"}), Keys: []plan.SortKey{key(0, tText, false, false)}},
			want: [][]any{{""}, {"B"}, {"a"}, {"ab"}, {"b"}, {"é"}},
		},
		{
			name: "floats sort NaN above infinity",
			node: &plan.Sort{Input: values([]sqltypes.Type{tF64}, []any{math.NaN()}, []any{math.Inf(1)}, []any{-1.5}, []any{nil}, []any{math.Inf(-1)}), Keys: []plan.SortKey{key(0, tF64, false, false)}},
			want: [][]any{{math.Inf(-1)}, {-1.5}, {math.Inf(1)}, {math.NaN()}, {nil}},
		},
		{
			name: "timestamps, dates and booleans sort by value",
			node: &plan.Sort{
				Input: values([]sqltypes.Type{sqltypes.Timestamp, sqltypes.Date, tBool},
					[]any{ts("2024-01-02 00:00:00"), date("2020-01-01"), true},
					[]any{ts("2023-12-31 23:59:59"), date("2021-01-01"), false},
				),
				Keys: []plan.SortKey{key(0, sqltypes.Timestamp, false, false)},
			},
			want: [][]any{{ts("2023-12-31 23:59:59"), date("2021-01-01"), false}, {ts("2024-01-02 00:00:00"), date("2020-01-01"), true}},
		},
		{
			name: "a sort key may be an expression",
			node: &plan.Sort{Input: values([]sqltypes.Type{tInt}, []any{int64(1)}, []any{int64(-3)}, []any{int64(2)}), Keys: []plan.SortKey{{Expr: call("abs", tInt, colRef(0, tInt))}}},
			want: intRows(1, 2, -3),
		},
		{
			name: "sorting empty input gives nothing",
			node: &plan.Sort{Input: values(types), Keys: []plan.SortKey{key(0, tInt, false, false)}},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRows(t, fresh(env), tt.node)
			if fmtRows(got) != fmtRows(tt.want) {
				t.Errorf("got\n%swant\n%s", fmtRows(got), fmtRows(tt.want))
			}
		})
	}
}

func TestOperatorsCutLargeOutputsIntoRecords(t *testing.T) {
	env := testEnv(t, 50_000)
	const n = 150_000
	def := catalog.TableDef{Name: "big", Columns: []catalog.ColumnDef{{Name: "id", Type: tInt}, {Name: "g", Type: tInt}}}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(n - i), int64(i % 70_000)}
	}
	createTable(t, env, def, rows...)
	scan := scanOf(t, env, "big")
	tests := []struct {
		name        string
		node        plan.Node
		wantRows    int
		wantRecords int
	}{
		{
			name:        "a sort of 150k rows returns three records",
			node:        &plan.Sort{Input: scan, Keys: []plan.SortKey{{Expr: colRef(0, tInt)}}},
			wantRows:    n,
			wantRecords: 3,
		},
		{
			name:        "an aggregate with 70k groups returns two records",
			node:        aggNode(scan, []plan.Expr{colRef(1, tInt)}, plan.AggCall{Func: plan.AggCountStar, T: tInt}),
			wantRows:    70_000,
			wantRecords: 2,
		},
		{
			name: "a join producing 90k rows returns two records",
			node: &plan.Join{
				Left:  &plan.Filter{Input: scan, Pred: call("<=", tBool, colRef(0, tInt), lit(int64(300), tInt))},
				Right: &plan.Filter{Input: scan, Pred: call("<=", tBool, colRef(0, tInt), lit(int64(300), tInt))},
				Kind:  plan.JoinInner,
			},
			wantRows:    90_000,
			wantRecords: 2,
		},
		{
			name:        "a keyed join of two 150k-row inputs matches each row once",
			node:        &plan.Join{Left: scan, Right: scan, Kind: plan.JoinLeft, LeftKeys: []plan.Expr{colRef(0, tInt)}, RightKeys: []plan.Expr{colRef(0, tInt)}},
			wantRows:    n,
			wantRecords: 3,
		},
		{
			name: "a distinct over 150k rows with 70k distinct values returns what is new in each record",
			node: &plan.Distinct{Input: &plan.Project{
				Input: scan,
				Exprs: []plan.Expr{&plan.Cast{Arg: colRef(1, tInt), T: tText, Explicit: true}},
				Cols:  []plan.Column{{Name: "g", Type: tText}},
			}},
			wantRows:    70_000,
			wantRecords: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, records, err := runNode(t, fresh(env), tt.node)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantRows || records != tt.wantRecords {
				t.Errorf("got %d rows in %d records, want %d rows in %d records", len(got), records, tt.wantRows, tt.wantRecords)
			}
		})
	}
	t.Run("the sorted output is in order", func(t *testing.T) {
		got := mustRows(t, fresh(env), &plan.Sort{Input: scan, Keys: []plan.SortKey{{Expr: colRef(0, tInt)}}})
		for i, r := range got {
			if r[0] != int64(i+1) {
				t.Fatalf("row %d is %v, want %d", i, r[0], i+1)
			}
		}
	})
}

func TestCancelledContextStopsAScan(t *testing.T) {
	env := testEnv(t, 0)
	createTable(t, env, catalog.TableDef{Name: "t", Columns: []catalog.ColumnDef{{Name: "x", Type: tInt}}}, []any{int64(1)})
	ctx, cancel := context.WithCancel(context.Background())
	op, err := Build(ctx, env, scanOf(t, env, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	cancel()
	_, err = op.Next(ctx)
	wantCode(t, err, "57014")
}
