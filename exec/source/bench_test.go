package source

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// benchCols is a typical event schema.
var benchCols = []Column{
	{"id", sqltypes.Int64},
	{"user_id", sqltypes.Int32},
	{"amount", sqltypes.Float64},
	{"kind", sqltypes.Varchar(8)},
	{"ok", sqltypes.Bool},
	{"ts", sqltypes.Timestamp},
}

func reportRows(b *testing.B, rows int64) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkDatagenRead(b *testing.B) {
	for _, bc := range []struct {
		name   string
		fields []FieldOptions
	}{
		{"defaults", nil},
		{"configured", []FieldOptions{
			{Kind: GenSequence},
			{Min: int64(1), Max: int64(100_000)},
			{Min: 0.0, Max: 500.0},
			{Choices: []any{"view", "click", "purchase", "refund"}},
			{},
			{Step: sqltypes.Interval{Micros: 1000}},
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			mem := memory.NewGoAllocator()
			d, err := NewDatagen(benchCols, DatagenOptions{Seed: 1, Fields: bc.fields}, nil)
			if err != nil {
				b.Fatal(err)
			}
			const batch, maxRows = 1 << 16, 8192
			var rows int64
			start := int64(0)
			for b.Loop() {
				if err := readBench(d, mem, start, start+batch, maxRows); err != nil {
					b.Fatal(err)
				}
				start += batch
				rows += batch
			}
			reportRows(b, rows)
		})
	}
}

// readBench reads [s, e), asking for Latest when it falls short.
func readBench(src Source, mem memory.Allocator, s, e int64, maxRows int) error {
	ctx := context.Background()
	for {
		l, err := src.Latest(ctx)
		if err != nil {
			return err
		}
		if l[0] >= e {
			break
		}
	}
	recs, err := src.Read(ctx, mem, Offsets{0: s}, Offsets{0: e}, maxRows)
	if err != nil {
		return err
	}
	release(recs)
	return nil
}

// benchRecord is rows [from, from+n) of benchCols, from datagen.
func benchRecord(b *testing.B, n int) arrow.Record {
	d, err := NewDatagen(benchCols, DatagenOptions{Seed: 2}, nil)
	if err != nil {
		b.Fatal(err)
	}
	d.Latest(context.Background())
	recs, err := d.Read(context.Background(), memory.NewGoAllocator(), Offsets{0: 0}, Offsets{0: int64(n)}, n)
	if err != nil {
		b.Fatal(err)
	}
	return recs[0]
}

func BenchmarkLogAppendRecords(b *testing.B) {
	for _, n := range []int{1, 1024, 16384} {
		b.Run(fmt.Sprintf("%d rows", n), func(b *testing.B) {
			rec := benchRecord(b, n)
			defer rec.Release()
			l, err := OpenLog(context.Background(), b.TempDir(), benchCols, LogOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			var rows int64
			for b.Loop() {
				if _, err := l.AppendRecords(context.Background(), []arrow.Record{rec}); err != nil {
					b.Fatal(err)
				}
				rows += int64(n)
			}
			reportRows(b, rows)
		})
	}
}

func BenchmarkLogRead(b *testing.B) {
	const frameRows, total, maxRows = 4096, 1 << 18, 8192
	rec := benchRecord(b, frameRows)
	defer rec.Release()
	l, err := OpenLog(context.Background(), b.TempDir(), benchCols, LogOptions{SegmentBytes: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	for range total / frameRows {
		if _, err := l.AppendRecords(context.Background(), []arrow.Record{rec}); err != nil {
			b.Fatal(err)
		}
	}
	mem := memory.NewGoAllocator()
	var rows int64
	for b.Loop() {
		// A range that starts and ends inside frames.
		if err := readBench(l, mem, 1000, total-1000, maxRows); err != nil {
			b.Fatal(err)
		}
		rows += total - 2000
	}
	reportRows(b, rows)
}
