package exec

import (
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// This file holds the array kernels the operators share: typed views of
// Arrow buffers, array construction from buffers filled directly, take
// (gather rows by index), and record helpers. Arrow's compute package is
// deliberately not used: it is experimental and hides the allocator in
// the context; these kernels take the allocator explicitly.

// fixedT is the set of physical value types of the fixed-width arrays
// Sluice uses (dates are int32, timestamps int64).
type fixedT interface {
	int16 | int32 | int64 | float32 | float64 | arrow.MonthDayNanoInterval
}

// valuesOf returns the value slice of a fixed-width array, offset applied.
func valuesOf[T fixedT](a arrow.Array) []T {
	d := a.Data()
	bufs := d.Buffers()
	if d.Len() == 0 || len(bufs) < 2 || bufs[1] == nil {
		return nil
	}
	all := arrow.GetData[T](bufs[1].Bytes())
	return all[d.Offset() : d.Offset()+d.Len()]
}

// allocFixed returns a buffer for n values of T and its typed view. The
// contents are unspecified.
func allocFixed[T fixedT](mem memory.Allocator, n int) (*memory.Buffer, []T) {
	var zero T
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * int(unsafe.Sizeof(zero)))
	if n == 0 {
		return buf, nil
	}
	return buf, arrow.GetData[T](buf.Bytes())[:n]
}

// allocBits returns a zeroed bitmap buffer for n bits.
func allocBits(mem memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	b := buf.Bytes()
	clear(b)
	return buf, b
}

// newArray assembles an array from a validity buffer (nil when nulls is 0)
// and value buffers, taking over the caller's references to the buffers.
func newArray(dt arrow.DataType, n int, validity *memory.Buffer, nulls int, bufs ...*memory.Buffer) arrow.Array {
	all := make([]*memory.Buffer, 0, 1+len(bufs))
	all = append(all, validity)
	all = append(all, bufs...)
	data := array.NewData(dt, n, all, nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	for _, b := range all {
		if b != nil {
			b.Release()
		}
	}
	return arr
}

// validityBuf turns a []bool validity (nil: all valid) into a validity
// buffer and null count; the buffer is nil when no value is null.
func validityBuf(mem memory.Allocator, valid []bool) (*memory.Buffer, int) {
	if valid == nil {
		return nil, 0
	}
	nulls := 0
	for _, v := range valid {
		if !v {
			nulls++
		}
	}
	if nulls == 0 {
		return nil, 0
	}
	buf, bits := allocBits(mem, len(valid))
	for i, v := range valid {
		if v {
			bitutil.SetBit(bits, i)
		}
	}
	return buf, nulls
}

// validityOf returns a's validity as bools in scratch, or nil when a has
// no nulls.
func validityOf(a arrow.Array, scratch *[]bool) []bool {
	n := a.Len()
	if a.NullN() == 0 {
		return nil
	}
	if cap(*scratch) < n {
		*scratch = make([]bool, n)
	}
	v := (*scratch)[:n]
	bits := a.NullBitmapBytes()
	off := a.Data().Offset()
	for i := range v {
		v[i] = bitutil.BitIsSet(bits, off+i)
	}
	return v
}

// fixedFrom builds a fixed-width array of type dt from Go values.
func fixedFrom[T fixedT](mem memory.Allocator, dt arrow.DataType, vals []T, valid []bool) arrow.Array {
	vbuf, nulls := validityBuf(mem, valid)
	buf, dst := allocFixed[T](mem, len(vals))
	copy(dst, vals)
	return newArray(dt, len(vals), vbuf, nulls, buf)
}

// convertFrom builds a fixed-width array of type dt from Go values of
// another type, converting each.
func convertFrom[T int16 | int32 | int64 | float32 | float64, S int64 | float64](mem memory.Allocator, dt arrow.DataType, vals []S, valid []bool) arrow.Array {
	vbuf, nulls := validityBuf(mem, valid)
	buf, dst := allocFixed[T](mem, len(vals))
	for i, v := range vals {
		dst[i] = T(v)
	}
	return newArray(dt, len(vals), vbuf, nulls, buf)
}

// take gathers the rows idx of a into a new array: row i of the result is
// row idx[i] of a, or NULL when idx[i] is negative. Rows that are one run
// of a (idx[i] = idx[0] + i, as a join whose left rows each matched once
// asks for) are a slice of a, sharing its buffers, not a copy.
func take(mem memory.Allocator, a arrow.Array, idx []int32) (arrow.Array, error) {
	n := len(idx)
	// Validity: needed when a has nulls or some index is negative.
	var vbuf *memory.Buffer
	nulls := 0
	hasNeg := false
	run := n > 0
	for i, j := range idx {
		if j < 0 {
			hasNeg, run = true, false
			break
		}
		run = run && j == idx[0]+int32(i)
	}
	if run {
		return array.NewSlice(a, int64(idx[0]), int64(idx[0])+int64(n)), nil
	}
	if a.NullN() > 0 || hasNeg {
		var bits []byte
		vbuf, bits = allocBits(mem, n)
		srcBits := a.NullBitmapBytes()
		off := a.Data().Offset()
		hasNulls := a.NullN() > 0
		for i, j := range idx {
			if j >= 0 && (!hasNulls || bitutil.BitIsSet(srcBits, off+int(j))) {
				bitutil.SetBit(bits, i)
			} else {
				nulls++
			}
		}
		if nulls == 0 {
			vbuf.Release()
			vbuf = nil
		}
	}
	dt := a.DataType()
	switch dt.ID() {
	case arrow.INT16:
		return gatherFixed[int16](mem, a, idx, vbuf, nulls), nil
	case arrow.INT32, arrow.DATE32:
		return gatherFixed[int32](mem, a, idx, vbuf, nulls), nil
	case arrow.INT64, arrow.TIMESTAMP:
		return gatherFixed[int64](mem, a, idx, vbuf, nulls), nil
	case arrow.FLOAT32:
		return gatherFixed[float32](mem, a, idx, vbuf, nulls), nil
	case arrow.FLOAT64:
		return gatherFixed[float64](mem, a, idx, vbuf, nulls), nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return gatherFixed[arrow.MonthDayNanoInterval](mem, a, idx, vbuf, nulls), nil
	case arrow.BOOL:
		d := a.Data()
		var src []byte
		if b := d.Buffers()[1]; b != nil {
			src = b.Bytes()
		}
		off := d.Offset()
		buf, bits := allocBits(mem, n)
		for i, j := range idx {
			if j >= 0 && bitutil.BitIsSet(src, off+int(j)) {
				bitutil.SetBit(bits, i)
			}
		}
		return newArray(dt, n, vbuf, nulls, buf), nil
	case arrow.STRING:
		// The source's offsets and bytes are read directly: the sizes in
		// one pass, the bytes in a second, no string headers between.
		d := a.Data()
		var src []byte
		var soffs []int32
		if b := d.Buffers()[2]; b != nil {
			src = b.Bytes()
		}
		if b := d.Buffers()[1]; b != nil {
			soffs = arrow.Int32Traits.CastFromBytes(b.Bytes())[d.Offset():]
		}
		total := 0
		for _, j := range idx {
			if j >= 0 {
				total += int(soffs[j+1] - soffs[j])
			}
		}
		obuf, offs := allocFixed[int32](mem, n+1)
		dbuf := memory.NewResizableBuffer(mem)
		dbuf.Resize(total)
		data := dbuf.Bytes()
		pos := 0
		offs[0] = 0
		for i, j := range idx {
			if j >= 0 {
				pos += copy(data[pos:], src[soffs[j]:soffs[j+1]])
			}
			offs[i+1] = int32(pos)
		}
		return newArray(dt, n, vbuf, nulls, obuf, dbuf), nil
	case arrow.NULL:
		if vbuf != nil {
			vbuf.Release()
		}
		return array.NewNull(n), nil
	}
	if vbuf != nil {
		vbuf.Release()
	}
	return nil, internalf("take: unsupported arrow type %s", dt)
}

// gatherFixed is take for fixed-width arrays. Rows with a negative index
// get a zero value (they are NULL in vbuf).
func gatherFixed[T fixedT](mem memory.Allocator, a arrow.Array, idx []int32, vbuf *memory.Buffer, nulls int) arrow.Array {
	src := valuesOf[T](a)
	buf, dst := allocFixed[T](mem, len(idx))
	var zero T
	for i, j := range idx {
		if j >= 0 {
			dst[i] = src[j]
		} else {
			dst[i] = zero
		}
	}
	return newArray(a.DataType(), len(idx), vbuf, nulls, buf)
}

// newRecord makes a record of schema from cols (which it retains; the
// caller keeps its own references) after checking that the column types
// and lengths match, so that a planner/executor mismatch is an error and
// not a panic inside arrow.
func newRecord(schema *arrow.Schema, cols []arrow.Array, n int) (arrow.Record, error) {
	if len(cols) != schema.NumFields() {
		return nil, internalf("record has %d columns, schema %d", len(cols), schema.NumFields())
	}
	for i, c := range cols {
		f := schema.Field(i)
		if !arrow.TypeEqual(c.DataType(), f.Type) {
			return nil, internalf("column %d (%q) is %s, want %s", i, f.Name, c.DataType(), f.Type)
		}
		if c.Len() != n {
			return nil, internalf("column %d (%q) has %d rows, want %d", i, f.Name, c.Len(), n)
		}
	}
	return array.NewRecord(schema, cols, int64(n)), nil
}

// newRecordOwned is newRecord that also releases the caller's references
// to cols, whether or not it succeeds.
func newRecordOwned(schema *arrow.Schema, cols []arrow.Array, n int) (arrow.Record, error) {
	defer releaseArrays(cols)
	return newRecord(schema, cols, n)
}

// releaseArrays releases every non-nil array.
func releaseArrays(arrs []arrow.Array) {
	for _, a := range arrs {
		if a != nil {
			a.Release()
		}
	}
}

// releaseRecords releases every record.
func releaseRecords(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// takeRecord gathers rows idx of rec into a new record of schema.
func takeRecord(mem memory.Allocator, schema *arrow.Schema, rec arrow.Record, idx []int32) (arrow.Record, error) {
	cols := make([]arrow.Array, rec.NumCols())
	for i := range cols {
		c, err := take(mem, rec.Column(i), idx)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols[i] = c
	}
	return newRecordOwned(schema, cols, len(idx))
}

// rewrap returns rec with schema's field names (same columns, zero copy),
// checking the types.
func rewrap(schema *arrow.Schema, rec arrow.Record) (arrow.Record, error) {
	if rec.Schema() == schema {
		rec.Retain()
		return rec, nil
	}
	return newRecord(schema, rec.Columns(), int(rec.NumRows()))
}

// concatRecords concatenates records of schema into one (zero rows when
// recs is empty). The inputs are not released.
func concatRecords(mem memory.Allocator, schema *arrow.Schema, recs []arrow.Record) (arrow.Record, error) {
	switch len(recs) {
	case 0:
		cols := make([]arrow.Array, schema.NumFields())
		for i, f := range schema.Fields() {
			cols[i] = array.MakeArrayOfNull(mem, f.Type, 0)
		}
		return newRecordOwned(schema, cols, 0)
	case 1:
		return rewrap(schema, recs[0])
	}
	n := 0
	for _, r := range recs {
		n += int(r.NumRows())
	}
	cols := make([]arrow.Array, schema.NumFields())
	parts := make([]arrow.Array, len(recs))
	for i := range cols {
		for k, r := range recs {
			parts[k] = r.Column(i)
		}
		c, err := array.Concatenate(parts, mem)
		if err != nil {
			releaseArrays(cols)
			return nil, internalf("concatenating column %d: %w", i, err)
		}
		cols[i] = c
	}
	return newRecordOwned(schema, cols, n)
}

// iota32 returns [0, 1, ..., n-1], reusing *buf.
func iota32(buf *[]int32, n int) []int32 {
	if cap(*buf) < n {
		old := len(*buf)
		nb := make([]int32, n)
		copy(nb, (*buf)[:old])
		for i := old; i < n; i++ {
			nb[i] = int32(i)
		}
		*buf = nb
	} else if len(*buf) < n {
		old := len(*buf)
		*buf = (*buf)[:n]
		for i := old; i < n; i++ {
			(*buf)[i] = int32(i)
		}
	}
	return (*buf)[:n]
}
