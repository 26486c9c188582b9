package exec

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// distinctOp passes on the first occurrence of every distinct row (NULLs
// equal), streaming: each input record yields its rows not seen before.
type distinctOp struct {
	input Operator
	ht    *hashTable
	mem   memory.Allocator
	ents  []int32
	isNew []bool
	sel   []int32
	out   outRecord
}

var _ Operator = (*distinctOp)(nil)

func newDistinctOp(input Operator, mem memory.Allocator) (*distinctOp, error) {
	dts := make([]arrow.DataType, input.Schema().NumFields())
	for i, f := range input.Schema().Fields() {
		dts[i] = f.Type
	}
	ht, err := newHashTable(dts, false)
	if err != nil {
		return nil, err
	}
	return &distinctOp{input: input, ht: ht, mem: mem}, nil
}

// Schema implements Operator.
func (d *distinctOp) Schema() *arrow.Schema { return d.input.Schema() }

// Next implements Operator.
func (d *distinctOp) Next(ctx context.Context) (arrow.Record, error) {
	d.out.release()
	for {
		rec, err := d.input.Next(ctx)
		if err != nil || rec == nil {
			return nil, err
		}
		n := int(rec.NumRows())
		if err := d.ht.bind(rec.Columns(), nil, n); err != nil {
			return nil, err
		}
		d.ents = growTo(d.ents[:0], n)
		d.isNew = growTo(d.isNew[:0], n)
		d.ht.findOrInsertAll(d.ents, d.isNew, false)
		d.sel = d.sel[:0]
		for i, isNew := range d.isNew {
			if isNew {
				d.sel = append(d.sel, int32(i))
			}
		}
		switch len(d.sel) {
		case 0:
			continue
		case n:
			rec.Retain()
			return d.out.set(rec), nil
		}
		out, err := takeRecord(d.mem, d.Schema(), rec, d.sel)
		if err != nil {
			return nil, err
		}
		return d.out.set(out), nil
	}
}

// Close implements Operator.
func (d *distinctOp) Close() error {
	d.out.release()
	return d.input.Close()
}
