package stream

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/checkpoint"
	"github.com/sluice-sql/sluice/planner/plan"
)

// ReplaceStream is CREATE OR REPLACE STREAM. Without a stream of that name
// it creates one. Otherwise the change must keep what the stream's state
// and offsets mean: the same source, and for an aggregate the same group
// keys, aggregates and window; filters, stateless projections, the
// trigger, the output mode and the sink may change. A compatible
// replacement keeps the committed offsets, the batch ids, the watermark,
// the aggregate state and the progress; the sink is kept when its columns
// (and upsert key) are unchanged, else made anew. An incompatible one is
// refused with 0A000 naming the difference.
func (m *Manager) ReplaceStream(ctx context.Context, spec Spec) error {
	m.mu.Lock()
	old, ok := m.streams[spec.Name]
	m.mu.Unlock()
	if !ok {
		return m.CreateStream(ctx, spec, false)
	}
	if err := compatible(old.spec, spec); err != nil {
		e := sqlerr.New(sqlerr.FeatureNotSupported, "cannot replace stream %q and keep its progress: %v", spec.Name, err)
		e.Hint = "DROP STREAM and CREATE STREAM to start it over"
		return e
	}
	old.mu.Lock()
	recovering := old.recoverLater
	old.mu.Unlock()
	if recovering {
		return sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "stream %q is still recovering from its checkpoint (its source's brokers have not answered yet); replace it once it runs", spec.Name)
	}
	// Stop the old loop after its running batch; its subscribers end.
	old.stopAndWait()
	old.endSubscriptions()
	// A stream that failed with a batch's rows in its state (or whose
	// recovery failed) has no state to hand over: the new loop would run
	// that batch again over it. Its loop had ended, so it stays as it was.
	old.mu.Lock()
	err := old.errTaintedLocked()
	old.mu.Unlock()
	if err != nil {
		return err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.streams[spec.Name] != old {
		return sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "stream %q changed while it was being replaced", spec.Name)
	}
	s, err := newStream(m, spec, old.src)
	if err != nil {
		return err
	}
	// Carry the progress over.
	old.mu.Lock()
	s.offsets, s.batchID, s.watermark, s.hasWM = old.offsets.Clone(), old.batchID, old.watermark, old.hasWM
	s.totals, s.progress = old.totals, append([]Progress(nil), old.progress...)
	s.paused = old.paused
	old.mu.Unlock()
	if s.paused {
		s.status = StatusPaused
	}
	if s.state != nil {
		s.state.Close()
		s.state, old.state = old.state, nil
	}
	// The checkpoint goes on, under the new query's fingerprint.
	s.ckpt, old.ckpt = old.ckpt, nil
	s.sinceSnapshot, s.pending = old.sinceSnapshot, old.pending
	if err := s.ckpt.WriteMeta(ctx, checkpoint.Meta{Fingerprint: fingerprint(spec), Query: spec.SQL, CreatedAt: time.Now().UTC()}); err != nil {
		s.closeState()
		return err
	}
	keepSink := sameSink(old.spec, spec)
	if !keepSink && old.spec.Options.Sink == plan.SinkLog {
		if readers := m.readersOf(spec.Name); len(readers) > 0 {
			s.closeState()
			return sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot change the log sink of stream %q because stream %q reads it", spec.Name, readers[0])
		}
	}
	if keepSink {
		s.sink, old.sink = old.sink, nil
	} else {
		if err := old.dropSinkLocked(ctx); err != nil {
			s.closeState()
			return err
		}
		if err := s.openSink(ctx, false); err != nil {
			s.closeState()
			return err
		}
	}
	if err := m.cfg.Catalog.PutObject(ctx, catalog.Object{Kind: "stream", Name: spec.Name, SQL: spec.SQL, Paused: s.paused}); err != nil {
		s.closeState()
		return err
	}
	old.closeState()
	m.streams[spec.Name] = s
	go s.run(s.done)
	return nil
}

// compatible says why new cannot take over old's offsets and state, or
// nil when it can.
func compatible(old, new Spec) error {
	if old.Source != new.Source {
		return fmt.Errorf("its source changes from %q to %q", old.Source, new.Source)
	}
	_, oa, _ := cutAtAggregate(old.Query)
	_, na, _ := cutAtAggregate(new.Query)
	switch {
	case oa == nil && na == nil:
		return nil
	case oa == nil:
		return fmt.Errorf("it becomes an aggregate (it had no state)")
	case na == nil:
		return fmt.Errorf("it is no longer an aggregate (its state would be lost)")
	}
	if o, n := exprsString(oa.GroupBy), exprsString(na.GroupBy); o != n {
		return fmt.Errorf("its group keys change from [%s] to [%s]", o, n)
	}
	if o, n := aggsString(oa.Aggs), aggsString(na.Aggs); o != n {
		return fmt.Errorf("its aggregates change from [%s] to [%s]", o, n)
	}
	if o, n := windowString(oa), windowString(na); o != n {
		return fmt.Errorf("its window changes from %s to %s", o, n)
	}
	if !slices.Equal(oa.Input.Columns(), na.Input.Columns()) {
		return fmt.Errorf("the columns its aggregate reads change")
	}
	return nil
}

func exprsString(es []plan.Expr) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}

func aggsString(as []plan.AggCall) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// windowString prints the Window node under an aggregate, or "none".
func windowString(a *plan.Aggregate) string {
	var w *plan.Window
	var walk func(n plan.Node)
	walk = func(n plan.Node) {
		if x, ok := n.(*plan.Window); ok && w == nil {
			w = x
		}
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walk(a.Input)
	if w == nil {
		return "none"
	}
	return w.Describe()
}

// sameSink reports whether new can keep old's sink as it is.
func sameSink(old, new Spec) bool {
	if old.Options.Sink != new.Options.Sink {
		return false
	}
	if old.Options.Sink == plan.SinkNone {
		return true
	}
	return slices.Equal(old.Query.Columns(), new.Query.Columns()) && slices.Equal(old.Key, new.Key)
}
