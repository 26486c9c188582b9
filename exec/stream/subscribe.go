package stream

import (
	"context"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Subscription receives a stream's output rows as batches commit
// (SUBSCRIBE). A subscriber that falls more than the manager's
// SubscriberBuffer records behind is cut off with an error, so a slow
// client never slows the stream.
type Subscription struct {
	s    *Stream
	ch   chan arrow.Record
	done chan struct{} // closed by end
	err  error         // why it ended; nil: the stream was dropped or stopped
	once sync.Once
	cols []plan.Column
}

// Subscribe starts a subscription to the rows of batches committed from
// now on.
func (m *Manager) Subscribe(name string) (*Subscription, error) {
	s, err := m.stream(name)
	if err != nil {
		return nil, err
	}
	sub := &Subscription{s: s, ch: make(chan arrow.Record, m.cfg.SubscriberBuffer), done: make(chan struct{}), cols: s.spec.Query.Columns()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == StatusFailed {
		return nil, sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "stream %q has failed: %v", name, s.lastErr)
	}
	s.subs[sub] = struct{}{}
	return sub, nil
}

// Columns are the stream's output columns.
func (sub *Subscription) Columns() []plan.Column { return sub.cols }

// Next returns the next record (owned by the caller, who releases it),
// or nil when the stream was dropped or the server stops, or an error
// when the stream failed or the subscriber was cut off, or ctx's error.
func (sub *Subscription) Next(ctx context.Context) (arrow.Record, error) {
	select {
	case r := <-sub.ch:
		return r, nil
	default:
	}
	select {
	case r := <-sub.ch:
		return r, nil
	case <-sub.done:
		// Hand out what was queued before the end.
		select {
		case r := <-sub.ch:
			return r, nil
		default:
		}
		return nil, sub.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close ends the subscription and frees what it holds.
func (sub *Subscription) Close() {
	sub.s.mu.Lock()
	delete(sub.s.subs, sub)
	sub.s.mu.Unlock()
	sub.end(nil)
	for {
		select {
		case r := <-sub.ch:
			r.Release()
		default:
			return
		}
	}
}

// end closes done once, recording err.
func (sub *Subscription) end(err error) {
	sub.once.Do(func() {
		sub.err = err
		close(sub.done)
	})
}

// publishLocked hands a committed batch's records to the subscribers; a
// subscriber without room for them is cut off. The caller holds s.mu.
func (s *Stream) publishLocked(recs []arrow.Record) {
	for sub := range s.subs {
		if cap(sub.ch)-len(sub.ch) < countNonEmpty(recs) {
			delete(s.subs, sub)
			sub.end(sqlerr.New(sqlerr.ProgramLimitExceeded, "subscriber to stream %q fell more than %d record batches behind and was cut off", s.spec.Name, cap(sub.ch)))
			continue
		}
		for _, r := range recs {
			if r.NumRows() == 0 {
				continue
			}
			r.Retain()
			sub.ch <- r
		}
	}
}

func countNonEmpty(recs []arrow.Record) int {
	n := 0
	for _, r := range recs {
		if r.NumRows() > 0 {
			n++
		}
	}
	return n
}

// endSubscriptions ends every subscription as the stream goes away.
func (s *Stream) endSubscriptions() {
	s.mu.Lock()
	subs := s.subs
	s.subs = map[*Subscription]struct{}{}
	s.mu.Unlock()
	for sub := range subs {
		sub.end(nil)
	}
}
