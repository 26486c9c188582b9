package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

const (
	lockName     = "LOCK"
	offsetsName  = "offsets.log"
	commitsName  = "commits.log"
	offsetsMagic = "SLCOFF01"
	commitsMagic = "SLCCOM01"
)

// ErrBatchOrder is wrapped by the errors of WritePlan, Commit and WriteState
// calls whose batch number breaks the checkpoint's order.
var ErrBatchOrder = errors.New("batch out of order")

// ErrPlanConflict is wrapped by the error of WritePlan when the batch is
// already planned, uncommitted, with a different plan.
var ErrPlanConflict = errors.New("batch already planned differently")

// Dir is one stream's checkpoint directory, open for writing. Its write
// methods (WritePlan, Commit, WriteState, WriteTable, DropTablesBefore,
// WriteMeta, Compact) and LoadState and LoadTable are serialised; the read
// methods (LastPlan, LastCommitted, PlanOf, Plans, HasTable, Meta,
// StateBatches) never wait for a write's I/O and are safe to call from any
// goroutine at any time, also after Close.
type Dir struct {
	path string

	wmu     sync.Mutex // serialises writers; held through their I/O
	lock    *os.File
	offsets *logFile
	commits *logFile
	closed  bool
	err     error // sticky: a log append or rewrite failed; reopen to recover

	mu            sync.RWMutex // guards what follows; held only to read or publish
	plans         []Plan       // retained plans, consecutive batches, oldest first
	commitRecs    []commitRecord
	lastCommitted int64
	states        []int64 // batches of the state snapshot files, ascending
	tables        map[tableKey]bool
	meta          *Meta
	recovery      Recovery
}

// Recovery says what Open found and repaired.
type Recovery struct {
	// OffsetsCut and CommitsCut are the bytes of a torn last record (a
	// crash mid-append) cut from the offsets and commit logs.
	OffsetsCut, CommitsCut int64
	// TempFiles counts the temporary files of interrupted writes that
	// Open removed.
	TempFiles int
}

// Open opens the checkpoint directory at path, creating it if needed, and
// recovers it: it removes temporary files left by interrupted writes, cuts
// a torn last record off each log, and checks that the logs agree. Damage
// anywhere but at a log's tail, a damaged META, or logs that contradict
// each other fail with SQLSTATE XX001. Only one Dir may have a path open at
// a time (an advisory lock on path/LOCK); state snapshots and table copies
// are checked when they are loaded, not here.
func Open(ctx context.Context, path string) (*Dir, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, ioError("create checkpoint directory", err)
	}
	lock, err := lockDir(path)
	if err != nil {
		return nil, err
	}
	d := &Dir{path: path, lock: lock, lastCommitted: -1, tables: map[tableKey]bool{}}
	if err := d.recover(); err != nil {
		_ = d.offsets.close()
		_ = d.commits.close()
		unlockDir(lock)
		return nil, err
	}
	return d, nil
}

func (d *Dir) recover() error {
	n, err := removeTemps(d.path)
	if err != nil {
		return ioError("remove temporary files", err)
	}
	d.recovery.TempFiles = n

	var bodies [][]byte
	d.offsets, bodies, d.recovery.OffsetsCut, err = openLog(d.path, offsetsName, offsetsMagic)
	if err != nil {
		return err
	}
	for i, b := range bodies {
		p, err := decodePlan(b)
		if err != nil {
			return corrupted(d.offsets.path, fmt.Errorf("record %d: %w", i, err))
		}
		if len(d.plans) > 0 && p.Batch != d.plans[len(d.plans)-1].Batch+1 {
			return corrupted(d.offsets.path, fmt.Errorf("record %d plans batch %d after batch %d", i, p.Batch, d.plans[len(d.plans)-1].Batch))
		}
		d.plans = append(d.plans, p)
	}

	d.commits, bodies, d.recovery.CommitsCut, err = openLog(d.path, commitsName, commitsMagic)
	if err != nil {
		return err
	}
	for i, b := range bodies {
		c, err := decodeCommit(b)
		if err != nil {
			return corrupted(d.commits.path, fmt.Errorf("record %d: %w", i, err))
		}
		if len(d.commitRecs) > 0 && c.Batch != d.lastCommitted+1 {
			return corrupted(d.commits.path, fmt.Errorf("record %d commits batch %d after batch %d", i, c.Batch, d.lastCommitted))
		}
		d.commitRecs = append(d.commitRecs, c)
		d.lastCommitted = c.Batch
	}

	// Batch N+1 is planned only after batch N commits, and N commits only
	// after it is planned.
	lastPlanned := d.lastPlanned()
	switch {
	case d.lastCommitted > lastPlanned:
		return corrupted(d.path, fmt.Errorf("batch %d is committed but the last planned batch is %d", d.lastCommitted, lastPlanned))
	case d.lastCommitted < lastPlanned-1:
		return corrupted(d.path, fmt.Errorf("batch %d is planned but the last committed batch is %d", lastPlanned, d.lastCommitted))
	}

	if err := d.scanFiles(); err != nil {
		return err
	}
	m, err := readMeta(d.path)
	if err != nil {
		return err
	}
	d.meta = m
	return nil
}

// scanFiles lists the state snapshots and table copies in the directory.
func (d *Dir) scanFiles() error {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return ioError("list checkpoint directory", err)
	}
	for _, e := range entries {
		if b, ok := parseStateName(e.Name()); ok {
			d.states = append(d.states, b)
		} else if k, ok := parseTableName(e.Name()); ok {
			d.tables[k] = true
		}
	}
	slices.Sort(d.states)
	return nil
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// Recovery returns what Open repaired.
func (d *Dir) Recovery() Recovery {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.recovery
}

// lastPlanned returns the last planned batch, -1 if none. d.mu or d.wmu
// must be held.
func (d *Dir) lastPlanned() int64 {
	if len(d.plans) == 0 {
		return -1
	}
	return d.plans[len(d.plans)-1].Batch
}

// LastPlan returns the plan of the last planned batch. It is uncommitted
// when its Batch is LastCommitted()+1; a stream then re-runs it exactly.
func (d *Dir) LastPlan() (Plan, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if len(d.plans) == 0 {
		return Plan{}, false
	}
	return d.plans[len(d.plans)-1].Clone(), true
}

// LastCommitted returns the last committed batch, -1 when none is.
func (d *Dir) LastCommitted() int64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.lastCommitted
}

// PlanOf returns the plan of batch, if it is retained. Retained are at
// least the last plan and every plan after the oldest retained state
// snapshot (see Compact).
func (d *Dir) PlanOf(batch int64) (Plan, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if len(d.plans) == 0 || batch < d.plans[0].Batch || batch > d.lastPlanned() {
		return Plan{}, false
	}
	return d.plans[batch-d.plans[0].Batch].Clone(), true
}

// Plans returns the retained plans, oldest first.
func (d *Dir) Plans() []Plan {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]Plan, len(d.plans))
	for i, p := range d.plans {
		out[i] = p.Clone()
	}
	return out
}

// usable returns why d cannot be written, if it cannot. d.wmu must be held.
func (d *Dir) usable(ctx context.Context) error {
	if d.closed {
		return errClosed()
	}
	if d.err != nil {
		return d.err
	}
	return ctxErr(ctx)
}

// WritePlan makes p durable in the offsets log (one record, fsynced) and
// must return before the batch reads anything. p.Batch must be the next
// batch: the last planned one plus one (0 for the first), once the last
// planned one is committed. Planning the last planned batch again while it
// is uncommitted is allowed when the plan is the same (Plan.SameAs), as
// after a restart, and writes nothing; a different plan for it fails with
// an error wrapping ErrPlanConflict, since the batch may already have
// reached the sink. A zero PlannedAt is set to the current time.
func (d *Dir) WritePlan(ctx context.Context, p Plan) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.usable(ctx); err != nil {
		return err
	}
	if err := p.validate(); err != nil {
		return sqlerr.New(sqlerr.InvalidParameterValue, "checkpoint: invalid plan: %w", err)
	}
	lastPlanned := d.lastPlanned()
	switch {
	case p.Batch == lastPlanned && d.lastCommitted < lastPlanned:
		prev := d.plans[len(d.plans)-1]
		if !prev.SameAs(p) {
			return misuse("batch %d is planned as %s and not committed; it cannot be re-planned as %s: %w", p.Batch, prev, p, ErrPlanConflict)
		}
		return nil
	case p.Batch == lastPlanned+1 && d.lastCommitted == lastPlanned:
	case d.lastCommitted < lastPlanned:
		return misuse("cannot plan batch %d: batch %d is planned and not committed: %w", p.Batch, lastPlanned, ErrBatchOrder)
	default:
		return misuse("cannot plan batch %d: the next batch is %d: %w", p.Batch, lastPlanned+1, ErrBatchOrder)
	}
	p = p.Clone()
	if p.Start == nil {
		p.Start = map[int32]int64{}
	}
	if p.End == nil {
		p.End = map[int32]int64{}
	}
	if p.PlannedAt.IsZero() {
		p.PlannedAt = time.Now()
	}
	p.PlannedAt = time.Unix(0, p.PlannedAt.UnixNano()).UTC() // as it reads back
	body, err := encodePlan(p)
	if err != nil {
		return sqlerr.New(sqlerr.InternalError, "checkpoint: encode plan: %w", err)
	}
	if len(body) > maxRecord {
		return sqlerr.New(sqlerr.ProgramLimitExceeded, "checkpoint: the plan of batch %d takes %d bytes, at most %d", p.Batch, len(body), maxRecord)
	}
	if err := d.offsets.append(body); err != nil {
		d.err = ioError("append to "+offsetsName, err)
		return d.err
	}
	d.mu.Lock()
	d.plans = append(d.plans, p)
	d.mu.Unlock()
	return nil
}

// Commit records in the commit log (one record, fsynced) that batch has
// reached the sink. batch must be the last planned batch, not yet
// committed; otherwise the error wraps ErrBatchOrder.
func (d *Dir) Commit(ctx context.Context, batch int64) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.usable(ctx); err != nil {
		return err
	}
	lastPlanned := d.lastPlanned()
	switch {
	case batch == lastPlanned && d.lastCommitted < lastPlanned:
	case batch <= d.lastCommitted:
		return misuse("cannot commit batch %d: batch %d is committed already: %w", batch, d.lastCommitted, ErrBatchOrder)
	default:
		return misuse("cannot commit batch %d: it is not planned (the last planned batch is %d): %w", batch, lastPlanned, ErrBatchOrder)
	}
	c := commitRecord{Batch: batch, CommittedAt: time.Now().UnixNano()}
	body, err := encodeCommit(c)
	if err != nil {
		return sqlerr.New(sqlerr.InternalError, "checkpoint: encode commit: %w", err)
	}
	if err := d.commits.append(body); err != nil {
		d.err = ioError("append to "+commitsName, err)
		return d.err
	}
	d.mu.Lock()
	d.commitRecs = append(d.commitRecs, c)
	d.lastCommitted = batch
	d.mu.Unlock()
	return nil
}

// Close closes the logs and releases the directory. Everything written is
// already durable. It is safe to call twice.
func (d *Dir) Close() error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	err := errors.Join(d.offsets.close(), d.commits.close())
	unlockDir(d.lock)
	if err != nil {
		return ioError("close", err)
	}
	return nil
}

// Remove deletes the checkpoint directory at path and everything in it,
// as when its stream is dropped. A missing directory is not an error; one
// a Dir has open is.
func Remove(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return ioError("remove checkpoint directory", err)
	}
	lock, err := lockDir(path)
	if err != nil {
		return err
	}
	err = os.RemoveAll(path)
	unlockDir(lock)
	if err != nil {
		return ioError("remove checkpoint directory", err)
	}
	if err := syncDir(filepath.Dir(filepath.Clean(path))); err != nil {
		return ioError("remove checkpoint directory", err)
	}
	return nil
}
