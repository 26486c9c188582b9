package expr

import (
	"math"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/planner/plan"
)

func TestCase(t *testing.T) {
	x := ref(0, i32)
	s := ref(1, txt)
	i := func(v int64) *plan.Literal { return lit(v, i32) }
	xs := column{t: i32, vals: []any{int64(0), int64(5), nil, int64(-2), int64(0), int64(10)}}
	ss := column{t: txt, vals: []any{"a", "b", nil, "d", "e", "f"}}
	tests := []struct {
		name string
		e    plan.Expr
		want []any
		code string
	}{
		{
			name: "an ELSE arm is not evaluated for rows a WHEN took, so it does not divide by zero",
			e: &plan.Case{T: i32, Whens: []plan.When{{Cond: fn("=", bln, x, i(0)), Then: i(0)}},
				Else: fn("/", i32, i(10), x)},
			want: []any{int64(0), int64(2), nil, int64(-5), int64(0), int64(1)},
		},
		{
			name: "a THEN arm is evaluated only for the rows its WHEN took",
			e: &plan.Case{T: i32, Whens: []plan.When{{Cond: fn("<>", bln, x, i(0)), Then: fn("/", i32, i(100), x)}},
				Else: i(-1)},
			want: []any{int64(-1), int64(20), int64(-1), int64(-50), int64(-1), int64(10)},
		},
		{
			name: "the first true WHEN wins and a NULL condition falls through",
			e: &plan.Case{T: txt, Whens: []plan.When{
				{Cond: fn(">", bln, x, i(3)), Then: lit("big", txt)},
				{Cond: fn(">=", bln, x, i(0)), Then: s},
			}, Else: lit("neg or null", txt)},
			want: []any{"a", "big", "neg or null", "neg or null", "e", "big"},
		},
		{
			name: "a CASE without ELSE is NULL where no WHEN holds",
			e:    &plan.Case{T: txt, Whens: []plan.When{{Cond: fn("=", bln, x, i(5)), Then: s}}, Else: lit(nil, txt)},
			want: []any{nil, "b", nil, nil, nil, nil},
		},
		{
			name: "a constant true WHEN takes every row",
			e:    &plan.Case{T: i32, Whens: []plan.When{{Cond: lit(true, bln), Then: x}}, Else: fn("/", i32, i(1), i(0))},
			want: []any{int64(0), int64(5), nil, int64(-2), int64(0), int64(10)},
		},
		{
			name: "a constant false WHEN is skipped and its THEN never runs",
			e:    &plan.Case{T: i32, Whens: []plan.When{{Cond: lit(false, bln), Then: fn("/", i32, i(1), i(0))}}, Else: i(7)},
			want: []any{int64(7), int64(7), int64(7), int64(7), int64(7), int64(7)},
		},
		{
			name: "an arm that fails for rows that reach it raises the error",
			e:    &plan.Case{T: i32, Whens: []plan.When{{Cond: fn(">", bln, x, i(3)), Then: i(1)}}, Else: fn("/", i32, i(1), x)},
			code: sqlerr.DivisionByZero,
		},
		{
			name: "nested CASE arms see only their rows",
			e: &plan.Case{T: i32, Whens: []plan.When{{Cond: fn("is_not_null", bln, x),
				Then: &plan.Case{T: i32, Whens: []plan.When{{Cond: fn("=", bln, x, i(0)), Then: i(0)}}, Else: fn("/", i32, i(20), x)}}},
				Else: i(99)},
			want: []any{int64(0), int64(4), int64(99), int64(-10), int64(0), int64(2)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMem(t)
			rec := record(t, mem, xs, ss)
			defer rec.Release()
			got, err := evalAllRows(t, mem, tc.e, rec)
			if tc.code != "" {
				if errCode(err) != tc.code {
					t.Fatalf("got error %v, want SQLSTATE %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameAll(got, tc.want) {
				t.Fatalf("got %s, want %s", showAll(got), showAll(tc.want))
			}
		})
	}
}

func TestCoalesceNullifGreatestLeast(t *testing.T) {
	runCalls(t, []callCase{
		{name: "COALESCE returns the first non-NULL argument", fn: "coalesce", t: i32, args: []arg{{nil, i32}, {int64(2), i32}, {int64(3), i32}}, want: int64(2)},
		{name: "COALESCE of all NULLs is NULL", fn: "coalesce", t: txt, args: []arg{{nil, txt}, {nil, txt}}, want: nil},
		{name: "COALESCE of one argument is that argument", fn: "coalesce", t: txt, args: []arg{{"x", txt}}, want: "x"},
		{name: "NULLIF of equal values is NULL", fn: "nullif", t: i32, args: []arg{{int64(1), i32}, {int64(1), i32}}, want: nil},
		{name: "NULLIF of different values is the first", fn: "nullif", t: i32, args: []arg{{int64(1), i32}, {int64(2), i32}}, want: int64(1)},
		{name: "NULLIF with a NULL second argument is the first", fn: "nullif", t: txt, args: []arg{{"a", txt}, {nil, txt}}, want: "a"},
		{name: "NULLIF with a NULL first argument is NULL", fn: "nullif", t: txt, args: []arg{{nil, txt}, {"a", txt}}, want: nil},
		{name: "GREATEST ignores NULLs", fn: "greatest", t: i64, args: []arg{{int64(1), i64}, {nil, i64}, {int64(3), i64}}, want: int64(3)},
		{name: "GREATEST of all NULLs is NULL", fn: "greatest", t: i64, args: []arg{{nil, i64}, {nil, i64}}, want: nil},
		{name: "LEAST picks the smallest text bytewise", fn: "least", t: txt, args: []arg{{"b", txt}, {"B", txt}, {"a", txt}}, want: "B"},
		{name: "GREATEST treats NaN as the largest double", fn: "greatest", t: f64, args: []arg{{1.0, f64}, {math.NaN(), f64}}, want: math.NaN()},
		{name: "LEAST of timestamps is the earliest", fn: "least", t: tsT, args: []arg{{ts("2024-05-01"), tsT}, {ts("2023-01-01"), tsT}}, want: ts("2023-01-01")},
		{name: "GREATEST of booleans is true if any is", fn: "greatest", t: bln, args: []arg{{false, bln}, {true, bln}}, want: true},
		{name: "GREATEST of intervals compares spans", fn: "greatest", t: ivT, args: []arg{{iv(1, 0, 0), ivT}, {iv(0, 31, 0), ivT}}, want: iv(0, 31, 0)},
	})
}

func TestCoalesceEvaluatesLaterArgumentsOnlyWhereNeeded(t *testing.T) {
	mem := newMem(t)
	rec := record(t, mem,
		column{t: i32, vals: []any{int64(1), nil, int64(3), nil}},
		column{t: i32, vals: []any{int64(0), int64(2), int64(0), nil}},
	)
	defer rec.Release()
	// COALESCE(a, 10 / b, -1): b is 0 only where a is not NULL
	e := fn("coalesce", i32, ref(0, i32), fn("/", i32, lit(int64(10), i32), ref(1, i32)), lit(int64(-1), i32))
	got, err := evalAllRows(t, mem, e, rec)
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{int64(1), int64(5), int64(3), int64(-1)}; !sameAll(got, want) {
		t.Fatalf("got %s, want %s", showAll(got), showAll(want))
	}
}

func TestIn(t *testing.T) {
	runCalls(t, []callCase{
		{name: "IN finds a member", fn: "in", t: bln, args: []arg{{int64(2), i32}, {int64(1), i32}, {int64(2), i32}}, want: true},
		{name: "IN without a match is false", fn: "in", t: bln, args: []arg{{int64(5), i32}, {int64(1), i32}, {int64(2), i32}}, want: false},
		{name: "IN without a match but with a NULL in the list is NULL", fn: "in", t: bln, args: []arg{{int64(5), i32}, {int64(1), i32}, {nil, i32}}, want: nil},
		{name: "IN with a match and a NULL in the list is true", fn: "in", t: bln, args: []arg{{int64(1), i32}, {int64(1), i32}, {nil, i32}}, want: true},
		{name: "NULL IN a list is NULL", fn: "in", t: bln, args: []arg{{nil, i32}, {int64(1), i32}}, want: nil},
		{name: "text IN compares bytes", fn: "in", t: bln, args: []arg{{"a", txt}, {"A", txt}, {"a ", txt}}, want: false},
		{name: "NaN IN a list with NaN is true", fn: "in", t: bln, args: []arg{{math.NaN(), f64}, {math.NaN(), f64}}, want: true},
		{name: "negative zero IN a list with zero is true", fn: "in", t: bln, args: []arg{{math.Copysign(0, -1), f64}, {0.0, f64}}, want: true},
		{name: "a timestamp IN a list of timestamps", fn: "in", t: bln, args: []arg{{ts("2024-01-01 10:00:00"), tsT}, {ts("2024-01-01 10:00:00"), tsT}}, want: true},
		{name: "an interval IN a list compares spans", fn: "in", t: bln, args: []arg{{iv(1, 0, 0), ivT}, {iv(0, 30, 0), ivT}}, want: true},
		{name: "a boolean IN a list of booleans", fn: "in", t: bln, args: []arg{{false, bln}, {true, bln}}, want: false},
		{name: "a smallint IN a list of smallints", fn: "in", t: bln, args: []arg{{int64(-3), i16}, {int64(4), i16}, {int64(-3), i16}}, want: true},
		{name: "a date IN a list of dates", fn: "in", t: bln, args: []arg{{ts("2024-02-29"), dt}, {ts("2024-02-29"), dt}}, want: true},
	})
}

func TestInWithParametersAndExpressions(t *testing.T) {
	mem := newMem(t)
	rec := record(t, mem,
		column{t: i64, vals: []any{int64(1), int64(2), int64(3), nil}},
		column{t: i64, vals: []any{int64(3), nil, int64(3), int64(3)}},
	)
	defer rec.Release()
	x, y := ref(0, i64), ref(1, i64)
	tests := []struct {
		name   string
		e      plan.Expr
		params []any
		want   []any
	}{
		{name: "a list of parameters is a set built per call", e: fn("in", bln, x, &plan.Param{Index: 0, T: i64}, &plan.Param{Index: 1, T: i64}),
			params: []any{int64(2), nil}, want: []any{nil, true, nil, nil}},
		{name: "a list with a column is an OR of equalities", e: fn("in", bln, x, lit(int64(1), i64), y),
			want: []any{true, nil, true, nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalAllRows(t, mem, tc.e, rec, tc.params...)
			if err != nil {
				t.Fatal(err)
			}
			if !sameAll(got, tc.want) {
				t.Fatalf("got %s, want %s", showAll(got), showAll(tc.want))
			}
		})
	}
}
