package exec

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
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

// BenchmarkFilterSumOperators is the foundation issue's filter + sum over
// 1M rows through the real operators: filter (g > 500, by the evaluator)
// into a hash aggregate computing sum(v) without GROUP BY. It reports ns
// per input row next to BenchmarkFilterSumHandLoopSameArrays, a
// hand-written loop over the same Arrow arrays.
func BenchmarkFilterSumOperators(b *testing.B) {
	const rows = 1_000_000
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	input := benchInput(mem, rows, 1000)
	defer releaseRecords(input.recs)
	want := handFilterSum(input.recs)
	g, v := colRef(0, sqltypes.Int64), colRef(1, sqltypes.Int64)
	pred := &plan.Func{Name: ">", Args: []plan.Expr{g, lit(int64(500), sqltypes.Int64)}, T: sqltypes.Bool}
	n := aggNode(nil, nil, agg(plan.AggSum, v, sqltypes.Int64))
	env := &Env{Mem: mem}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		input.i = 0
		prog, err := expr.Compile(pred)
		if err != nil {
			b.Fatal(err)
		}
		filter := &filterOp{input: input, pred: prog, mem: mem, eenv: env.exprEnv()}
		op, err := newHashAggOp(filter, n, mem, env.exprEnv())
		if err != nil {
			b.Fatal(err)
		}
		rec, err := op.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if got := rec.Column(0).(*array.Int64).Value(0); got != want {
			b.Fatalf("sum = %d, want %d", got, want)
		}
		if err := op.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}

// handFilterSum is sum(v) where g > 500 as a plain loop over the arrays.
func handFilterSum(recs []arrow.Record) int64 {
	var sum int64
	for _, r := range recs {
		gs := r.Column(0).(*array.Int64).Int64Values()
		vs := r.Column(1).(*array.Int64).Int64Values()
		for i, g := range gs {
			if g > 500 {
				sum += vs[i]
			}
		}
	}
	return sum
}

// BenchmarkFilterSumHandLoopSameArrays is the baseline for
// BenchmarkFilterSumOperators.
func BenchmarkFilterSumHandLoopSameArrays(b *testing.B) {
	const rows = 1_000_000
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	input := benchInput(mem, rows, 1000)
	defer releaseRecords(input.recs)
	want := handFilterSum(input.recs)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got := handFilterSum(input.recs); got != want {
			b.Fatalf("sum = %d, want %d", got, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}
