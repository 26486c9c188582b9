package source

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

// BenchmarkNexmarkRead measures the Nexmark generator alone: Read of
// 1<<18 rows at a time in records of 1<<14, on one goroutine and on
// GOMAXPROCS, for each table. rows/s/core divides by the goroutines used.
//
//	go test ./exec/source -run XXX -bench NexmarkRead
func BenchmarkNexmarkRead(b *testing.B) {
	for _, table := range []string{NexmarkBid, NexmarkAuction, NexmarkPerson} {
		for _, par := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(table+"/parallelism="+strconv.Itoa(par), func(b *testing.B) {
				x, err := NewNexmark(NexmarkColumns(table), NexmarkOptions{Table: table, Parallelism: par}, nil)
				if err != nil {
					b.Fatal(err)
				}
				mem := memory.NewGoAllocator()
				const batch, maxRows = 1 << 18, 1 << 14
				var rows int64
				for b.Loop() {
					recs, err := x.Read(context.Background(), mem, Offsets{0: rows}, Offsets{0: rows + batch}, maxRows)
					if err != nil {
						b.Fatal(err)
					}
					release(recs)
					rows += batch
				}
				perSec := float64(rows) / b.Elapsed().Seconds()
				b.ReportMetric(perSec, "rows/s")
				b.ReportMetric(perSec/float64(par), "rows/s/core")
			})
		}
	}
}
