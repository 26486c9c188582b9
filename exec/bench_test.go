package exec

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// recordsOp is a test source that hands out prepared records (borrowed,
// as the contract says) and can be rewound.
type recordsOp struct {
	schema *arrow.Schema
	recs   []arrow.Record
	i      int
}

var _ Operator = (*recordsOp)(nil)

func (r *recordsOp) Schema() *arrow.Schema { return r.schema }

func (r *recordsOp) Next(context.Context) (arrow.Record, error) {
	if r.i >= len(r.recs) {
		return nil, nil
	}
	r.i++
	return r.recs[r.i-1], nil
}

func (r *recordsOp) Close() error { return nil }

// benchInput returns rows rows of (g BIGINT, v BIGINT) in records of
// maxBatchRows, with g = i % groups.
func benchInput(mem memory.Allocator, rows, groups int) *recordsOp {
	schema := schemaOf([]plan.Column{{Name: "g", Type: sqltypes.Int64}, {Name: "v", Type: sqltypes.Int64}})
	op := &recordsOp{schema: schema}
	for start := 0; start < rows; start += maxBatchRows {
		n := min(maxBatchRows, rows-start)
		gb := array.NewInt64Builder(mem)
		vb := array.NewInt64Builder(mem)
		for i := start; i < start+n; i++ {
			gb.Append(int64(i % groups))
			vb.Append(int64(i))
		}
		g, v := gb.NewArray(), vb.NewArray()
		op.recs = append(op.recs, array.NewRecord(schema, []arrow.Array{g, v}, int64(n)))
		g.Release()
		v.Release()
		gb.Release()
		vb.Release()
	}
	return op
}

// BenchmarkHashAggregate groups 1M rows into 1000 groups computing
// sum(v) and count(*); it reports ns per input row.
func BenchmarkHashAggregate(b *testing.B) {
	const rows, groups = 1_000_000, 1000
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	input := benchInput(mem, rows, groups)
	defer releaseRecords(input.recs)
	g, v := colRef(0, sqltypes.Int64), colRef(1, sqltypes.Int64)
	n := aggNode(nil, []plan.Expr{g}, agg(plan.AggSum, v, sqltypes.Int64), countStar)
	env := &Env{Mem: mem}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		input.i = 0
		op, err := newHashAggOp(input, n, mem, env.exprEnv())
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			rec, err := op.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if rec == nil {
				break
			}
			got += int(rec.NumRows())
		}
		if got != groups {
			b.Fatalf("got %d groups, want %d", got, groups)
		}
		op.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}
