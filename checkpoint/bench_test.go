package checkpoint

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

func reportMillis(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// BenchmarkCheckpointPlanCommit measures what checkpointing costs a batch
// that saves no state: one plan and one commit, each appended and fsynced.
func BenchmarkCheckpointPlanCommit(b *testing.B) {
	ctx := context.Background()
	d := open(b, b.TempDir())
	p := testPlan(0)
	p.Start = map[int32]int64{}
	p.End = map[int32]int64{}
	for part := range int32(8) {
		p.Start[part], p.End[part] = 1_000_000, 1_000_000
	}
	p.Versions = map[string]uint64{"page_rules": 12, "thresholds": 3}
	b.ResetTimer()
	for i := range b.N {
		p.Batch = int64(i)
		p.PlannedAt = time.Time{}
		for part := range p.End {
			p.Start[part] = p.End[part]
			p.End[part] += 1000
		}
		if err := d.WritePlan(ctx, p); err != nil {
			b.Fatal(err)
		}
		if err := d.Commit(ctx, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	reportMillis(b)
}

const benchStateRows = 1_000_000

// BenchmarkWriteState saves 1M rows of state (int64, float64, string,
// int64) in records of 64Ki rows: write, fsync, rename, directory fsync,
// and the log compaction that follows.
func BenchmarkWriteState(b *testing.B) {
	ctx := context.Background()
	mem := memory.NewGoAllocator()
	recs := stateRecords(mem, 0, benchStateRows, 1<<16)
	defer release(recs)
	d := open(b, b.TempDir())
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		runBatches(b, d, int64(i))
		b.StartTimer()
		if err := d.WriteState(ctx, int64(i), stateSchema, recs); err != nil {
			b.Fatal(err)
		}
	}
	reportMillis(b)
	b.ReportMetric(float64(fileSize(b, filepath.Join(d.Path(), stateName(int64(b.N-1)))))/(1<<20), "MiB")
}

// BenchmarkLoadState measures recovery of 1M state rows: Open, then
// LoadState (read, checksum, decode).
func BenchmarkLoadState(b *testing.B) {
	ctx := context.Background()
	mem := memory.NewGoAllocator()
	recs := stateRecords(mem, 0, benchStateRows, 1<<16)
	path := b.TempDir()
	d := open(b, path)
	runBatches(b, d, 0)
	if err := d.WriteState(ctx, 0, stateSchema, recs); err != nil {
		b.Fatal(err)
	}
	release(recs)
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		d, err := Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		batch, _, got, err := d.LoadState(ctx, mem)
		if err != nil || batch != 0 {
			b.Fatal(batch, err)
		}
		rows := int64(0)
		for _, r := range got {
			rows += r.NumRows()
		}
		release(got)
		if rows != benchStateRows {
			b.Fatalf("loaded %d rows", rows)
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
	}
	reportMillis(b)
}
