package stream

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

const numsSource = `CREATE SOURCE nums (n BIGINT) WITH (connector = 'log')`

// --- Triggers ---------------------------------------------------------

func TestIntervalTriggerRunsOneBatchPerWakeupAndMissedTriggersDoNotPileUp(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.appendRows("nums", ints(0, 20)...)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s', max_rows_per_batch = 2, sink = 'none') AS SELECT n FROM nums`)

	// The first batch runs as the stream starts; the next waits for the
	// trigger although rows are left.
	h.waitBatch("s", 0)
	h.waitIdle()
	if got := h.status("s").LastBatch; got != 0 {
		t.Fatalf("after the first batch: last batch %d, want 0", got)
	}
	h.advance(999 * time.Millisecond)
	h.waitIdle()
	if got := h.status("s").LastBatch; got != 0 {
		t.Fatalf("before the interval has passed: last batch %d, want 0", got)
	}
	h.advance(time.Millisecond)
	h.waitBatch("s", 1)
	h.waitIdle()
	if got := h.status("s").LastBatch; got != 1 {
		t.Fatalf("one interval later: last batch %d, want 1", got)
	}

	// Ten intervals at once are one wakeup: one batch, not ten.
	h.advance(10 * time.Second)
	h.waitBatch("s", 2)
	h.waitIdle()
	if got := h.status("s").LastBatch; got != 2 {
		t.Fatalf("after ten missed intervals: last batch %d, want 2", got)
	}
	// The next interval counts from that batch's start.
	h.advance(time.Second)
	h.waitBatch("s", 3)
	h.waitIdle()
	if got := h.status("s").LastBatch; got != 3 {
		t.Fatalf("one interval after the catch-up batch: last batch %d, want 3", got)
	}

	if got, want := h.endOffsets("s"), []int64{2, 4, 6, 8}; !reflect.DeepEqual(got, want) {
		t.Errorf("end offsets %v, want %v", got, want)
	}
	var started []string
	for _, p := range h.progress("s") {
		started = append(started, p.StartedAt.Sub(epoch).String())
	}
	equal(t, "batch start times", started, []string{"0s", "1s", "11s", "12s"})
}

func TestADatagenSourceAtARateGivesWhatIsDueInOneBatchPerWakeup(t *testing.T) {
	h := newHarness(t)
	h.mustExec(`CREATE SOURCE gen (id BIGINT) WITH (connector = 'datagen', rows_per_second = '10',
		fields.id.kind = 'sequence', fields.id.start = '0')`)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s', sink = 'none') AS SELECT id FROM gen`)
	h.waitIdle() // nothing is due at 0s
	if got := h.status("s").LastBatch; got != -1 {
		t.Fatalf("at 0s: last batch %d, want -1", got)
	}
	h.advance(time.Second)
	h.waitBatch("s", 0)
	// Ten seconds' rows, in the one batch of the one wakeup.
	h.advance(10 * time.Second)
	h.waitBatch("s", 1)
	h.waitIdle()
	if got := h.status("s").LastBatch; got != 1 {
		t.Fatalf("after ten intervals: last batch %d, want 1", got)
	}
	if got, want := h.endOffsets("s"), []int64{10, 110}; !reflect.DeepEqual(got, want) {
		t.Errorf("end offsets %v, want %v", got, want)
	}
}

func TestIntervalTriggerFollowsAnOverrunningBatchAtOnce(t *testing.T) {
	var clock *costClock
	h := newHarness(t, func(c *Config) {
		clock = &costClock{ManualClock: c.Clock.(*ManualClock)}
		c.Clock = clock
	})
	h.mustExec(numsSource)
	h.appendRows("nums", ints(0, 10)...)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s', max_rows_per_batch = 3, sink = 'none') AS SELECT n FROM nums`)
	h.waitBatch("s", 0)
	h.waitIdle()
	if got := h.status("s").LastBatch; got != 0 {
		t.Fatalf("a batch within its interval: last batch %d, want 0 (waiting for the trigger)", got)
	}

	// From now on every batch takes longer than the interval: one
	// trigger drains the source, batch after batch, with no wait.
	clock.setCost(time.Second)
	h.advance(time.Second)
	h.waitBatch("s", 3)
	clock.setCost(0) // else every look at the clock would find the next poll due
	h.waitIdle()
	st := h.status("s")
	if st.LastBatch != 3 || st.Status != StatusRunning {
		t.Fatalf("after one trigger with overrunning batches: %s at batch %d, want running at 3", st.Status, st.LastBatch)
	}
	if got, want := h.endOffsets("s"), []int64{3, 6, 9, 10}; !reflect.DeepEqual(got, want) {
		t.Errorf("end offsets %v, want %v", got, want)
	}
}

func TestTriggerOnceRunsOneBatchOverWhatExistsThenFinishes(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.appendRows("nums", ints(0, 10)...)
	h.mustExec(`CREATE STREAM s WITH (trigger = 'once', max_rows_per_batch = 3) AS SELECT n FROM nums`)
	st := h.waitStatus("s", StatusFinished)
	if st.LastBatch != 0 {
		t.Fatalf("trigger once: last batch %d, want 0", st.LastBatch)
	}
	// As Spark's Trigger.Once: one batch over everything, whatever
	// max_rows_per_batch says.
	if got, want := h.endOffsets("s"), []int64{10}; !reflect.DeepEqual(got, want) {
		t.Errorf("end offsets %v, want %v", got, want)
	}
	if got := len(h.tableRows("s")); got != 10 {
		t.Errorf("sink has %d rows, want 10", got)
	}

	// Nothing runs any more, whatever the clock does.
	h.appendRows("nums", ints(10, 12)...)
	h.advance(time.Minute)
	h.waitIdle()
	if st := h.status("s"); st.Status != StatusFinished || st.LastBatch != 0 {
		t.Fatalf("after the clock moved: %s at batch %d, want finished at 0", st.Status, st.LastBatch)
	}
	ctx, cancel := context.WithTimeout(h.ctx, waitTimeout)
	defer cancel()
	_, err := h.m.WaitForBatch(ctx, "s", 1)
	wantCode(t, err, sqlerr.ObjectNotInPrerequisiteState)

	// Setting the trigger again runs one more batch.
	h.mustExec(`ALTER STREAM s SET (trigger = 'once')`)
	h.waitBatch("s", 1)
	h.waitStatus("s", StatusFinished)
	if got, want := h.endOffsets("s"), []int64{10, 12}; !reflect.DeepEqual(got, want) {
		t.Errorf("end offsets %v, want %v", got, want)
	}
}

func TestTriggerAvailableNowDrainsWhatExistedAtStartInBoundedBatches(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.appendRows("nums", ints(0, 10)...)
	h.mustExec(`CREATE STREAM s WITH (trigger = 'available_now', max_rows_per_batch = 3) AS SELECT n FROM nums`)
	// The target was fixed before batch 0: these rows are not for this run.
	h.waitBatch("s", 0)
	h.appendRows("nums", ints(10, 15)...)
	st := h.waitStatus("s", StatusFinished)
	if st.LastBatch != 3 {
		t.Errorf("last batch %d, want 3", st.LastBatch)
	}
	if got, want := h.endOffsets("s"), []int64{3, 6, 9, 10}; !reflect.DeepEqual(got, want) {
		t.Errorf("end offsets %v, want %v", got, want)
	}
	if got := len(h.tableRows("s")); got != 10 {
		t.Errorf("sink has %d rows, want 10", got)
	}

	// Setting it again drains what exists now, from where it stopped.
	h.mustExec(`ALTER STREAM s SET (trigger = 'available_now')`)
	h.waitBatch("s", 5)
	h.waitStatus("s", StatusFinished)
	if got, want := h.endOffsets("s"), []int64{3, 6, 9, 10, 13, 15}; !reflect.DeepEqual(got, want) {
		t.Errorf("end offsets %v, want %v", got, want)
	}
}

func TestAlterTriggerAppliesFromTheNextBatch(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s') AS SELECT n FROM nums`)
	h.waitIdle() // the stream's first look found nothing, at 0s

	// Rows wait for the trigger; the new one is 5s after the last look.
	h.appendRows("nums", ints(0, 3)...)
	h.mustExec(`ALTER STREAM s SET (trigger = '5s')`)
	h.advance(time.Second)
	h.waitIdle()
	if st := h.status("s"); st.LastBatch != -1 || st.Trigger.String() != "5s" {
		t.Fatalf("1s after ALTER to 5s: batch %d with trigger %s, want no batch with 5s", st.LastBatch, st.Trigger)
	}
	h.advance(4 * time.Second)
	h.waitBatch("s", 0)
	h.advance(4 * time.Second)
	h.appendRows("nums", ints(3, 4)...)
	h.waitIdle()
	if got := h.status("s").LastBatch; got != 0 {
		t.Fatalf("4s after a batch with a 5s trigger: last batch %d, want 0", got)
	}
	h.advance(time.Second)
	h.waitBatch("s", 1)
	var started []string
	for _, p := range h.progress("s") {
		started = append(started, p.StartedAt.Sub(epoch).String())
	}
	equal(t, "batch start times", started, []string{"5s", "10s"})

	// A shorter trigger whose interval has passed since the last batch
	// runs at once.
	h.appendRows("nums", ints(4, 5)...)
	h.advance(3 * time.Second)
	h.mustExec(`ALTER STREAM s SET (trigger = '2s')`)
	h.waitBatch("s", 2)
}

// --- Failures ---------------------------------------------------------

func TestAFailingStreamShowsItsErrorWhileOthersOnTheSourceGoOn(t *testing.T) {
	h := newHarness(t)
	h.mustExec(`CREATE SOURCE clicks (page VARCHAR(64), n INT) WITH (connector = 'log')`)
	h.mustExec(`CREATE STREAM by_page WITH (trigger = '1s') AS SELECT page, count(*) AS c FROM clicks GROUP BY page`)
	h.mustExec(`CREATE STREAM ratio WITH (trigger = '1s') AS SELECT page, 100 / n AS r FROM clicks`)
	h.mustExec(`CREATE STREAM copy WITH (trigger = '1s') AS SELECT page, n FROM clicks`)
	sub, err := h.m.Subscribe("ratio")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	// Batch 0: a NULL group key, which a table sink cannot upsert.
	h.appendRows("clicks", []any{"/a", 1}, []any{nil, 2})
	h.advance(time.Second)
	h.waitBatch("copy", 0)
	h.waitBatch("ratio", 0)
	st := h.waitStatus("by_page", StatusFailed)
	wantCode(t, st.LastError, sqlerr.NotNullViolation)
	if st.LastBatch != -1 {
		t.Errorf("by_page: last batch %d, want -1 (the failed batch is not committed)", st.LastBatch)
	}

	// Batch 1: a division by zero in the projection.
	h.appendRows("clicks", []any{"/b", 0})
	h.advance(time.Second)
	h.waitBatch("copy", 1)
	st = h.waitStatus("ratio", StatusFailed)
	wantCode(t, st.LastError, sqlerr.DivisionByZero)
	if st.LastBatch != 0 {
		t.Errorf("ratio: last batch %d, want 0", st.LastBatch)
	}

	// The healthy stream keeps committing.
	h.appendRows("clicks", []any{"/c", 5})
	h.advance(time.Second)
	h.waitBatch("copy", 2)
	if st := h.status("copy"); st.Status != StatusRunning || st.LastError != nil {
		t.Errorf("copy: %s with error %v, want running without error", st.Status, st.LastError)
	}
	equal(t, "copy's table", h.tableRows("copy"), []string{"/a | 1", "/b | 0", "/c | 5", "NULL | 2"})
	equal(t, "ratio's table (batch 0 only)", h.tableRows("ratio"), []string{"/a | 100", "NULL | 50"})

	var got []string
	for _, s := range h.m.Streams() {
		e := "<nil>"
		if s.LastError != nil {
			e = sqlerr.Code(s.LastError)
		}
		got = append(got, fmt.Sprintf("%s %s %d %s", s.Name, s.Status, s.LastBatch, e))
	}
	equal(t, "Streams()", got, []string{"by_page failed -1 23502", "copy running 2 <nil>", "ratio failed 0 22012"})

	// A waiter and a subscriber learn why.
	ctx, cancel := context.WithTimeout(h.ctx, waitTimeout)
	defer cancel()
	_, err = h.m.WaitForBatch(ctx, "by_page", 0)
	wantCode(t, err, sqlerr.NotNullViolation)
	rec, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("ratio's subscriber: batch 0: %v", err)
	}
	equal(t, "ratio's batch 0", recordRows(rec), []string{"/a | 100", "NULL | 50"})
	rec.Release()
	rec, err = sub.Next(ctx)
	if rec != nil {
		rec.Release()
	}
	wantCode(t, err, sqlerr.DivisionByZero)
	_, err = h.m.Subscribe("by_page")
	wantCode(t, err, sqlerr.ObjectNotInPrerequisiteState)
}

func TestAStatelessStreamResumesAfterAFailureWithoutDuplicates(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.appendRows("nums", ints(0, 2)...)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s') AS SELECT n FROM nums`)
	h.waitBatch("s", 0)
	def := mustTable(t, h, "s").Def()

	// The sink table goes behind the stream's back: the batch fails.
	if err := h.cat.DropTable(h.ctx, "s", false); err != nil {
		t.Fatal(err)
	}
	h.appendRows("nums", ints(2, 4)...)
	h.advance(time.Second)
	wantCode(t, h.waitStatus("s", StatusFailed).LastError, sqlerr.UndefinedTable)

	if err := h.cat.CreateTable(h.ctx, def, false); err != nil {
		t.Fatal(err)
	}
	h.mustExec(`RESUME STREAM s`)
	st := h.waitBatch("s", 1)
	if st.Status != StatusRunning || st.LastError != nil {
		t.Errorf("after RESUME: %s with error %v, want running without error", st.Status, st.LastError)
	}
	equal(t, "the table", h.tableRows("s"), []string{"2", "3"})
}

func TestAnAggregateStreamThatFailedMidBatchIsNotResumedWithAStateHoldingThatBatch(t *testing.T) {
	h := newHarness(t)
	h.mustExec(`CREATE SOURCE clicks (page VARCHAR(64)) WITH (connector = 'log')`)
	h.appendRows("clicks", []any{"/a"}, []any{"/a"})
	h.mustExec(`CREATE STREAM by_page WITH (trigger = '1s') AS SELECT page, count(*) AS n FROM clicks GROUP BY page`)
	h.waitBatch("by_page", 0)
	def := mustTable(t, h, "by_page").Def()

	// The batch folds its row into the state, then its sink fails.
	if err := h.cat.DropTable(h.ctx, "by_page", false); err != nil {
		t.Fatal(err)
	}
	h.appendRows("clicks", []any{"/a"})
	h.advance(time.Second)
	h.waitStatus("by_page", StatusFailed)
	if err := h.cat.CreateTable(h.ctx, def, false); err != nil {
		t.Fatal(err)
	}

	// Running that batch again over the same state would count its row
	// twice (/a | 4): refused.
	wantCode(t, h.exec(`RESUME STREAM by_page`), sqlerr.ObjectNotInPrerequisiteState)
	wantCode(t, h.exec(`ALTER STREAM by_page SET (trigger = '2s')`), sqlerr.ObjectNotInPrerequisiteState)
	h.waitIdle()
	if st := h.status("by_page"); st.Status != StatusFailed || st.Trigger.String() != "1s" {
		t.Errorf("after refused RESUME and ALTER: %s with trigger %s, want failed with 1s", st.Status, st.Trigger)
	}
	if got := h.tableRows("by_page"); len(got) != 0 {
		t.Errorf("the table got %v, want nothing", got)
	}
	if o := object(h, "stream", "by_page"); o.Paused || o.Options != nil {
		t.Errorf("stored definition changed by refused statements: %+v", o)
	}
}

// --- Subscriptions ----------------------------------------------------

func TestSubscribersGetCommittedRowsInOrderAndASlowOneIsCutOff(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SubscriberBuffer = 2 })
	h.mustExec(numsSource)
	h.mustExec(`CREATE STREAM tens WITH (trigger = '1s', sink = 'none') AS SELECT n * 10 AS x FROM nums`)
	h.waitIdle()
	reader, err := h.m.Subscribe("tens")
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	sleeper, err := h.m.Subscribe("tens")
	if err != nil {
		t.Fatal(err)
	}
	defer sleeper.Close()
	if got := reader.Columns(); len(got) != 1 || got[0].Name != "x" {
		t.Errorf("columns %v, want [x]", got)
	}

	ctx, cancel := context.WithTimeout(h.ctx, waitTimeout)
	defer cancel()
	var got []string
	for i := int64(0); i < 5; i++ {
		h.appendRows("nums", []any{2 * i}, []any{2*i + 1})
		h.advance(time.Second)
		h.waitBatch("tens", i)
		rec, err := reader.Next(ctx)
		if err != nil || rec == nil {
			t.Fatalf("reader: batch %d: %v, %v", i, rec, err)
		}
		got = append(got, strings.Join(recordRows(rec), ","))
		rec.Release()
	}
	equal(t, "the reader's records", got, []string{"0,10", "20,30", "40,50", "60,70", "80,90"})
	if st := h.status("tens"); st.Status != StatusRunning || st.LastBatch != 4 {
		t.Errorf("the stream: %s at batch %d, want running at 4", st.Status, st.LastBatch)
	}

	// The sleeper kept two batches, was cut off at the third, and gets
	// what it kept before the error.
	got = nil
	for {
		rec, err := sleeper.Next(ctx)
		if err != nil {
			wantCode(t, err, sqlerr.ProgramLimitExceeded)
			break
		}
		if rec == nil {
			t.Fatal("the sleeper's subscription ended without an error")
		}
		got = append(got, strings.Join(recordRows(rec), ","))
		rec.Release()
	}
	equal(t, "the sleeper's records", got, []string{"0,10", "20,30"})

	// Dropping the stream ends a subscription cleanly, after what it holds.
	h.appendRows("nums", []any{100})
	h.advance(time.Second)
	h.waitBatch("tens", 5)
	h.mustExec(`DROP STREAM tens`)
	rec, err := reader.Next(ctx)
	if err != nil || rec == nil {
		t.Fatalf("reader after DROP: %v, %v; want the batch it was sent", rec, err)
	}
	equal(t, "the last record", recordRows(rec), []string{"1000"})
	rec.Release()
	rec, err = reader.Next(ctx)
	if rec != nil || err != nil {
		t.Fatalf("reader after DROP: %v, %v; want nil, nil", rec, err)
	}
}

func TestClosingASubscriptionReleasesWhatItHolds(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s', sink = 'none') AS SELECT n FROM nums`)
	h.waitIdle()
	sub, err := h.m.Subscribe("s")
	if err != nil {
		t.Fatal(err)
	}
	h.appendRows("nums", ints(0, 3)...)
	h.advance(time.Second)
	h.waitBatch("s", 0)
	sub.Close()
	sub.Close()
	// Closed: it ends at once, and gets no more batches.
	rec, err := sub.Next(h.ctx)
	if rec != nil || err != nil {
		t.Fatalf("Next after Close: %v, %v; want nil, nil", rec, err)
	}
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	sub2, err := h.m.Subscribe("s")
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	if _, err := sub2.Next(ctx); err != context.Canceled {
		t.Fatalf("Next with a cancelled context: %v, want context.Canceled", err)
	}
	// The cleanup checks that no Arrow memory is left.
}

// --- Control, dependencies, pipelines, definitions --------------------

func TestPausedStreamsRunNoBatchesUntilResumed(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s') AS SELECT n FROM nums`)
	h.mustExec(`CREATE STREAM other WITH (trigger = '1s') AS SELECT n FROM nums`)
	h.appendRows("nums", ints(0, 3)...)
	h.advance(time.Second)
	h.waitBatch("s", 0)
	h.waitBatch("other", 0)

	// WaitIdle returns once the loop has acted on the PAUSE.
	h.mustExec(`PAUSE STREAM s`)
	h.waitIdle()
	if st := h.status("s"); st.Status != StatusPaused {
		t.Fatalf("PAUSE then WaitIdle: %s, want paused", st.Status)
	}
	if o := object(h, "stream", "s"); !o.Paused {
		t.Errorf("stored definition after PAUSE: %+v, want paused", o)
	}
	h.appendRows("nums", ints(3, 5)...)
	h.advance(5 * time.Second)
	h.waitBatch("other", 1)
	h.waitIdle()
	if st := h.status("s"); st.Status != StatusPaused || st.LastBatch != 0 {
		t.Fatalf("paused: %s at batch %d, want paused at 0", st.Status, st.LastBatch)
	}

	// Its trigger is overdue: RESUME runs a batch at once.
	h.mustExec(`RESUME STREAM s`)
	st := h.waitBatch("s", 1)
	if st.Status != StatusRunning {
		t.Errorf("resumed: %s, want running", st.Status)
	}
	if p := h.progress("s"); len(p) != 2 || p[1].InputRows != 2 || p[1].StartOffsets[0] != 3 {
		t.Errorf("progress after RESUME: %+v, want batch 1 reading 2 rows from offset 3", p)
	}
	if o := object(h, "stream", "s"); o.Paused {
		t.Errorf("stored definition after RESUME: %+v, want not paused", o)
	}
}

func TestAStreamBuiltFromAPlanCanStartPaused(t *testing.T) {
	h := newHarness(t)
	h.mustExec(`CREATE SOURCE clicks (page VARCHAR(64), ms INT) WITH (connector = 'log')`)
	def, _ := h.m.SourceDef("clicks")
	in := &plan.Input{Source: "clicks", Cols: []plan.Column{{Name: "page", Type: def.Columns[0].Type}, {Name: "ms", Type: sqltypes.Int32}}}
	ms := &plan.ColumnRef{Index: 1, Name: "ms", T: sqltypes.Int32}
	filter := &plan.Filter{Input: in, Pred: &plan.Func{Name: ">", T: sqltypes.Bool, Args: []plan.Expr{ms, &plan.Literal{Value: int64(500), T: sqltypes.Int32}}}}
	project := &plan.Project{Input: filter, Exprs: []plan.Expr{&plan.ColumnRef{Index: 0, Name: "page", T: def.Columns[0].Type}},
		Cols: []plan.Column{{Name: "page", Type: def.Columns[0].Type}}}
	spec := Spec{Name: "slow", SQL: "-- built by hand", Source: "clicks", Query: project, Paused: true,
		Options: plan.StreamOptions{Trigger: plan.Trigger{Kind: plan.TriggerInterval, Interval: time.Second}, Sink: plan.SinkTable, OutputMode: plan.OutputAppend}}
	if err := h.m.CreateStream(h.ctx, spec, false); err != nil {
		t.Fatal(err)
	}
	h.appendRows("clicks", []any{"/a", 900}, []any{"/b", 100}, []any{"/c", 501})
	h.advance(time.Minute)
	h.waitStatus("slow", StatusPaused)
	if got := h.status("slow").LastBatch; got != -1 {
		t.Fatalf("created paused: last batch %d, want -1", got)
	}
	if o := object(h, "stream", "slow"); !o.Paused || o.SQL != spec.SQL {
		t.Errorf("stored definition %+v, want paused with the spec's SQL", o)
	}
	h.mustExec(`RESUME STREAM slow`)
	h.waitBatch("slow", 0)
	equal(t, "the table", h.tableRows("slow"), []string{"/a", "/c"})
}

func TestDependentObjectsCannotBeDroppedAndALogSinkFeedsAnotherStream(t *testing.T) {
	h := newHarness(t)
	h.mustExec(`CREATE SOURCE clicks (ts TIMESTAMP, page VARCHAR(64), ms INT)
		WITH (connector = 'log', event_time = 'ts', watermark_delay = '10s')`)
	h.mustExec(`CREATE STREAM slow WITH (trigger = '1s', sink = 'log') AS
		SELECT ts, upper(page) AS page, ms FROM clicks WHERE ms > 500`)
	h.mustExec(`CREATE STREAM slow_pages WITH (trigger = '1s') AS
		SELECT page, count(*) AS n, max(ms) AS worst FROM slow GROUP BY page`)

	// The log sink is a source that keeps the event time.
	def, ok := h.m.SourceDef("slow")
	if !ok || def.Connector != "log" || def.EventTime != "ts" || def.WatermarkDelay != 10*time.Second {
		t.Errorf("the log sink's source: %+v, %v; want a log source with event time ts and delay 10s", def, ok)
	}

	wantCode(t, h.exec(`DROP SOURCE clicks`), sqlerr.DependentObjectsStillExist)
	wantCode(t, h.exec(`DROP SOURCE slow`), sqlerr.DependentObjectsStillExist)
	wantCode(t, h.exec(`DROP STREAM slow`), sqlerr.DependentObjectsStillExist)
	wantCode(t, h.m.AppendRows(h.ctx, "slow", [][]any{{at("10:00:00"), "/x", 1}}), sqlerr.WrongObjectType)

	h.appendRows("clicks",
		[]any{at("10:00:01"), "/home", 900},
		[]any{at("10:00:02"), "/cart", 100},
		[]any{at("10:00:03"), "/home", 600},
		[]any{at("10:00:04"), "/cart", 700})
	h.advance(time.Second)
	h.waitBatch("slow", 0)
	h.advance(time.Second)
	h.waitBatch("slow_pages", 0)
	equal(t, "slow_pages", h.tableRows("slow_pages"), []string{"/CART | 1 | 700", "/HOME | 2 | 900"})
	if st := h.status("slow_pages"); st.Watermark == nil || !st.Watermark.Equal(at("09:59:54")) {
		t.Errorf("slow_pages' watermark %v, want 09:59:54 from the event times passed down", st.Watermark)
	}

	var names []string
	for _, o := range h.cat.Objects() {
		names = append(names, o.Kind+" "+o.Name)
	}
	equal(t, "stored definitions", names, []string{"source clicks", "stream slow", "stream slow_pages"})

	// Readers first, then what they read.
	h.mustExec(`DROP STREAM slow_pages`)
	h.mustExec(`DROP STREAM slow`)
	if _, ok := h.m.SourceDef("slow"); ok {
		t.Error("the log sink outlived its stream")
	}
	h.mustExec(`DROP SOURCE clicks`)
	if got := h.cat.Objects(); len(got) != 0 {
		t.Errorf("stored definitions left: %+v", got)
	}
	if got := h.cat.TableNames(); len(got) != 0 {
		t.Errorf("tables left: %v", got)
	}
}

func TestDefinitionsArePersistedWithTheirChanges(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	const create = `CREATE STREAM s WITH (trigger = '1s') AS SELECT n FROM nums`
	h.mustExec(create)
	if o := object(h, "stream", "s"); o.SQL != create || o.Paused || o.Options != nil {
		t.Fatalf("stored stream %+v, want its SQL, not paused, no options", o)
	}
	if o := object(h, "source", "nums"); o.SQL != numsSource {
		t.Fatalf("stored source %+v, want its SQL", o)
	}
	h.mustExec(`ALTER STREAM s SET (trigger = '250ms')`)
	h.mustExec(`PAUSE STREAM s`)
	if o := object(h, "stream", "s"); !o.Paused || !reflect.DeepEqual(o.Options, map[string]string{"trigger": "250ms"}) {
		t.Fatalf("after ALTER and PAUSE: %+v, want paused with trigger 250ms", o)
	}
	// Back to the trigger it was created with: no override is left.
	h.mustExec(`ALTER STREAM s SET (trigger = '1s')`)
	h.mustExec(`RESUME STREAM s`)
	if o := object(h, "stream", "s"); o.Paused || o.Options != nil {
		t.Fatalf("after ALTER back and RESUME: %+v, want no override", o)
	}
	wantCode(t, h.exec(`PAUSE STREAM nope`), sqlerr.UndefinedTable)
	h.mustExec(`DROP STREAM s`)
	h.mustExec(`DROP STREAM IF EXISTS s`)
	wantCode(t, h.exec(`DROP STREAM s`), sqlerr.UndefinedTable)
	if got := h.cat.Objects(); len(got) != 1 || got[0].Name != "nums" {
		t.Errorf("stored definitions %+v, want only source nums", got)
	}
}

func TestCreateStreamErrorsLeaveNothingBehind(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	// A table already has the name of the stateless stream's sink.
	if err := h.cat.CreateTable(h.ctx, catalog.TableDef{Name: "taken", Columns: []catalog.ColumnDef{{Name: "x", Type: sqltypes.Int64}}}, false); err != nil {
		t.Fatal(err)
	}
	// The binder checks names too; the manager must still, as another
	// session may take the name between binding and creating.
	spec := Spec{Name: "taken", SQL: "x", Source: "nums", Query: &plan.Input{Source: "nums", Cols: []plan.Column{{Name: "n", Type: sqltypes.Int64}}},
		Options: plan.StreamOptions{Trigger: plan.Trigger{Interval: time.Second}, Sink: plan.SinkTable}}
	err := h.m.CreateStream(h.ctx, spec, false)
	wantCode(t, err, sqlerr.DuplicateTable)
	if len(h.m.Streams()) != 0 {
		t.Errorf("streams after a failed CREATE: %v", h.m.Streams())
	}
	// A missing source.
	spec = Spec{Name: "orphan", Source: "nope", Query: &plan.Input{Source: "nope", Cols: []plan.Column{{Name: "n", Type: sqltypes.Int64}}},
		Options: plan.StreamOptions{Trigger: plan.Trigger{Interval: time.Second}, Sink: plan.SinkNone}}
	wantCode(t, h.m.CreateStream(h.ctx, spec, false), sqlerr.UndefinedTable)
	// The same name twice.
	h.mustExec(`CREATE STREAM s WITH (sink = 'none') AS SELECT n FROM nums`)
	st, err := h.bind(`CREATE OR REPLACE STREAM s WITH (sink = 'none') AS SELECT n FROM nums`)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.m.CreateStream(h.ctx, specOf(st.(*plan.CreateStream)), false), sqlerr.DuplicateTable)
}

func TestCreateStreamWhoseDefinitionCannotBeStoredFailsWithoutHanging(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	st, err := h.bind(`CREATE STREAM s WITH (sink = 'log') AS SELECT n FROM nums`)
	if err != nil {
		t.Fatal(err)
	}
	// The log sink opens (it needs no catalog), then storing the
	// definition fails: the sink must go again.
	if err := h.cat.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.m.CreateStream(h.ctx, specOf(st.(*plan.CreateStream)), false) }()
	select {
	case err = <-done:
	case <-time.After(waitTimeout):
		h.abandoned = true // the manager is stuck: its cleanup would hang too
		t.Fatal("CreateStream hangs when storing the definition fails")
	}
	if err == nil {
		t.Fatal("CreateStream with a closed catalog succeeded")
	}
	if _, ok := h.m.SourceDef("s"); ok {
		t.Error("the log sink of a stream that was not created is left")
	}
	if len(h.m.Streams()) != 0 {
		t.Errorf("streams: %v", h.m.Streams())
	}
	h.catalogClosed = true
}

func TestStartOffsetLatestReadsOnlyRowsAppendedAfterTheStreamStarted(t *testing.T) {
	for _, value := range []string{"latest", "LATEST"} {
		t.Run(value, func(t *testing.T) {
			h := newHarness(t)
			h.mustExec(`CREATE SOURCE nums (n BIGINT) WITH (connector = 'log', start_offset = '` + value + `')`)
			h.appendRows("nums", ints(0, 3)...)
			h.mustExec(`CREATE STREAM s WITH (trigger = '1s') AS SELECT n FROM nums`)
			h.waitIdle()
			h.appendRows("nums", ints(3, 5)...)
			h.advance(time.Second)
			h.waitBatch("s", 0)
			equal(t, "the table", h.tableRows("s"), []string{"3", "4"})
			if p := h.progress("s"); p[0].StartOffsets[0] != 3 || p[0].EndOffsets[0] != 5 {
				t.Errorf("batch 0 read %v to %v, want {0:3} to {0:5}", p[0].StartOffsets, p[0].EndOffsets)
			}
		})
	}
}

func TestCloseStopsStreamsAndRefusesNewOnes(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s', sink = 'none') AS SELECT n FROM nums`)
	sub, err := h.m.Subscribe("s")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	h.waitIdle()
	if err := h.m.Close(); err != nil {
		t.Fatal(err)
	}
	if st := h.status("s"); st.Status != StatusStopped {
		t.Errorf("after Close: %s, want stopped", st.Status)
	}
	if rec, err := sub.Next(h.ctx); rec != nil || err != nil {
		t.Errorf("subscription after Close: %v, %v; want nil, nil", rec, err)
	}
	wantCode(t, h.exec(`CREATE SOURCE more (n BIGINT)`), sqlerr.AdminShutdown)
	wantCode(t, h.exec(`CREATE STREAM t AS SELECT n FROM nums`), sqlerr.AdminShutdown)
	// A stopped stream does not come back.
	h.mustExec(`ALTER STREAM s SET (trigger = 'once')`)
	h.waitIdle()
	if st := h.status("s"); st.Status != StatusStopped {
		t.Errorf("ALTER after Close: %s, want stopped", st.Status)
	}
}

// --- Windows ----------------------------------------------------------

func TestAppendModeEmitsEachWindowOnceWhenTheWatermarkPassesIt(t *testing.T) {
	h := newHarness(t)
	h.mustExec(`CREATE SOURCE clicks (ts TIMESTAMP, v INT) WITH (connector = 'log', event_time = 'ts', watermark_delay = '10s')`)
	h.mustExec(`CREATE STREAM per_minute WITH (trigger = '1s', output_mode = 'append') AS
		SELECT TUMBLE_START(ts, INTERVAL '1 minute') AS minute, count(*) AS n, sum(v) AS total
		FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1 minute')`)
	h.waitIdle()
	sub, err := h.m.Subscribe("per_minute")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	batches := [][][]any{
		// 0: window 10:00 opens; watermark 10:00:20.
		{{at("10:00:05"), 1}, {at("10:00:30"), 2}},
		// 1: window 10:00 gets a row, 10:01 opens; the watermark
		// (10:01:10) passes 10:00's end: it is emitted.
		{{at("10:00:50"), 4}, {at("10:01:20"), 8}},
		// 2: two rows older than the watermark are late, one for a
		// closed window and one for the open one; watermark 10:01:20.
		{{at("10:00:40"), 16}, {at("10:01:05"), 32}, {at("10:01:30"), 64}},
		// 3: the watermark (10:02:20) passes 10:01's end.
		{{at("10:02:30"), 128}},
	}
	for i, rows := range batches {
		h.appendRows("clicks", rows...)
		h.advance(time.Second)
		h.waitBatch("per_minute", int64(i))
	}
	equal(t, "the table", h.tableRows("per_minute"), []string{"10:00:00 | 3 | 7", "10:01:00 | 2 | 72"})

	// Emitted once each, in the batch whose watermark passed the window.
	ctx, cancel := context.WithTimeout(h.ctx, waitTimeout)
	defer cancel()
	var got []string
	for range 2 {
		rec, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, recordRows(rec)...)
		rec.Release()
	}
	equal(t, "emitted rows", got, []string{"10:00:00 | 3 | 7", "10:01:00 | 2 | 72"})

	var prog []string
	for _, p := range h.progress("per_minute") {
		prog = append(prog, fmt.Sprintf("batch %d: in %d out %d late %d wm %s state %d", p.BatchID, p.InputRows, p.OutputRows, p.LateRows, fmtWatermark(p.Watermark), p.StateRows))
	}
	equal(t, "progress", prog, []string{
		"batch 0: in 2 out 0 late 0 wm 10:00:20 state 1",
		"batch 1: in 2 out 1 late 0 wm 10:01:10 state 1",
		"batch 2: in 3 out 0 late 2 wm 10:01:20 state 1",
		"batch 3: in 1 out 1 late 0 wm 10:02:20 state 1",
	})
	st := h.status("per_minute")
	if st.Totals != (Totals{Batches: 4, InputRows: 8, OutputRows: 2, LateRows: 2}) {
		t.Errorf("totals %+v", st.Totals)
	}
	if st.Watermark == nil || !st.Watermark.Equal(at("10:02:20")) {
		t.Errorf("status watermark %v, want 10:02:20", st.Watermark)
	}
}

func TestUpdateModeUpsertsTheSinkTable(t *testing.T) {
	h := newHarness(t)
	h.mustExec(`CREATE SOURCE clicks (ts TIMESTAMP, page VARCHAR(64), ms INT) WITH (connector = 'log', event_time = 'ts')`)
	h.mustExec(`CREATE STREAM by_page WITH (trigger = '1s') AS
		SELECT page, count(*) AS n, sum(ms) AS total FROM clicks GROUP BY page`)
	h.mustExec(`CREATE STREAM by_minute WITH (trigger = '1s', output_mode = 'update') AS
		SELECT TUMBLE_START(ts, INTERVAL '1 minute') AS minute, page, count(*) AS n
		FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1 minute'), page`)
	h.waitIdle()

	h.appendRows("clicks", []any{at("10:00:01"), "/a", 1}, []any{at("10:00:02"), "/b", 2}, []any{at("10:00:03"), "/a", 3})
	h.advance(time.Second)
	h.waitBatch("by_page", 0)
	h.waitBatch("by_minute", 0)
	equal(t, "by_page after batch 0", h.tableRows("by_page"), []string{"/a | 2 | 4", "/b | 1 | 2"})

	// The watermark passes 10:00's end: its groups leave the state, and
	// their rows stay in the table.
	h.appendRows("clicks", []any{at("10:00:30"), "/a", 10}, []any{at("10:01:30"), "/c", 5})
	h.advance(time.Second)
	h.waitBatch("by_page", 1)
	h.waitBatch("by_minute", 1)
	equal(t, "by_page after batch 1", h.tableRows("by_page"), []string{"/a | 3 | 14", "/b | 1 | 2", "/c | 1 | 5"})
	equal(t, "by_minute after batch 1", h.tableRows("by_minute"), []string{"10:00:00 | /a | 3", "10:00:00 | /b | 1", "10:01:00 | /c | 1"})

	var prog []string
	for _, name := range []string{"by_page", "by_minute"} {
		for _, p := range h.progress(name) {
			prog = append(prog, fmt.Sprintf("%s %d: out %d state %d", name, p.BatchID, p.OutputRows, p.StateRows))
		}
	}
	equal(t, "progress", prog, []string{
		"by_page 0: out 2 state 2", "by_page 1: out 2 state 3",
		"by_minute 0: out 2 state 2", "by_minute 1: out 2 state 1",
	})
}

// --- Progress ---------------------------------------------------------

func TestProgressRowsDescribeEachBatchAndAreBounded(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ProgressRows = 3 })
	h.mustExec(numsSource)
	h.appendRows("nums", ints(0, 10)...)
	h.mustExec(`CREATE STREAM evens WITH (trigger = '1s', max_rows_per_batch = 2, sink = 'none') AS
		SELECT n FROM nums WHERE n % 2 = 0`)
	h.waitBatch("evens", 0)
	for i := int64(1); i < 5; i++ {
		h.advance(time.Second)
		h.waitBatch("evens", i)
	}
	var got []string
	for _, p := range h.progress("evens") {
		got = append(got, fmt.Sprintf("batch %d at %s: %s-%s in %d out %d wm %v state %d",
			p.BatchID, p.StartedAt.Sub(epoch), p.StartOffsets, p.EndOffsets, p.InputRows, p.OutputRows, p.Watermark, p.StateRows))
		if p.Duration <= 0 || p.InputPerSec <= 0 || p.ProcessedSec <= 0 {
			t.Errorf("batch %d: duration %v, rates %v and %v, want positive", p.BatchID, p.Duration, p.InputPerSec, p.ProcessedSec)
		}
	}
	equal(t, "the kept progress rows", got, []string{
		"batch 2 at 2s: {0:4}-{0:6} in 2 out 1 wm <nil> state 0",
		"batch 3 at 3s: {0:6}-{0:8} in 2 out 1 wm <nil> state 0",
		"batch 4 at 4s: {0:8}-{0:10} in 2 out 1 wm <nil> state 0",
	})
	if st := h.status("evens"); st.Totals != (Totals{Batches: 5, InputRows: 10, OutputRows: 5}) {
		t.Errorf("totals %+v, want all five batches counted", st.Totals)
	}
	// An empty trigger records nothing.
	h.advance(time.Second)
	h.waitIdle()
	if got := len(h.progress("evens")); got != 3 || h.status("evens").LastBatch != 4 {
		t.Errorf("after an empty trigger: %d rows, last batch %d", got, h.status("evens").LastBatch)
	}
}

// --- helpers ----------------------------------------------------------

func mustTable(t *testing.T, h *harness, name string) *catalog.Table {
	t.Helper()
	tbl, err := h.cat.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// fmtWatermark prints a watermark as hh:mm:ss, or none.
func fmtWatermark(wm *time.Time) string {
	if wm == nil {
		return "none"
	}
	return fmtRow([]any{*wm})
}

// object returns a stored definition, or the zero Object.
func object(h *harness, kind, name string) catalog.Object {
	for _, o := range h.cat.Objects() {
		if o.Kind == kind && o.Name == name {
			return o
		}
	}
	h.t.Errorf("no stored %s %q", kind, name)
	return catalog.Object{}
}

// --- Races, made deterministic from inside the package ----------------

func TestAStreamDroppedWhileItsOptionsChangeIsNotStoredAgain(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s') AS SELECT n FROM nums`)
	// SetPaused and SetTrigger find the stream, then DropStream takes it
	// away before they store its definition.
	s, err := h.m.stream("s")
	if err != nil {
		t.Fatal(err)
	}
	h.mustExec(`DROP STREAM s`)
	wantCode(t, h.m.persist(h.ctx, s), sqlerr.UndefinedTable)
	for _, o := range h.cat.Objects() {
		if o.Kind == "stream" {
			t.Errorf("a dropped stream's definition is stored again: %+v", o)
		}
	}
}

func TestTheLogSinkOfAStreamBeingDroppedCannotGetAReader(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.mustExec(`CREATE STREAM a WITH (sink = 'log') AS SELECT n FROM nums`)
	reader, err := h.bind(`CREATE STREAM b AS SELECT n FROM a`)
	if err != nil {
		t.Fatal(err)
	}
	// DropStream has checked that nothing reads a and taken it out of
	// the streams; its sink goes once its loop has stopped.
	h.m.mu.Lock()
	s := h.m.streams["a"]
	delete(h.m.streams, "a")
	h.m.mu.Unlock()
	err = h.m.CreateStream(h.ctx, specOf(reader.(*plan.CreateStream)), false)
	h.m.mu.Lock()
	h.m.streams["a"] = s
	h.m.mu.Unlock()
	wantCode(t, err, sqlerr.UndefinedTable)
	if _, err := h.m.stream("b"); err == nil {
		t.Error("stream b reads the log sink of a dropped stream")
	}
}

func TestAFailedAlterKeepsTheTriggerAndLeavesTheStreamIdle(t *testing.T) {
	h := newHarness(t)
	h.mustExec(numsSource)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s', sink = 'none') AS SELECT n FROM nums`)
	h.waitIdle()
	if err := h.cat.Close(); err != nil {
		t.Fatal(err)
	}
	h.catalogClosed = true
	if err := h.exec(`ALTER STREAM s SET (trigger = '5s')`); err == nil {
		t.Fatal("ALTER with a closed catalog succeeded")
	}
	if err := h.exec(`PAUSE STREAM s`); err == nil {
		t.Fatal("PAUSE with a closed catalog succeeded")
	}
	h.waitIdle()
	if st := h.status("s"); st.Trigger.String() != "1s" || st.Status != StatusRunning {
		t.Errorf("after failed ALTER and PAUSE: %s with trigger %s, want running with 1s", st.Status, st.Trigger)
	}
}

// TestARateLimitedGeneratorGoesOnAfterARestart: after a restart a
// generator at a rate would count its rows due again from when it was
// opened, below the stream's offset. That is not data loss (only Kafka
// partitions can go back), and the stream does not wait as long as it
// had run: the source counts on from the stream's offset, and each row
// is read once.
func TestARateLimitedGeneratorGoesOnAfterARestart(t *testing.T) {
	catDir, dataDir := t.TempDir(), t.TempDir()
	h := newHarnessAt(t, catDir, dataDir)
	h.mustExec(`CREATE SOURCE gen (id BIGINT) WITH (connector = 'datagen', rows_per_second = '10',
		fields.id.kind = 'sequence', fields.id.start = '0')`)
	h.mustExec(`CREATE STREAM s WITH (trigger = '1s') AS SELECT id FROM gen`)
	h.waitIdle()
	h.advance(30 * time.Second)
	h.waitBatch("s", 0)
	h.waitIdle()
	if err := h.m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.cat.Close(); err != nil {
		t.Fatal(err)
	}
	h.catalogClosed = true

	r := newHarnessAt(t, catDir, dataDir)
	r.restore()
	r.waitIdle()
	if st := r.status("s"); st.Status != StatusRunning || st.LastBatch != 0 {
		t.Fatalf("after the restart: %s at batch %d (%v), want running at batch 0", st.Status, st.LastBatch, st.LastError)
	}
	r.advance(time.Second) // one second's rows after offset 300, not 30 s of waiting
	r.waitBatch("s", 1)
	rows := r.tableRows("s")
	if len(rows) != 310 {
		t.Fatalf("%d rows, want ids 0..309 once each", len(rows))
	}
	if got, want := r.endOffsets("s"), []int64{310}; !reflect.DeepEqual(got, want) { // progress since the restart
		t.Fatalf("end offsets %v, want %v", got, want)
	}
}
