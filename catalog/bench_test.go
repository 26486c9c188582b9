package catalog

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// configDef is a typical config table.
func configDef() TableDef {
	return TableDef{
		Name: "page_rules",
		Columns: []ColumnDef{
			{Name: "page", Type: sqltypes.Varchar(64)},
			{Name: "category", Type: sqltypes.Varchar(32)},
			{Name: "max_latency", Type: sqltypes.Int32},
		},
		PrimaryKey: []int{0},
	}
}

func benchTable(b *testing.B, rows int) (*Catalog, *Table) {
	c := openT(b, b.TempDir())
	tbl := mustCreate(b, c, configDef())
	batch := make([][]any, rows)
	for i := range batch {
		batch[i] = []any{fmt.Sprintf("/page/%d", i), "landing", int64(i)}
	}
	mustWrite(b, tbl, insert(batch...))
	return c, tbl
}

// BenchmarkWriteSingleRowUpdate measures UPDATE page_rules SET max_latency
// = ... WHERE page = ... on a 10k-row table, one statement per Write, fsync
// included.
func BenchmarkWriteSingleRowUpdate(b *testing.B) {
	const rows = 10000
	_, tbl := benchTable(b, rows)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		key := fmt.Sprintf("/page/%d", (i*7919)%rows)
		_, err := tbl.Write(ctx, func(cur *Snapshot, w *Writer) error {
			o, ok := cur.Lookup([]any{key})
			if !ok {
				return fmt.Errorf("no row %s", key)
			}
			row := cur.Row(o)
			if err := w.Delete(o); err != nil {
				return err
			}
			row[2] = int64(i)
			return w.Insert(row)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteSingleRowUpdateParallel is the same from several
// goroutines on several tables, so commits share fsyncs.
func BenchmarkWriteSingleRowUpdateParallel(b *testing.B) {
	const rows = 10000
	c, _ := benchTable(b, rows)
	ctx := context.Background()
	tables := make(chan *Table, 8)
	for g := range 8 {
		def := configDef()
		def.Name = fmt.Sprintf("rules%d", g)
		tbl := mustCreate(b, c, def)
		batch := make([][]any, rows)
		for i := range batch {
			batch[i] = []any{fmt.Sprintf("/page/%d", i), "landing", int64(i)}
		}
		mustWrite(b, tbl, insert(batch...))
		tables <- tbl
	}
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tbl := <-tables
		i := 0
		for pb.Next() {
			i++
			if _, err := tbl.Write(ctx, addTo2(fmt.Sprintf("/page/%d", (i*7919)%rows))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func addTo2(key string) func(cur *Snapshot, w *Writer) error {
	return func(cur *Snapshot, w *Writer) error {
		o, _ := cur.Lookup([]any{key})
		row := cur.Row(o)
		_ = w.Delete(o)
		row[2] = row[2].(int64) + 1
		return w.Insert(row)
	}
}

// BenchmarkSnapshotScan measures pinning the latest version of a 100k-row
// table and summing one column over its records.
func BenchmarkSnapshotScan(b *testing.B) {
	const rows = 100000
	_, tbl := benchTable(b, rows)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s := tbl.Snapshot()
		var sum int64
		n := 0
		for _, rec := range s.Records() {
			col := rec.Column(2).(*array.Int32)
			for _, v := range col.Int32Values() {
				sum += int64(v)
			}
			n += col.Len()
		}
		if n != rows {
			b.Fatalf("scanned %d rows", n)
		}
	}
	b.ReportMetric(float64(rows), "rows/op")
}

// BenchmarkLookup measures a primary-key lookup on a 100k-row table.
func BenchmarkLookup(b *testing.B) {
	const rows = 100000
	_, tbl := benchTable(b, rows)
	s := tbl.Snapshot()
	keys := make([][]any, 1024)
	for i := range keys {
		keys[i] = []any{fmt.Sprintf("/page/%d", (i*7919)%rows)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, ok := s.Lookup(keys[i%len(keys)]); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkRecover measures Open of a catalog whose log holds 10k
// single-row updates of a 10k-row table after its last checkpoint.
func BenchmarkRecover(b *testing.B) {
	dir := b.TempDir()
	c := openT(b, dir, Options{NoAutoCheckpoint: true})
	tbl := mustCreate(b, c, configDef())
	batch := make([][]any, 10000)
	for i := range batch {
		batch[i] = []any{fmt.Sprintf("/page/%d", i), "landing", int64(i)}
	}
	mustWrite(b, tbl, insert(batch...))
	if err := c.Checkpoint(context.Background()); err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		mustWrite(b, tbl, addTo2(fmt.Sprintf("/page/%d", (i*7919)%10000)))
	}
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		c, err := Open(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = c.Close()
		b.StartTimer()
	}
}

// BenchmarkApplySingleRowUpdate is BenchmarkWriteSingleRowUpdate without
// the log: the CPU cost of building the next version (one chunk column and
// one index shard copied).
func BenchmarkApplySingleRowUpdate(b *testing.B) {
	const rows = 10000
	c, tbl := benchTable(b, rows)
	s := tbl.Snapshot()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		key := fmt.Sprintf("/page/%d", (i*7919)%rows)
		o, _ := s.Lookup([]any{key})
		row := s.Row(o)
		row[2] = int64(i)
		st := stmt{deleted: []int{o}, inserts: [][]any{row}}
		st.seal(s)
		res, err := s.apply(&st, s.version+1, s.committedAt, c.env)
		if err != nil {
			b.Fatal(err)
		}
		s = res.next
	}
}
