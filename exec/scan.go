package exec

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// scanOp reads the records of a pinned table snapshot. It copies nothing:
// each record it returns shares the snapshot's buffers (chunks larger
// than maxBatchRows are sliced).
type scanOp struct {
	schema *arrow.Schema
	recs   []arrow.Record // the snapshot's chunks, retained for us by Records
	i      int            // current chunk
	off    int64          // next row within it
	out    outRecord
}

var _ Operator = (*scanOp)(nil)

// newScanOp returns a scan of snap producing cols, which must be the
// table's columns (a table dropped and re-created with other columns
// since planning is refused).
func newScanOp(snap *catalog.Snapshot, table string, cols []plan.Column) (*scanOp, error) {
	def := snap.Def()
	changed := len(def.Columns) != len(cols)
	for i := 0; !changed && i < len(cols); i++ {
		changed = !arrow.TypeEqual(def.Columns[i].Type.Arrow(), cols[i].Type.Arrow())
	}
	if changed {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "table %q changed after the statement was planned", table)
	}
	return &scanOp{schema: schemaOf(cols), recs: snap.Records()}, nil
}

// Schema implements Operator.
func (s *scanOp) Schema() *arrow.Schema { return s.schema }

// Next implements Operator.
func (s *scanOp) Next(ctx context.Context) (arrow.Record, error) {
	s.out.release()
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	for s.i < len(s.recs) {
		r := s.recs[s.i]
		n := r.NumRows()
		if s.off >= n {
			s.i++
			s.off = 0
			continue
		}
		end := min(n, s.off+maxBatchRows)
		var (
			rec arrow.Record
			err error
		)
		if s.off == 0 && end == n {
			rec, err = rewrap(s.schema, r)
		} else {
			part := r.NewSlice(s.off, end)
			rec, err = rewrap(s.schema, part)
			part.Release()
		}
		if err != nil {
			return nil, err
		}
		s.off = end
		return s.out.set(rec), nil
	}
	return nil, nil
}

// Close implements Operator.
func (s *scanOp) Close() error {
	s.out.release()
	for _, r := range s.recs {
		r.Release()
	}
	s.recs = nil
	return nil
}

// valuesOp produces literal rows, evaluating each expression once.
type valuesOp struct {
	schema *arrow.Schema
	rows   [][]plan.Expr
	pos    int
	mem    memory.Allocator
	eenv   *expr.Env
	out    outRecord
}

var _ Operator = (*valuesOp)(nil)

// Schema implements Operator.
func (v *valuesOp) Schema() *arrow.Schema { return v.schema }

// Next implements Operator.
func (v *valuesOp) Next(ctx context.Context) (arrow.Record, error) {
	v.out.release()
	if v.pos >= len(v.rows) {
		return nil, nil
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	end := min(len(v.rows), v.pos+maxBatchRows)
	builders := make([]array.Builder, v.schema.NumFields())
	for c, f := range v.schema.Fields() {
		builders[c] = array.NewBuilder(v.mem, f.Type)
	}
	defer func() {
		for _, b := range builders {
			b.Release()
		}
	}()
	for r := v.pos; r < end; r++ {
		row := v.rows[r]
		if len(row) != len(builders) {
			return nil, internalf("VALUES row %d has %d expressions, want %d", r+1, len(row), len(builders))
		}
		for c, e := range row {
			val, err := expr.EvalScalar(ctx, v.eenv, e)
			if err != nil {
				return nil, err
			}
			if err := expr.AppendValue(builders[c], val); err != nil {
				return nil, err
			}
		}
	}
	cols := make([]arrow.Array, len(builders))
	for c, b := range builders {
		cols[c] = b.NewArray()
	}
	rec, err := newRecordOwned(v.schema, cols, end-v.pos)
	if err != nil {
		return nil, err
	}
	v.pos = end
	return v.out.set(rec), nil
}

// Close implements Operator.
func (v *valuesOp) Close() error {
	v.out.release()
	v.pos = len(v.rows)
	return nil
}
