package expr

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// substitute replaces every column reference of e by a literal of the
// row's value: the scalar twin of evaluating e over that row.
func substitute(e plan.Expr, row []any) plan.Expr {
	switch x := e.(type) {
	case *plan.ColumnRef:
		return lit(row[x.Index], x.T)
	case *plan.Func:
		args := make([]plan.Expr, len(x.Args))
		for i, a := range x.Args {
			args[i] = substitute(a, row)
		}
		return &plan.Func{Name: x.Name, Args: args, T: x.T}
	case *plan.Cast:
		return &plan.Cast{Arg: substitute(x.Arg, row), T: x.T, Explicit: x.Explicit}
	case *plan.Case:
		c := &plan.Case{T: x.T, Else: substitute(x.Else, row)}
		for _, w := range x.Whens {
			c.Whens = append(c.Whens, plan.When{Cond: substitute(w.Cond, row), Then: substitute(w.Then, row)})
		}
		return c
	}
	return e
}

// TestVectorMatchesScalar evaluates expressions over a few hundred random
// rows (with NULLs, row counts that are not multiples of 8 or 64, and a
// sliced record) and checks every row against the same expression
// evaluated on that row's values as literals. An error over the batch must
// be an error some row raises on its own.
func TestVectorMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const rows = 333
	maybeNull := func(v any) any {
		if rng.IntN(7) == 0 {
			return nil
		}
		return v
	}
	words := []string{"", "a", "ab", "abc", "b", "héllo", "HELLO", "a%b", "xyz", "  pad  "}
	var a, b, s, c, f, bo, tm, sm []any
	for i := 0; i < rows; i++ {
		a = append(a, maybeNull(rng.Int64N(2001)-1000))
		b = append(b, maybeNull(rng.Int64N(21)-10))
		s = append(s, maybeNull(words[rng.IntN(len(words))]))
		f = append(f, maybeNull([]float64{0, -1.5, 2.25, math.NaN(), math.Inf(1), 1e-3, 42}[rng.IntN(7)]))
		bo = append(bo, maybeNull(rng.IntN(2) == 0))
		tm = append(tm, maybeNull(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(1e6))*time.Minute)))
		sm = append(sm, maybeNull(rng.Int64N(32768)-16384))
		c = append(c, maybeNull(rng.Int64N(3)))
	}
	cols := []column{{t: i64, vals: a}, {t: i64, vals: b}, {t: txt, vals: s}, {t: f64, vals: f}, {t: bln, vals: bo}, {t: tsT, vals: tm}, {t: i16, vals: sm}, {t: i32, vals: c}}
	A, B, S, F, BO, TM, SM, C := ref(0, i64), ref(1, i64), ref(2, txt), ref(3, f64), ref(4, bln), ref(5, tsT), ref(6, i16), ref(7, i32)
	i64c := func(v int64) plan.Expr { return lit(v, i64) }
	exprs := []plan.Expr{
		fn("+", i64, A, B),
		fn("-", i64, i64c(5), A),
		fn("*", i64, A, B),
		fn("/", i64, A, B),
		fn("%", i64, A, i64c(7)),
		fn("+", i16, SM, SM),
		fn("*", i16, SM, lit(int64(2), i16)),
		fn("neg", i16, SM),
		fn("abs", i64, B),
		fn("<", bln, A, B),
		fn(">=", bln, A, i64c(0)),
		fn("=", bln, S, lit("abc", txt)),
		fn("<", bln, S, S),
		fn(">", bln, F, lit(1.0, f64)),
		fn("=", bln, F, F),
		fn("/", f64, F, lit(2.0, f64)),
		fn("and", bln, BO, fn(">", bln, A, i64c(0))),
		fn("or", bln, BO, fn("is_null", bln, S), fn("<", bln, B, i64c(0))),
		fn("and", bln, fn("<>", bln, B, i64c(0)), fn(">", bln, fn("/", i64, A, B), i64c(10)), fn("like", bln, S, lit("%b%", txt))),
		fn("and", bln, fn("is_not_null", bln, A), fn("<", bln, TM, lit(ts("2024-06-01"), tsT))),
		fn("=", bln, SM, lit(int64(7), i16)),
		fn("<>", bln, C, lit(int64(1), i32)),
		fn("not", bln, BO),
		fn("is_distinct_from", bln, A, B),
		fn("in", bln, B, i64c(1), i64c(2), lit(nil, i64)),
		fn("in", bln, S, lit("a", txt), lit("héllo", txt)),
		fn("coalesce", i64, A, B, i64c(-1)),
		fn("nullif", i64, B, i64c(0)),
		fn("greatest", i64, A, B),
		fn("least", txt, S, lit("b", txt)),
		fn("like", bln, S, lit("a%", txt)),
		fn("ilike", bln, S, lit("%L%", txt)),
		fn("||", txt, S, S),
		fn("concat", txt, S, lit("-", txt), S),
		fn("length", i32, S),
		fn("upper", txt, S),
		fn("substr", txt, S, B, lit(int64(2), i64)),
		fn("trim", txt, S),
		fn("position", i32, lit("l", txt), S),
		fn("round", f64, F, lit(int64(1), i64)),
		fn("date_trunc", tsT, lit("hour", txt), TM),
		fn("extract", f64, lit("dow", txt), TM),
		fn("+", tsT, TM, lit(iv(1, 2, 3_000_000), ivT)),
		fn("-", ivT, TM, lit(ts("2024-01-01"), tsT)),
		cast(A, i16, true),
		cast(F, i32, true),
		cast(fn("*", f64, cast(A, f64, false), lit(1.5, f64)), i32, true),
		fn("*", i16, SM, lit(int64(3), i16)),
		cast(A, txt, true),
		cast(TM, dt, true),
		cast(C, bln, true),
		&plan.Case{T: i64, Whens: []plan.When{{Cond: fn("=", bln, B, i64c(0)), Then: i64c(0)}}, Else: fn("/", i64, A, B)},
		&plan.Case{T: txt, Whens: []plan.When{
			{Cond: BO, Then: S},
			{Cond: fn(">", bln, A, i64c(500)), Then: lit("big", txt)},
		}, Else: lit(nil, txt)},
		fn("coalesce", i64, fn("/", i64, i64c(100), B), A),
	}
	mem := newMem(t)
	full := record(t, mem, cols...)
	defer full.Release()
	sliced := full.NewSlice(5, rows-3)
	defer sliced.Release()
	for _, e := range exprs {
		for _, rec := range []struct {
			name string
			off  int
		}{{"whole", 0}, {"sliced", 5}} {
			t.Run(fmt.Sprintf("%s over the %s record agrees with row-by-row evaluation", e, rec.name), func(t *testing.T) {
				r := full
				if rec.off > 0 {
					r = sliced
				}
				got, vecErr := evalAllRows(t, mem, e, r)
				n := int(r.NumRows())
				var rowErrs []error
				for i := 0; i < n; i++ {
					row := make([]any, len(cols))
					for k := range cols {
						row[k] = cols[k].vals[i+rec.off]
					}
					want, err := EvalScalar(ctx0, &Env{Mem: mem}, substitute(e, row))
					if err != nil {
						rowErrs = append(rowErrs, err)
						continue
					}
					if vecErr == nil && !same(got[i], want) {
						t.Fatalf("row %d: got %s, want %s", i, show(got[i]), show(want))
					}
				}
				if vecErr == nil && e.Type().Kind == sqltypes.KindBool {
					sel, err := mustCompile(t, e).Select(ctx0, &Env{Mem: mem}, r, nil)
					if err != nil {
						t.Fatalf("Select: %v", err)
					}
					var want []int32
					for i, v := range got {
						if v == true {
							want = append(want, int32(i))
						}
					}
					if fmt.Sprint(sel) != fmt.Sprint(want) && !(len(sel) == 0 && len(want) == 0) {
						t.Fatalf("Select gives %v, want %v", sel, want)
					}
				}
				switch {
				case vecErr == nil && len(rowErrs) > 0:
					t.Fatalf("the batch succeeded but row-by-row evaluation failed: %v", rowErrs[0])
				case vecErr != nil:
					for _, re := range rowErrs {
						if errCode(re) == errCode(vecErr) {
							return
						}
					}
					t.Fatalf("the batch failed with %v, which no single row raises", vecErr)
				}
			})
		}
	}
}
