package expr

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Env is what evaluation needs besides the input record.
type Env struct {
	// Mem allocates result arrays and intermediates. nil means
	// memory.DefaultAllocator.
	Mem memory.Allocator
	// Params are the statement parameter values ($1 = Params[0]), Go
	// values as listed in package sqltypes.
	Params []any
}

// Program is a compiled expression. It holds no per-call state: one
// Program may be shared by goroutines and reused across records.
type Program struct {
	root node
	t    sqltypes.Type
	cols []colUse
	src  string // the plan expression, for messages
}

// colUse is a column the program reads, checked against each record.
type colUse struct {
	index int
	t     sqltypes.Type
}

// Compile turns a bound plan expression into a Program. An unknown
// function is 42883, an expression or cast the evaluator cannot run is
// 0A000.
func Compile(e plan.Expr) (*Program, error) {
	var p *Program
	err := guard(func() (err error) {
		p, err = compile(e)
		return err
	})
	return p, err
}

func compile(e plan.Expr) (*Program, error) {
	var c compiler
	root, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	return &Program{root: root, t: e.Type(), cols: c.cols, src: e.String()}, nil
}

// Type is the SQL type of the program's result.
func (p *Program) Type() sqltypes.Type { return p.t }

// Eval evaluates the program over every row of rec and returns a new array
// of rec.NumRows() values of Arrow type p.Type().Arrow(). The caller
// releases it. A record of zero rows gives an empty array and evaluates
// nothing.
func (p *Program) Eval(ctx context.Context, env *Env, rec arrow.Record) (arrow.Array, error) {
	var arr arrow.Array
	err := guard(func() (err error) {
		arr, err = p.eval(ctx, env, rec)
		return err
	})
	return arr, err
}

func (p *Program) eval(ctx context.Context, env *Env, rec arrow.Record) (arrow.Array, error) {
	st, err := newState(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := p.checkInput(rec); err != nil {
		return nil, err
	}
	n := int(rec.NumRows())
	if n == 0 {
		return ScalarToArray(st.mem, p.t, nil, 0)
	}
	b := &batch{n: n, rec: rec}
	defer b.release()
	v, err := p.root.eval(st, b)
	if err != nil {
		return nil, err
	}
	defer v.release()
	arr, err := st.materialize(v, p.t, n)
	if err != nil {
		return nil, err
	}
	if want := p.t.Arrow(); !arrow.TypeEqual(arr.DataType(), want) || arr.Len() != n {
		defer arr.Release()
		return nil, sqlerr.New(sqlerr.InternalError, "expression %s produced %d values of type %s, want %d of %s", p.src, arr.Len(), arr.DataType(), n, want)
	}
	return arr, nil
}

// Select evaluates a boolean program over rec and returns the indexes of
// the rows where it is true, in ascending order; rows where it is false or
// NULL are dropped. The result is appended to sel[:0], so a caller may
// pass the previous result back in to reuse its storage; nil is fine.
//
// A top-level AND narrows as it goes: each conjunct after the first is
// evaluated only over the rows the earlier ones selected, so
// "x <> 0 AND 10 / x > 1" never divides by zero.
func (p *Program) Select(ctx context.Context, env *Env, rec arrow.Record, sel []int32) ([]int32, error) {
	err := guard(func() (err error) {
		sel, err = p.selectRows(ctx, env, rec, sel)
		return err
	})
	return sel, err
}

func (p *Program) selectRows(ctx context.Context, env *Env, rec arrow.Record, sel []int32) ([]int32, error) {
	if p.t.Kind != sqltypes.KindBool {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of WHERE must be type boolean, not type %s", p.t)
	}
	st, err := newState(ctx, env)
	if err != nil {
		return nil, err
	}
	if err := p.checkInput(rec); err != nil {
		return nil, err
	}
	sel = sel[:0]
	n := int(rec.NumRows())
	if n == 0 {
		return sel, nil
	}
	b := &batch{n: n, rec: rec}
	defer b.release()
	return selectRows(st, p.root, b, sel)
}

// EvalScalar evaluates an expression that references no columns to one Go
// value (nil for NULL), as listed in package sqltypes.
func EvalScalar(ctx context.Context, env *Env, e plan.Expr) (any, error) {
	var v any
	err := guard(func() (err error) {
		v, err = evalScalar(ctx, env, e)
		return err
	})
	return v, err
}

func evalScalar(ctx context.Context, env *Env, e plan.Expr) (any, error) {
	p, err := compile(e)
	if err != nil {
		return nil, err
	}
	if len(p.cols) > 0 {
		return nil, sqlerr.New(sqlerr.InvalidColumnReference, "column reference %s is not allowed in a constant expression", e)
	}
	st, err := newState(ctx, env)
	if err != nil {
		return nil, err
	}
	b := &batch{n: 1}
	defer b.release()
	v, err := p.root.eval(st, b)
	if err != nil {
		return nil, err
	}
	defer v.release()
	if v.arr == nil {
		return v.c, nil
	}
	return ValueAt(v.arr, 0), nil
}

// guard runs f and turns a panic (a bug, or an Arrow array that breaks
// its own invariants) into an XX000 error, so that it does not take the
// server down. Errors are never reported by panicking in this package.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = sqlerr.New(sqlerr.InternalError, "internal error evaluating an expression: %v", r)
		}
	}()
	return f()
}

// checkInput verifies that rec has every column the program reads, with
// the Arrow type the plan expects.
func (p *Program) checkInput(rec arrow.Record) error {
	for _, c := range p.cols {
		if c.index < 0 || c.index >= int(rec.NumCols()) {
			return sqlerr.New(sqlerr.InternalError, "expression reads column %d of a record with %d columns", c.index, rec.NumCols())
		}
		got, want := rec.Column(c.index).DataType(), c.t.Arrow()
		if !arrow.TypeEqual(got, want) {
			return sqlerr.New(sqlerr.InternalError, "expression reads column %d as %s but the record holds %s", c.index, want, got)
		}
	}
	return nil
}

// state is the per-call context of an evaluation. It is never shared
// between calls.
type state struct {
	ctx    context.Context
	mem    memory.Allocator
	params []any
}

func newState(ctx context.Context, env *Env) (*state, error) {
	if err := ctx.Err(); err != nil {
		return nil, sqlerr.New(sqlerr.QueryCanceled, "canceling statement: %w", err)
	}
	st := &state{ctx: ctx, mem: memory.DefaultAllocator}
	if env != nil {
		if env.Mem != nil {
			st.mem = env.Mem
		}
		st.params = env.Params
	}
	return st, nil
}

// canceled reports the context's cancellation as a 57014 error.
func (st *state) canceled() error {
	if err := st.ctx.Err(); err != nil {
		return sqlerr.New(sqlerr.QueryCanceled, "canceling statement: %w", err)
	}
	return nil
}

// materialize returns v as an array of n rows of type t: a new reference
// the caller releases. v itself is left to the caller.
func (st *state) materialize(v vec, t sqltypes.Type, n int) (arrow.Array, error) {
	if v.arr != nil {
		v.arr.Retain()
		return v.arr, nil
	}
	return ScalarToArray(st.mem, t, v.c, n)
}

// vec is an intermediate result: an array with one value per row of the
// batch it was evaluated over (arr, owned: the holder releases it), or
// one constant value standing for every row (c, nil for NULL).
type vec struct {
	arr arrow.Array
	c   any
}

func constVec(v any) vec { return vec{c: v} }

func (v vec) isConst() bool { return v.arr == nil }

func (v vec) isNull() bool { return v.arr == nil && v.c == nil }

func (v vec) release() {
	if v.arr != nil {
		v.arr.Release()
	}
}

func releaseAll(vs []vec) {
	for _, v := range vs {
		v.release()
	}
}

// batch is the set of rows a node is evaluated over: the whole input
// record, or a subset of its rows (a sub-batch) when CASE, COALESCE, AND
// or OR evaluate an argument only where it is needed. A sub-batch gathers
// the columns it reads on first use.
type batch struct {
	n    int
	rec  arrow.Record // the root's input; nil in EvalScalar
	root *batch       // nil for the root
	idx  []int32      // rows of root held by a sub-batch
	cols []arrow.Array
}

// sub returns the sub-batch of the rows rows (positions in b). The caller
// releases it.
func (b *batch) sub(rows []int32) *batch {
	if b.root == nil {
		return &batch{n: len(rows), root: b, idx: rows}
	}
	idx := make([]int32, len(rows))
	for j, r := range rows {
		idx[j] = b.idx[r]
	}
	return &batch{n: len(rows), root: b.root, idx: idx}
}

// column returns column i over the batch's rows, borrowed for the life of
// the batch.
func (b *batch) column(st *state, i int) (arrow.Array, error) {
	if b.root == nil {
		if b.rec == nil {
			return nil, sqlerr.New(sqlerr.InvalidColumnReference, "column %d is not available in a constant expression", i)
		}
		return b.rec.Column(i), nil
	}
	for len(b.cols) <= i {
		b.cols = append(b.cols, nil)
	}
	if b.cols[i] == nil {
		src, err := b.root.column(st, i)
		if err != nil {
			return nil, err
		}
		arr, err := take(st.mem, src, b.idx)
		if err != nil {
			return nil, err
		}
		b.cols[i] = arr
	}
	return b.cols[i], nil
}

func (b *batch) release() {
	for i, c := range b.cols {
		if c != nil {
			c.Release()
			b.cols[i] = nil
		}
	}
}

// node is a compiled expression.
type node interface {
	// eval evaluates the node over the rows of b.
	eval(st *state, b *batch) (vec, error)
	// fallible reports whether evaluation may fail for some row values
	// (overflow, division by zero, bad casts ...). Infallible arguments
	// of lazy constructs may be evaluated over rows that do not need them
	// when that is cheaper than gathering the rows that do.
	fallible() bool
}

// selecter is a node with its own way of selecting the rows where it is
// true, faster than evaluating it and scanning the result.
type selecter interface {
	selectRows(st *state, b *batch, dst []int32) ([]int32, error)
}

// selectRows appends to dst the positions in b where nd is true.
func selectRows(st *state, nd node, b *batch, dst []int32) ([]int32, error) {
	if s, ok := nd.(selecter); ok {
		return s.selectRows(st, b, dst)
	}
	v, err := nd.eval(st, b)
	if err != nil {
		return dst, err
	}
	defer v.release()
	return selectVec(v, b.n, dst), nil
}

// selectVec appends the rows where a boolean vec is true.
func selectVec(v vec, n int, dst []int32) []int32 {
	if v.arr == nil {
		if t, _ := v.c.(bool); t {
			for i := 0; i < n; i++ {
				dst = append(dst, int32(i))
			}
		}
		return dst
	}
	return trueRows(dst, n, boolValues(v.arr), validityOf(v.arr))
}

// evalRows evaluates nd over the rows rows of b (all rows when rows is
// nil). The element for rows[j] is at position pos[j] of the result, or at
// j when pos is nil. An infallible node over most of the batch is
// evaluated over all of b instead of gathering a sub-batch.
func evalRows(st *state, nd node, b *batch, rows []int32) (v vec, pos []int32, err error) {
	if rows == nil {
		v, err = nd.eval(st, b)
		return v, nil, err
	}
	if !nd.fallible() && 2*len(rows) >= b.n {
		v, err = nd.eval(st, b)
		return v, rows, err
	}
	sub := b.sub(rows)
	defer sub.release()
	v, err = nd.eval(st, sub)
	return v, nil, err
}
