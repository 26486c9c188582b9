package catalog

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// Table is a durable, versioned table. Its methods are safe for
// concurrent use. A *Table stays valid after DROP TABLE: its snapshots can
// still be read, but Write fails with 42P01.
type Table struct {
	cat   *Catalog
	shape *shape
	snap  atomic.Pointer[Snapshot] // the latest durable version
	hist  history                  // the retained versions (versions.go); hist.mu also orders stores to snap

	mu         sync.Mutex // serialises writers; guards the fields below
	pending    *Snapshot  // the latest version, possibly not yet durable
	pendingLSN uint64     // the log record that produced pending (0: already durable)
	dropped    bool
}

func newTable(c *Catalog, s *Snapshot) *Table {
	t := &Table{cat: c, shape: s.shape, pending: s}
	t.hist.keep = uint64(c.opts.RetainVersions)
	t.snap.Store(s)
	t.hist.add(s)
	return t
}

// Def returns the table's definition (a copy).
func (t *Table) Def() TableDef { return t.shape.copyDef() }

// Name returns the table's name.
func (t *Table) Name() string { return t.shape.def.Name }

// ID returns an id unique among all tables the catalog ever held; a table
// dropped and created again under the same name gets a new id (and starts
// again at version 1), so (ID, Version) names one table state for good.
func (t *Table) ID() uint64 { return t.shape.id }

// Snapshot returns the latest committed version. It never blocks: it is
// one atomic load.
func (t *Table) Snapshot() *Snapshot { return t.snap.Load() }

// publish makes s the latest committed version unless a later one already
// is (commits of one table become durable in version order, but their
// writers may return in any order), and adds it to the retained versions.
// Publishing a version again does nothing.
func (t *Table) publish(s *Snapshot) {
	t.hist.mu.Lock()
	defer t.hist.mu.Unlock()
	if t.snap.Load().version < s.version {
		t.snap.Store(s)
	}
	t.hist.add(s)
}

// Write runs one statement against the table. Writers of one table are
// serialised: fn runs with cur, the latest version (which may include
// commits whose fsync is still under way), and stages changes through w.
// If fn returns nil and the staged changes are valid, they are logged,
// fsynced (grouped with concurrent commits of other tables or of the next
// writer of this one) and published atomically as version cur.Version()+1,
// which Write returns. If fn or validation fails, nothing changes. A
// statement that stages no change commits nothing and returns cur; setting
// a mark (Writer.SetMark) is a change, even without rows.
//
// Validation: a value's Go type must match its column's (42804), NULL in a
// NOT NULL column (23502), VARCHAR(n) longer than n characters (22001),
// integers and REAL out of range (22003), and primary-key uniqueness on
// the statement's final state (23505).
//
// ctx is checked before fn runs and before the statement is logged; once
// logged, Write waits for the fsync whatever ctx says. fn runs under the
// table's writer lock: it must not call Write or DropTable on the same
// table, and must not keep w.
func (t *Table) Write(ctx context.Context, fn func(cur *Snapshot, w *Writer) error) (*Snapshot, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if t.cat.closed.Load() {
		return nil, errClosed()
	}
	next, lsn, err := t.stage(ctx, fn)
	if err != nil {
		return nil, err
	}
	if err := t.cat.wal.waitDurable(lsn); err != nil {
		return nil, err
	}
	t.publish(next)
	t.cat.maybeCheckpoint()
	return next, nil
}

// stage runs fn under the writer lock, builds the next version and appends
// its log record.
func (t *Table) stage(ctx context.Context, fn func(cur *Snapshot, w *Writer) error) (*Snapshot, uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped {
		return nil, 0, errUndefinedTable(t.shape.def.Name)
	}
	cur := t.pending
	w := &Writer{cur: cur}
	err := fn(cur, w)
	w.done = true
	if err != nil {
		return nil, 0, err
	}
	if w.err != nil {
		return nil, 0, w.err
	}
	w.st.seal(cur)
	if w.st.empty() {
		return cur, t.pendingLSN, nil
	}
	if err := ctxErr(ctx); err != nil {
		return nil, 0, err
	}
	at := time.Now().UTC()
	if at.Before(cur.committedAt) {
		at = cur.committedAt
	}
	res, err := cur.apply(&w.st, cur.version+1, at, t.cat.env)
	if err != nil {
		return nil, 0, err
	}
	lsn, err := t.cat.wal.append(encodeWrite(t.shape, res.next.version, at, &w.st, res.delKeys))
	if err != nil {
		return nil, 0, err
	}
	t.pending, t.pendingLSN = res.next, lsn
	return res.next, lsn, nil
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return sqlerr.New(sqlerr.QueryCanceled, "canceling statement: %w", err)
	}
	return nil
}

// Writer stages one statement's changes; see Table.Write. It is valid only
// during the fn call it was passed to and is not safe for concurrent use.
//
// The first error a Writer returns also fails the statement, even if fn
// ignores it.
type Writer struct {
	cur  *Snapshot
	st   stmt
	err  error
	done bool
}

// Insert stages a new row: one Go value per column (see package sqltypes).
// It checks the values at once (type, NOT NULL, VARCHAR length, range);
// primary-key uniqueness is checked when the statement commits, on its
// final state. The row slice is not retained.
func (w *Writer) Insert(row []any) error {
	if err := w.usable(); err != nil {
		return err
	}
	sh := w.cur.shape
	if len(row) != len(sh.def.Columns) {
		return w.fail(sqlerr.New(sqlerr.InternalError,
			"row has %d values but table \"%s\" has %d columns", len(row), sh.def.Name, len(sh.def.Columns)))
	}
	vals := make([]any, len(row))
	for j := range row {
		v, err := normalize(sh.def.Name, &sh.def.Columns[j], row[j])
		if err != nil {
			return w.fail(err)
		}
		vals[j] = v
	}
	w.st.inserts = append(w.st.inserts, vals)
	return nil
}

// Delete stages the deletion of the row at ordinal in cur. Deleting a row
// twice is a no-op.
func (w *Writer) Delete(ordinal int) error {
	if err := w.usable(); err != nil {
		return err
	}
	if ordinal < 0 || ordinal >= w.cur.NumRows() {
		return w.fail(sqlerr.New(sqlerr.InternalError,
			"row ordinal %d out of range for table \"%s\" with %d rows", ordinal, w.cur.shape.def.Name, w.cur.NumRows()))
	}
	if !w.st.deleteAll {
		w.st.deleted = append(w.st.deleted, ordinal)
	}
	return nil
}

// DeleteAll stages the deletion of every row of cur (TRUNCATE, or DELETE
// without WHERE). Rows staged by Insert are kept.
func (w *Writer) DeleteAll() {
	if w.usable() != nil {
		return
	}
	w.st.deleteAll = true
	w.st.deleted = nil
}

// maxMarkKey is the longest mark key, in bytes.
const maxMarkKey = 1024

// SetMark stages mark key = value. Marks are small named integers kept
// with each version of a table (Snapshot.Mark) and committed in the same
// log record as the statement's rows, so after a crash either both are
// there or neither. A stream's table sink sets "stream:<name>" to the
// batch id in the write of that batch: recovery then sees whether the
// batch reached the table (exactly-once by an atomic write).
//
// A statement that only sets marks still commits a new version. Setting a
// key twice keeps the last value; keys set by earlier versions stay until
// overwritten (DeleteAll keeps them). There is no way to remove a mark:
// DROP TABLE drops them with the table. A key must be non-empty valid
// UTF-8 of at most 1024 bytes, else the statement fails with 22023.
func (w *Writer) SetMark(key string, value int64) {
	if w.usable() != nil {
		return
	}
	if key == "" || len(key) > maxMarkKey || !utf8.ValidString(key) {
		_ = w.fail(sqlerr.New(sqlerr.InvalidParameterValue,
			"invalid mark key %q for table \"%s\": it must be non-empty valid UTF-8 of at most %d bytes",
			key, w.cur.shape.def.Name, maxMarkKey))
		return
	}
	if w.st.marks == nil {
		w.st.marks = make(map[string]int64)
	}
	w.st.marks[key] = value
}

func (w *Writer) usable() error {
	if w.done {
		return sqlerr.New(sqlerr.InternalError, "catalog writer used after its statement ended")
	}
	return w.err
}

func (w *Writer) fail(err error) error {
	w.err = err
	return err
}
