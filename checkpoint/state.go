package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// keepStates is how many state snapshots WriteState keeps: the newest, and
// one to fall back to if the newest turns out damaged.
const keepStates = 2

const corruptSuffix = ".corrupt"

func stateName(batch int64) string { return "state-" + strconv.FormatInt(batch, 10) + ".arrow" }

func parseStateName(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, "state-")
	if !ok {
		return 0, false
	}
	if s, ok = strings.CutSuffix(s, ".arrow"); !ok {
		return 0, false
	}
	b, err := strconv.ParseInt(s, 10, 64)
	if err != nil || b < 0 || stateName(b) != name {
		return 0, false
	}
	return b, true
}

// StateBatches returns the batches of the state snapshots in the
// directory, oldest first. They are not verified until LoadState reads
// them.
func (d *Dir) StateBatches() []int64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Clone(d.states)
}

// WriteState saves the stream's state as of the end of batch: an Arrow
// IPC file of recs (any number of records, of any number of rows, each
// with schema schema), written whole or not at all. batch must be
// committed, and not older than the newest snapshot (writing the same
// batch again replaces it). WriteState then deletes all but the newest
// two snapshots and compacts the logs (see Compact). A stateless stream
// may save an empty state (a schema without fields, no records) now and
// then, so that its logs are compacted too.
func (d *Dir) WriteState(ctx context.Context, batch int64, schema *arrow.Schema, recs []arrow.Record) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.usable(ctx); err != nil {
		return err
	}
	if err := checkRecords(schema, recs); err != nil {
		return sqlerr.New(sqlerr.InternalError, "checkpoint: state of batch %d: %w", batch, err)
	}
	if batch < 0 || batch > d.lastCommitted {
		return misuse("cannot save the state of batch %d: the last committed batch is %d: %w", batch, d.lastCommitted, ErrBatchOrder)
	}
	if n := len(d.states); n > 0 && batch < d.states[n-1] {
		return misuse("cannot save the state of batch %d: a snapshot of batch %d exists: %w", batch, d.states[n-1], ErrBatchOrder)
	}
	if _, err := writeArrowFile(d.path, stateName(batch), uint64(batch), schema, recs); err != nil {
		return ioError("write state snapshot", err)
	}
	states := slices.Clone(d.states)
	if n := len(states); n == 0 || states[n-1] != batch {
		states = append(states, batch)
	}
	var errs []error
	for len(states) > keepStates {
		if err := os.Remove(filepath.Join(d.path, stateName(states[0]))); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			break
		}
		states = states[1:]
	}
	d.mu.Lock()
	d.states = states
	d.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return ioError("remove old state snapshot", err)
	}
	return d.compact()
}

// LoadState reads the newest state snapshot that passes its checks and
// returns its batch, schema and records (allocated from mem; the caller
// releases them). A snapshot that fails them (truncated, bad checksum) is
// renamed to <name>.corrupt, kept for inspection but ignored from then on,
// and the next older one is tried: the stream then replays more batches
// (their plans are retained for that). With no snapshot at all, batch is -1
// and err nil; when snapshots exist but none is valid, err has SQLSTATE
// XX001.
func (d *Dir) LoadState(ctx context.Context, mem memory.Allocator) (batch int64, schema *arrow.Schema, recs []arrow.Record, err error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.usable(ctx); err != nil {
		return -1, nil, nil, err
	}
	var bad []error
	for i := len(d.states) - 1; i >= 0; i-- {
		b := d.states[i]
		path := filepath.Join(d.path, stateName(b))
		schema, recs, err := readArrowFile(path, uint64(b), mem)
		if err == nil {
			if len(bad) > 0 {
				if err := syncDir(d.path); err != nil {
					return -1, nil, nil, ioError("set aside damaged state snapshot", err)
				}
			}
			return b, schema, recs, nil
		}
		if !errors.Is(err, errDamaged) {
			return -1, nil, nil, ioError("read state snapshot", err)
		}
		bad = append(bad, fmt.Errorf("%s: %w", stateName(b), err))
		if err := os.Rename(path, path+corruptSuffix); err != nil {
			return -1, nil, nil, ioError("set aside damaged state snapshot", err)
		}
		d.mu.Lock()
		d.states = slices.Delete(slices.Clone(d.states), i, i+1)
		d.mu.Unlock()
	}
	if len(bad) > 0 {
		if err := syncDir(d.path); err != nil {
			return -1, nil, nil, ioError("set aside damaged state snapshot", err)
		}
		return -1, nil, nil, corrupted(d.path, fmt.Errorf("no valid state snapshot: %w", errors.Join(bad...)))
	}
	return -1, nil, nil, nil
}

// Compact rewrites both logs, each atomically (temporary file, fsync,
// rename), keeping only the records of batches after the oldest retained
// state snapshot, and always the last plan and the last commit; with no
// snapshot it keeps everything. It then deletes the table copies that a
// retained plan has superseded: a version of a table no retained plan pins
// and older than the newest version a retained plan pins. WriteState calls
// it; calling it again is cheap when there is nothing to drop.
func (d *Dir) Compact(ctx context.Context) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.usable(ctx); err != nil {
		return err
	}
	return d.compact()
}

func (d *Dir) compact() error {
	if len(d.states) == 0 {
		return nil
	}
	cut := d.states[0] // batches <= cut are not needed for replay
	plans := d.plans
	for len(plans) > 1 && plans[0].Batch <= cut {
		plans = plans[1:]
	}
	commits := d.commitRecs
	for len(commits) > 1 && commits[0].Batch <= cut {
		commits = commits[1:]
	}
	if len(commits) < len(d.commitRecs) {
		bodies := make([][]byte, len(commits))
		for i, c := range commits {
			b, err := encodeCommit(c)
			if err != nil {
				return sqlerr.New(sqlerr.InternalError, "checkpoint: encode commit: %w", err)
			}
			bodies[i] = b
		}
		if err := d.commits.rewrite(bodies); err != nil {
			d.err = ioError("compact "+commitsName, err)
			return d.err
		}
		d.mu.Lock()
		d.commitRecs = slices.Clone(commits)
		d.mu.Unlock()
	}
	if len(plans) < len(d.plans) {
		bodies := make([][]byte, len(plans))
		for i, p := range plans {
			b, err := encodePlan(p)
			if err != nil {
				return sqlerr.New(sqlerr.InternalError, "checkpoint: encode plan: %w", err)
			}
			bodies[i] = b
		}
		if err := d.offsets.rewrite(bodies); err != nil {
			d.err = ioError("compact "+offsetsName, err)
			return d.err
		}
		d.mu.Lock()
		d.plans = slices.Clone(plans)
		d.mu.Unlock()
	}
	return d.dropSuperseded()
}
