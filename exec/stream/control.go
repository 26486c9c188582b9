package stream

import (
	"context"
	"fmt"
	"sort"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/checkpoint"
	"github.com/sluice-sql/sluice/planner/plan"
)

func sortStrings(s []string) { sort.Strings(s) }

// stream returns a stream by name, or 42P01.
func (m *Manager) stream(name string) (*Stream, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.streams[name]
	if !ok {
		return nil, sqlerr.New(sqlerr.UndefinedTable, "stream %q does not exist", name)
	}
	return s, nil
}

// StreamColumns returns the output columns of a stream.
func (m *Manager) StreamColumns(name string) ([]plan.Column, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.streams[name]
	if !ok {
		return nil, false
	}
	return s.spec.Query.Columns(), true
}

// persist stores the stream's current trigger and pause state with its
// definition. It holds m.mu, so that the definition of a stream that
// DropStream took away meanwhile is not stored again.
func (m *Manager) persist(ctx context.Context, s *Stream) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.streams[s.spec.Name] != s {
		return sqlerr.New(sqlerr.UndefinedTable, "stream %q does not exist", s.spec.Name)
	}
	s.mu.Lock()
	o := catalog.Object{Kind: "stream", Name: s.spec.Name, SQL: s.spec.SQL, Paused: s.paused}
	if s.trigger != s.spec.Options.Trigger {
		o.Options = map[string]string{"trigger": s.trigger.String()}
	}
	s.mu.Unlock()
	return m.cfg.Catalog.PutObject(ctx, o)
}

// SetTrigger changes a stream's trigger from its next batch on; a stream
// that finished (once, available_now) or failed starts again.
func (m *Manager) SetTrigger(ctx context.Context, name string, t plan.Trigger) error {
	return m.control(ctx, name, true, true, func(s *Stream) func() {
		old := s.trigger
		s.trigger = t
		return func() { s.trigger = old }
	})
}

// SetPaused pauses or resumes a stream. Pausing lets a running batch
// finish; the next one waits for RESUME.
func (m *Manager) SetPaused(ctx context.Context, name string, paused bool) error {
	return m.control(ctx, name, !paused, !paused, func(s *Stream) func() {
		old := s.paused
		s.paused = paused
		return func() { s.paused = old }
	})
}

// control applies a change of trigger or pause (set, under s.mu; it
// returns how to undo it) and stores it with the definition, undoing it
// if that fails. A stream whose state holds a failed batch refuses a
// change that would run it (check); restart starts a loop that ended.
func (m *Manager) control(ctx context.Context, name string, check, restart bool, set func(*Stream) (undo func())) error {
	s, err := m.stream(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if check {
		if err := s.errTaintedLocked(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	undo := set(s)
	s.mu.Unlock()
	err = m.persist(ctx, s)
	s.mu.Lock()
	if err != nil {
		undo()
	}
	s.ctl++ // the loop may have read either: it reads again
	s.mu.Unlock()
	if err == nil && restart {
		m.restartIfEnded(s)
	}
	s.poke()
	return err
}

// errTaintedLocked refuses to run a failed stream again when the batch
// that failed had put its rows into the aggregate state: running it again
// over that state would count them twice. The caller holds s.mu.
func (s *Stream) errTaintedLocked() error {
	if s.status != StatusFailed || !s.tainted {
		return nil
	}
	var e *sqlerr.Error
	if s.unrecovered {
		e = sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "stream %q could not recover from its checkpoint, so it cannot run: %v", s.spec.Name, s.lastErr)
	} else {
		e = sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "stream %q failed in batch %d after its aggregate state took the batch's rows, so it cannot run that batch again: %v", s.spec.Name, s.batchID+1, s.lastErr)
	}
	e.Hint = "drop the stream and create it again"
	return e
}

// restartIfEnded starts the loop of a stream whose loop ended (finished
// or failed) again, keeping its offsets and state.
func (m *Manager) restartIfEnded(s *Stream) {
	s.mu.Lock()
	select {
	case <-s.done:
	default:
		s.mu.Unlock()
		return
	}
	if s.errTaintedLocked() != nil {
		s.mu.Unlock()
		return // it failed after SetTrigger or SetPaused looked
	}
	select {
	case <-s.stop:
		s.mu.Unlock()
		return // dropped or shutting down
	default:
	}
	done := make(chan struct{})
	s.done = done
	s.status = StatusRunning
	s.lastErr = nil
	s.mu.Unlock()
	go s.run(done)
}

// DropStream stops a stream (its running batch finishes), ends its
// subscriptions and removes it with its sink.
func (m *Manager) DropStream(ctx context.Context, name string, ifExists bool) error {
	m.mu.Lock()
	s, ok := m.streams[name]
	if !ok {
		m.mu.Unlock()
		if ifExists {
			return nil
		}
		return sqlerr.New(sqlerr.UndefinedTable, "stream %q does not exist", name)
	}
	if s.spec.Options.Sink == plan.SinkLog {
		if readers := m.readersOf(name); len(readers) > 0 {
			m.mu.Unlock()
			return sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot drop stream %q because stream %q reads its log sink", name, readers[0])
		}
	}
	delete(m.streams, name)
	m.mu.Unlock()
	s.stopAndWait()
	s.endSubscriptions()
	err := m.cfg.Catalog.DeleteObject(ctx, "stream", name)
	if derr := s.dropSink(ctx); derr != nil && err == nil {
		err = derr
	}
	s.closeState()
	m.forgetErrors(name)
	if rerr := checkpoint.Remove(m.checkpointDir(name)); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// Streams describes every stream, sorted by name.
func (m *Manager) Streams() []Status {
	m.mu.Lock()
	streams := make([]*Stream, 0, len(m.streams))
	for _, s := range m.streams {
		streams = append(streams, s)
	}
	m.mu.Unlock()
	out := make([]Status, len(streams))
	for i, s := range streams {
		out[i] = s.Status()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Progress returns the kept progress rows of every stream, by stream and
// batch.
func (m *Manager) Progress() []Progress {
	m.mu.Lock()
	streams := make([]*Stream, 0, len(m.streams))
	for _, s := range m.streams {
		streams = append(streams, s)
	}
	m.mu.Unlock()
	sort.Slice(streams, func(i, j int) bool { return streams[i].spec.Name < streams[j].spec.Name })
	var out []Progress
	for _, s := range streams {
		s.mu.Lock()
		out = append(out, s.progress...)
		s.mu.Unlock()
	}
	return out
}

// WaitForBatch waits until the stream has committed batch id (or ended,
// or ctx is done) and returns its status then.
func (m *Manager) WaitForBatch(ctx context.Context, name string, id int64) (Status, error) {
	s, err := m.stream(name)
	if err != nil {
		return Status{}, err
	}
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		st := s.Status()
		if st.LastBatch >= id {
			return st, nil
		}
		if st.Status == StatusFailed {
			return st, sqlerr.New(sqlerr.Code(st.LastError), "stream %q failed before batch %d: %v", name, id, st.LastError)
		}
		if st.Status == StatusFinished || st.Status == StatusStopped {
			return st, sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "stream %q is %s at batch %d, before batch %d", name, st.Status, st.LastBatch, id)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-ch:
		}
	}
}

// WaitIdle waits until no stream is running a batch: each waits for its
// trigger, is paused, or has ended. With a ManualClock this makes
// Advance deterministic: every stream has set its timer first.
func (m *Manager) WaitIdle(ctx context.Context) error {
	for {
		m.mu.Lock()
		streams := make([]*Stream, 0, len(m.streams))
		for _, s := range m.streams {
			streams = append(streams, s)
		}
		m.mu.Unlock()
		var busy *Stream
		var ch, done chan struct{}
		for _, s := range streams {
			s.mu.Lock()
			ended := false
			select {
			case <-s.done:
				ended = true
			default:
			}
			// A loop that has not read the latest ALTER, PAUSE or
			// RESUME, or news of rows, yet is about to act on it.
			if !ended && (!s.idle || s.seenCtl != s.ctl) {
				busy, ch, done = s, s.changed, s.done
			}
			s.mu.Unlock()
			if busy != nil {
				break
			}
		}
		if busy == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for stream %q to finish its batch: %w", busy.spec.Name, ctx.Err())
		case <-ch:
		case <-done:
		}
	}
}

// TableReaders lists the streams whose query reads a table, sorted.
func (m *Manager) TableReaders(table string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for name, s := range m.streams {
		if readsTable(s.spec.Query, table) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func readsTable(n plan.Node, table string) bool {
	if sc, ok := n.(*plan.Scan); ok && sc.Table == table {
		return true
	}
	for _, c := range n.Children() {
		if readsTable(c, table) {
			return true
		}
	}
	return false
}

// WaitForStatus waits until the stream's status is status (or ctx is
// done): e.g. until an available_now stream has finished.
func (m *Manager) WaitForStatus(ctx context.Context, name, status string) (Status, error) {
	s, err := m.stream(name)
	if err != nil {
		return Status{}, err
	}
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		st := s.Status()
		if st.Status == status {
			return st, nil
		}
		if st.Status == StatusFailed {
			return st, sqlerr.New(sqlerr.Code(st.LastError), "stream %q failed: %v", name, st.LastError)
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("stream %q is %s, not %s: %w", name, st.Status, status, ctx.Err())
		case <-ch:
		}
	}
}
