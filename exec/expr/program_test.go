package expr

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		e    plan.Expr
		code string
	}{
		{name: "an unknown function is undefined", e: fn("frobnicate", i32, lit(int64(1), i32)), code: sqlerr.UndefinedFunction},
		{name: "an operator over mismatched types is undefined", e: fn("+", i64, lit(int64(1), i32), lit(int64(1), i64)), code: sqlerr.UndefinedFunction},
		{name: "a function with too many arguments is undefined", e: fn("sqrt", f64, lit(1.0, f64), lit(1.0, f64)), code: sqlerr.UndefinedFunction},
		{name: "arithmetic over text is undefined", e: fn("+", txt, lit("a", txt), lit("b", txt)), code: sqlerr.UndefinedFunction},
		{name: "a cast between unrelated types is unsupported", e: cast(lit(iv(1, 0, 0), ivT), bln, true), code: sqlerr.FeatureNotSupported},
		{name: "a literal that is not of its type is a mismatch", e: lit("x", bln), code: sqlerr.InvalidTextRepresentation},
		{name: "a literal that does not fit its type is out of range", e: lit(int64(40000), i16), code: sqlerr.NumericValueOutOfRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.e)
			if got := errCode(err); got != tc.code {
				t.Fatalf("got %v (%s), want SQLSTATE %s", err, got, tc.code)
			}
		})
	}
}

func TestEvalOfAnEmptyRecordEvaluatesNothing(t *testing.T) {
	mem := newMem(t)
	rec := record(t, mem, column{t: i32, vals: []any{}})
	defer rec.Release()
	// would divide by zero for any row
	e := fn("/", i32, ref(0, i32), lit(int64(0), i32))
	p, err := Compile(e)
	if err != nil {
		t.Fatal(err)
	}
	arr, err := p.Eval(ctx0, &Env{Mem: mem}, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Release()
	if arr.Len() != 0 || !arrow.TypeEqual(arr.DataType(), arrow.PrimitiveTypes.Int32) {
		t.Fatalf("got %d rows of %s, want 0 rows of int32", arr.Len(), arr.DataType())
	}
	sel, err := mustCompile(t, fn(">", bln, ref(0, i32), lit(int64(0), i32))).Select(ctx0, &Env{Mem: mem}, rec, nil)
	if err != nil || len(sel) != 0 {
		t.Fatalf("got %v, %v; want no rows", sel, err)
	}
}

func mustCompile(t *testing.T, e plan.Expr) *Program {
	t.Helper()
	p, err := Compile(e)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConstantResultsAreBroadcast(t *testing.T) {
	mem := newMem(t)
	rec := emptyRecord(3)
	defer rec.Release()
	tests := []struct {
		name string
		e    plan.Expr
		want []any
	}{
		{name: "a literal fills every row", e: lit("x", txt), want: []any{"x", "x", "x"}},
		{name: "a constant expression fills every row", e: fn("*", i64, lit(int64(6), i64), lit(int64(7), i64)), want: []any{int64(42), int64(42), int64(42)}},
		{name: "a NULL of unknown type fills every row with NULL", e: lit(nil, sqltypes.Unknown), want: []any{nil, nil, nil}},
		{name: "a parameter fills every row", e: &plan.Param{Index: 0, T: tsT}, want: []any{ts("2024-01-01"), ts("2024-01-01"), ts("2024-01-01")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalAllRows(t, mem, tc.e, rec, ts("2024-01-01"))
			if err != nil {
				t.Fatal(err)
			}
			if !sameAll(got, tc.want) {
				t.Fatalf("got %s, want %s", showAll(got), showAll(tc.want))
			}
		})
	}
}

func TestParameters(t *testing.T) {
	mem := newMem(t)
	p1 := &plan.Param{Index: 0, T: i32}
	tests := []struct {
		name   string
		params []any
		want   any
		code   string
	}{
		{name: "a parameter supplies its value", params: []any{int64(41)}, want: int64(42)},
		{name: "a NULL parameter gives NULL", params: []any{nil}, want: nil},
		{name: "a parameter given as a Go int is accepted", params: []any{41}, want: int64(42)},
		{name: "a parameter given as text is parsed", params: []any{"41"}, want: int64(42)},
		{name: "a missing parameter is an error", params: nil, code: sqlerr.UndefinedParameter},
		{name: "a parameter of the wrong Go type is an error", params: []any{true}, code: sqlerr.DatatypeMismatch},
		{name: "a parameter out of its type's range is an error", params: []any{int64(1) << 40}, code: sqlerr.NumericValueOutOfRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EvalScalar(ctx0, &Env{Mem: mem, Params: tc.params}, fn("+", i32, p1, lit(int64(1), i32)))
			if tc.code != "" {
				if errCode(err) != tc.code {
					t.Fatalf("got %v (%s), want SQLSTATE %s", err, errCode(err), tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !same(got, tc.want) {
				t.Fatalf("got %s, want %s", show(got), show(tc.want))
			}
		})
	}
}

func TestEvalScalarRefusesColumns(t *testing.T) {
	_, err := EvalScalar(ctx0, nil, fn("+", i32, ref(0, i32), lit(int64(1), i32)))
	if got, want := errCode(err), sqlerr.InvalidColumnReference; got != want {
		t.Fatalf("got %v (%s), want SQLSTATE %s", err, got, want)
	}
}

func TestEvalChecksItsInput(t *testing.T) {
	mem := newMem(t)
	rec := record(t, mem, column{t: i64, vals: []any{int64(1)}})
	defer rec.Release()
	for _, e := range []plan.Expr{ref(0, i32), ref(1, i64)} {
		_, err := evalAllRows(t, mem, e, rec)
		if got, want := errCode(err), sqlerr.InternalError; got != want {
			t.Fatalf("%s: got %v (%s), want SQLSTATE %s", e, err, got, want)
		}
	}
}

func TestCanceledContextStopsEvaluation(t *testing.T) {
	mem := newMem(t)
	rec := record(t, mem, column{t: i64, vals: []any{int64(1)}})
	defer rec.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := mustCompile(t, ref(0, i64)).Eval(ctx, &Env{Mem: mem}, rec)
	if got, want := errCode(err), sqlerr.QueryCanceled; got != want {
		t.Fatalf("got %v (%s), want SQLSTATE %s", err, got, want)
	}
}

func TestSelect(t *testing.T) {
	mem := newMem(t)
	rec := record(t, mem,
		column{t: i32, vals: []any{int64(0), int64(5), nil, int64(20), int64(-1), int64(2)}},
		column{t: txt, vals: []any{"a", "b", "c", nil, "e", "f"}},
		column{t: f64, vals: []any{1.0, math.NaN(), 2.0, 3.0, nil, 0.5}},
	)
	defer rec.Release()
	x, s, f := ref(0, i32), ref(1, txt), ref(2, f64)
	tests := []struct {
		name string
		e    plan.Expr
		want []int32
		code string
	}{
		{name: "a comparison with a constant selects the true rows and drops NULLs", e: fn(">", bln, x, lit(int64(1), i32)), want: []int32{1, 3, 5}},
		{name: "a constant on the left is flipped", e: fn(">", bln, lit(int64(1), i32), x), want: []int32{0, 4}},
		{name: "a text equality selects", e: fn("=", bln, s, lit("e", txt)), want: []int32{4}},
		{name: "a double comparison treats NaN as largest", e: fn(">", bln, f, lit(2.5, f64)), want: []int32{1, 3}},
		{name: "AND narrows so the division never sees zero", e: fn("and", bln, fn("<>", bln, x, lit(int64(0), i32)), fn(">", bln, fn("/", i32, lit(int64(10), i32), x), lit(int64(1), i32))), want: []int32{1, 5}},
		{name: "AND of three narrows step by step", e: fn("and", bln, fn("is_not_null", bln, s), fn(">=", bln, x, lit(int64(0), i32)), fn("<", bln, f, lit(2.0, f64))), want: []int32{0, 5}},
		{name: "OR selects rows where any is true", e: fn("or", bln, fn("=", bln, x, lit(int64(0), i32)), fn("is_null", bln, s)), want: []int32{0, 3}},
		{name: "NOT LIKE selects the rows that do not match and drops NULLs", e: fn("not", bln, fn("like", bln, s, lit("[ae]", txt))), want: []int32{0, 1, 2, 4, 5}},
		{name: "a constant true selects every row", e: lit(true, bln), want: []int32{0, 1, 2, 3, 4, 5}},
		{name: "a constant NULL selects nothing", e: lit(nil, bln), want: []int32{}},
		{name: "a comparison of two columns selects", e: fn("<", bln, cast(x, f64, false), f), want: []int32{0, 1}},
		{name: "a predicate that is not boolean is refused", e: x, code: sqlerr.DatatypeMismatch},
		{name: "an error in the predicate is returned", e: fn(">", bln, fn("/", i32, lit(int64(1), i32), x), lit(int64(0), i32)), code: sqlerr.DivisionByZero},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustCompile(t, tc.e)
			buf := make([]int32, 0, 1)
			got, err := p.Select(ctx0, &Env{Mem: mem}, rec, buf)
			if tc.code != "" {
				if errCode(err) != tc.code {
					t.Fatalf("got %v (%s), want SQLSTATE %s", err, errCode(err), tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
			// Select agrees with Eval
			arr, err := p.Eval(ctx0, &Env{Mem: mem}, rec)
			if err != nil {
				t.Fatal(err)
			}
			defer arr.Release()
			var fromEval []int32
			for i := 0; i < arr.Len(); i++ {
				if v, _ := ValueAt(arr, i).(bool); v {
					fromEval = append(fromEval, int32(i))
				}
			}
			if len(fromEval) != len(got) {
				t.Fatalf("Eval selects %v, Select %v", fromEval, got)
			}
		})
	}
}

func TestSelectReusesTheBuffer(t *testing.T) {
	mem := newMem(t)
	rec := record(t, mem, column{t: i64, vals: []any{int64(1), int64(2), int64(3)}})
	defer rec.Release()
	p := mustCompile(t, fn(">", bln, ref(0, i64), lit(int64(1), i64)))
	buf := make([]int32, 10, 64)
	got, err := p.Select(ctx0, &Env{Mem: mem}, rec, buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || &got[0] != &buf[:1][0] {
		t.Fatalf("got %v, want [1 2] in the buffer passed in", got)
	}
}

// TestSlicedInputs evaluates over arrays that are slices of larger ones
// (non-zero offsets, unaligned null bitmaps).
func TestSlicedInputs(t *testing.T) {
	mem := newMem(t)
	full := record(t, mem,
		column{t: i32, vals: []any{int64(9), int64(9), int64(9), int64(1), nil, int64(3), int64(0), nil, int64(7), int64(8), int64(10), int64(0)}},
		column{t: txt, vals: []any{"x", "x", "x", "ab", "cd", nil, "ef", "gh", "ij", nil, "kl", "mn"}},
		column{t: bln, vals: []any{true, true, true, true, nil, false, false, nil, false, true, true, false}},
	)
	defer full.Release()
	rec := full.NewSlice(3, 12)
	defer rec.Release()
	x, s, b := ref(0, i32), ref(1, txt), ref(2, bln)
	tests := []struct {
		name string
		e    plan.Expr
		want []any
	}{
		{name: "arithmetic over a slice", e: fn("+", i32, x, x), want: []any{int64(2), nil, int64(6), int64(0), nil, int64(14), int64(16), int64(20), int64(0)}},
		{name: "comparison over a slice", e: fn(">=", bln, x, lit(int64(3), i32)), want: []any{false, nil, true, false, nil, true, true, true, false}},
		{name: "AND over slices", e: fn("and", bln, b, fn(">", bln, x, lit(int64(0), i32))), want: []any{true, nil, false, false, nil, false, true, true, false}},
		{name: "IS NULL over a slice", e: fn("is_null", bln, s), want: []any{false, false, true, false, false, false, true, false, false}},
		{name: "NOT over a slice", e: fn("not", bln, b), want: []any{false, nil, true, true, nil, true, false, false, true}},
		{name: "text over a slice", e: fn("||", txt, s, lit("!", txt)), want: []any{"ab!", "cd!", nil, "ef!", "gh!", "ij!", nil, "kl!", "mn!"}},
		{name: "CASE over a slice", e: &plan.Case{T: i32, Whens: []plan.When{{Cond: b, Then: fn("/", i32, lit(int64(100), i32), x)}}, Else: lit(int64(-1), i32)},
			want: []any{int64(100), int64(-1), int64(-1), int64(-1), int64(-1), int64(-1), int64(12), int64(10), int64(-1)}},
		{name: "IS DISTINCT FROM over slices", e: fn("is_distinct_from", bln, b, lit(true, bln)), want: []any{false, true, true, true, true, true, false, false, true}},
		{name: "IS TRUE over a slice", e: fn("is_true", bln, b), want: []any{true, false, false, false, false, false, true, true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
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

// TestProgramIsSharedAcrossGoroutines runs one program from several
// goroutines (run with -race).
func TestProgramIsSharedAcrossGoroutines(t *testing.T) {
	mem := newMem(t)
	rec := record(t, mem,
		column{t: txt, vals: []any{"apple", "banana", nil, "cherry"}},
		column{t: i64, vals: []any{int64(1), int64(0), int64(3), nil}},
	)
	defer rec.Release()
	e := &plan.Case{T: txt, Whens: []plan.When{
		{Cond: fn("like", bln, ref(0, txt), &plan.Param{Index: 0, T: txt}), Then: fn("upper", txt, ref(0, txt))},
		{Cond: fn("in", bln, ref(1, i64), lit(int64(0), i64), lit(int64(3), i64)), Then: lit("in", txt)},
	}, Else: fn("concat", txt, ref(0, txt), lit("?", txt))}
	p := mustCompile(t, e)
	want := []any{"APPLE", "in", "in", "cherry?"}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				arr, err := p.Eval(ctx0, &Env{Mem: mem, Params: []any{"a%"}}, rec)
				if err != nil {
					errs <- err
					return
				}
				got := valuesOf(arr)
				arr.Release()
				if !sameAll(got, want) {
					t.Errorf("got %s, want %s", showAll(got), showAll(want))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestScalarArrayRoundTrip(t *testing.T) {
	vals := []struct {
		t sqltypes.Type
		v any
	}{
		{bln, true}, {bln, false}, {i16, int64(-32768)}, {i32, int64(math.MaxInt32)}, {i64, int64(math.MinInt64)},
		{f32, 1.5}, {f64, math.Inf(-1)}, {txt, "héllo"}, {txt, ""}, {sqltypes.Varchar(3), "abc"},
		{tsT, ts("2024-02-29 12:34:56.789012")}, {tsT, bc(44, 3, 15, 10, 11, 12)}, {dt, ts("1969-12-31")}, {ivT, iv(-1, 2, -3)},
	}
	for _, v := range vals {
		for _, n := range []int{0, 1, 9} {
			mem := newMem(t)
			for _, x := range []any{v.v, nil} {
				arr, err := ScalarToArray(mem, v.t, x, n)
				if err != nil {
					t.Fatalf("%s %s: %v", v.t, show(x), err)
				}
				if arr.Len() != n || !arrow.TypeEqual(arr.DataType(), v.t.Arrow()) {
					t.Fatalf("%s: got %d rows of %s", v.t, arr.Len(), arr.DataType())
				}
				b := array.NewBuilder(mem, v.t.Arrow())
				for i := 0; i < n; i++ {
					if got := ValueAt(arr, i); !same(got, x) {
						t.Fatalf("%s row %d: got %s, want %s", v.t, i, show(got), show(x))
					}
					if err := AppendValue(b, ValueAt(arr, i)); err != nil {
						t.Fatal(err)
					}
				}
				back := b.NewArray()
				if !array.Equal(back, arr) {
					t.Fatalf("%s: appending the values back gives %v, want %v", v.t, back, arr)
				}
				back.Release()
				b.Release()
				arr.Release()
			}
		}
	}
}

func TestAppendValueErrors(t *testing.T) {
	mem := newMem(t)
	tests := []struct {
		name string
		t    sqltypes.Type
		v    any
		code string
	}{
		{name: "a value too big for smallint is out of range", t: i16, v: int64(40000), code: sqlerr.NumericValueOutOfRange},
		{name: "a value too big for integer is out of range", t: i32, v: int64(1) << 31, code: sqlerr.NumericValueOutOfRange},
		{name: "a double too big for real is out of range", t: f32, v: 1e300, code: sqlerr.NumericValueOutOfRange},
		{name: "text into an integer builder is a mismatch", t: i64, v: "1", code: sqlerr.DatatypeMismatch},
		{name: "a time into an interval builder is a mismatch", t: ivT, v: time.Now(), code: sqlerr.DatatypeMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := array.NewBuilder(mem, tc.t.Arrow())
			defer b.Release()
			err := AppendValue(b, tc.v)
			if got := errCode(err); got != tc.code {
				t.Fatalf("got %v (%s), want SQLSTATE %s", err, got, tc.code)
			}
		})
	}
}

func TestAPanicBecomesAnInternalError(t *testing.T) {
	err := guard(func() error { panic("boom") })
	if got, want := errCode(err), sqlerr.InternalError; got != want {
		t.Fatalf("got %v (%s), want SQLSTATE %s", err, got, want)
	}
}
