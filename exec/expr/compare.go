package expr

import (
	"cmp"
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opEQ cmpOp = iota
	opNE
	opLT
	opLE
	opGT
	opGE
)

func cmpOpOf(name string) (cmpOp, bool) {
	switch name {
	case "=":
		return opEQ, true
	case "<>":
		return opNE, true
	case "<":
		return opLT, true
	case "<=":
		return opLE, true
	case ">":
		return opGT, true
	case ">=":
		return opGE, true
	}
	return 0, false
}

// flip returns the operator with its operands swapped: a < b is b > a.
func (op cmpOp) flip() cmpOp {
	switch op {
	case opLT:
		return opGT
	case opLE:
		return opGE
	case opGT:
		return opLT
	case opGE:
		return opLE
	}
	return op
}

// cmpKernel is the strict comparison a op b of two values of type t.
func cmpKernel(op cmpOp, t sqltypes.Type) kernel {
	return func(c *call) (arrow.Array, error) {
		vbuf, nulls := argValidity(c)
		buf, out := allocBits(c.st.mem, c.n)
		cmpBits(op, t, c.args[0], c.args[1], c.n, out)
		return newArray(arrow.FixedWidthTypes.Boolean, c.n, vbuf, nulls, buf), nil
	}
}

// cmpBits writes the bits of a op b over n rows into out, ignoring
// validity (the value bits of NULL rows are unspecified). Neither operand
// is a NULL constant.
func cmpBits(op cmpOp, t sqltypes.Type, a, b vec, n int, out []byte) {
	if a.isConst() && !b.isConst() {
		a, b, op = b, a, op.flip()
	}
	switch t.Kind {
	case sqltypes.KindInt16:
		cmpOrdered(op, fixedColOf[int16](a, t), fixedColOf[int16](b, t), n, out)
	case sqltypes.KindInt32, sqltypes.KindDate:
		cmpOrdered(op, fixedColOf[int32](a, t), fixedColOf[int32](b, t), n, out)
	case sqltypes.KindInt64, sqltypes.KindTimestamp:
		cmpOrdered(op, fixedColOf[int64](a, t), fixedColOf[int64](b, t), n, out)
	case sqltypes.KindFloat32:
		cmpFloat(op, fixedColOf[float32](a, t), fixedColOf[float32](b, t), n, out)
	case sqltypes.KindFloat64:
		cmpFloat(op, fixedColOf[float64](a, t), fixedColOf[float64](b, t), n, out)
	case sqltypes.KindBool:
		cmpOrdered(op, boolColOf(a, n), boolColOf(b, n), n, out)
	case sqltypes.KindInterval:
		ia, ib := fixedColOf[arrow.MonthDayNanoInterval](a, t), fixedColOf[arrow.MonthDayNanoInterval](b, t)
		for i := 0; i < n; i++ {
			c := cmpInterval(ia.at(i), ib.at(i))
			out[i>>3] |= b2u8(cmpResult(op, c)) << (i & 7)
		}
	default: // text and unknown: bytewise, C collation
		cmpOrdered(op, stringColOf(a, n), stringColOf(b, n), n, out)
	}
}

func cmpResult(op cmpOp, c int) bool {
	switch op {
	case opEQ:
		return c == 0
	case opNE:
		return c != 0
	case opLT:
		return c < 0
	case opLE:
		return c <= 0
	case opGT:
		return c > 0
	}
	return c >= 0
}

// fixedColOf returns a typed operand view of v, a column or a non-NULL
// constant of type t.
func fixedColOf[T fixedT](v vec, t sqltypes.Type) col[T] {
	if v.arr != nil {
		return sliceCol(values[T](v.arr))
	}
	return constCol(physValue(t, v.c).(T))
}

// stringColOf returns the strings of a text operand. They alias the
// array's buffer: use them only while the array lives.
func stringColOf(v vec, n int) col[string] {
	if v.arr == nil {
		return constCol(v.c.(string))
	}
	a := v.arr.(*array.String)
	s := make([]string, n)
	for i := range s {
		s[i] = a.Value(i)
	}
	return sliceCol(s)
}

// boolColOf returns a boolean operand as 0/1 bytes.
func boolColOf(v vec, n int) col[uint8] {
	if v.arr == nil {
		return constCol(b2u8(v.c.(bool)))
	}
	bm := boolValues(v.arr)
	s := make([]uint8, n)
	for i := range s {
		s[i] = b2u8(bm.get(i))
	}
	return sliceCol(s)
}

// cmpOrdered compares with Go's operators; for strings that is bytewise.
// A column against a constant or a column runs in 64-row chunks that
// build a word of result bits in a register.
func cmpOrdered[T cmp.Ordered](op cmpOp, a, b col[T], n int, out []byte) {
	switch {
	case !a.isConst() && b.isConst():
		v, c := a.v[:n], b.v[0]
		for base := 0; base < n; base += 64 {
			ch := v[base:min(base+64, n)]
			var w uint64
			switch op {
			case opEQ:
				for j, x := range ch {
					w |= uint64(b2u8(x == c)) << j
				}
			case opNE:
				for j, x := range ch {
					w |= uint64(b2u8(x != c)) << j
				}
			case opLT:
				for j, x := range ch {
					w |= uint64(b2u8(x < c)) << j
				}
			case opLE:
				for j, x := range ch {
					w |= uint64(b2u8(x <= c)) << j
				}
			case opGT:
				for j, x := range ch {
					w |= uint64(b2u8(x > c)) << j
				}
			case opGE:
				for j, x := range ch {
					w |= uint64(b2u8(x >= c)) << j
				}
			}
			putWord(out, base, len(ch), w)
		}
	case !a.isConst() && !b.isConst():
		va, vb := a.v[:n], b.v[:n]
		for base := 0; base < n; base += 64 {
			ca, cb := va[base:min(base+64, n)], vb[base:min(base+64, n)]
			cb = cb[:len(ca)]
			var w uint64
			switch op {
			case opEQ:
				for j, x := range ca {
					w |= uint64(b2u8(x == cb[j])) << j
				}
			case opNE:
				for j, x := range ca {
					w |= uint64(b2u8(x != cb[j])) << j
				}
			case opLT:
				for j, x := range ca {
					w |= uint64(b2u8(x < cb[j])) << j
				}
			case opLE:
				for j, x := range ca {
					w |= uint64(b2u8(x <= cb[j])) << j
				}
			case opGT:
				for j, x := range ca {
					w |= uint64(b2u8(x > cb[j])) << j
				}
			case opGE:
				for j, x := range ca {
					w |= uint64(b2u8(x >= cb[j])) << j
				}
			}
			putWord(out, base, len(ca), w)
		}
	default:
		for i := 0; i < n; i++ {
			out[i>>3] |= b2u8(cmpResult(op, cmp.Compare(a.at(i), b.at(i)))) << (i & 7)
		}
	}
}

// putWord stores the low k (at most 64) bits of w at bit base (a multiple
// of 64) of out.
func putWord(out []byte, base, k int, w uint64) {
	o := out[base>>3:]
	if k == 64 {
		binary.LittleEndian.PutUint64(o, w)
		return
	}
	for i := 0; i*8 < k; i++ {
		o[i] = byte(w >> (8 * i))
	}
}

// cmpFloat compares floats as PostgreSQL does: NaN equals NaN and is
// greater than every other value.
func cmpFloat[F float32 | float64](op cmpOp, a, b col[F], n int, out []byte) {
	for base := 0; base < n; base += 64 {
		k := min(64, n-base)
		var w uint64
		switch op {
		case opEQ:
			for j := 0; j < k; j++ {
				x, y := a.at(base+j), b.at(base+j)
				w |= uint64(b2u8(x == y || (x != x && y != y))) << j
			}
		case opNE:
			for j := 0; j < k; j++ {
				x, y := a.at(base+j), b.at(base+j)
				w |= uint64(b2u8(!(x == y || (x != x && y != y)))) << j
			}
		case opLT:
			for j := 0; j < k; j++ {
				x, y := a.at(base+j), b.at(base+j)
				w |= uint64(b2u8(x < y || (x == x && y != y))) << j
			}
		case opLE:
			for j := 0; j < k; j++ {
				x, y := a.at(base+j), b.at(base+j)
				w |= uint64(b2u8(x <= y || y != y)) << j
			}
		case opGT:
			for j := 0; j < k; j++ {
				x, y := a.at(base+j), b.at(base+j)
				w |= uint64(b2u8(x > y || (x != x && y == y))) << j
			}
		case opGE:
			for j := 0; j < k; j++ {
				x, y := a.at(base+j), b.at(base+j)
				w |= uint64(b2u8(x >= y || x != x)) << j
			}
		}
		putWord(out, base, k, w)
	}
}

// cmpFloatValues is the three-way form of cmpFloat's order.
func cmpFloatValues(x, y float64) int {
	switch {
	case x != x:
		if y != y {
			return 0
		}
		return 1
	case y != y:
		return -1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// cmpInterval orders intervals as PostgreSQL does: by their span with a
// month counted as 30 days and a day as 24 hours, so '1 mon' = '30 days'.
func cmpInterval(a, b arrow.MonthDayNanoInterval) int {
	ah, al := intervalSpan(a)
	bh, bl := intervalSpan(b)
	switch {
	case ah < bh:
		return -1
	case ah > bh:
		return 1
	case al < bl:
		return -1
	case al > bl:
		return 1
	}
	return 0
}

// intervalSpan returns the interval's length in nanoseconds as a signed
// 128-bit number (hi, lo).
func intervalSpan(v arrow.MonthDayNanoInterval) (int64, uint64) {
	days := int64(v.Months)*30 + int64(v.Days)
	const nanosPerDay = 86_400_000_000_000
	hi, lo := mul64x64(days, nanosPerDay)
	// add the sign-extended nanoseconds
	n := v.Nanoseconds
	var carry uint64
	lo, carry = bits.Add64(lo, uint64(n), 0)
	ext := uint64(0)
	if n < 0 {
		ext = math.MaxUint64
	}
	h, _ := bits.Add64(uint64(hi), ext, carry)
	return int64(h), lo
}

// mul64x64 returns the signed 128-bit product of a and b.
func mul64x64(a, b int64) (int64, uint64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	h := int64(hi)
	if a < 0 {
		h -= b
	}
	if b < 0 {
		h -= a
	}
	return h, lo
}

// compareAt returns a function that orders element i of x against element
// j of y, two arrays of type t, for GREATEST and LEAST.
func compareAt(t sqltypes.Type, x, y arrow.Array) func(i, j int) int {
	switch t.Kind {
	case sqltypes.KindInt16:
		a, b := values[int16](x), values[int16](y)
		return func(i, j int) int { return cmp.Compare(a[i], b[j]) }
	case sqltypes.KindInt32, sqltypes.KindDate:
		a, b := values[int32](x), values[int32](y)
		return func(i, j int) int { return cmp.Compare(a[i], b[j]) }
	case sqltypes.KindInt64, sqltypes.KindTimestamp:
		a, b := values[int64](x), values[int64](y)
		return func(i, j int) int { return cmp.Compare(a[i], b[j]) }
	case sqltypes.KindFloat32:
		a, b := values[float32](x), values[float32](y)
		return func(i, j int) int { return cmpFloatValues(float64(a[i]), float64(b[j])) }
	case sqltypes.KindFloat64:
		a, b := values[float64](x), values[float64](y)
		return func(i, j int) int { return cmpFloatValues(a[i], b[j]) }
	case sqltypes.KindBool:
		a, b := boolValues(x), boolValues(y)
		return func(i, j int) int { return cmp.Compare(b2u8(a.get(i)), b2u8(b.get(j))) }
	case sqltypes.KindInterval:
		a, b := values[arrow.MonthDayNanoInterval](x), values[arrow.MonthDayNanoInterval](y)
		return func(i, j int) int { return cmpInterval(a[i], b[j]) }
	}
	a, b := x.(*array.String), y.(*array.String)
	return func(i, j int) int { return cmp.Compare(a.Value(i), b.Value(j)) }
}
