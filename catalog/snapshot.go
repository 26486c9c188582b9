package catalog

import (
	"sort"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
)

// Snapshot is one committed version of a table. It is immutable and safe
// for concurrent use; holding one pins its data (and nothing else) for as
// long as it is referenced. Its memory is managed by the Go garbage
// collector: see Records.
//
// Rows are identified by ordinals 0..NumRows()-1, which run across
// Records() in order. Ordinals are meaningful only within one snapshot:
// row order is unspecified, as in SQL, and a later version may move rows
// (an UPDATE rewrites a row in place, a DELETE fills the hole with the last
// row of the same chunk).
type Snapshot struct {
	shape       *shape
	version     uint64
	committedAt time.Time
	chunks      []chunk
	starts      []int            // starts[i] is the ordinal of chunks[i]'s first row; starts[len(chunks)] is NumRows
	index       *keyIndex        // nil when the table has no primary key
	nextChunkID uint64           // the id the next new chunk gets; ids increase along chunks
	marks       map[string]int64 // Writer.SetMark's marks; shared between versions, never modified
}

// chunk is an immutable run of at most Options.ChunkRows rows. Its id stays
// the same when a write rewrites the chunk in place, so primary-key index
// entries of rows that did not move stay valid.
type chunk struct {
	id  uint64
	rec arrow.Record
}

func emptySnapshot(sh *shape, version uint64, at time.Time) *Snapshot {
	s := &Snapshot{shape: sh, version: version, committedAt: at, starts: []int{0}, nextChunkID: 1}
	if sh.hasPK() {
		s.index = newKeyIndex(sh.seed, 0)
	}
	return s
}

// Version returns the table's version: 1 right after CREATE TABLE, plus
// one per committed Write that changed something.
func (s *Snapshot) Version() uint64 { return s.version }

// Def returns the table's definition (a copy).
func (s *Snapshot) Def() TableDef { return s.shape.copyDef() }

// Schema returns the Arrow schema of Records: one field per column, named
// as the column, of type Column.Type.Arrow(), nullable unless NOT NULL.
func (s *Snapshot) Schema() *arrow.Schema { return s.shape.schema }

// TableID returns the catalog-wide id of the table (see Table.ID).
func (s *Snapshot) TableID() uint64 { return s.shape.id }

// NumRows returns the number of rows.
func (s *Snapshot) NumRows() int { return s.starts[len(s.chunks)] }

// Mark returns the value of mark key as of this version: the value the
// latest write up to and including this version set with Writer.SetMark.
// ok is false if no such write set it. Marks survive restarts and
// checkpoints, and TRUNCATE (Writer.DeleteAll) keeps them.
func (s *Snapshot) Mark(key string) (value int64, ok bool) {
	value, ok = s.marks[key]
	return value, ok
}

// CommittedAt returns when the version was committed.
func (s *Snapshot) CommittedAt() time.Time { return s.committedAt }

// Records returns the rows as immutable Arrow records of at most
// Options.ChunkRows rows each, in ordinal order; empty for an empty table.
// The slice is the caller's; the records are shared with every other
// reader and with later versions.
//
// The records are allocated with memory.NewGoAllocator and are managed by
// the garbage collector: callers need not Release them. Each call Retains
// every record once on the caller's behalf, so a caller that follows the
// Arrow convention and Releases what it got (once per call) does no harm.
// Callers must never modify the records' buffers.
func (s *Snapshot) Records() []arrow.Record {
	out := make([]arrow.Record, len(s.chunks))
	for i, c := range s.chunks {
		c.rec.Retain()
		out[i] = c.rec
	}
	return out
}

// Row returns the Go values (see package sqltypes) of the row at ordinal.
// It panics if ordinal is out of range, like a slice index.
func (s *Snapshot) Row(ordinal int) []any {
	return s.rowValues(s.locate(ordinal))
}

// Lookup returns the ordinal of the row whose primary key equals key, one
// Go value per primary-key column in PrimaryKey order. ok is false when no
// row matches, when the table has no primary key, or when key does not
// hold values of the key columns' types.
func (s *Snapshot) Lookup(key []any) (ordinal int, ok bool) {
	pk := s.shape.def.PrimaryKey
	if s.index == nil || len(key) != len(pk) {
		return 0, false
	}
	var buf []byte
	for i, k := range pk {
		c := &s.shape.def.Columns[k]
		v, err := normalize(s.shape.def.Name, c, key[i])
		if err != nil || v == nil {
			return 0, false
		}
		buf = appendKeyValue(buf, c.Type, v)
	}
	l, ok := s.index.get(string(buf))
	if !ok {
		return 0, false
	}
	return s.ordinalOf(l), true
}

// locate returns the chunk position and row within it of an ordinal.
func (s *Snapshot) locate(ordinal int) (pos, row int) {
	if ordinal < 0 || ordinal >= s.NumRows() {
		panic("catalog: row ordinal out of range")
	}
	pos = sort.SearchInts(s.starts[1:], ordinal+1)
	return pos, ordinal - s.starts[pos]
}

// ordinalOf turns an index location into an ordinal. Chunk ids increase
// along s.chunks, so the chunk is found by binary search.
func (s *Snapshot) ordinalOf(l uint64) int {
	id, row := locParts(l)
	pos := sort.Search(len(s.chunks), func(i int) bool { return s.chunks[i].id >= id })
	return s.starts[pos] + row
}

// keyAt returns the encoded primary key of row `row` of chunk pos.
func (s *Snapshot) keyAt(buf []byte, pos, row int) []byte {
	rec := s.chunks[pos].rec
	for _, k := range s.shape.def.PrimaryKey {
		t := s.shape.def.Columns[k].Type
		buf = appendKeyValue(buf, t, valueAt(rec.Column(k), t, row))
	}
	return buf
}

// rowValues returns the Go values of a row given by position.
func (s *Snapshot) rowValues(pos, row int) []any {
	rec := s.chunks[pos].rec
	out := make([]any, len(s.shape.def.Columns))
	for j, c := range s.shape.def.Columns {
		out[j] = valueAt(rec.Column(j), c.Type, row)
	}
	return out
}
