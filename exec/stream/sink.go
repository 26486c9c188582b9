package stream

import (
	"context"
	"fmt"
	"os"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/exec/source"
	"github.com/sluice-sql/sluice/planner/plan"
)

// sink receives each batch's output. write stores all of recs or nothing.
type sink interface {
	write(ctx context.Context, batch int64, recs []arrow.Record) error
}

// openSink creates (or, on restore, reopens) the stream's sink. The
// caller holds m.mu.
func (s *Stream) openSink(ctx context.Context, restore bool) error {
	name := s.spec.Name
	switch s.spec.Options.Sink {
	case plan.SinkTable:
		cat := s.m.cfg.Catalog
		def := catalog.TableDef{Name: name, Columns: outputColumns(s.spec.Query), PrimaryKey: s.spec.Key}
		if tbl, err := cat.Table(name); err != nil || !restore {
			if err := cat.CreateTable(ctx, def, false); err != nil {
				return fmt.Errorf("create the sink table of stream %q: %w", name, err)
			}
		} else if s.replaysFromStart() {
			// The stream reads its source again from the start: the
			// table is rebuilt rather than given every row twice.
			if _, err := tbl.Write(ctx, func(_ *catalog.Snapshot, w *catalog.Writer) error { w.DeleteAll(); return nil }); err != nil {
				return fmt.Errorf("reset the sink table of stream %q: %w", name, err)
			}
		}
		s.sink = &tableSink{cat: cat, name: name, stream: name, key: s.spec.Key}
	case plan.SinkLog:
		def := catalog.SourceDef{Name: name, Columns: outputColumns(s.spec.Query), Connector: "log", Options: map[string]string{}}
		// Rows keep their event time down a pipeline when the stream
		// passes the source's event-time column through.
		if et := s.src.def.EventTime; et != "" {
			for _, c := range def.Columns {
				if c.Name == et && c.Type.Kind == sqltypes.KindTimestamp {
					def.EventTime, def.WatermarkDelay = et, s.src.def.WatermarkDelay
				}
			}
		}
		if _, exists := s.m.sources[name]; exists {
			return sqlerr.New(sqlerr.DuplicateTable, "source %q already exists", name)
		}
		if !restore || s.replaysFromStart() {
			if err := removeDir(s.m.sourceDir(name)); err != nil {
				return err
			}
		}
		e, err := s.m.openSource(ctx, def)
		if err != nil {
			return err
		}
		e.owner = name
		s.m.sources[name] = e
		m := s.m
		s.sink = &logSink{log: e.log, notify: func() { m.notifyReaders(name) }}
	case plan.SinkKafka:
		k, err := newKafkaSink(name, s.spec.Query.Columns(), s.spec.Options.SinkOptions)
		if err != nil {
			return err
		}
		s.sink = k
	default:
		s.sink = noSink{}
	}
	return nil
}

// replaysFromStart reports whether a restored stream reads its source
// from the start again: one whose checkpoint has no batch (a crash before
// its first plan) and that starts at the earliest offset recomputes its
// output, so its sink starts empty.
func (s *Stream) replaysFromStart() bool {
	return !s.hasCheckpoint() && !startsAtLatest(s.src.def)
}

func removeDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return sqlerr.New(sqlerr.IOError, "clear %s: %w", dir, err)
	}
	return nil
}

// dropSink removes the sink table or log source.
func (s *Stream) dropSink(ctx context.Context) error {
	if s.spec.Options.Sink == plan.SinkLog {
		s.m.mu.Lock()
		defer s.m.mu.Unlock()
	}
	return s.dropSinkLocked(ctx)
}

// dropSinkLocked is dropSink for a caller that holds m.mu (CreateStream
// undoing its sink).
func (s *Stream) dropSinkLocked(ctx context.Context) error {
	switch s.spec.Options.Sink {
	case plan.SinkTable:
		return s.m.cfg.Catalog.DropTable(ctx, s.spec.Name, true)
	case plan.SinkLog:
		if e, ok := s.m.sources[s.spec.Name]; ok && e.owner == s.spec.Name {
			return s.m.dropSourceLocked(ctx, e)
		}
	}
	return nil
}

// tableSink writes a table: appends, or upserts by key.
type tableSink struct {
	cat    *catalog.Catalog
	name   string
	stream string
	key    []int // nil: append
}

func (t *tableSink) write(ctx context.Context, batch int64, recs []arrow.Record) error {
	rows := 0
	for _, r := range recs {
		rows += int(r.NumRows())
	}
	if rows == 0 {
		return nil
	}
	tbl, err := t.cat.Table(t.name)
	if err != nil {
		return err
	}
	_, err = tbl.Write(ctx, func(cur *catalog.Snapshot, w *catalog.Writer) error {
		// The batch id goes in the same atomic write as its rows: after
		// a crash, recovery sees whether the table has the batch.
		w.SetMark(sinkMark(t.stream), batch)
		keyVals := make([]any, len(t.key))
		for _, r := range recs {
			cols := r.Columns()
			for i := 0; i < int(r.NumRows()); i++ {
				row := make([]any, len(cols))
				for c, a := range cols {
					row[c] = expr.ValueAt(a, i)
				}
				if t.key != nil {
					for j, k := range t.key {
						keyVals[j] = row[k]
						if row[k] == nil {
							return sqlerr.New(sqlerr.NotNullViolation, "group key column %q is NULL: a table sink keys each group by its GROUP BY values, which cannot be NULL (use coalesce, or sink = 'log')", r.Schema().Field(k).Name)
						}
					}
					if ord, ok := cur.Lookup(keyVals); ok {
						if err := w.Delete(ord); err != nil {
							return err
						}
					}
				}
				if err := w.Insert(row); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return err
}

// logSink appends to a log source.
type logSink struct {
	log    *source.Log
	notify func() // tells the streams reading the log
}

func (l *logSink) write(ctx context.Context, batch int64, recs []arrow.Record) error {
	rows := int64(0)
	for _, r := range recs {
		rows += r.NumRows()
	}
	if rows == 0 {
		return nil
	}
	// Tagged with the batch id: after a crash, recovery sees whether the
	// log has the batch.
	if _, err := l.log.AppendRecordsTagged(ctx, recs, batch); err != nil {
		return err
	}
	l.notify()
	return nil
}

// noSink keeps nothing: the rows reach subscribers only.
type noSink struct{}

func (noSink) write(context.Context, int64, []arrow.Record) error { return nil }
