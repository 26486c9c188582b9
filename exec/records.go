package exec

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluice-sql/sluice/planner/plan"
)

// recordsOperator hands out records its caller owns.
type recordsOperator struct {
	schema *arrow.Schema
	recs   []arrow.Record
	pos    int
}

// NewRecordsOperator returns an operator that yields recs in order,
// skipping empty ones: the leaf a stream's batch feeds its plan with
// (Env.Inputs). The caller keeps ownership of recs and releases them
// after the operator tree is closed.
func NewRecordsOperator(schema *arrow.Schema, recs []arrow.Record) Operator {
	return &recordsOperator{schema: schema, recs: recs}
}

// Schema implements Operator.
func (o *recordsOperator) Schema() *arrow.Schema { return o.schema }

// Next implements Operator.
func (o *recordsOperator) Next(ctx context.Context) (arrow.Record, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	for o.pos < len(o.recs) {
		r := o.recs[o.pos]
		o.pos++
		if r.NumRows() > 0 {
			return r, nil
		}
	}
	return nil, nil
}

// Close implements Operator.
func (o *recordsOperator) Close() error {
	o.pos = len(o.recs)
	return nil
}

// SchemaOf returns the Arrow schema of plan columns, as operators produce
// them.
func SchemaOf(cols []plan.Column) *arrow.Schema { return schemaOf(cols) }
