package exec

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
)

// limitOp skips offset rows, then passes at most count rows (count < 0:
// no limit). It slices records without copying and stops pulling its
// input once the count is reached.
type limitOp struct {
	input   Operator
	count   int64
	skip    int64
	emitted int64
	out     outRecord
}

var _ Operator = (*limitOp)(nil)

// Schema implements Operator.
func (l *limitOp) Schema() *arrow.Schema { return l.input.Schema() }

// Next implements Operator.
func (l *limitOp) Next(ctx context.Context) (arrow.Record, error) {
	l.out.release()
	for {
		if l.count >= 0 && l.emitted >= l.count {
			return nil, nil
		}
		rec, err := l.input.Next(ctx)
		if err != nil || rec == nil {
			return nil, err
		}
		n := rec.NumRows()
		start := int64(0)
		if l.skip > 0 {
			if l.skip >= n {
				l.skip -= n
				continue
			}
			start, l.skip = l.skip, 0
		}
		end := n
		if l.count >= 0 && end-start > l.count-l.emitted {
			end = start + l.count - l.emitted
		}
		l.emitted += end - start
		if start == 0 && end == n {
			rec.Retain()
			return l.out.set(rec), nil
		}
		return l.out.set(rec.NewSlice(start, end)), nil
	}
}

// Close implements Operator.
func (l *limitOp) Close() error {
	l.out.release()
	return l.input.Close()
}

// unionAllOp passes on the records of its inputs, one input after the
// other, under its own schema.
type unionAllOp struct {
	inputs []Operator
	cur    int
	schema *arrow.Schema
	out    outRecord
}

var _ Operator = (*unionAllOp)(nil)

// Schema implements Operator.
func (u *unionAllOp) Schema() *arrow.Schema { return u.schema }

// Next implements Operator.
func (u *unionAllOp) Next(ctx context.Context) (arrow.Record, error) {
	u.out.release()
	for u.cur < len(u.inputs) {
		rec, err := u.inputs[u.cur].Next(ctx)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			u.cur++
			continue
		}
		out, err := rewrap(u.schema, rec)
		if err != nil {
			return nil, err
		}
		return u.out.set(out), nil
	}
	return nil, nil
}

// Close implements Operator.
func (u *unionAllOp) Close() error {
	u.out.release()
	u.cur = len(u.inputs)
	return closeAll(u.inputs...)
}
