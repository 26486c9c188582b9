package expr

import (
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// take returns the elements idx of arr as a new array.
func take(mem memory.Allocator, arr arrow.Array, idx []int32) (arrow.Array, error) {
	return gather(mem, arr.DataType(), []arrow.Array{arr}, nil, idx)
}

// gather builds an array of type dt with len(pos) rows whose row r is
// element pos[r] of pieces[which[r]] (of pieces[0] when which is nil). A
// negative which[r] makes row r NULL. It is how CASE, COALESCE, GREATEST
// and LEAST assemble results from the arrays of their arms, and how
// sub-batches gather their columns.
func gather(mem memory.Allocator, dt arrow.DataType, pieces []arrow.Array, which, pos []int32) (arrow.Array, error) {
	switch dt.ID() {
	case arrow.BOOL:
		return gatherBool(mem, dt, pieces, which, pos), nil
	case arrow.INT16:
		return gatherFixed[int16](mem, dt, pieces, which, pos), nil
	case arrow.INT32, arrow.DATE32, arrow.FLOAT32:
		return gatherFixed[int32](mem, dt, pieces, which, pos), nil
	case arrow.INT64, arrow.TIMESTAMP, arrow.FLOAT64:
		return gatherFixed[int64](mem, dt, pieces, which, pos), nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return gatherFixed[arrow.MonthDayNanoInterval](mem, dt, pieces, which, pos), nil
	case arrow.STRING:
		return gatherString(mem, dt, pieces, which, pos)
	case arrow.NULL:
		return array.NewNull(len(pos)), nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "arrays of type %s are not supported", dt)
}

func gatherValidity(mem memory.Allocator, pieces []arrow.Array, which, pos []int32) (*memory.Buffer, int) {
	nulls := false
	for _, p := range pieces {
		if p.NullN() > 0 {
			nulls = true
		}
	}
	for _, w := range which {
		if w < 0 {
			nulls = true
			break
		}
	}
	if !nulls {
		return nil, 0
	}
	n := len(pos)
	vs := make([]bitmap, len(pieces))
	for p, a := range pieces {
		vs[p] = validityOf(a)
	}
	buf, out := allocBits(mem, n)
	for r, i := range pos {
		p := int32(0)
		if which != nil {
			p = which[r]
		}
		if p >= 0 && vs[p].get(int(i)) {
			out[r>>3] |= 1 << (r & 7)
		}
	}
	return validityFromBits(buf, n)
}

func gatherFixed[T fixedT](mem memory.Allocator, dt arrow.DataType, pieces []arrow.Array, which, pos []int32) arrow.Array {
	n := len(pos)
	buf, out := allocFixed[T](mem, n)
	if which == nil {
		v := values[T](pieces[0])
		for r, i := range pos {
			out[r] = v[i]
		}
	} else {
		vals := make([][]T, len(pieces))
		for p, a := range pieces {
			vals[p] = values[T](a)
		}
		var zero T
		for r, i := range pos {
			if p := which[r]; p >= 0 {
				out[r] = vals[p][i]
			} else {
				out[r] = zero
			}
		}
	}
	vbuf, nulls := gatherValidity(mem, pieces, which, pos)
	return newArray(dt, n, vbuf, nulls, buf)
}

func gatherBool(mem memory.Allocator, dt arrow.DataType, pieces []arrow.Array, which, pos []int32) arrow.Array {
	n := len(pos)
	vals := make([]bitmap, len(pieces))
	for p, a := range pieces {
		vals[p] = boolValues(a)
	}
	buf, out := allocBits(mem, n)
	for r, i := range pos {
		p := int32(0)
		if which != nil {
			p = which[r]
		}
		if p >= 0 && vals[p].get(int(i)) {
			out[r>>3] |= 1 << (r & 7)
		}
	}
	vbuf, nulls := gatherValidity(mem, pieces, which, pos)
	return newArray(dt, n, vbuf, nulls, buf)
}

func gatherString(mem memory.Allocator, dt arrow.DataType, pieces []arrow.Array, which, pos []int32) (arrow.Array, error) {
	n := len(pos)
	strs := make([]*array.String, len(pieces))
	for p, a := range pieces {
		strs[p] = a.(*array.String)
	}
	piece := func(r int) *array.String {
		if which == nil {
			return strs[0]
		}
		if p := which[r]; p >= 0 {
			return strs[p]
		}
		return nil
	}
	total := 0
	for r, i := range pos {
		if s := piece(r); s != nil {
			total += s.ValueLen(int(i))
		}
	}
	if total > math.MaxInt32 {
		return nil, sqlerr.New(sqlerr.ProgramLimitExceeded, "text result of %d bytes exceeds the 2 GB limit of an array", total)
	}
	obuf, offs := allocFixed[int32](mem, n+1)
	dbuf := allocBuf(mem, total)
	data := dbuf.Bytes()
	at := 0
	for r, i := range pos {
		offs[r] = int32(at)
		if s := piece(r); s != nil {
			at += copy(data[at:], s.Value(int(i)))
		}
	}
	offs[n] = int32(at)
	vbuf, nulls := gatherValidity(mem, pieces, which, pos)
	return newArray(dt, n, vbuf, nulls, obuf, dbuf), nil
}
