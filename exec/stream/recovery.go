package stream

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/checkpoint"
	"github.com/sluice-sql/sluice/exec/source"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Checkpoints. Every stream has a checkpoint directory (package
// checkpoint) under Dir/checkpoints. Batch N is planned (its offsets, the
// table versions it pins, the watermark in effect) and the plan is
// fsynced before anything is read; a copy of each pinned table version not
// saved yet goes there too, so a replay after a restart reads the same
// rows. The sink then writes the batch tagged with its id (a catalog mark
// "stream:<name>" in the same atomic write as a table sink's rows; a tag
// on a log sink's frame), and the commit is fsynced. An aggregate's state
// is snapshotted every CheckpointEvery batches.
//
// On start a stream recovers: it restores the newest state snapshot,
// replays the committed batches after it (their plans, their saved table
// versions; the sink is not written again), and looks at the last plan:
// if it is not committed, either the sink already has it (the crash came
// between sink and commit: it is replayed into the state and committed)
// or it runs again, first, with the same offsets and versions.

// batchPlan is what one batch reads.
type batchPlan struct {
	id         int64
	start, end source.Offsets
	versions   map[string]uint64 // config-table versions it pins
	wm         int64             // the watermark in effect for the batch
	hasWM      bool
	planned    time.Time
}

func (bp *batchPlan) toCheckpoint() checkpoint.Plan {
	return checkpoint.Plan{Batch: bp.id, Start: bp.start, End: bp.end, Versions: bp.versions,
		Watermark: bp.wm, HasWatermark: bp.hasWM, PlannedAt: bp.planned}
}

func planFromCheckpoint(p checkpoint.Plan) *batchPlan {
	return &batchPlan{id: p.Batch, start: source.Offsets(p.Start), end: source.Offsets(p.End), versions: p.Versions,
		wm: p.Watermark, hasWM: p.HasWatermark, planned: p.PlannedAt}
}

// sinkMark is the catalog mark a table sink sets with each batch.
func sinkMark(stream string) string { return "stream:" + stream }

func (m *Manager) checkpointDir(name string) string {
	return filepath.Join(m.cfg.Dir, "checkpoints", "s_"+url.PathEscape(name))
}

// fingerprint identifies what a checkpoint's offsets and state mean.
func fingerprint(spec Spec) string {
	return spec.Source + "\n" + plan.Format(spec.Query)
}

// openCheckpoint opens (restore) or creates afresh the stream's
// checkpoint directory. A restored checkpoint written for another query
// is kept open and untouched, and returned as mismatch: the stream is
// then shown failed with it (CreateStream), so that DROP STREAM can
// remove it, and its sink is kept as it is.
func (s *Stream) openCheckpoint(ctx context.Context, restore bool) (mismatch, err error) {
	path := s.m.checkpointDir(s.spec.Name)
	if !restore {
		if err := checkpoint.Remove(path); err != nil {
			return nil, err
		}
	}
	d, err := checkpoint.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("stream %q: checkpoint: %w", s.spec.Name, err)
	}
	s.ckpt = d
	if meta, ok := d.Meta(); ok && meta.Fingerprint != fingerprint(s.spec) {
		return sqlerr.New(sqlerr.ObjectNotInPrerequisiteState,
			"stream %q: its checkpoint was written for another query; DROP STREAM and CREATE STREAM to start it over", s.spec.Name), nil
	}
	return nil, d.WriteMeta(ctx, checkpoint.Meta{Fingerprint: fingerprint(s.spec), Query: s.spec.SQL, CreatedAt: time.Now().UTC()})
}

// hasCheckpoint reports whether a restored stream found batches in its
// checkpoint (else it starts from its source's start_offset).
func (s *Stream) hasCheckpoint() bool {
	if s.ckpt == nil {
		return false
	}
	_, ok := s.ckpt.LastPlan()
	return ok
}

// recover brings a restored stream to its last committed batch: state,
// offsets, watermark; and sets the uncommitted plan to run again, if any.
func (s *Stream) recover(ctx context.Context) error {
	d := s.ckpt
	committed := d.LastCommitted()
	// An aggregate replays the committed batches after its newest state
	// snapshot; a stateless stream has nothing to replay (and its
	// checkpoint keeps only recent plans).
	from := int64(-1)
	if s.state != nil {
		b, schema, recs, err := d.LoadState(ctx, s.m.cfg.Mem)
		if err != nil {
			return err
		}
		if b >= 0 {
			err := s.state.Restore(ctx, schema, recs)
			releaseAll(recs)
			if err != nil {
				return err
			}
			s.mu.Lock()
			s.watermark, s.hasWM = stateWatermark(schema)
			s.mu.Unlock()
			from = b
		}
	}
	for b := from + 1; s.state != nil && b <= committed; b++ {
		bp, ok := d.PlanOf(b)
		if !ok {
			return sqlerr.New(sqlerr.DataCorrupted, "stream %q: checkpoint has no plan for committed batch %d", s.spec.Name, b)
		}
		if err := s.replay(ctx, planFromCheckpoint(bp)); err != nil {
			return fmt.Errorf("stream %q: replay of batch %d: %w", s.spec.Name, b, err)
		}
	}
	s.mu.Lock()
	if committed >= 0 {
		bp, _ := d.PlanOf(committed)
		s.offsets = source.Offsets(bp.End).Clone()
		if s.state == nil {
			s.watermark, s.hasWM = bp.Watermark, bp.HasWatermark
		}
	}
	s.batchID = committed
	s.mu.Unlock()
	last, ok := d.LastPlan()
	if !ok || last.Batch <= committed {
		return nil
	}
	bp := planFromCheckpoint(last)
	has, err := s.sinkHas(bp.id)
	if err != nil {
		return err
	}
	if !has {
		s.pending = bp
		return nil
	}
	// The sink has the batch but the commit was not written: bring the
	// state up to it and commit.
	if err := s.replay(ctx, bp); err != nil {
		return fmt.Errorf("stream %q: replay of batch %d: %w", s.spec.Name, bp.id, err)
	}
	if err := d.Commit(ctx, bp.id); err != nil {
		return err
	}
	s.mu.Lock()
	s.offsets, s.batchID = bp.end.Clone(), bp.id
	s.mu.Unlock()
	return nil
}

// sinkHas reports whether the sink already holds batch id.
func (s *Stream) sinkHas(id int64) (bool, error) {
	switch k := s.sink.(type) {
	case *tableSink:
		tbl, err := k.cat.Table(k.name)
		if err != nil {
			return false, err
		}
		v, ok := tbl.Snapshot().Mark(sinkMark(s.spec.Name))
		return ok && v >= id, nil
	case *logSink:
		v, ok := k.log.LastTag()
		return ok && v >= id, nil
	}
	return false, nil
}

// replay runs a committed batch again into the aggregate state only: no
// sink, no progress. A stateless stream has nothing to replay.
func (s *Stream) replay(ctx context.Context, bp *batchPlan) error {
	if s.state == nil {
		return nil
	}
	tables, release, err := s.tablesFor(ctx, bp)
	if err != nil {
		return err
	}
	defer release()
	// Rows retention deleted since the batch committed fail the replay,
	// naming them, or are skipped with fail_on_data_loss = false (the
	// state then lacks them; a replay has no progress row to say so).
	var p Progress
	recs, _, err := s.read(ctx, bp, &p)
	if err != nil {
		return err
	}
	defer releaseAll(recs)
	if p.Skipped != "" {
		s.m.cfg.Logger.Warn("stream replay skipped rows retention deleted", "stream", s.spec.Name, "batch", bp.id, "skipped", p.Skipped)
	}
	newWM, newHas := s.nextWatermark(recs, bp.wm, bp.hasWM)
	out, err := s.execute(ctx, recs, tables, bp.wm, bp.hasWM, newWM, newHas)
	releaseAll(out)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.watermark, s.hasWM = newWM, newHas
	s.mu.Unlock()
	return nil
}

// pinnedTables are the table versions one batch reads: catalog snapshots
// where the catalog still has the version, else the copies saved in the
// checkpoint.
type pinnedTables struct {
	snaps  map[string]*catalog.Snapshot
	copies map[string]tableCopy
}

type tableCopy struct {
	schema *arrow.Schema
	recs   []arrow.Record
}

// tablesFor pins the versions a planned batch reads.
func (s *Stream) tablesFor(ctx context.Context, bp *batchPlan) (pinnedTables, func(), error) {
	pt := pinnedTables{snaps: map[string]*catalog.Snapshot{}, copies: map[string]tableCopy{}}
	var releases []func()
	release := func() {
		for _, r := range releases {
			r()
		}
		for _, c := range pt.copies {
			releaseAll(c.recs)
		}
	}
	for name, v := range bp.versions {
		if t, err := s.m.cfg.Catalog.Table(name); err == nil {
			if snap, rel, err := t.Pin(v); err == nil {
				pt.snaps[name] = snap
				releases = append(releases, rel)
				continue
			}
		}
		schema, recs, ok, err := s.ckpt.LoadTable(ctx, s.m.cfg.Mem, name, v)
		if err != nil {
			release()
			return pt, nil, err
		}
		if !ok {
			release()
			return pt, nil, sqlerr.New(sqlerr.ObjectNotInPrerequisiteState,
				"stream %q: batch %d read version %d of table %q, which is no longer available", s.spec.Name, bp.id, v, name)
		}
		pt.copies[name] = tableCopy{schema: schema, recs: recs}
	}
	return pt, release, nil
}

// saveTables copies into the checkpoint every pinned table version it
// does not have yet, so the batch can be replayed after a restart.
func (s *Stream) saveTables(ctx context.Context, pt pinnedTables) error {
	for name, snap := range pt.snaps {
		if s.ckpt.HasTable(name, snap.Version()) {
			continue
		}
		if err := s.ckpt.WriteTable(ctx, name, snap.Version(), snap.Schema(), snap.Records()); err != nil {
			return err
		}
	}
	return nil
}

// afterCommit snapshots the aggregate state every CheckpointEvery
// batches (a stateless stream writes an empty snapshot, which lets the
// checkpoint compact its logs) and lets the checkpoint drop the table
// copies no replay needs any more.
func (s *Stream) afterCommit(ctx context.Context, bp *batchPlan) error {
	s.sinceSnapshot++
	if s.sinceSnapshot >= s.m.cfg.CheckpointEvery {
		s.hook("snapshot")
		var schema *arrow.Schema
		var recs []arrow.Record
		if s.state != nil {
			var err error
			if schema, recs, err = s.state.Snapshot(ctx, s.m.cfg.Mem); err != nil {
				return err
			}
		} else {
			schema = arrow.NewSchema(nil, nil)
		}
		s.mu.Lock()
		wm, has := s.watermark, s.hasWM
		s.mu.Unlock()
		err := s.ckpt.WriteState(ctx, bp.id, withWatermark(schema, wm, has), recs)
		releaseAll(recs)
		if err != nil {
			return err
		}
		s.sinceSnapshot = 0
	}
	return s.ckpt.DropTablesBefore(ctx, bp.versions)
}

const (
	metaWatermark    = "sluice.watermark"
	metaHasWatermark = "sluice.has_watermark"
)

// withWatermark records the watermark in a state snapshot's schema.
func withWatermark(schema *arrow.Schema, wm int64, has bool) *arrow.Schema {
	keys := []string{metaWatermark, metaHasWatermark}
	vals := []string{strconv.FormatInt(wm, 10), strconv.FormatBool(has)}
	md := schema.Metadata()
	for i, k := range md.Keys() {
		if k != metaWatermark && k != metaHasWatermark {
			keys = append(keys, k)
			vals = append(vals, md.Values()[i])
		}
	}
	meta := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(schema.Fields(), &meta)
}

// stateWatermark reads the watermark withWatermark recorded, and strips
// nothing: StreamAgg.Restore compares fields only.
func stateWatermark(schema *arrow.Schema) (int64, bool) {
	md := schema.Metadata()
	i, j := md.FindKey(metaWatermark), md.FindKey(metaHasWatermark)
	if i < 0 || j < 0 {
		return 0, false
	}
	wm, err1 := strconv.ParseInt(md.Values()[i], 10, 64)
	has, err2 := strconv.ParseBool(md.Values()[j])
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return wm, has
}

// hook calls the configured crash-test hook.
func (s *Stream) hook(point string) {
	if s.m.cfg.Hook != nil {
		s.m.cfg.Hook(point)
	}
}

// dataLoss turns a read of deleted offsets into the stream's error naming
// stream, source, partition and offsets; ok is false for other errors.
func (s *Stream) dataLoss(err error) (*source.OffsetsDeletedError, bool) {
	var od *source.OffsetsDeletedError
	if errors.As(err, &od) {
		return od, true
	}
	return nil, false
}
