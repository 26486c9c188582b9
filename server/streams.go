package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/exec"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/exec/source"
	"github.com/sluice-sql/sluice/exec/stream"
	"github.com/sluice-sql/sluice/planner"
	"github.com/sluice-sql/sluice/planner/plan"
	"github.com/sluice-sql/sluice/server/pgwire"
)

// restoreObjects recreates the stored sources and streams, oldest first,
// by binding their SQL again, and starts the feeds of changelog-fed
// tables. A definition that no longer binds or opens is logged and left
// stored.
func (s *Server) restoreObjects(ctx context.Context) {
	parser := planner.NewParser()
	for _, o := range s.cat.Objects() {
		if err := s.restoreObject(ctx, parser, o); err != nil {
			s.cfg.Logger.Error("could not restore "+o.Kind, "name", o.Name, "err", err)
		}
	}
	// Changelog-fed tables go on from the marks of their rows.
	s.streams.RestoreFeeds(ctx)
}

func (s *Server) restoreObject(ctx context.Context, parser *planner.Parser, o catalog.Object) error {
	ps, err := parser.Parse(o.SQL)
	if err != nil {
		return err
	}
	if len(ps) != 1 {
		return fmt.Errorf("stored definition has %d statements", len(ps))
	}
	b, err := planner.Bind(planner.BindEnv{Catalog: s.catalogView(), Now: time.Now(), Restoring: true}, ps[0])
	if err != nil {
		return err
	}
	switch st := b.Stmt.(type) {
	case *plan.CreateSource:
		return s.streams.CreateSource(ctx, st.Def, st.SQL, true)
	case *plan.CreateStream:
		spec := specOf(st)
		spec.Paused = o.Paused
		if t, ok := o.Options["trigger"]; ok {
			if spec.Options.Trigger, err = planner.ParseTrigger(t); err != nil {
				return err
			}
		}
		return s.streams.CreateStream(ctx, spec, true)
	}
	return fmt.Errorf("stored definition is a %s", b.Stmt.StatementTag())
}

func specOf(st *plan.CreateStream) stream.Spec {
	return stream.Spec{Name: st.Name, SQL: st.SQL, Source: st.Source, Query: st.Query, Options: st.Options, Key: st.Key}
}

// catalogView is what the binder sees: tables, sources, streams.
func (s *Server) catalogView() catalogView { return catalogView{cat: s.cat, streams: s.streams} }

// SourceDef implements planner.Catalog.
func (v catalogView) SourceDef(name string) (catalog.SourceDef, bool) {
	if v.streams == nil {
		return catalog.SourceDef{}, false
	}
	return v.streams.SourceDef(name)
}

// StreamColumns implements planner.Catalog.
func (v catalogView) StreamColumns(name string) ([]plan.Column, bool) {
	if v.streams == nil {
		return nil, false
	}
	return v.streams.StreamColumns(name)
}

// runStreamStatement runs the statements about sources and streams; ok is
// false for other statements.
func (s *session) runStreamStatement(ctx context.Context, stmt plan.Statement) (pgwire.Result, bool, error) {
	m := s.srv.streams
	switch st := stmt.(type) {
	case *plan.CreateSource:
		return tagResult("CREATE SOURCE"), true, m.CreateSource(ctx, st.Def, st.SQL, false)
	case *plan.CreateStream:
		if st.OrReplace {
			return tagResult("CREATE STREAM"), true, m.ReplaceStream(ctx, specOf(st))
		}
		return tagResult("CREATE STREAM"), true, m.CreateStream(ctx, specOf(st), false)
	case *plan.AlterStream:
		if st.Trigger != nil {
			if err := m.SetTrigger(ctx, st.Name, *st.Trigger); err != nil {
				return nil, true, err
			}
		}
		return tagResult("ALTER STREAM"), true, nil
	case *plan.StreamControl:
		return tagResult(st.StatementTag()), true, m.SetPaused(ctx, st.Name, st.Pause)
	case *plan.DropStream:
		for _, n := range st.Names {
			if err := m.DropStream(ctx, n, st.IfExists); err != nil {
				return nil, true, err
			}
		}
		return tagResult("DROP STREAM"), true, nil
	case *plan.DropSource:
		for _, n := range st.Names {
			if err := m.DropSource(ctx, n, st.IfExists); err != nil {
				return nil, true, err
			}
		}
		return tagResult("DROP SOURCE"), true, nil
	case *plan.Subscribe:
		sub, err := m.Subscribe(st.Name)
		if err != nil {
			return nil, true, err
		}
		return &subscribeResult{sub: sub}, true, nil
	case *plan.CreateTable:
		if st.Def.Connector == "" {
			break
		}
		// A changelog-fed table: created with its feed.
		return tagResult("CREATE TABLE"), true, m.CreateTable(ctx, st.Def, st.IfNotExists)
	case *plan.DropTable:
		// Refused while a stream depends on a table; stops a table's feed.
		return tagResult("DROP TABLE"), true, m.DropTables(ctx, st.Names, st.IfExists)
	}
	return nil, false, nil
}

// subscribeResult sends a subscription's rows as COPY text.
type subscribeResult struct {
	sub  *stream.Subscription
	cur  arrow.Record
	rows int64
}

var _ pgwire.CopyOutResult = (*subscribeResult)(nil)

// CopyFields implements pgwire.CopyOutResult.
func (r *subscribeResult) CopyFields() []pgwire.Field {
	cols := r.sub.Columns()
	f := make([]pgwire.Field, len(cols))
	for i, c := range cols {
		f[i] = pgwire.Field{Name: c.Name, Type: c.Type}
	}
	return f
}

// Next implements pgwire.Result.
func (r *subscribeResult) Next(ctx context.Context) (arrow.Record, error) {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	rec, err := r.sub.Next(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to user request")
		}
		return nil, err
	}
	if rec != nil {
		r.rows += rec.NumRows()
	}
	r.cur = rec
	return rec, nil
}

// Tag implements pgwire.Result.
func (r *subscribeResult) Tag() string { return fmt.Sprintf("COPY %d", r.rows) }

// Close implements pgwire.Result.
func (r *subscribeResult) Close() error {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.sub.Close()
	return nil
}

// systemInputs supplies the rows of the system tables a plan reads, as
// records; release frees them.
func (s *Server) systemInputs(ctx context.Context, n plan.Node, mem memory.Allocator) (map[string][]arrow.Record, func(), error) {
	inputs := map[string][]arrow.Record{}
	release := func() {
		for _, recs := range inputs {
			for _, r := range recs {
				r.Release()
			}
		}
	}
	var err error
	var walk func(n plan.Node)
	walk = func(n plan.Node) {
		if in, ok := n.(*plan.Input); ok && planner.IsSystemTable(in.Source) && err == nil {
			if _, done := inputs[in.Source]; !done {
				var rec arrow.Record
				if rec, err = rowsRecord(mem, in.Cols, s.systemRows(ctx, in.Source)); err == nil {
					inputs[in.Source] = []arrow.Record{rec}
				}
			}
		}
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walk(n)
	if err != nil {
		release()
		return nil, nil, err
	}
	return inputs, release, nil
}

// systemRows returns a system table's rows, in its columns' order
// (planner's systemTables).
func (s *Server) systemRows(ctx context.Context, name string) [][]any {
	var rows [][]any
	switch name {
	case "sluice_progress":
		for _, p := range s.streams.Progress() {
			var wm any
			if p.Watermark != nil {
				wm = *p.Watermark
			}
			var cv, skipped any
			if p.ConfigVersions != "" {
				cv = p.ConfigVersions
			}
			if p.Skipped != "" {
				skipped = p.Skipped
			}
			rows = append(rows, []any{p.Stream, p.BatchID, p.StartedAt.UTC().Truncate(time.Microsecond), ms(p.Duration),
				ms(p.Plan), ms(p.Read), ms(p.Execute), ms(p.Sink), ms(p.Commit),
				p.InputRows, p.OutputRows, p.InputPerSec, p.ProcessedSec,
				p.StartOffsets.String(), p.EndOffsets.String(), wm, p.LateRows, p.StateRows, cv, skipped, p.BadRows})
		}
	case "sluice_streams":
		for _, st := range s.streams.Streams() {
			var last, errText, wm any
			if st.LastBatch >= 0 {
				last = st.LastBatch
			}
			if st.LastError != nil {
				errText = st.LastError.Error()
			}
			if st.Watermark != nil {
				wm = *st.Watermark
			}
			rows = append(rows, []any{st.Name, st.Status, st.Trigger.String(), string(st.Sink), last, errText,
				st.Source, string(st.OutputMode), wm, st.Totals.InputRows, st.Totals.OutputRows, st.Totals.LateRows,
				int64(st.Subscribers), st.Totals.BadRows})
		}
	case "sluice_errors":
		for _, e := range s.streams.Errors() {
			rows = append(rows, []any{e.Stream, e.BatchID, e.Partition, e.Offset, e.Err, e.Excerpt, e.At.UTC().Truncate(time.Microsecond)})
		}
	case "sluice_table_feeds":
		for _, f := range s.streams.Feeds() {
			var lastBad, lastErr, skipped any
			if f.LastBadRecord != "" {
				lastBad = f.LastBadRecord
			}
			if f.LastError != nil {
				lastErr = f.LastError.Error()
			}
			if f.Skipped != "" {
				skipped = f.Skipped
			}
			rows = append(rows, []any{f.Table, f.Connector, f.Topic, f.Status, f.Offsets.String(), int64(f.Version),
				f.Upserts, f.Deletes, f.BadRecords, lastBad, lastErr, skipped})
		}
	case "sluice_table_versions":
		for _, name := range s.cat.TableNames() {
			t, err := s.cat.Table(name)
			if err != nil {
				continue // dropped since TableNames
			}
			for _, v := range t.Versions() {
				rows = append(rows, []any{name, int64(v.Version), v.CommittedAt.UTC().Truncate(time.Microsecond),
					int64(v.Rows), v.Pinned})
			}
		}
	case "sluice_sources":
		for _, si := range s.streams.Sources(ctx) {
			d := si.Def
			cols := make([]string, len(d.Columns))
			for i, c := range d.Columns {
				cols[i] = c.Name + " " + c.Type.String()
			}
			var et, delay, early, late any
			if d.EventTime != "" {
				et, delay = d.EventTime, plan.FormatDuration(d.WatermarkDelay)
			}
			if si.Err == nil {
				early, late = offsetsText(si.Earliest), offsetsText(si.Latest)
			}
			rows = append(rows, []any{d.Name, d.Connector, strings.Join(cols, ", "), et, delay, early, late})
		}
	}
	return rows
}

func offsetsText(o source.Offsets) string { return o.String() }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// rowsRecord builds one record of rows in cols.
func rowsRecord(mem memory.Allocator, cols []plan.Column, rows [][]any) (arrow.Record, error) {
	schema := exec.SchemaOf(cols)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			if err := expr.AppendValue(b.Field(i), v); err != nil {
				return nil, fmt.Errorf("system table column %s: %w", cols[i].Name, err)
			}
		}
	}
	return b.NewRecord(), nil
}
