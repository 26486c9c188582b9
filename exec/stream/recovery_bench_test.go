package stream

import (
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// BenchmarkRecoveryOfOneMillionGroups measures how long a restarted
// aggregate stream with 1M groups of state takes to recover: open its
// checkpoint, load the newest state snapshot and restore it (nothing to
// replay: the snapshot is of its last batch). It also reports what one
// batch's checkpoint costs: the plan and commit records (two fsyncs) and,
// for this stream, the state snapshot of 1M groups.
func BenchmarkRecoveryOfOneMillionGroups(b *testing.B) {
	const groups = 1 << 20
	e := newBenchEnv(b)
	// One event per key.
	schema := e.log.Schema()
	for start := 0; start < groups; start += benchAppendRows {
		rb := array.NewRecordBuilder(e.mem, schema)
		kb := rb.Field(0).(*array.Int64Builder)
		lb := rb.Field(1).(*array.Int32Builder)
		tb := rb.Field(2).(*array.TimestampBuilder)
		for i := start; i < start+benchAppendRows; i++ {
			kb.Append(int64(i))
			lb.Append(int32(i % 1000))
			tb.Append(arrow.Timestamp(i))
		}
		rec := rb.NewRecord()
		rb.Release()
		_, err := e.log.AppendRecords(e.ctx, []arrow.Record{rec})
		rec.Release()
		if err != nil {
			b.Fatal(err)
		}
	}
	e.m.cfg.CheckpointEvery = 1 // snapshot after the batch
	spec := e.streamSpec(`CREATE STREAM agg WITH (trigger = 'available_now', max_rows_per_batch = 2000000, sink = 'none') AS
		SELECT k, count(*) AS n, sum(latency) AS total FROM ev GROUP BY k`)
	if err := e.m.CreateStream(e.ctx, spec, false); err != nil {
		b.Fatal(err)
	}
	st, err := e.m.WaitForStatus(e.ctx, "agg", StatusFinished)
	if err != nil {
		b.Fatal(err)
	}
	p := e.m.Progress()
	last := p[len(p)-1]
	if st.LastBatch != 0 || last.StateRows != groups {
		b.Fatalf("the stream ran to batch %d with %d state rows, want batch 0 and %d", st.LastBatch, last.StateRows, groups)
	}

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e.m.mu.Lock()
		s := e.m.streams["agg"]
		delete(e.m.streams, "agg")
		e.m.mu.Unlock()
		s.stopAndWait()
		s.closeState()
		b.StartTimer()
		t0 := time.Now()
		if err := e.m.CreateStream(e.ctx, spec, true); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		b.StopTimer()
		got := e.m.Streams()[0]
		if got.Status == StatusFailed || got.LastBatch != 0 {
			b.Fatalf("recovered stream: %+v", got)
		}
		b.ReportMetric(float64(d.Microseconds())/1000, "recover_ms")
		b.StartTimer()
	}
	// ResetTimer drops metrics reported before it.
	b.ReportMetric(float64(last.Plan.Microseconds())/1000, "plan_ms")
	b.ReportMetric(float64(last.Commit.Microseconds())/1000, "commit+snapshot_ms")
	b.ReportMetric(float64(last.Duration.Microseconds())/1000, "batch_ms")
}
