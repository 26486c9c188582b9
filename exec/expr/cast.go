package expr

import (
	"math"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// Casts follow PostgreSQL: integer narrowing that does not fit is 22003,
// float to integer rounds half to even, text is parsed and printed in
// PostgreSQL's text forms, VARCHAR(n) truncates on explicit casts and
// fails with 22001 otherwise.

type num interface{ sint | float }

// castKernel returns the kernel converting from to to, and whether it may
// fail. ok is false for conversions Sluice does not have.
func castKernel(from, to sqltypes.Type, explicit bool) (k kernel, fails bool, ok bool) {
	if from.Kind == sqltypes.KindUnknown {
		from = sqltypes.Text
	}
	switch {
	case to.Kind == sqltypes.KindText || to.Kind == sqltypes.KindUnknown:
		if to.Kind == sqltypes.KindUnknown {
			to = sqltypes.Text
		}
		if from.Kind == sqltypes.KindText {
			return varcharKernel(to.Width, explicit), true, true
		}
		return toTextKernel(from, to.Width, explicit), to.Width > 0, true
	case from.Kind == sqltypes.KindText:
		return fromTextKernel(to), true, true
	case from.IsNumeric() && to.IsNumeric():
		return numCast(from, to), numCastFails(from, to), true
	case from.Kind == sqltypes.KindBool && to.IsInteger():
		return boolToIntKernel(to), false, true
	case from.IsInteger() && to.Kind == sqltypes.KindBool:
		return intToBoolKernel(from), false, true
	case from.Kind == sqltypes.KindTimestamp && to.Kind == sqltypes.KindDate:
		return tsToDateKernel, false, true
	case from.Kind == sqltypes.KindDate && to.Kind == sqltypes.KindTimestamp:
		return dateToTSKernel, true, true
	}
	return nil, false, false
}

func numCastFails(from, to sqltypes.Type) bool {
	switch {
	case from.IsFloat() && to.IsInteger():
		return true
	case from.IsInteger() && to.IsInteger():
		return to.TypeSize() < from.TypeSize()
	case from.Kind == sqltypes.KindFloat64 && to.Kind == sqltypes.KindFloat32:
		return true
	}
	return false
}

func numCast(from, to sqltypes.Type) kernel {
	switch from.Kind {
	case sqltypes.KindInt16:
		return numCastFrom[int16](from, to)
	case sqltypes.KindInt32:
		return numCastFrom[int32](from, to)
	case sqltypes.KindInt64:
		return numCastFrom[int64](from, to)
	case sqltypes.KindFloat32:
		return numCastFrom[float32](from, to)
	}
	return numCastFrom[float64](from, to)
}

func numCastFrom[S num](from, to sqltypes.Type) kernel {
	switch to.Kind {
	case sqltypes.KindInt16:
		return numCastTo[S, int16](from, to, math.MinInt16)
	case sqltypes.KindInt32:
		return numCastTo[S, int32](from, to, math.MinInt32)
	case sqltypes.KindInt64:
		return numCastTo[S, int64](from, to, math.MinInt64)
	case sqltypes.KindFloat32:
		return numCastTo[S, float32](from, to, 0)
	}
	return numCastTo[S, float64](from, to, 0)
}

// numCastTo converts S to D; minD is the smallest D when D is an integer.
func numCastTo[S, D num](from, to sqltypes.Type, minD float64) kernel {
	return func(c *call) (arrow.Array, error) {
		x := fixedColOf[S](c.args[0], from)
		vbuf, nulls := argValidity(c)
		ok := bitsOfBuf(vbuf)
		buf, out := allocFixed[D](c.st.mem, c.n)
		var err error
		switch {
		case !x.isConst() && (from.IsInteger() || from.Kind == sqltypes.KindFloat32) && !numCastFails(from, to):
			// widening: every value fits
			for i, v := range x.v[:len(out)] {
				out[i] = D(v)
			}
		case from.IsInteger() && to.IsInteger():
			var bad uint8
			for i := range out {
				r := D(x.at(i))
				out[i] = r
				bad |= b2u8(S(r) != x.at(i))
			}
			if bad != 0 {
				for i, r := range out {
					if S(r) != x.at(i) && ok.get(i) {
						err = errOutOfRange(to)
						break
					}
				}
			}
		case from.IsFloat() && to.IsInteger():
			for i := range out {
				f := math.RoundToEven(float64(x.at(i)))
				if !(f >= minD && f < -minD) { // also NaN
					out[i] = 0
					if ok.get(i) {
						err = errOutOfRange(to)
						break
					}
					continue
				}
				out[i] = D(f)
			}
		case to.Kind == sqltypes.KindFloat32 && from.Kind == sqltypes.KindFloat64:
			for i := range out {
				v := float64(x.at(i))
				r := float32(v)
				out[i] = D(r)
				if ((math.IsInf(float64(r), 0) && !math.IsInf(v, 0)) || (r == 0 && v != 0)) && ok.get(i) {
					_, err = float64To32(v)
					break
				}
			}
		default: // integer to float, float32 to float64
			for i := range out {
				out[i] = D(x.at(i))
			}
		}
		return fixedResult(to, c.n, vbuf, nulls, buf, err)
	}
}

func boolToIntKernel(to sqltypes.Type) kernel {
	switch to.Kind {
	case sqltypes.KindInt16:
		return boolToInt[int16](to)
	case sqltypes.KindInt32:
		return boolToInt[int32](to)
	}
	return boolToInt[int64](to)
}

func boolToInt[D sint](to sqltypes.Type) kernel {
	return func(c *call) (arrow.Array, error) {
		bits := boolValues(c.args[0].arr)
		vbuf, nulls := argValidity(c)
		buf, out := allocFixed[D](c.st.mem, c.n)
		for i := range out {
			out[i] = D(b2u8(bits.get(i)))
		}
		return newArray(to.Arrow(), c.n, vbuf, nulls, buf), nil
	}
}

func intToBoolKernel(from sqltypes.Type) kernel {
	return func(c *call) (arrow.Array, error) {
		var nz func(i int) bool
		switch from.Kind {
		case sqltypes.KindInt16:
			x := fixedColOf[int16](c.args[0], from)
			nz = func(i int) bool { return x.at(i) != 0 }
		case sqltypes.KindInt32:
			x := fixedColOf[int32](c.args[0], from)
			nz = func(i int) bool { return x.at(i) != 0 }
		default:
			x := fixedColOf[int64](c.args[0], from)
			nz = func(i int) bool { return x.at(i) != 0 }
		}
		return mapBool(c, func(i int) (bool, error) { return nz(i), nil })
	}
}

func tsToDateKernel(c *call) (arrow.Array, error) {
	x := fixedColOf[int64](c.args[0], sqltypes.Timestamp)
	vbuf, nulls := argValidity(c)
	buf, out := allocFixed[int32](c.st.mem, c.n)
	for i := range out {
		out[i] = int32(floorDiv(x.at(i), microsPerDay))
	}
	return newArray(sqltypes.Date.Arrow(), c.n, vbuf, nulls, buf), nil
}

func dateToTSKernel(c *call) (arrow.Array, error) {
	x := fixedColOf[int32](c.args[0], sqltypes.Date)
	vbuf, nulls := argValidity(c)
	ok := bitsOfBuf(vbuf)
	buf, out := allocFixed[int64](c.st.mem, c.n)
	var err error
	for i := range out {
		d := int64(x.at(i))
		if d > maxTimestamp/microsPerDay || d*microsPerDay < minTimestamp {
			out[i] = 0
			if ok.get(i) {
				err = sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range for timestamp")
				break
			}
			continue
		}
		out[i] = d * microsPerDay
	}
	return fixedResult(sqltypes.Timestamp, c.n, vbuf, nulls, buf, err)
}

// fitVarchar applies VARCHAR(width) to s: longer values are truncated to
// width characters when explicit, else fail with 22001 unless only spaces
// would be cut (PostgreSQL's rule).
func fitVarchar(s string, width int, explicit bool) (string, error) {
	if width <= 0 || len(s) <= width {
		return s, nil
	}
	cut := truncateChars(s, width)
	if len(cut) == len(s) {
		return s, nil
	}
	if !explicit {
		for i := len(cut); i < len(s); i++ {
			if s[i] != ' ' {
				return "", sqlerr.New(sqlerr.StringDataRightTruncation, "value too long for type character varying(%d)", width)
			}
		}
	}
	return cut, nil
}

// varcharKernel is text to text: VARCHAR(width) applied, or nothing.
func varcharKernel(width int, explicit bool) kernel {
	return func(c *call) (arrow.Array, error) {
		s := textsOf(c.args[0])
		return mapText(c, func(i int) (string, error) { return fitVarchar(s.at(i), width, explicit) })
	}
}

// toTextKernel prints values of type from in their text form.
func toTextKernel(from sqltypes.Type, width int, explicit bool) kernel {
	return func(c *call) (arrow.Array, error) {
		var f func(i int) string
		switch from.Kind {
		case sqltypes.KindBool:
			bits := boolValues(c.args[0].arr)
			f = func(i int) string {
				if bits.get(i) {
					return "true"
				}
				return "false"
			}
		case sqltypes.KindInt16:
			x := fixedColOf[int16](c.args[0], from)
			f = func(i int) string { return strconv.FormatInt(int64(x.at(i)), 10) }
		case sqltypes.KindInt32:
			x := fixedColOf[int32](c.args[0], from)
			f = func(i int) string { return strconv.FormatInt(int64(x.at(i)), 10) }
		case sqltypes.KindInt64:
			x := fixedColOf[int64](c.args[0], from)
			f = func(i int) string { return strconv.FormatInt(x.at(i), 10) }
		default:
			arr := c.args[0].arr
			f = func(i int) string { return formatText(from, ValueAt(arr, i)) }
		}
		return mapText(c, func(i int) (string, error) { return fitVarchar(f(i), width, explicit) })
	}
}

// fromTextKernel parses text into values of type to.
func fromTextKernel(to sqltypes.Type) kernel {
	return func(c *call) (arrow.Array, error) {
		s := textsOf(c.args[0])
		valid := validSetOf(c.args)
		bld := array.NewBuilder(c.st.mem, to.Arrow())
		defer bld.Release()
		bld.Reserve(c.n)
		for i := 0; i < c.n; i++ {
			if !valid.get(i) {
				bld.AppendNull()
				continue
			}
			v, err := parseText(to, s.at(i))
			if err != nil {
				return nil, err
			}
			if err := AppendValue(bld, v); err != nil {
				return nil, err
			}
		}
		return bld.NewArray(), nil
	}
}
