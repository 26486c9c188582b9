package exec

import (
	"fmt"
	"math"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// aggNode returns an Aggregate node, deriving its columns.
func aggNode(input plan.Node, groupBy []plan.Expr, aggs ...plan.AggCall) *plan.Aggregate {
	n := &plan.Aggregate{Input: input, GroupBy: groupBy, Aggs: aggs}
	for i, g := range groupBy {
		n.Cols = append(n.Cols, plan.Column{Name: fmt.Sprintf("g%d", i+1), Type: g.Type()})
	}
	for _, a := range aggs {
		n.Cols = append(n.Cols, plan.Column{Name: string(a.Func), Type: a.T})
	}
	return n
}

func agg(fn plan.AggFunc, arg plan.Expr, t sqltypes.Type) plan.AggCall {
	return plan.AggCall{Func: fn, Arg: arg, T: t}
}

func distinctAgg(fn plan.AggFunc, arg plan.Expr, t sqltypes.Type) plan.AggCall {
	return plan.AggCall{Func: fn, Arg: arg, T: t, Distinct: true}
}

var countStar = plan.AggCall{Func: plan.AggCountStar, T: sqltypes.Int64}

func TestHashAggregate(t *testing.T) {
	env := testEnv(t, 0)
	// g (int, nullable), s (text, nullable), v (int32, nullable), f (float)
	types := []sqltypes.Type{tInt, tText, tInt32, tF64}
	in := batches(types,
		[][]any{{int64(1), "a", int64(10), 1.5}, {int64(2), "b", int64(20), 2.5}, {nil, "a", int64(5), 0.5}},
		[][]any{{int64(1), "b", nil, 3.0}, {int64(2), nil, int64(20), nil}, {nil, "a", int64(10), 1.0}},
		[][]any{{int64(1), "a", int64(30), 4.5}, {int64(3), nil, nil, nil}},
	)
	g, s, v, f := colRef(0, tInt), colRef(1, tText), colRef(2, tInt32), colRef(3, tF64)
	tests := []struct {
		name string
		node plan.Node
		want [][]any // in any order
	}{
		{
			name: "count, sum, avg, min and max per integer group, with NULL keys in one group",
			node: aggNode(in, []plan.Expr{g},
				countStar, agg(plan.AggCount, v, tInt), agg(plan.AggSum, v, tInt), agg(plan.AggAvg, v, tF64),
				agg(plan.AggMin, v, tInt32), agg(plan.AggMax, v, tInt32)),
			want: [][]any{
				{int64(1), int64(3), int64(2), int64(40), 20.0, int64(10), int64(30)},
				{int64(2), int64(2), int64(2), int64(40), 20.0, int64(20), int64(20)},
				{int64(3), int64(1), int64(0), nil, nil, nil, nil},
				{nil, int64(2), int64(2), int64(15), 7.5, int64(5), int64(10)},
			},
		},
		{
			name: "groups of two keys, one of them text with NULLs",
			node: aggNode(in, []plan.Expr{s, g}, countStar, agg(plan.AggSum, f, tF64)),
			want: [][]any{
				{"a", int64(1), int64(2), 6.0},
				{"a", nil, int64(2), 1.5},
				{"b", int64(1), int64(1), 3.0},
				{"b", int64(2), int64(1), 2.5},
				{nil, int64(2), int64(1), nil},
				{nil, int64(3), int64(1), nil},
			},
		},
		{
			name: "min and max of text, count of text",
			node: aggNode(in, []plan.Expr{g}, agg(plan.AggMin, s, tText), agg(plan.AggMax, s, tText), agg(plan.AggCount, s, tInt)),
			want: [][]any{
				{int64(1), "a", "b", int64(3)},
				{int64(2), "b", "b", int64(1)},
				{int64(3), nil, nil, int64(0)},
				{nil, "a", "a", int64(2)},
			},
		},
		{
			name: "distinct aggregates count and sum each value once per group",
			node: aggNode(in, []plan.Expr{s},
				distinctAgg(plan.AggCount, g, tInt), distinctAgg(plan.AggSum, v, tInt), agg(plan.AggSum, v, tInt), distinctAgg(plan.AggAvg, g, tF64)),
			want: [][]any{
				{"a", int64(1), int64(45), int64(55), 1.0},
				{"b", int64(2), int64(20), int64(20), 1.5},
				{nil, int64(2), int64(20), int64(20), 2.5},
			},
		},
		{
			name: "without GROUP BY the whole input is one group",
			node: aggNode(in, nil, countStar, agg(plan.AggSum, v, tInt), agg(plan.AggMax, f, tF64), distinctAgg(plan.AggCount, s, tInt)),
			want: [][]any{{int64(8), int64(95), 4.5, int64(2)}},
		},
		{
			name: "without GROUP BY empty input gives one row: counts are zero, the rest NULL",
			node: aggNode(values(types), nil, countStar, agg(plan.AggCount, v, tInt), agg(plan.AggSum, v, tInt), agg(plan.AggAvg, f, tF64), agg(plan.AggMin, s, tText), distinctAgg(plan.AggCount, g, tInt)),
			want: [][]any{{int64(0), int64(0), nil, nil, nil, int64(0)}},
		},
		{
			name: "with GROUP BY empty input gives no rows",
			node: aggNode(values(types), []plan.Expr{g}, countStar),
			want: nil,
		},
		{
			name: "a group key may be an expression",
			node: aggNode(in, []plan.Expr{call("%", tInt, g, lit(int64(2), tInt))}, countStar),
			want: [][]any{{int64(1), int64(4)}, {int64(0), int64(2)}, {nil, int64(2)}},
		},
		{
			name: "float keys group -0 with 0 and NaN with NaN",
			node: aggNode(values([]sqltypes.Type{tF64}, []any{0.0}, []any{math.Copysign(0, -1)}, []any{math.NaN()}, []any{math.NaN()}, []any{nil}),
				[]plan.Expr{colRef(0, tF64)}, countStar),
			want: [][]any{{0.0, int64(2)}, {math.NaN(), int64(2)}, {nil, int64(1)}},
		},
		{
			name: "min and max over timestamps, dates, booleans and floats",
			node: aggNode(values([]sqltypes.Type{sqltypes.Timestamp, sqltypes.Date, tBool, tF64},
				[]any{ts("2024-05-01 10:00:00"), date("2024-01-31"), true, math.NaN()},
				[]any{ts("2023-05-01 10:00:00"), date("2024-02-01"), false, 2.0},
				[]any{nil, nil, nil, -1.0},
			), nil,
				agg(plan.AggMin, colRef(0, sqltypes.Timestamp), sqltypes.Timestamp), agg(plan.AggMax, colRef(0, sqltypes.Timestamp), sqltypes.Timestamp),
				agg(plan.AggMin, colRef(1, sqltypes.Date), sqltypes.Date), agg(plan.AggMax, colRef(1, sqltypes.Date), sqltypes.Date),
				agg(plan.AggMin, colRef(2, tBool), tBool), agg(plan.AggMax, colRef(2, tBool), tBool),
				agg(plan.AggMin, colRef(3, tF64), tF64), agg(plan.AggMax, colRef(3, tF64), tF64),
			),
			want: [][]any{{ts("2023-05-01 10:00:00"), ts("2024-05-01 10:00:00"), date("2024-01-31"), date("2024-02-01"), false, true, -1.0, math.NaN()}},
		},
		{
			name: "sum of floats is double precision and avg of integers is exact",
			node: aggNode(values([]sqltypes.Type{sqltypes.Float32, tInt}, []any{0.5, int64(math.MaxInt64)}, []any{0.25, int64(math.MaxInt64)}, []any{nil, int64(-math.MaxInt64)}), nil,
				agg(plan.AggSum, colRef(0, sqltypes.Float32), tF64), agg(plan.AggAvg, colRef(1, tInt), tF64)),
			want: [][]any{{0.75, float64(math.MaxInt64) / 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRows(t, fresh(env), tt.node)
			sortRows(got)
			sortRows(tt.want)
			if fmtRows(got) != fmtRows(tt.want) {
				t.Errorf("got\n%swant\n%s", fmtRows(got), fmtRows(tt.want))
			}
		})
	}
}

func TestHashAggregateErrors(t *testing.T) {
	env := testEnv(t, 0)
	tests := []struct {
		name string
		node plan.Node
		code string
	}{
		{
			name: "a bigint sum that overflows is 22003",
			node: aggNode(batches([]sqltypes.Type{tInt}, [][]any{{int64(math.MaxInt64 - 1)}}, [][]any{{int64(2)}}), nil, agg(plan.AggSum, colRef(0, tInt), tInt)),
			code: "22003",
		},
		{
			name: "a negative bigint sum that overflows is 22003",
			node: aggNode(values([]sqltypes.Type{tInt}, []any{int64(math.MinInt64)}, []any{int64(-1)}), []plan.Expr{lit(int64(1), tInt)}, agg(plan.AggSum, colRef(0, tInt), tInt)),
			code: "22003",
		},
		{
			name: "an error in a group key is returned",
			node: aggNode(values([]sqltypes.Type{tInt}, []any{int64(0)}), []plan.Expr{call("/", tInt, lit(int64(1), tInt), colRef(0, tInt))}, countStar),
			code: "22012",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runNode(t, fresh(env), tt.node)
			wantCode(t, err, tt.code)
		})
	}
}
