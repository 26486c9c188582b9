package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/checkpoint"
	"github.com/sluice-sql/sluice/exec"
	"github.com/sluice-sql/sluice/exec/source"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Spec is a bound stream: what CREATE STREAM compiled to.
type Spec struct {
	Name    string
	SQL     string
	Source  string
	Query   plan.Node
	Options plan.StreamOptions
	// Key lists the output columns a table sink upserts by (aggregates).
	Key []int
	// Paused starts the stream paused.
	Paused bool
}

// Stream statuses.
const (
	StatusRunning  = "running"
	StatusPaused   = "paused"
	StatusFailed   = "failed"
	StatusFinished = "finished" // trigger once / available_now drained
	StatusStopped  = "stopped"  // the server is shutting down
)

// aggInput names the plan.Input that feeds emitted groups to the part of
// a stream's plan above its aggregate.
const aggInput = "$aggregate"

// idlePoll is how long a stream without new input waits before it looks
// again when its trigger interval is shorter.
const idlePoll = 20 * time.Millisecond

// Stream is one running continuous query.
type Stream struct {
	m    *Manager
	spec Spec
	src  *sourceEntry
	sink sink
	// dlq produces to the source's dead_letter_topic (a kafka source
	// that has one), else nil.
	dlq *producer

	// The plan cut at the aggregate: pre runs over the source's records,
	// post over the emitted groups; agg is nil for a stateless stream.
	pre       plan.Node
	agg       *plan.Aggregate
	post      plan.Node
	state     *exec.StreamAgg
	lookups   *exec.LookupCache // build sides of lookup joins, per table versions
	eventTime int               // source column of the event time, -1 without
	dropLate  bool

	wake chan struct{} // pokes the loop: trigger changed, resume, stop
	stop chan struct{}
	done chan struct{}
	once sync.Once

	mu        sync.Mutex // guards the fields below
	trigger   plan.Trigger
	paused    bool
	status    string
	lastErr   error
	batchID   int64 // the last committed batch, -1 before the first
	offsets   source.Offsets
	watermark int64 // micros; minWatermark before any event time
	hasWM     bool
	totals    Totals
	progress  []Progress // ring, oldest first
	subs      map[*Subscription]struct{}
	// changed is closed and replaced when a batch commits, the loop
	// starts or stops waiting, or the loop ends: WaitForBatch and WaitIdle
	// wait on it.
	changed chan struct{}
	// idle is set while the loop waits for its trigger or for RESUME.
	idle bool
	// news is set when the source reports new rows (an INSERT, a log
	// sink's write): a stream with a short trigger then looks at once
	// instead of after idlePoll.
	news bool
	// ctl counts changes of trigger and pause, and news of rows; seenCtl
	// is the count the loop last read them at. WaitIdle treats a stream
	// whose loop has not read the latest change yet as busy.
	ctl, seenCtl uint64
	// ckpt is the stream's checkpoint directory.
	ckpt *checkpoint.Dir
	// pending is a plan recovered from the checkpoint that did not
	// commit: the next batch runs it again. Only the loop uses it.
	pending *batchPlan
	// sinceSnapshot counts commits since the last state snapshot (loop).
	sinceSnapshot int
	// unrecovered is set when the stream could not recover from its
	// checkpoint at start: it stays failed (tainted) until dropped.
	unrecovered bool
	// looked is set once the loop has looked at the source's offsets
	// (loop only): start_offset = 'latest' applies to that first look.
	looked bool
	// recoverLater is set when recovery at start could not reach the
	// source's brokers: the loop recovers first, retrying (written under
	// mu: REPLACE reads it).
	recoverLater bool
	// tainted is set while a batch's rows are in the aggregate state but
	// the batch has not committed: if it fails, running it again over
	// that state would count its rows twice.
	tainted bool
}

// Totals are a stream's counters since it started.
type Totals struct {
	Batches, InputRows, OutputRows, LateRows, BadRows int64
}

// Progress is one committed batch, as sluice_progress shows it.
type Progress struct {
	Stream       string
	BatchID      int64
	StartedAt    time.Time
	Duration     time.Duration
	Plan         time.Duration
	Read         time.Duration
	Execute      time.Duration
	Sink         time.Duration
	Commit       time.Duration
	InputRows    int64
	OutputRows   int64
	InputPerSec  float64 // input rows / time since the previous batch started
	ProcessedSec float64 // input rows / this batch's duration
	StartOffsets source.Offsets
	EndOffsets   source.Offsets
	Watermark    *time.Time
	LateRows     int64
	StateRows    int64
	// ConfigVersions names the table versions the batch read ("t=3").
	ConfigVersions string
	// Skipped names offsets retention deleted before the stream read
	// them, skipped with fail_on_data_loss = false: "0:[10,25)"; and
	// partitions read again from their start because they ended before
	// the stream's offset (a topic deleted and created again):
	// "0:reset(120>3)".
	Skipped string
	// BadRows counts the batch's input records that could not be
	// decoded (sluice_errors keeps the first few).
	BadRows int64
}

// Status is a stream's state, as SHOW STREAMS shows it.
type Status struct {
	Name       string
	Status     string
	Trigger    plan.Trigger
	Sink       plan.SinkKind
	OutputMode plan.OutputMode
	Source     string
	LastBatch  int64 // -1 before the first
	LastError  error
	Watermark  *time.Time
	Totals     Totals
	// Subscribers counts the open subscriptions.
	Subscribers int
}

// CreateStream starts a stream. Unless restore is set it stores the
// definition and creates the sink (a table or log source of the stream's
// name); with restore the sink must already exist.
func (m *Manager) CreateStream(ctx context.Context, spec Spec, restore bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errClosed()
	}
	if _, ok := m.streams[spec.Name]; ok {
		return sqlerr.New(sqlerr.DuplicateTable, "stream %q already exists", spec.Name)
	}
	src, ok := m.sources[spec.Source]
	if !ok || (src.owner != "" && m.streams[src.owner] == nil) {
		// A log sink whose stream is being dropped is gone already.
		return sqlerr.New(sqlerr.UndefinedTable, "source %q does not exist", spec.Source)
	}
	s, err := newStream(m, spec, src)
	if err != nil {
		return err
	}
	failed, err := s.openCheckpoint(ctx, restore)
	if err != nil {
		s.closeState()
		return err
	}
	if err := s.openSink(ctx, restore); err != nil {
		s.closeState()
		return err
	}
	// An aggregate's recovery replays batches from its source: one on
	// Kafka brokers recovers in its loop (not here, under m.mu), retrying
	// while they are away; so does one whose brokers did not answer here.
	_, remote := src.src.(*source.Kafka)
	recoverLater := false
	switch {
	case failed != nil || !restore || !s.hasCheckpoint():
	case remote && s.state != nil:
		recoverLater = true
	default:
		failed = s.recover(ctx)
		if source.IsUnavailable(failed) {
			failed, recoverLater = nil, true
		}
	}
	if recoverLater {
		if err := s.resetState(); err != nil {
			s.closeState()
			return err
		}
		s.mu.Lock()
		s.recoverLater = true
		s.mu.Unlock()
	}
	if failed != nil {
		// Shown in SHOW STREAMS as failed, with the reason; it cannot
		// be resumed (its state is not what the checkpoint says).
		s.m.cfg.Logger.Error("stream recovery failed", "stream", spec.Name, "err", failed)
		s.status, s.lastErr, s.tainted, s.unrecovered = StatusFailed, failed, true, true
		close(s.done)
		m.streams[spec.Name] = s
		return nil
	}
	if !restore {
		if err := m.cfg.Catalog.PutObject(ctx, catalog.Object{Kind: "stream", Name: spec.Name, SQL: spec.SQL, Paused: spec.Paused}); err != nil {
			s.dropSinkLocked(ctx) // m.mu is held
			s.closeState()
			return err
		}
	}
	m.streams[spec.Name] = s
	go s.run(s.done)
	return nil
}

func newStream(m *Manager, spec Spec, src *sourceEntry) (*Stream, error) {
	s := &Stream{
		m: m, spec: spec, src: src,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		trigger: spec.Options.Trigger, paused: spec.Paused, status: StatusRunning, batchID: -1,
		subs: map[*Subscription]struct{}{}, eventTime: -1, changed: make(chan struct{}),
		lookups: exec.NewLookupCache(),
	}
	if spec.Paused {
		s.status = StatusPaused
	}
	if k, ok := src.src.(*source.Kafka); ok && k.Options().DeadLetterTopic != "" {
		s.dlq = newProducer(k.Options().Brokers, k.Options().DeadLetterTopic)
	}
	if src.def.EventTime != "" {
		for i, c := range src.def.Columns {
			if c.Name == src.def.EventTime {
				s.eventTime = i
			}
		}
	}
	s.pre, s.agg, s.post = cutAtAggregate(spec.Query)
	if s.agg != nil {
		state, err := exec.NewStreamAgg(&exec.Env{Mem: m.cfg.Mem}, s.agg)
		if err != nil {
			return nil, err
		}
		s.state = state
		s.dropLate = s.agg.Window != nil && s.eventTime >= 0
	}
	return s, nil
}

func (s *Stream) closeState() {
	s.lookups.Close()
	if c, ok := s.sink.(interface{ Close() error }); ok {
		_ = c.Close()
	}
	if s.dlq != nil {
		_ = s.dlq.Close()
		s.dlq = nil
	}
	if s.ckpt != nil {
		_ = s.ckpt.Close()
		s.ckpt = nil
	}
	if s.state != nil {
		s.state.Close()
		s.state = nil
	}
}

// resetState empties the aggregate state and the watermark, for a
// recovery to start again from the checkpoint.
func (s *Stream) resetState() error {
	if s.state != nil {
		s.state.Close()
		state, err := exec.NewStreamAgg(&exec.Env{Mem: s.m.cfg.Mem}, s.agg)
		if err != nil {
			s.state = nil
			return err
		}
		s.state = state
	}
	s.mu.Lock()
	s.watermark, s.hasWM = 0, false
	s.mu.Unlock()
	return nil
}

// cutAtAggregate splits a stream's plan at its aggregate: pre is the
// aggregate's input, post the plan above it with the aggregate replaced
// by a plan.Input named aggInput. Without an aggregate pre is the whole
// plan.
func cutAtAggregate(root plan.Node) (pre plan.Node, agg *plan.Aggregate, post plan.Node) {
	var rebuild func(n plan.Node) plan.Node
	rebuild = func(n plan.Node) plan.Node {
		switch n := n.(type) {
		case *plan.Aggregate:
			agg = n
			return &plan.Input{Source: aggInput, Cols: n.Cols}
		case *plan.Project:
			c := *n
			c.Input = rebuild(n.Input)
			return &c
		case *plan.Filter:
			c := *n
			c.Input = rebuild(n.Input)
			return &c
		}
		return n
	}
	post = rebuild(root)
	if agg == nil {
		return root, nil, nil
	}
	return agg.Input, agg, post
}

// Status returns the stream's state.
func (s *Stream) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		Name: s.spec.Name, Status: s.status, Trigger: s.trigger, Sink: s.spec.Options.Sink,
		OutputMode: s.spec.Options.OutputMode, Source: s.spec.Source, LastBatch: s.batchID,
		LastError: s.lastErr, Totals: s.totals, Subscribers: len(s.subs),
	}
	if s.hasWM {
		t := time.UnixMicro(s.watermark).UTC()
		st.Watermark = &t
	}
	return st
}

// notifyData tells the loop its source has new rows.
func (s *Stream) notifyData() {
	s.mu.Lock()
	s.news = true
	s.ctl++
	s.mu.Unlock()
	s.poke()
}

// poke wakes the loop without blocking.
func (s *Stream) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// stopAndWait stops the loop after its running batch and waits for it.
func (s *Stream) stopAndWait() {
	s.once.Do(func() { close(s.stop) })
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	<-done
}

// run is the stream's loop.
//
// An interval trigger counts from the start of the last batch (or of the
// last look that found no input): the loop works out when the next batch
// is due from the trigger it reads at the top of each round, so a new
// trigger (ALTER) or a RESUME is measured from that start too, and any
// wakeup, by the timer or by a poke, just looks again. A batch that
// overruns its interval is followed at once; missed triggers do not pile
// up, as there is only ever one deadline.
func (s *Stream) run(done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := s.m.cfg.Clock
	var target source.Offsets        // available_now: what existed when it began
	var lastStart, lastEnd time.Time // the last batch or look; zero before the first
	lastRan := false
	// The timer of the interval wait and its deadline. A wakeup that
	// leaves the deadline as it was (new rows, with an interval longer than
	// idlePoll) keeps the timer: a new one would count from a second
	// reading of the clock, and a ManualClock advanced in between would
	// never fire it.
	var timer <-chan time.Time
	var timerAt time.Time
	s.mu.Lock()
	recoverLater := s.recoverLater
	s.mu.Unlock()
	if recoverLater {
		err := s.retry(func() error {
			if err := s.resetState(); err != nil {
				return err
			}
			return s.recover(ctx)
		})
		if errors.Is(err, errStopping) {
			s.finish(StatusStopped, nil)
			return
		}
		if err != nil {
			s.m.cfg.Logger.Error("stream recovery failed", "stream", s.spec.Name, "err", err)
			s.mu.Lock()
			s.tainted, s.unrecovered = true, true
			s.mu.Unlock()
			s.finish(StatusFailed, err)
			return
		}
		s.mu.Lock()
		s.recoverLater = false
		s.mu.Unlock()
	}
	for {
		select {
		case <-s.stop:
			s.finish(StatusStopped, nil)
			return
		default:
		}
		s.mu.Lock()
		paused, trig, news := s.paused, s.trigger, s.news
		s.seenCtl = s.ctl
		s.mu.Unlock()
		if paused {
			s.setStatus(StatusPaused)
			s.setIdle(true)
			select {
			case <-s.stop:
				s.finish(StatusStopped, nil)
				return
			case <-s.wake:
			}
			s.setIdle(false)
			continue
		}
		s.setStatus(StatusRunning)
		if trig.Kind == plan.TriggerInterval && !lastStart.IsZero() {
			next := lastStart.Add(trig.Interval)
			// After a look that found nothing, wait a little before
			// looking again, unless the source said it has new rows.
			if poll := lastEnd.Add(idlePoll); !lastRan && !news && next.Before(poll) {
				next = poll
			}
			if wait := next.Sub(clock.Now()); wait > 0 {
				if timer == nil || !timerAt.Equal(next) {
					timer, timerAt = clock.After(wait), next
				}
				s.setIdle(true)
				select {
				case <-s.stop:
					s.finish(StatusStopped, nil)
					return
				case <-s.wake:
				case <-timer:
					timer = nil
				}
				s.setIdle(false)
				continue
			}
		}
		if trig.Kind == plan.TriggerAvailableNow && target == nil {
			err := s.retry(func() (err error) {
				target, err = s.src.src.Latest(ctx)
				return err
			})
			if errors.Is(err, errStopping) {
				s.finish(StatusStopped, nil)
				return
			}
			if err != nil {
				s.finish(StatusFailed, err)
				return
			}
		}
		if trig.Kind != plan.TriggerAvailableNow {
			target = nil
		}
		s.mu.Lock()
		s.news = false
		s.mu.Unlock()
		start := clock.Now()
		ran, err := s.runBatch(ctx, trig, target)
		if errors.Is(err, errStopping) {
			s.finish(StatusStopped, nil)
			return
		}
		if err != nil {
			s.finish(StatusFailed, err)
			return
		}
		lastStart, lastEnd, lastRan = start, clock.Now(), ran
		switch trig.Kind {
		case plan.TriggerOnce:
			s.finish(StatusFinished, nil)
			return
		case plan.TriggerAvailableNow:
			if !ran {
				s.finish(StatusFinished, nil)
				return
			}
		}
	}
}

// setIdle records whether the loop is waiting.
func (s *Stream) setIdle(idle bool) {
	s.mu.Lock()
	s.idle = idle
	s.signalLocked()
	s.mu.Unlock()
}

func (s *Stream) setStatus(st string) {
	s.mu.Lock()
	if s.status != StatusFailed {
		s.status = st
	}
	s.mu.Unlock()
}

// finish records how the loop ended and ends the subscriptions.
func (s *Stream) finish(status string, err error) {
	s.mu.Lock()
	s.status = status
	if err != nil {
		s.lastErr = err
		s.m.cfg.Logger.Error("stream failed", "stream", s.spec.Name, "err", err)
	}
	subs := s.subs
	s.subs = map[*Subscription]struct{}{}
	s.signalLocked()
	s.mu.Unlock()
	var end error
	if status == StatusFailed {
		end = sqlerr.Wrap(sqlerr.Code(err), fmt.Errorf("stream %q failed: %w", s.spec.Name, err))
	}
	for sub := range subs {
		sub.end(end)
	}
}

// signalLocked wakes the waiters on changed.
func (s *Stream) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// startOffsets returns where the next batch starts: the committed
// offsets, or start_offset for partitions never read.
func (s *Stream) startOffsets(ctx context.Context, latest source.Offsets) (source.Offsets, error) {
	s.mu.Lock()
	cur := s.offsets.Clone()
	s.mu.Unlock()
	var earliest source.Offsets
	var decided source.Offsets
	// start_offset = 'latest' applies where the stream first looks; a
	// partition that appears later (Kafka partitions added to a topic,
	// or the topic created after the stream) is read from its start, as
	// Spark does.
	atLatest := startsAtLatest(s.src.def) && len(cur) == 0 && !s.looked
	s.looked = true
	for p := range latest {
		if _, ok := cur[p]; ok {
			continue
		}
		if atLatest {
			cur[p] = latest[p]
			if decided == nil {
				decided = source.Offsets{}
			}
			decided[p] = latest[p]
			continue
		}
		if earliest == nil {
			var err error
			if earliest, err = s.src.src.Earliest(ctx); err != nil {
				return nil, err
			}
		}
		cur[p] = earliest[p]
	}
	if decided != nil {
		// Where the stream starts in a partition is decided once: kept
		// as if committed, so that the rows appended from now on are read
		// even if this look finds none.
		s.mu.Lock()
		next := s.offsets.Clone()
		for p, o := range decided {
			next[p] = o
		}
		s.offsets = next
		s.mu.Unlock()
	}
	return cur, nil
}

// startsAtLatest reports whether streams over a source start at its
// latest offsets (start_offset = 'latest', any case, as the binder accepts
// it) rather than its earliest.
func startsAtLatest(def catalog.SourceDef) bool {
	return strings.EqualFold(def.Options["start_offset"], "latest")
}

// runBatch runs one micro-batch; ran is false when there was no new
// input (no batch is recorded then). A plan recovered from the
// checkpoint (pending) runs first, with its own offsets and versions.
func (s *Stream) runBatch(ctx context.Context, trig plan.Trigger, target source.Offsets) (ran bool, err error) {
	clock := s.m.cfg.Clock
	p := Progress{Stream: s.spec.Name, StartedAt: clock.Now()}
	t0 := time.Now()

	// Plan: the offsets and the config-table versions, in the checkpoint
	// before anything is read.
	bp := s.pending
	var tables pinnedTables
	var release func()
	if bp == nil {
		err = s.retry(func() (err error) {
			p.Skipped = ""
			bp, err = s.planBatch(ctx, trig, target, &p)
			return err
		})
		if err != nil || bp == nil {
			return false, err
		}
		snaps, unpin := s.pinTables()
		tables, release = pinnedTables{snaps: snaps}, unpin
		bp.versions = make(map[string]uint64, len(snaps))
		for name, snap := range snaps {
			bp.versions[name] = snap.Version()
		}
		if err := s.saveTables(ctx, tables); err != nil {
			release()
			return false, err
		}
		if err := s.ckpt.WritePlan(ctx, bp.toCheckpoint()); err != nil {
			release()
			return false, err
		}
	} else if tables, release, err = s.tablesFor(ctx, bp); err != nil {
		return false, err
	}
	// The versions stay retained (sluice_table_versions shows them pinned)
	// until the batch has committed or failed.
	defer release()
	s.hook("planned")
	p.StartOffsets, p.EndOffsets = bp.start, bp.end
	p.ConfigVersions = versionsString(bp.versions)
	t1 := time.Now()

	// Read.
	var recs []arrow.Record
	var bad []source.BadRecord
	planned := p.Skipped
	err = s.retry(func() (err error) {
		p.Skipped = planned
		recs, bad, err = s.read(ctx, bp, &p)
		return err
	})
	if err != nil {
		return false, err
	}
	defer releaseAll(recs)
	p.BadRows = int64(len(bad))
	t2 := time.Now()

	// Execute.
	for _, r := range recs {
		p.InputRows += r.NumRows()
		if s.eventTime >= 0 && s.dropLate && bp.hasWM {
			p.LateRows += countBefore(r.Column(s.eventTime), bp.wm)
		}
	}
	newWM, newHas := s.nextWatermark(recs, bp.wm, bp.hasWM)
	out, err := s.execute(ctx, recs, tables, bp.wm, bp.hasWM, newWM, newHas)
	if err != nil {
		return false, err
	}
	defer releaseAll(out)
	for _, r := range out {
		p.OutputRows += r.NumRows()
	}
	t3 := time.Now()

	// Sink: the batch and its id, in one write; then the records that
	// could not be decoded, to the dead-letter topic.
	if err := s.retry(func() error { return s.sink.write(ctx, bp.id, out) }); err != nil {
		if errors.Is(err, errStopping) {
			return false, err
		}
		return false, fmt.Errorf("sink of batch %d: %w", bp.id, err)
	}
	if err := s.retry(func() error { return s.deadLetters(ctx, bp.id, bad) }); err != nil {
		return false, err
	}
	s.hook("sunk")
	t4 := time.Now()

	// Commit.
	if err := s.ckpt.Commit(ctx, bp.id); err != nil {
		return false, err
	}
	s.hook("committed")
	s.pending = nil
	s.mu.Lock()
	s.offsets = bp.end.Clone()
	s.tainted = false
	s.watermark, s.hasWM = newWM, newHas
	s.mu.Unlock()
	if err := s.afterCommit(ctx, bp); err != nil {
		return false, err
	}
	if s.state != nil {
		p.StateRows = s.state.Rows()
	}
	if newHas {
		t := time.UnixMicro(newWM).UTC()
		p.Watermark = &t
	}
	p.BatchID = bp.id
	s.mu.Lock()
	prevStart := time.Time{}
	if n := len(s.progress); n > 0 {
		prevStart = s.progress[n-1].StartedAt
	}
	// The batch id moves with its progress row, in one critical section:
	// a waiter woken by WaitForBatch finds both.
	s.batchID = bp.id
	s.totals.Batches++
	s.totals.InputRows += p.InputRows
	s.totals.OutputRows += p.OutputRows
	s.totals.LateRows += p.LateRows
	s.totals.BadRows += p.BadRows
	t5 := time.Now()
	p.Plan, p.Read, p.Execute, p.Sink, p.Commit = t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4)
	p.Duration = t5.Sub(t0)
	if p.Duration > 0 {
		p.ProcessedSec = float64(p.InputRows) / p.Duration.Seconds()
	}
	if !prevStart.IsZero() {
		if d := p.StartedAt.Sub(prevStart); d > 0 {
			p.InputPerSec = float64(p.InputRows) / d.Seconds()
		}
	} else {
		p.InputPerSec = p.ProcessedSec
	}
	if len(s.progress) >= s.m.cfg.ProgressRows {
		copy(s.progress, s.progress[1:])
		s.progress = s.progress[:len(s.progress)-1]
	}
	s.progress = append(s.progress, p)
	s.publishLocked(out)
	s.signalLocked()
	s.mu.Unlock()
	s.m.recordErrors(s.spec.Name, bp.id, p.StartedAt, bad)
	s.commitGroup(ctx, bp.end)
	return true, nil
}

// read reads a planned batch's rows. Offsets retention deleted since the
// plan was made (a plan run again after a restart) are a data-loss error
// naming them or, with fail_on_data_loss = false, are skipped: the batch
// keeps its plan and reads what is left of it, and p.Skipped names the gap.
func (s *Stream) read(ctx context.Context, bp *batchPlan, p *Progress) ([]arrow.Record, []source.BadRecord, error) {
	start := bp.start
	for {
		recs, bad, err := s.readSource(ctx, start, bp.end)
		od, lost := s.dataLoss(err)
		if !lost {
			return recs, bad, err
		}
		if s.spec.Options.FailOnDataLoss {
			return nil, nil, sqlerr.New(sqlerr.Code(err), "stream %q: source %q partition %d no longer has offsets [%d, %d) its batch %d needs (the earliest left is %d)",
				s.spec.Name, s.spec.Source, od.Partition, od.Start, od.End, bp.id, od.Earliest)
		}
		from, to := start[od.Partition], min(od.Earliest, bp.end[od.Partition])
		if to <= from {
			return nil, nil, err // not a gap this batch can skip
		}
		p.Skipped = addSkipped(p.Skipped, skippedGap(od.Partition, from, to))
		start = start.Clone()
		start[od.Partition] = to
	}
}

// planBatch works out the next batch's offsets (nil when there are no new
// rows) and the watermark in effect. Offsets retention has deleted are a
// data-loss error naming them, or, with fail_on_data_loss = false, are
// skipped (recorded in p.Skipped).
func (s *Stream) planBatch(ctx context.Context, trig plan.Trigger, target source.Offsets, p *Progress) (*batchPlan, error) {
	latest, err := s.src.src.Latest(ctx)
	if err != nil {
		return nil, err
	}
	start, err := s.startOffsets(ctx, latest)
	if err != nil {
		return nil, err
	}
	earliest, err := s.src.src.Earliest(ctx)
	if err != nil {
		return nil, err
	}
	truncatable := false
	if t, ok := s.src.src.(source.Truncatable); ok {
		truncatable = t.MayTruncate()
	}
	if r, ok := s.src.src.(source.Resumer); ok && !truncatable {
		// A generator at a rate counts from when it was opened: one a
		// restarted stream is ahead of counts on from the stream's place.
		for part, st := range start {
			if l, ok := latest[part]; ok && st > l {
				r.ResumeFrom(start)
				if latest, err = s.src.src.Latest(ctx); err != nil {
					return nil, err
				}
				break
			}
		}
	}
	for part, st := range start {
		// A partition that now ends before where the stream is was
		// truncated, or its topic deleted and created again: what the
		// stream would read next is not what followed what it read.
		l, ok := latest[part]
		if !truncatable || !ok || st <= l {
			continue
		}
		if s.spec.Options.FailOnDataLoss {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue,
				"stream %q: source %q partition %d ends at offset %d, before offset %d the stream has read (was the topic deleted and created again?); set fail_on_data_loss = false to read it again from its earliest offset",
				s.spec.Name, s.spec.Source, part, l, st)
		}
		p.Skipped = addSkipped(p.Skipped, skippedReset(part, st, l))
		start[part] = earliest[part]
	}
	for part, st := range start {
		e, ok := earliest[part]
		if !ok || st >= e {
			continue
		}
		if s.spec.Options.FailOnDataLoss {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue,
				"stream %q: source %q partition %d no longer has offsets [%d, %d): retention deleted them before the stream read them (set fail_on_data_loss = false to skip to the earliest offset)",
				s.spec.Name, s.spec.Source, part, st, e)
		}
		p.Skipped = addSkipped(p.Skipped, skippedGap(part, st, e))
		start[part] = e
	}
	end := make(source.Offsets, len(latest))
	rows := int64(0)
	for part, l := range latest {
		e := l
		if target != nil {
			if t, ok := target[part]; ok && t < e {
				e = t
			}
		}
		// As Spark's Trigger.Once, trigger once is one batch over
		// everything: max_rows_per_batch bounds the other triggers.
		if max := s.maxRowsPerBatch(); max > 0 && trig.Kind != plan.TriggerOnce && e-start[part] > max {
			e = start[part] + max
		}
		if e < start[part] {
			e = start[part]
		}
		end[part] = e
		rows += e - start[part]
	}
	if rows == 0 {
		return nil, nil
	}
	s.mu.Lock()
	bp := &batchPlan{id: s.batchID + 1, start: start, end: end, wm: s.watermark, hasWM: s.hasWM, planned: time.Now().UTC()}
	s.mu.Unlock()
	return bp, nil
}

// skippedGap names offsets [from, to) of a partition skipped past, and
// skippedReset a partition read again from its start because it ended at
// end, before the offset was: the items of a Skipped list (Progress,
// FeedStatus), which addSkipped joins with spaces.
func skippedGap(part int32, from, to int64) string { return fmt.Sprintf("%d:[%d,%d)", part, from, to) }

func skippedReset(part int32, was, end int64) string {
	return fmt.Sprintf("%d:reset(%d>%d)", part, was, end)
}

func addSkipped(list, item string) string {
	if list == "" {
		return item
	}
	return list + " " + item
}

// maxRowsPerBatch bounds a batch's rows per partition: the stream's
// max_rows_per_batch, else its source's, else 0 (no bound).
func (s *Stream) maxRowsPerBatch() int64 {
	if n := s.spec.Options.MaxRowsPerBatch; n > 0 {
		return int64(n)
	}
	n, _ := strconv.ParseInt(s.src.def.Options["max_rows_per_batch"], 10, 64)
	return max(n, 0)
}

// nextWatermark is the watermark after a batch: the largest event time
// seen minus the delay, never going back.
func (s *Stream) nextWatermark(recs []arrow.Record, wm int64, has bool) (int64, bool) {
	if s.eventTime < 0 {
		return wm, has
	}
	maxTS, saw := int64(0), false
	for _, r := range recs {
		if m, ok := maxTimestamp(r.Column(s.eventTime)); ok && (!saw || m > maxTS) {
			maxTS, saw = m, true
		}
	}
	if saw {
		cand := maxTS - s.src.def.WatermarkDelay.Microseconds()
		if !has || cand > wm {
			return cand, true
		}
	}
	return wm, has
}

// pinTables pins the current version of every table the plan reads; the
// caller releases the pins with unpin.
func (s *Stream) pinTables() (pinned map[string]*catalog.Snapshot, unpin func()) {
	pinned = map[string]*catalog.Snapshot{}
	var releases []func()
	var walk func(n plan.Node)
	walk = func(n plan.Node) {
		if sc, ok := n.(*plan.Scan); ok {
			if _, done := pinned[sc.Table]; !done {
				if t, err := s.m.cfg.Catalog.Table(sc.Table); err == nil {
					if snap, release, err := t.Pin(0); err == nil {
						pinned[sc.Table] = snap
						releases = append(releases, release)
					}
				}
			}
		}
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walk(s.spec.Query)
	return pinned, func() {
		for _, r := range releases {
			r()
		}
	}
}

// execute runs the batch's records through the plan and returns the
// output records (owned by the caller).
func (s *Stream) execute(ctx context.Context, recs []arrow.Record, tables pinnedTables, wm int64, hasWM bool, newWM int64, newHas bool) ([]arrow.Record, error) {
	mem := s.m.cfg.Mem
	srcCols := make([]plan.Column, len(s.src.def.Columns))
	for i, c := range s.src.def.Columns {
		srcCols[i] = plan.Column{Name: c.Name, Type: c.Type}
	}
	pre := s.pre
	if s.dropLate && hasWM {
		pre = dropLateRows(pre, s.spec.Source, s.eventTime, srcCols, wm)
	}
	env := &exec.Env{Mem: mem, Catalog: s.m.cfg.Catalog, Pinned: tables.snaps, Lookups: s.lookups,
		Inputs: map[string]exec.Operator{s.spec.Source: exec.NewRecordsOperator(exec.SchemaOf(srcCols), recs)}}
	if len(tables.copies) > 0 {
		// Table versions the catalog no longer has are read from their
		// checkpoint copies.
		pre = readCopies(pre, tables.copies)
		env.InputRecords = map[string][]arrow.Record{}
		for name, c := range tables.copies {
			env.InputRecords[copyInput(name)] = c.recs
		}
	}
	preOut, err := drain(ctx, env, pre)
	if err != nil {
		return nil, err
	}
	if s.agg == nil {
		return preOut, nil
	}
	defer releaseAll(preOut)
	s.mu.Lock()
	s.tainted = true // until the batch commits
	s.mu.Unlock()
	for _, r := range preOut {
		if err := s.state.Fold(ctx, r); err != nil {
			return nil, err
		}
	}
	var emitted []arrow.Record
	defer func() { releaseAll(emitted) }()
	if s.spec.Options.OutputMode == plan.OutputUpdate {
		if emitted, err = s.state.EmitChanged(ctx); err != nil {
			return nil, err
		}
		if s.agg.Window != nil && newHas {
			final, err := s.state.Finalize(ctx, newWM, false)
			releaseAll(final)
			if err != nil {
				return nil, err
			}
		}
	} else if newHas {
		if emitted, err = s.state.Finalize(ctx, newWM, true); err != nil {
			return nil, err
		}
	}
	postEnv := &exec.Env{Mem: mem, Catalog: s.m.cfg.Catalog, Pinned: tables.snaps,
		Inputs: map[string]exec.Operator{aggInput: exec.NewRecordsOperator(s.state.Schema(), emitted)}}
	return drain(ctx, postEnv, s.post)
}

// copyInput names the plan.Input that reads a table's checkpoint copy.
func copyInput(table string) string { return "$table:" + table }

// readCopies replaces the scans of the copied tables by inputs reading the
// copies.
func readCopies(n plan.Node, copies map[string]tableCopy) plan.Node {
	return mapLeaves(n, func(leaf plan.Node) plan.Node {
		if sc, ok := leaf.(*plan.Scan); ok {
			if _, ok := copies[sc.Table]; ok {
				return &plan.Input{Source: copyInput(sc.Table), Cols: sc.Cols}
			}
		}
		return leaf
	})
}

// mapLeaves copies the nodes a stream's plan below its aggregate is made
// of (Project, Filter, Window, Join) down to the leaves and replaces each
// leaf with f(leaf).
func mapLeaves(n plan.Node, f func(plan.Node) plan.Node) plan.Node {
	switch x := n.(type) {
	case *plan.Project:
		c := *x
		c.Input = mapLeaves(x.Input, f)
		return &c
	case *plan.Filter:
		c := *x
		c.Input = mapLeaves(x.Input, f)
		return &c
	case *plan.Window:
		c := *x
		c.Input = mapLeaves(x.Input, f)
		return &c
	case *plan.Join:
		c := *x
		c.Left, c.Right = mapLeaves(x.Left, f), mapLeaves(x.Right, f)
		return &c
	}
	return f(n)
}

// dropLateRows puts a filter keeping rows at or after the watermark over
// the source leaf. Rows without an event time go too: no window takes them
// (the Window operator would drop them anyway), and they are not counted
// as late.
func dropLateRows(n plan.Node, src string, col int, cols []plan.Column, wm int64) plan.Node {
	return mapLeaves(n, func(leaf plan.Node) plan.Node {
		in, ok := leaf.(*plan.Input)
		if !ok || in.Source != src {
			return leaf
		}
		ref := &plan.ColumnRef{Index: col, Name: cols[col].Name, T: sqltypes.Timestamp}
		pred := &plan.Func{Name: ">=", T: sqltypes.Bool, Args: []plan.Expr{ref,
			&plan.Literal{Value: time.UnixMicro(wm).UTC(), T: sqltypes.Timestamp}}}
		return &plan.Filter{Input: in, Pred: pred}
	})
}

// drain builds and runs a plan, returning its output records (retained).
func drain(ctx context.Context, env *exec.Env, n plan.Node) (out []arrow.Record, err error) {
	op, err := exec.Build(ctx, env, n)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := op.Close(); cerr != nil && err == nil {
			err = cerr
		}
		if err != nil {
			releaseAll(out)
			out = nil
		}
	}()
	for {
		rec, err := op.Next(ctx)
		if err != nil {
			return out, err
		}
		if rec == nil {
			return out, nil
		}
		rec.Retain()
		out = append(out, rec)
	}
}

func releaseAll(recs []arrow.Record) {
	for _, r := range recs {
		if r != nil {
			r.Release()
		}
	}
}

// maxTimestamp returns the largest non-NULL value of a timestamp array.
func maxTimestamp(a arrow.Array) (int64, bool) {
	ts, ok := a.(*array.Timestamp)
	if !ok {
		return 0, false
	}
	vals := ts.TimestampValues()
	best, found := int64(0), false
	if ts.NullN() == 0 {
		for _, v := range vals {
			if !found || int64(v) > best {
				best, found = int64(v), true
			}
		}
		return best, found
	}
	for i, v := range vals {
		if ts.IsValid(i) && (!found || int64(v) > best) {
			best, found = int64(v), true
		}
	}
	return best, found
}

// countBefore counts the non-NULL values of a timestamp array below wm.
func countBefore(a arrow.Array, wm int64) int64 {
	ts, ok := a.(*array.Timestamp)
	if !ok {
		return 0
	}
	n := int64(0)
	for i, v := range ts.TimestampValues() {
		if int64(v) < wm && ts.IsValid(i) {
			n++
		}
	}
	return n
}

// versionsString prints pinned table versions, sorted: "page_rules=3".
func versionsString(versions map[string]uint64) string {
	names := make([]string, 0, len(versions))
	for n := range versions {
		names = append(names, n)
	}
	sortStrings(names)
	out := ""
	for i, n := range names {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%s=%d", n, versions[n])
	}
	return out
}
