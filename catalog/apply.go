package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// This file turns a statement's staged effect into the next version of a
// table. The same code runs for live writes and for log replay, so a
// replayed log rebuilds exactly the layout (chunks and row order) the
// running catalog had, which is what makes ordinals in the log of tables
// without a primary key meaningful.
//
// Layout rules, chosen so that a single-row change rewrites one chunk:
//   - Inserted rows first fill the slots of deleted rows, in ordinal order
//     (so an UPDATE rewrites rows in place).
//   - Remaining deleted slots in a chunk are filled with the chunk's last
//     live rows (swap-remove); a chunk left empty is dropped.
//   - Remaining inserted rows top up the last chunk, then form new chunks.
//   - When deletions leave more than twice the chunks the rows need (plus
//     two), the whole table is repacked into full chunks.

// stmt is the staged effect of one statement on its base snapshot.
type stmt struct {
	deleteAll bool
	deleted   []int            // ordinals in the base; sorted and unique after seal
	inserts   [][]any          // normalised rows
	marks     map[string]int64 // marks to set (Writer.SetMark)
}

// seal sorts and de-duplicates the deleted ordinals and turns "every
// row deleted" into deleteAll (and deleteAll of an empty table into
// nothing).
func (st *stmt) seal(base *Snapshot) {
	n := base.NumRows()
	if !st.deleteAll {
		slices.Sort(st.deleted)
		st.deleted = slices.Compact(st.deleted)
		st.deleteAll = n > 0 && len(st.deleted) == n
	}
	if st.deleteAll {
		st.deleted = nil
		st.deleteAll = n > 0
	}
}

// empty reports whether the sealed statement changes nothing: no rows
// and no marks.
func (st *stmt) empty() bool {
	return !st.changesRows() && len(st.marks) == 0
}

// changesRows reports whether the sealed statement inserts or deletes rows.
func (st *stmt) changesRows() bool {
	return len(st.inserts) != 0 || len(st.deleted) != 0 || st.deleteAll
}

// withMarks returns base with marks set, base itself when marks is empty.
// Mark maps are shared between versions and never modified: a write that
// sets marks copies them.
func withMarks(base, set map[string]int64) map[string]int64 {
	if len(set) == 0 {
		return base
	}
	out := make(map[string]int64, len(base)+len(set))
	maps.Copy(out, base)
	maps.Copy(out, set)
	return out
}

func (st *stmt) isDeleted(ordinal int) bool {
	if st.deleteAll {
		return true
	}
	_, ok := slices.BinarySearch(st.deleted, ordinal)
	return ok
}

// applyEnv is what building a version needs besides the statement.
type applyEnv struct {
	mem       memory.Allocator
	chunkRows int
}

// run is a range of rows of one record.
type run struct {
	rec    arrow.Record
	off, n int
}

// applied is the outcome of apply: the next version, and for tables with a
// primary key the encoded keys of the deleted rows (which the log records
// instead of ordinals).
type applied struct {
	next    *Snapshot
	delKeys []string
}

// apply checks the statement's primary-key uniqueness on the final state
// and builds the next version. st must be sealed and not empty. A
// statement that only sets marks shares all of b's rows, chunks and index.
func (b *Snapshot) apply(st *stmt, version uint64, at time.Time, env applyEnv) (applied, error) {
	sh := b.shape
	var out applied
	if !st.changesRows() {
		next := *b
		next.version, next.committedAt = version, at
		next.marks = withMarks(b.marks, st.marks)
		out.next = &next
		return out, nil
	}

	var insKeys []string
	if sh.hasPK() {
		insKeys = make([]string, len(st.inserts))
		seen := make(map[string]struct{}, len(st.inserts))
		var buf []byte
		for i, row := range st.inserts {
			buf = buf[:0]
			for _, k := range sh.def.PrimaryKey {
				buf = appendKeyValue(buf, sh.def.Columns[k].Type, row[k])
			}
			key := string(buf)
			if _, dup := seen[key]; dup {
				return out, b.errDuplicate(row)
			}
			if !st.deleteAll {
				if l, ok := b.index.get(key); ok && !st.isDeleted(b.ordinalOf(l)) {
					return out, b.errDuplicate(row)
				}
			}
			seen[key] = struct{}{}
			insKeys[i] = key
		}
		out.delKeys = make([]string, len(st.deleted))
		for i, ord := range st.deleted {
			pos, row := b.locate(ord)
			buf = b.keyAt(buf[:0], pos, row)
			out.delKeys[i] = string(buf)
		}
	}

	var newRec arrow.Record
	if len(st.inserts) > 0 {
		newRec = buildRows(sh, env.mem, st.inserts)
	}

	next := &Snapshot{shape: sh, version: version, committedAt: at, nextChunkID: b.nextChunkID,
		marks: withMarks(b.marks, st.marks)}
	var ed *indexEditor
	var chunks []chunk
	if st.deleteAll {
		if sh.hasPK() {
			ed = newKeyIndex(sh.seed, len(st.inserts)).edit()
		}
	} else {
		chunks = slices.Clone(b.chunks)
		if sh.hasPK() {
			ed = b.index.edit()
			for _, k := range out.delKeys {
				ed.del(k)
			}
		}
	}

	ins := 0 // next inserted row to place
	setNew := func(id uint64, p, k int) {
		if ed != nil {
			ed.set(insKeys[k], loc(id, p))
		}
	}

	// Chunks with deletions: each hole below the chunk's new length gets
	// the next inserted row (fill) or else the chunk's last live row
	// (swap-remove); holes at or past the new length vanish.
	for di := 0; di < len(st.deleted); {
		pos, _ := b.locate(st.deleted[di])
		start, m := b.starts[pos], b.starts[pos+1]-b.starts[pos]
		dj := di
		for dj < len(st.deleted) && st.deleted[dj] < start+m {
			dj++
		}
		holes := st.deleted[di:dj] // ascending
		di = dj
		fill := min(len(holes), len(st.inserts)-ins)
		m2 := m - (len(holes) - fill)
		if m2 == 0 {
			chunks[pos].rec = nil
			continue
		}
		id, old := chunks[pos].id, chunks[pos].rec
		var runs []run
		var buf []byte
		// same[j] stays true while every change to this chunk keeps column
		// j's values (an UPDATE of other columns): the new chunk then
		// shares column j's array with the old one.
		same := make([]bool, len(sh.def.Columns))
		for j := range same {
			same[j] = m2 == m
		}
		prev := 0
		tail, hk := m-1, len(holes)-1 // the next row to move; the highest hole not below it
		for k, h := range holes {
			p := h - start
			if p >= m2 {
				break
			}
			runs = appendRun(runs, old, prev, p-prev)
			prev = p + 1
			if k < fill {
				runs = appendRun(runs, newRec, ins+k, 1)
				setNew(id, p, ins+k)
				for j, c := range sh.def.Columns {
					if same[j] && !sameValue(valueAt(old.Column(j), c.Type, p), st.inserts[ins+k][j]) {
						same[j] = false
					}
				}
				continue
			}
			for hk >= 0 && holes[hk]-start >= tail {
				if holes[hk]-start == tail {
					tail--
				}
				hk--
			}
			runs = appendRun(runs, old, tail, 1)
			if ed != nil {
				buf = b.keyAt(buf[:0], pos, tail)
				ed.set(string(buf), loc(id, p))
			}
			tail--
		}
		runs = appendRun(runs, old, prev, m2-prev)
		ins += fill
		rec, err := materialize(sh, env.mem, runs, old, same)
		if err != nil {
			return out, err
		}
		chunks[pos].rec = rec
	}
	chunks = slices.DeleteFunc(chunks, func(c chunk) bool { return c.rec == nil })

	// Remaining inserted rows: top up the last chunk, then new chunks.
	if rest := len(st.inserts) - ins; rest > 0 {
		if k := len(chunks) - 1; k >= 0 && int(chunks[k].rec.NumRows()) < env.chunkRows {
			last := chunks[k]
			m := int(last.rec.NumRows())
			e := min(env.chunkRows-m, rest)
			rec, err := materialize(sh, env.mem, []run{{last.rec, 0, m}, {newRec, ins, e}}, nil, nil)
			if err != nil {
				return out, err
			}
			chunks[k].rec = rec
			for i := range e {
				setNew(last.id, m+i, ins+i)
			}
			ins += e
		}
		for ins < len(st.inserts) {
			e := min(env.chunkRows, len(st.inserts)-ins)
			rec, err := materialize(sh, env.mem, []run{{newRec, ins, e}}, nil, nil)
			if err != nil {
				return out, err
			}
			id := next.nextChunkID
			next.nextChunkID++
			chunks = append(chunks, chunk{id: id, rec: rec})
			for i := range e {
				setNew(id, i, ins+i)
			}
			ins += e
		}
	}

	next.chunks = chunks
	next.starts = chunkStarts(chunks)
	if ed != nil {
		next.index = ed.finish()
	}
	if want := (next.NumRows() + env.chunkRows - 1) / env.chunkRows; len(chunks) > 2*want+2 {
		if err := next.repack(env); err != nil {
			return out, err
		}
	}
	out.next = next
	return out, nil
}

// repack rewrites s (which must still be private) into full chunks with
// new ids and rebuilds its index.
func (s *Snapshot) repack(env applyEnv) error {
	var chunks []chunk
	var runs []run
	rows := 0
	flush := func() error {
		rec, err := materialize(s.shape, env.mem, runs, nil, nil)
		if err != nil {
			return err
		}
		chunks = append(chunks, chunk{id: s.nextChunkID, rec: rec})
		s.nextChunkID++
		runs, rows = runs[:0], 0
		return nil
	}
	for _, c := range s.chunks {
		n := int(c.rec.NumRows())
		for off := 0; off < n; {
			e := min(n-off, env.chunkRows-rows)
			runs = append(runs, run{c.rec, off, e})
			rows += e
			off += e
			if rows == env.chunkRows {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if rows > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	s.chunks = chunks
	s.starts = chunkStarts(chunks)
	s.rebuildIndex()
	return nil
}

// rebuildIndex builds s's primary-key index from its rows; s must still be
// private.
func (s *Snapshot) rebuildIndex() {
	if !s.shape.hasPK() {
		return
	}
	ed := newKeyIndex(s.shape.seed, s.NumRows()).edit()
	var buf []byte
	for pos, c := range s.chunks {
		for row := range int(c.rec.NumRows()) {
			buf = s.keyAt(buf[:0], pos, row)
			ed.set(string(buf), loc(c.id, row))
		}
	}
	s.index = ed.finish()
}

func chunkStarts(chunks []chunk) []int {
	starts := make([]int, len(chunks)+1)
	for i, c := range chunks {
		starts[i+1] = starts[i] + int(c.rec.NumRows())
	}
	return starts
}

// appendRun appends n rows of rec from off to runs, extending the last run
// when they continue it.
func appendRun(runs []run, rec arrow.Record, off, n int) []run {
	if n <= 0 {
		return runs
	}
	if k := len(runs) - 1; k >= 0 && runs[k].rec == rec && runs[k].off+runs[k].n == off {
		runs[k].n += n
		return runs
	}
	return append(runs, run{rec, off, n})
}

// materialize copies runs of rows into one new record with fresh buffers
// (offset 0), except that column j is base's own array where keep[j].
func materialize(sh *shape, mem memory.Allocator, runs []run, base arrow.Record, keep []bool) (arrow.Record, error) {
	total := 0
	for _, r := range runs {
		total += r.n
	}
	cols := make([]arrow.Array, len(sh.def.Columns))
	parts := make([]arrow.Array, len(runs))
	for j := range cols {
		if keep != nil && keep[j] {
			cols[j] = base.Column(j)
			continue
		}
		for i, r := range runs {
			a := r.rec.Column(j)
			if r.off == 0 && r.n == a.Len() {
				parts[i] = a
			} else {
				parts[i] = array.NewSlice(a, int64(r.off), int64(r.off+r.n))
			}
		}
		col, err := array.Concatenate(parts, mem)
		if err != nil {
			return nil, sqlerr.Wrap(sqlerr.InternalError, fmt.Errorf("build chunk of table \"%s\": %w", sh.def.Name, err))
		}
		// Arrow counts nulls lazily and caches the count in the array;
		// count now, while the array is private, so concurrent readers of
		// the published snapshot never write to it.
		col.NullN()
		cols[j] = col
	}
	return array.NewRecord(sh.schema, cols, int64(total)), nil
}

// buildRows builds one record from normalised rows.
func buildRows(sh *shape, mem memory.Allocator, rows [][]any) arrow.Record {
	cols := make([]arrow.Array, len(sh.def.Columns))
	for j, c := range sh.def.Columns {
		bld := newBuilder(mem, c.Type)
		bld.Reserve(len(rows))
		for _, row := range rows {
			appendToBuilder(bld, c.Type, row[j])
		}
		cols[j] = bld.NewArray()
		bld.Release()
	}
	return array.NewRecord(sh.schema, cols, int64(len(rows)))
}

func (b *Snapshot) errDuplicate(row []any) error {
	def := &b.shape.def
	names := make([]string, len(def.PrimaryKey))
	vals := make([]string, len(def.PrimaryKey))
	for i, k := range def.PrimaryKey {
		names[i] = def.Columns[k].Name
		vals[i] = formatValue(row[k])
	}
	err := sqlerr.New(sqlerr.UniqueViolation, "duplicate key value violates unique constraint \"%s\"", b.shape.pkName)
	err.Detail = fmt.Sprintf("Key (%s)=(%s) already exists.", strings.Join(names, ", "), strings.Join(vals, ", "))
	return err
}
