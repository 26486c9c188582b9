package expr

import (
	"math/bits"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// This file holds the low-level helpers the kernels share: typed views of
// Arrow buffers, validity bitmaps, and the construction of result arrays
// from buffers the kernels fill directly (no builders on the hot paths).

// fixedT is the set of physical value types of the fixed-width arrays
// Sluice uses. Float arrays are also read as their own types; dates are
// int32 and timestamps int64.
type fixedT interface {
	int16 | int32 | int64 | float32 | float64 | arrow.MonthDayNanoInterval
}

// values returns the value slice of a fixed-width array (offset applied).
func values[T fixedT](a arrow.Array) []T {
	d := a.Data()
	bufs := d.Buffers()
	if a.Len() == 0 || bufs[1] == nil {
		return nil
	}
	all := arrow.GetData[T](bufs[1].Bytes())
	return all[d.Offset() : d.Offset()+d.Len()]
}

// col is a typed operand of a kernel: either a value slice or a constant
// broadcast to every row. at(i) reads v[i&m]: m is -1 for a slice and 0
// for a constant held in v[0], so one loop serves both shapes.
type col[T any] struct {
	v []T
	m int
}

func (c col[T]) at(i int) T { return c.v[i&c.m] }

func (c col[T]) isConst() bool { return c.m == 0 }

func constCol[T any](v T) col[T] { return col[T]{v: []T{v}, m: 0} }

func sliceCol[T any](v []T) col[T] { return col[T]{v: v, m: -1} }

// bitmap is a read view of a bit-packed buffer at a bit offset. A nil
// bitmap reads as all ones (an array without nulls is all valid).
type bitmap struct {
	b   []byte
	off int
}

func (m bitmap) get(i int) bool {
	if m.b == nil {
		return true
	}
	i += m.off
	return m.b[i>>3]&(1<<(i&7)) != 0
}

// validityOf returns the validity bitmap of a, nil when a has no nulls.
func validityOf(a arrow.Array) bitmap {
	if a == nil || a.NullN() == 0 {
		return bitmap{}
	}
	return bitmap{b: a.NullBitmapBytes(), off: a.Data().Offset()}
}

// boolValues returns the value bits of a Boolean array.
func boolValues(a arrow.Array) bitmap {
	d := a.Data()
	return bitmap{b: d.Buffers()[1].Bytes(), off: d.Offset()}
}

// validSet answers "is row i valid in every operand" for row-wise kernels.
type validSet []bitmap

func validSetOf(args []vec) validSet {
	var s validSet
	for _, a := range args {
		if a.arr != nil && a.arr.NullN() > 0 {
			s = append(s, validityOf(a.arr))
		}
	}
	return s
}

func (s validSet) get(i int) bool {
	for _, m := range s {
		if !m.get(i) {
			return false
		}
	}
	return true
}

// allocBuf returns a buffer of n bytes from mem. Its contents are
// unspecified.
func allocBuf(mem memory.Allocator, n int) *memory.Buffer {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n)
	return buf
}

// allocFixed returns a buffer for n values of T and its typed view.
func allocFixed[T fixedT](mem memory.Allocator, n int) (*memory.Buffer, []T) {
	var zero T
	buf := allocBuf(mem, n*int(unsafe.Sizeof(zero)))
	if n == 0 {
		return buf, nil
	}
	return buf, arrow.GetData[T](buf.Bytes())[:n]
}

// allocBits returns a zeroed bitmap buffer for n bits.
func allocBits(mem memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf := allocBuf(mem, int(bitutil.BytesForBits(int64(n))))
	b := buf.Bytes()
	clear(b)
	return buf, b
}

// newArray assembles an array of type dt and length n from a validity
// buffer (nil when nulls is 0) and value buffers. It takes over the
// caller's references to the buffers.
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

// andValidity returns the validity of a strict function of arrs over n
// rows, the AND of their validity bitmaps, as a buffer at offset 0 (nil
// when no row is null) and the number of nulls. nil entries are skipped.
func andValidity(mem memory.Allocator, n int, arrs ...arrow.Array) (*memory.Buffer, int) {
	var withNulls []arrow.Array
	for _, a := range arrs {
		if a != nil && a.NullN() > 0 {
			withNulls = append(withNulls, a)
		}
	}
	switch len(withNulls) {
	case 0:
		return nil, 0
	case 1:
		a := withNulls[0]
		if a.Data().Offset() == 0 {
			buf := a.Data().Buffers()[0]
			buf.Retain()
			return buf, a.NullN()
		}
	}
	buf, out := allocBits(mem, n)
	first := withNulls[0]
	bitutil.CopyBitmap(first.NullBitmapBytes(), first.Data().Offset(), n, out, 0)
	for _, a := range withNulls[1:] {
		bitutil.BitmapAnd(out, a.NullBitmapBytes(), 0, int64(a.Data().Offset()), out, 0, int64(n))
	}
	return buf, n - bitutil.CountSetBits(out, 0, n)
}

// argValidity is andValidity over the array operands of a kernel call.
func argValidity(c *call) (*memory.Buffer, int) {
	arrs := make([]arrow.Array, 0, len(c.args))
	for _, a := range c.args {
		if a.arr != nil {
			arrs = append(arrs, a.arr)
		}
	}
	return andValidity(c.st.mem, c.n, arrs...)
}

// bitsOfBuf views a validity buffer returned by andValidity.
func bitsOfBuf(buf *memory.Buffer) bitmap {
	if buf == nil {
		return bitmap{}
	}
	return bitmap{b: buf.Bytes()}
}

// validityFromBits turns a bitmap of n valid bits (offset 0) into a
// validity buffer and null count, releasing it and returning nil when no
// bit is clear.
func validityFromBits(buf *memory.Buffer, n int) (*memory.Buffer, int) {
	nulls := n - bitutil.CountSetBits(buf.Bytes(), 0, n)
	if nulls == 0 {
		buf.Release()
		return nil, 0
	}
	return buf, nulls
}

// b2u8 converts a bool to 0 or 1 without a branch.
func b2u8(b bool) uint8 {
	var x uint8
	if b {
		x = 1
	}
	return x
}

// trueRows appends to dst the rows in [0, n) whose value bit is set and
// whose validity bit is set.
func trueRows(dst []int32, n int, val, valid bitmap) []int32 {
	if valid.b == nil && val.off&7 == 0 {
		return setBitsRows(dst, n, val.b[val.off>>3:])
	}
	for i := 0; i < n; i++ {
		if val.get(i) && valid.get(i) {
			dst = append(dst, int32(i))
		}
	}
	return dst
}

// setBitsRows appends the positions of set bits among the first n bits of
// b (offset 0).
func setBitsRows(dst []int32, n int, b []byte) []int32 {
	full := n >> 3
	for k := 0; k < full; k++ {
		x := b[k]
		for x != 0 {
			dst = append(dst, int32(k<<3+bits.TrailingZeros8(x)))
			x &= x - 1
		}
	}
	for i := full << 3; i < n; i++ {
		if b[i>>3]&(1<<(i&7)) != 0 {
			dst = append(dst, int32(i))
		}
	}
	return dst
}
