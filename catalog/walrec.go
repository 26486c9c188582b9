package catalog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// Log record payloads. Every payload starts with a kind byte and the table
// id (uvarint); integers are (u)varints, strings are a uvarint length and
// bytes, times are Unix nanoseconds.
//
//	create: at, name, ncols, {name, type name, notnull byte}..., npk, {column index}...,
//	        [connector, nopts, {key, value}...]
//	drop:   (nothing more)
//	write:  version, at, flags (bit 0: delete all rows; bit 1: marks follow),
//	        ndel, {encoded primary key | ordinal delta}..., nins, {row}...,
//	        [nmarks, {key, value (varint)}...]
//
// A deleted row is named by its encoded primary key when the table has
// one (independent of row order) and by its ordinal in the previous
// version otherwise (ordinals ascend and are delta-encoded). A row is one
// value per column: 0 for NULL, or 1 and the value (see appendValue).
// Marks (Writer.SetMark) are written in key order, and only when the
// statement sets some: a write without marks is encoded as before marks
// existed, so older logs replay unchanged. Unknown flag bits are
// corruption. Likewise a create record carries a connector and its
// options (in key order) only for a table that has one.
const (
	recCreate byte = 1
	recDrop   byte = 2
	recWrite  byte = 3
)

const (
	flagDeleteAll = 1 << 0
	flagMarks     = 1 << 1
	knownFlags    = flagDeleteAll | flagMarks
)

var errCorruptRecord = errors.New("corrupt log record")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func encodeCreate(id uint64, def TableDef, at time.Time) []byte {
	b := []byte{recCreate}
	b = binary.AppendUvarint(b, id)
	b = binary.AppendVarint(b, at.UnixNano())
	b = appendString(b, def.Name)
	b = binary.AppendUvarint(b, uint64(len(def.Columns)))
	for _, c := range def.Columns {
		b = appendString(b, c.Name)
		b = appendString(b, c.Type.String())
		if c.NotNull {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(def.PrimaryKey)))
	for _, k := range def.PrimaryKey {
		b = binary.AppendUvarint(b, uint64(k))
	}
	if def.Connector != "" {
		b = appendString(b, def.Connector)
		b = binary.AppendUvarint(b, uint64(len(def.Options)))
		for _, k := range slices.Sorted(maps.Keys(def.Options)) {
			b = appendString(b, k)
			b = appendString(b, def.Options[k])
		}
	}
	return b
}

func encodeDrop(id uint64) []byte {
	return binary.AppendUvarint([]byte{recDrop}, id)
}

// encodeWrite encodes a sealed statement applied to a table at version.
// delKeys are the encoded keys of the deleted rows (tables with a primary
// key).
func encodeWrite(sh *shape, version uint64, at time.Time, st *stmt, delKeys []string) []byte {
	b := make([]byte, 0, 64)
	b = append(b, recWrite)
	b = binary.AppendUvarint(b, sh.id)
	b = binary.AppendUvarint(b, version)
	b = binary.AppendVarint(b, at.UnixNano())
	var flags byte
	if st.deleteAll {
		flags |= flagDeleteAll
	}
	if len(st.marks) > 0 {
		flags |= flagMarks
	}
	b = append(b, flags)
	if sh.hasPK() {
		b = binary.AppendUvarint(b, uint64(len(delKeys)))
		for _, k := range delKeys {
			b = appendString(b, k)
		}
	} else {
		b = binary.AppendUvarint(b, uint64(len(st.deleted)))
		prev := 0
		for _, o := range st.deleted {
			b = binary.AppendUvarint(b, uint64(o-prev))
			prev = o
		}
	}
	b = binary.AppendUvarint(b, uint64(len(st.inserts)))
	for _, row := range st.inserts {
		for j, c := range sh.def.Columns {
			if row[j] == nil {
				b = append(b, 0)
				continue
			}
			b = append(b, 1)
			b = appendValue(b, c.Type, row[j])
		}
	}
	if len(st.marks) > 0 {
		b = binary.AppendUvarint(b, uint64(len(st.marks)))
		for _, k := range slices.Sorted(maps.Keys(st.marks)) {
			b = appendString(b, k)
			b = binary.AppendVarint(b, st.marks[k])
		}
	}
	return b
}

// recReader decodes a payload; the first error sticks.
type recReader struct {
	b   []byte
	err error
}

func (r *recReader) fail() {
	if r.err == nil {
		r.err = errCorruptRecord
	}
	r.b = nil
}

func (r *recReader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recReader) uvarint() uint64 {
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *recReader) varint() int64 {
	n, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return n
}

// count reads a count of items each at least one byte long.
func (r *recReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *recReader) string() string {
	n := r.count()
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// recordHead returns a payload's kind, table id and the rest.
func recordHead(p []byte) (kind byte, id uint64, r *recReader) {
	r = &recReader{b: p}
	kind = r.byte()
	id = r.uvarint()
	return kind, id, r
}

func (r *recReader) create() (TableDef, time.Time, error) {
	at := time.Unix(0, r.varint()).UTC()
	def := TableDef{Name: r.string()}
	ncols := r.count()
	for range ncols {
		name, tname, nn := r.string(), r.string(), r.byte()
		t, ok := sqltypes.ParseName(tname)
		if !ok {
			return TableDef{}, at, fmt.Errorf("unknown column type %q: %w", tname, errCorruptRecord)
		}
		def.Columns = append(def.Columns, ColumnDef{Name: name, Type: t, NotNull: nn == 1})
	}
	npk := r.count()
	for range npk {
		def.PrimaryKey = append(def.PrimaryKey, int(r.uvarint()))
	}
	if r.err == nil && len(r.b) > 0 {
		def.Connector = r.string()
		nopts := r.count()
		if nopts > 0 {
			def.Options = make(map[string]string, nopts)
		}
		for range nopts {
			k := r.string()
			def.Options[k] = r.string()
		}
	}
	return def, at, r.done()
}

// decodedWrite is a write record before it is resolved against the table.
type decodedWrite struct {
	version uint64
	at      time.Time
	st      stmt     // deleted is filled for tables without a primary key
	delKeys []string // for tables with one
}

func (r *recReader) write(sh *shape) (decodedWrite, error) {
	var w decodedWrite
	w.version = r.uvarint()
	w.at = time.Unix(0, r.varint()).UTC()
	flags := r.byte()
	if flags&^knownFlags != 0 {
		r.fail()
	}
	w.st.deleteAll = flags&flagDeleteAll != 0
	ndel := r.count()
	if sh.hasPK() {
		w.delKeys = make([]string, 0, ndel)
		for range ndel {
			w.delKeys = append(w.delKeys, r.string())
		}
	} else {
		w.st.deleted = make([]int, 0, ndel)
		prev := 0
		for range ndel {
			prev += int(r.uvarint())
			w.st.deleted = append(w.st.deleted, prev)
		}
	}
	nins := r.count()
	w.st.inserts = make([][]any, 0, nins)
	for range nins {
		if r.err != nil {
			break
		}
		row := make([]any, len(sh.def.Columns))
		for j, c := range sh.def.Columns {
			if r.byte() == 0 {
				continue
			}
			if r.err != nil {
				break
			}
			v, rest, err := decodeValue(r.b, c.Type)
			if err != nil {
				r.fail()
				break
			}
			r.b = rest
			row[j] = v
		}
		w.st.inserts = append(w.st.inserts, row)
	}
	if flags&flagMarks != 0 {
		n := r.count()
		w.st.marks = make(map[string]int64, n)
		for range n {
			k := r.string()
			if k == "" {
				r.fail()
			}
			w.st.marks[k] = r.varint()
		}
		if n == 0 {
			r.fail()
		}
	}
	return w, r.done()
}

// done reports a decoding error or trailing bytes.
func (r *recReader) done() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes: %w", len(r.b), errCorruptRecord)
	}
	return nil
}
