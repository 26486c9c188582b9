package expr

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

const (
	benchRows      = 1_000_000
	benchBatchRows = 64 * 1024
)

// benchRecords returns 1M rows in records of 64k rows: v BIGINT and k
// INTEGER, k pseudo-random in 0..999.
func benchRecords(b *testing.B, mem memory.Allocator) []arrow.Record {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
		{Name: "k", Type: arrow.PrimitiveTypes.Int32},
	}, nil)
	var recs []arrow.Record
	for done := 0; done < benchRows; {
		n := min(benchBatchRows, benchRows-done)
		vb := array.NewInt64Builder(mem)
		kb := array.NewInt32Builder(mem)
		for i := 0; i < n; i++ {
			vb.Append(rng.Int64N(1_000_000) - 500_000)
			kb.Append(rng.Int32N(1000))
		}
		v, k := vb.NewArray(), kb.NewArray()
		recs = append(recs, array.NewRecord(schema, []arrow.Array{v, k}, int64(n)))
		v.Release()
		k.Release()
		vb.Release()
		kb.Release()
		done += n
	}
	return recs
}

// sumSelected sums the rows sel of vs.
func sumSelected(vs []int64, sel []int32) int64 {
	var s int64
	for _, i := range sel {
		s += vs[i]
	}
	return s
}

// handSum is the hand-written loop the evaluator is measured against.
func handSum(recs []arrow.Record) int64 {
	var sum int64
	for _, rec := range recs {
		vs := rec.Column(0).(*array.Int64).Int64Values()
		ks := rec.Column(1).(*array.Int32).Int32Values()
		for i, k := range ks {
			if k > 500 {
				sum += vs[i]
			}
		}
	}
	return sum
}

// BenchmarkFilterSum is SELECT sum(v) WHERE k > 500 through the
// evaluator: Compile, then Select per record and a sum over the selection.
func BenchmarkFilterSum(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	recs := benchRecords(b, mem)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	p, err := Compile(fn(">", sqltypes.Bool, ref(1, sqltypes.Int32), lit(int64(500), sqltypes.Int32)))
	if err != nil {
		b.Fatal(err)
	}
	want := handSum(recs)
	env := &Env{Mem: mem}
	var sel []int32
	b.ResetTimer()
	for range b.N {
		var sum int64
		for _, rec := range recs {
			if sel, err = p.Select(ctx0, env, rec, sel); err != nil {
				b.Fatal(err)
			}
			sum += sumSelected(rec.Column(0).(*array.Int64).Int64Values(), sel)
		}
		if sum != want {
			b.Fatalf("got sum %d, want %d", sum, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

// BenchmarkFilterSumHandLoop is the same query as a hand-written loop
// over the same Arrow arrays.
func BenchmarkFilterSumHandLoop(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	recs := benchRecords(b, mem)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	want := handSum(recs)
	b.ResetTimer()
	for range b.N {
		if sum := handSum(recs); sum != want {
			b.Fatalf("got sum %d, want %d", sum, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

// BenchmarkFilterSumHandLoopBranchless is the hand loop written without a
// data-dependent branch, the best a hand-written loop does on random keys.
func BenchmarkFilterSumHandLoopBranchless(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	recs := benchRecords(b, mem)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	want := handSum(recs)
	b.ResetTimer()
	for range b.N {
		var sum int64
		for _, rec := range recs {
			vs := rec.Column(0).(*array.Int64).Int64Values()
			ks := rec.Column(1).(*array.Int32).Int32Values()
			vs = vs[:len(ks)]
			for i, k := range ks {
				sum += vs[i] & -int64(b2u8(k > 500))
			}
		}
		if sum != want {
			b.Fatalf("got sum %d, want %d", sum, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

// BenchmarkEvalArithmetic measures a projection, v * 2 + k, with overflow
// checks and a cast.
func BenchmarkEvalArithmetic(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	recs := benchRecords(b, mem)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	p, err := Compile(fn("+", i64, fn("*", i64, ref(0, i64), lit(int64(2), i64)), cast(ref(1, i32), i64, false)))
	if err != nil {
		b.Fatal(err)
	}
	env := &Env{Mem: mem}
	b.ResetTimer()
	for range b.N {
		for _, rec := range recs {
			arr, err := p.Eval(ctx0, env, rec)
			if err != nil {
				b.Fatal(err)
			}
			arr.Release()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}
