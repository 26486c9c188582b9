package expr

import (
	"fmt"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// tri is the three values of SQL logic.
var tri = []any{true, false, nil}

func TestThreeValuedLogicTruthTables(t *testing.T) {
	and := func(a, b any) any {
		switch {
		case a == false || b == false:
			return false
		case a == nil || b == nil:
			return nil
		}
		return true
	}
	or := func(a, b any) any {
		switch {
		case a == true || b == true:
			return true
		case a == nil || b == nil:
			return nil
		}
		return false
	}
	var cases []callCase
	for _, a := range tri {
		for _, b := range tri {
			cases = append(cases,
				callCase{name: fmt.Sprintf("%s AND %s is %s", show(a), show(b), show(and(a, b))), fn: "and", t: bln, args: []arg{{a, bln}, {b, bln}}, want: and(a, b)},
				callCase{name: fmt.Sprintf("%s OR %s is %s", show(a), show(b), show(or(a, b))), fn: "or", t: bln, args: []arg{{a, bln}, {b, bln}}, want: or(a, b)},
			)
		}
		not := any(nil)
		if a != nil {
			not = !a.(bool)
		}
		isTrue, isFalse := a == true, a == false
		cases = append(cases,
			callCase{name: fmt.Sprintf("NOT %s is %s", show(a), show(not)), fn: "not", t: bln, args: []arg{{a, bln}}, want: not},
			callCase{name: fmt.Sprintf("%s IS TRUE is %v", show(a), isTrue), fn: "is_true", t: bln, args: []arg{{a, bln}}, want: isTrue},
			callCase{name: fmt.Sprintf("%s IS NOT TRUE is %v", show(a), !isTrue), fn: "is_not_true", t: bln, args: []arg{{a, bln}}, want: !isTrue},
			callCase{name: fmt.Sprintf("%s IS FALSE is %v", show(a), isFalse), fn: "is_false", t: bln, args: []arg{{a, bln}}, want: isFalse},
			callCase{name: fmt.Sprintf("%s IS NOT FALSE is %v", show(a), !isFalse), fn: "is_not_false", t: bln, args: []arg{{a, bln}}, want: !isFalse},
			callCase{name: fmt.Sprintf("%s IS NULL is %v", show(a), a == nil), fn: "is_null", t: bln, args: []arg{{a, bln}}, want: a == nil},
			callCase{name: fmt.Sprintf("%s IS NOT NULL is %v", show(a), a != nil), fn: "is_not_null", t: bln, args: []arg{{a, bln}}, want: a != nil},
		)
	}
	cases = append(cases,
		callCase{name: "AND of three with one NULL and no false is NULL", fn: "and", t: bln, args: []arg{{true, bln}, {nil, bln}, {true, bln}}, want: nil},
		callCase{name: "AND of three with a false after a NULL is false", fn: "and", t: bln, args: []arg{{true, bln}, {nil, bln}, {false, bln}}, want: false},
		callCase{name: "OR of three with a true after a NULL is true", fn: "or", t: bln, args: []arg{{false, bln}, {nil, bln}, {true, bln}}, want: true},
		callCase{name: "IS NULL of a text NULL is true", fn: "is_null", t: bln, args: []arg{{nil, txt}}, want: true},
		callCase{name: "IS NOT NULL of an interval is true", fn: "is_not_null", t: bln, args: []arg{{iv(1, 2, 3), ivT}}, want: true},
	)
	runCalls(t, cases)
}

func TestIsDistinctFrom(t *testing.T) {
	var cases []callCase
	for _, c := range []struct {
		a, b     any
		distinct bool
	}{
		{int64(1), int64(1), false},
		{int64(1), int64(2), true},
		{int64(1), nil, true},
		{nil, int64(1), true},
		{nil, nil, false},
	} {
		cases = append(cases,
			callCase{name: fmt.Sprintf("%s IS DISTINCT FROM %s is %v", show(c.a), show(c.b), c.distinct), fn: "is_distinct_from", t: bln, args: []arg{{c.a, i32}, {c.b, i32}}, want: c.distinct},
			callCase{name: fmt.Sprintf("%s IS NOT DISTINCT FROM %s is %v", show(c.a), show(c.b), !c.distinct), fn: "is_not_distinct_from", t: bln, args: []arg{{c.a, i32}, {c.b, i32}}, want: !c.distinct},
		)
	}
	cases = append(cases,
		callCase{name: "text NULL is not distinct from text NULL", fn: "is_not_distinct_from", t: bln, args: []arg{{nil, txt}, {nil, txt}}, want: true},
		callCase{name: "text is distinct from other text", fn: "is_distinct_from", t: bln, args: []arg{{"a", txt}, {"b", txt}}, want: true},
	)
	runCalls(t, cases)
}

// TestLogicOverBatches checks whole columns: three-valued results row by
// row, offsets into sliced arrays, and that AND and OR evaluate later
// arguments only where they matter.
func TestLogicOverBatches(t *testing.T) {
	x := ref(0, i32)
	zero := lit(int64(0), i32)
	ten := lit(int64(10), i32)
	one := lit(int64(1), i32)
	xs := column{t: i32, vals: []any{int64(0), int64(5), nil, int64(20), int64(0), int64(2)}}
	tests := []struct {
		name string
		e    plan.Expr
		want []any
	}{
		{
			name: "AND skips the division for rows its first argument rejects",
			e:    fn("and", bln, fn("<>", bln, x, zero), fn(">", bln, fn("/", i32, ten, x), one)),
			want: []any{false, true, nil, false, false, true},
		},
		{
			name: "OR skips the division for rows its first argument accepts",
			e:    fn("or", bln, fn("=", bln, x, zero), fn(">", bln, fn("/", i32, ten, x), one)),
			want: []any{true, true, nil, false, true, true},
		},
		{
			name: "OR with a NULL first argument still evaluates the second",
			e:    fn("or", bln, fn("=", bln, x, lit(nil, i32)), fn("=", bln, x, lit(int64(5), i32))),
			want: []any{nil, true, nil, nil, nil, nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMem(t)
			rec := record(t, mem, xs)
			defer rec.Release()
			got, err := evalAllRows(t, mem, tc.e, rec)
			if err != nil {
				t.Fatal(err)
			}
			if !sameAll(got, tc.want) {
				t.Fatalf("got %s, want %s", showAll(got), showAll(tc.want))
			}
		})
	}
}

func TestAndRaisesForRowsThatReachTheFailingArgument(t *testing.T) {
	mem := newMem(t)
	rec := record(t, mem, column{t: i32, vals: []any{int64(0), int64(5)}})
	defer rec.Release()
	x := ref(0, i32)
	e := fn("and", bln, fn(">=", bln, x, lit(int64(0), i32)), fn(">", bln, fn("/", i32, lit(int64(10), i32), x), lit(int64(1), i32)))
	_, err := evalAllRows(t, mem, e, rec)
	if got, want := errCode(err), sqlerr.DivisionByZero; got != want {
		t.Fatalf("got %v (%s), want SQLSTATE %s", err, got, want)
	}
}
