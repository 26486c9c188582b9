package exec

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Operator produces Arrow records.
//
// Next returns the next record, or nil when the operator is done. The
// record is borrowed: it stays valid until the next call to Next or Close
// on the same operator, and a consumer that keeps it longer calls Retain
// (and later Release). Next never returns a record with zero rows. After
// Next has returned nil or an error, further calls return nil or an error.
//
// Close releases everything the operator holds, including its inputs, and
// is safe to call more than once. The caller always calls Close, also
// after an error.
//
// Schema is the output schema; every record's columns have exactly its
// types (sqltypes.Type.Arrow of the plan node's columns).
//
// The context is passed to every call and never stored.
type Operator interface {
	Next(ctx context.Context) (arrow.Record, error)
	Close() error
	Schema() *arrow.Schema
}

// maxBatchRows bounds the rows of the records operators produce. Inputs
// larger than this (catalog chunks, aggregate results, sorted output) are
// cut into records of at most this many rows.
const maxBatchRows = 1 << 16

// schemaOf returns the Arrow schema of plan columns. Every field is
// nullable: nullability is a table constraint, not a property of a
// column of a query.
func schemaOf(cols []plan.Column) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type.Arrow(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// ctxErr returns the context's error as a SQL error (57014), or nil.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return sqlerr.New(sqlerr.QueryCanceled, "canceling statement: %w", err)
	}
	return nil
}

// internalf returns an XX000 error: a broken invariant between the planner
// and the executor, never a user error.
func internalf(format string, args ...any) error {
	return sqlerr.New(sqlerr.InternalError, "exec: "+format, args...)
}

// outRecord holds the record an operator handed out last, so that it can
// be released on the next call or on Close.
type outRecord struct {
	rec arrow.Record
}

// set releases the previous record and remembers rec (which the operator
// owns one reference of) as the one handed out. It returns rec.
func (o *outRecord) set(rec arrow.Record) arrow.Record {
	o.release()
	o.rec = rec
	return rec
}

// release releases the record handed out last, if any.
func (o *outRecord) release() {
	if o.rec != nil {
		o.rec.Release()
		o.rec = nil
	}
}

// closeAll closes operators, returning the first error.
func closeAll(ops ...Operator) error {
	var first error
	for _, op := range ops {
		if op == nil {
			continue
		}
		if err := op.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
