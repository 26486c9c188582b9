package expr

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
	"github.com/sluice-sql/sluice/planner/plan"
)

// Shorthands for building plan expressions in tests.

func ref(i int, t sqltypes.Type) *plan.ColumnRef {
	return &plan.ColumnRef{Index: i, Name: fmt.Sprintf("c%d", i), T: t}
}

func lit(v any, t sqltypes.Type) *plan.Literal { return &plan.Literal{Value: v, T: t} }

func fn(name string, t sqltypes.Type, args ...plan.Expr) *plan.Func {
	return &plan.Func{Name: name, Args: args, T: t}
}

func cast(e plan.Expr, t sqltypes.Type, explicit bool) *plan.Cast {
	return &plan.Cast{Arg: e, T: t, Explicit: explicit}
}

var (
	i16  = sqltypes.Int16
	i32  = sqltypes.Int32
	i64  = sqltypes.Int64
	f32  = sqltypes.Float32
	f64  = sqltypes.Float64
	txt  = sqltypes.Text
	bln  = sqltypes.Bool
	tsT  = sqltypes.Timestamp
	dt   = sqltypes.Date
	ivT  = sqltypes.IntervalT
	ctx0 = context.Background()
)

func ts(s string) time.Time {
	for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	panic("bad test timestamp " + s)
}

func iv(months, days int32, micros int64) sqltypes.Interval {
	return sqltypes.Interval{Months: months, Days: days, Micros: micros}
}

// newMem returns a checked allocator that fails the test if anything
// allocated through it is still held when the test ends.
func newMem(t *testing.T) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// column is one column of a test record.
type column struct {
	t    sqltypes.Type
	vals []any
}

// record builds a record from columns of equal length.
func record(t *testing.T, mem memory.Allocator, cols ...column) arrow.Record {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	n := 0
	for i, c := range cols {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: c.t.Arrow(), Nullable: true}
		b := array.NewBuilder(mem, c.t.Arrow())
		for _, v := range c.vals {
			if err := AppendValue(b, v); err != nil {
				t.Fatalf("building column %d: %v", i, err)
			}
		}
		arrs[i] = b.NewArray()
		b.Release()
		n = len(c.vals)
	}
	rec := array.NewRecord(arrow.NewSchema(fields, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// emptyRecord is a record of n rows and no columns.
func emptyRecord(n int) arrow.Record {
	return array.NewRecord(arrow.NewSchema(nil, nil), nil, int64(n))
}

// values reads every element of arr as Go values.
func valuesOf(arr arrow.Array) []any {
	out := make([]any, arr.Len())
	for i := range out {
		out[i] = ValueAt(arr, i)
	}
	return out
}

// same compares Go SQL values: NaN equals NaN, floats compare bits
// otherwise (so -0 and 0 differ), times with Equal.
func same(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return false
		}
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		return math.Float64bits(x) == math.Float64bits(y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}

func sameAll(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !same(a[i], b[i]) {
			return false
		}
	}
	return true
}

func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return fmt.Sprintf("%q", x)
	case time.Time:
		return x.Format("2006-01-02 15:04:05.999999")
	case float64:
		return fmt.Sprintf("%v(%b)", x, math.Float64bits(x)>>63)
	}
	return fmt.Sprintf("%v", v)
}

func showAll(vs []any) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = show(v)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// errCode returns the SQLSTATE of err, "" for nil.
func errCode(err error) string {
	if err == nil {
		return ""
	}
	return sqlerr.Code(err)
}

// arg is an argument of a function under test: its value and type.
type arg struct {
	v any
	t sqltypes.Type
}

// callCase is a function applied to arguments, with the result or the
// SQLSTATE it should give.
type callCase struct {
	name string
	fn   string
	t    sqltypes.Type // result type
	args []arg
	want any
	code string // expected SQLSTATE; want is ignored when set
	msg  string // expected error message, when set
}

// runCalls checks each case in every shape the evaluator distinguishes:
// all arguments literals (EvalScalar), all columns, and each mix of
// literals and columns; a column case also runs in a batch where the row
// sits between two rows of NULL arguments, which must not disturb it.
func runCalls(t *testing.T, cases []callCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMem(t)
			n := len(tc.args)
			for mask := 0; mask < 1<<n; mask++ {
				// bit k of mask set: argument k is a column
				var cols []column
				args := make([]plan.Expr, n)
				for k, a := range tc.args {
					if mask&(1<<k) != 0 {
						args[k] = ref(len(cols), a.t)
						cols = append(cols, column{t: a.t, vals: []any{nil, a.v, nil}})
					} else {
						args[k] = lit(a.v, a.t)
					}
				}
				e := fn(tc.fn, tc.t, args...)
				var got any
				var err error
				if mask == 0 {
					got, err = EvalScalar(ctx0, &Env{Mem: mem}, e)
				} else {
					got, err = evalRow(t, mem, e, cols, 1)
				}
				shape := fmt.Sprintf("shape %b of %s", mask, e)
				if tc.code != "" {
					if errCode(err) != tc.code {
						t.Fatalf("%s: got error %v (%s), want SQLSTATE %s", shape, err, errCode(err), tc.code)
					}
					if tc.msg != "" && err.Error() != tc.msg {
						t.Fatalf("%s: got message %q, want %q", shape, err.Error(), tc.msg)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", shape, err)
				}
				if !same(got, tc.want) {
					t.Fatalf("%s: got %s, want %s", shape, show(got), show(tc.want))
				}
			}
		})
	}
}

// evalRow evaluates e over a record of cols and returns row i.
func evalRow(t *testing.T, mem memory.Allocator, e plan.Expr, cols []column, i int) (any, error) {
	t.Helper()
	rec := record(t, mem, cols...)
	defer rec.Release()
	p, err := Compile(e)
	if err != nil {
		return nil, err
	}
	arr, err := p.Eval(ctx0, &Env{Mem: mem}, rec)
	if err != nil {
		return nil, err
	}
	defer arr.Release()
	if !arrow.TypeEqual(arr.DataType(), e.Type().Arrow()) {
		t.Fatalf("result of %s has Arrow type %s, want %s", e, arr.DataType(), e.Type().Arrow())
	}
	if arr.Len() != int(rec.NumRows()) {
		t.Fatalf("result of %s has %d rows, want %d", e, arr.Len(), rec.NumRows())
	}
	return ValueAt(arr, i), nil
}

// evalRows compiles e and evaluates it over rec, returning Go values.
func evalAllRows(t *testing.T, mem memory.Allocator, e plan.Expr, rec arrow.Record, params ...any) ([]any, error) {
	t.Helper()
	p, err := Compile(e)
	if err != nil {
		return nil, err
	}
	arr, err := p.Eval(ctx0, &Env{Mem: mem, Params: params}, rec)
	if err != nil {
		return nil, err
	}
	defer arr.Release()
	if arr.Len() != int(rec.NumRows()) {
		t.Fatalf("result of %s has %d rows, want %d", e, arr.Len(), rec.NumRows())
	}
	return valuesOf(arr), nil
}
