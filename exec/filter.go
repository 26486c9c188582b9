package exec

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/exec/expr"
)

// filterOp keeps the rows for which its predicate is true. A record whose
// rows all pass is handed on without copying; otherwise the passing rows
// are gathered into a new record. Records with no passing row are skipped.
type filterOp struct {
	input Operator
	pred  *expr.Program
	mem   memory.Allocator
	eenv  *expr.Env
	sel   []int32
	out   outRecord
}

var _ Operator = (*filterOp)(nil)

// Schema implements Operator.
func (f *filterOp) Schema() *arrow.Schema { return f.input.Schema() }

// Next implements Operator.
func (f *filterOp) Next(ctx context.Context) (arrow.Record, error) {
	f.out.release()
	for {
		rec, err := f.input.Next(ctx)
		if err != nil || rec == nil {
			return nil, err
		}
		sel, err := f.pred.Select(ctx, f.eenv, rec, f.sel)
		if err != nil {
			return nil, err
		}
		f.sel = sel
		switch len(sel) {
		case 0:
			continue
		case int(rec.NumRows()):
			rec.Retain()
			return f.out.set(rec), nil
		}
		out, err := takeRecord(f.mem, f.Schema(), rec, sel)
		if err != nil {
			return nil, err
		}
		return f.out.set(out), nil
	}
}

// Close implements Operator.
func (f *filterOp) Close() error {
	f.out.release()
	return f.input.Close()
}

// projectOp computes one expression per output column over each input
// record.
type projectOp struct {
	input  Operator
	exprs  []*expr.Program
	schema *arrow.Schema
	eenv   *expr.Env
	out    outRecord
}

var _ Operator = (*projectOp)(nil)

// Schema implements Operator.
func (p *projectOp) Schema() *arrow.Schema { return p.schema }

// Next implements Operator.
func (p *projectOp) Next(ctx context.Context) (arrow.Record, error) {
	p.out.release()
	rec, err := p.input.Next(ctx)
	if err != nil || rec == nil {
		return nil, err
	}
	cols := make([]arrow.Array, len(p.exprs))
	for i, e := range p.exprs {
		a, err := e.Eval(ctx, p.eenv, rec)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols[i] = a
	}
	out, err := newRecordOwned(p.schema, cols, int(rec.NumRows()))
	if err != nil {
		return nil, err
	}
	return p.out.set(out), nil
}

// Close implements Operator.
func (p *projectOp) Close() error {
	p.out.release()
	return p.input.Close()
}
